// TFTP wire format (RFC 1350, OACK from RFC 2347). Pure functions, no I/O.

export const Opcode = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;

export const ErrorCode = {
  NOT_DEFINED: 0,
  FILE_NOT_FOUND: 1,
  ACCESS_VIOLATION: 2,
  DISK_FULL: 3,
  ILLEGAL_OPERATION: 4,
  UNKNOWN_TID: 5,
  FILE_EXISTS: 6,
  NO_SUCH_USER: 7,
  OPTION_REJECTED: 8,
} as const;

/** The only error `decodePacket` throws. */
export class TftpDecodeError extends Error {
  override name = "TftpDecodeError";
}

/** Option names are lower-cased; the first occurrence of a name wins. */
export type TftpOptions = ReadonlyMap<string, string>;

export type TftpRequest = {
  op: "RRQ" | "WRQ";
  filename: string;
  /** Lower-cased. */
  mode: string;
  options: TftpOptions;
};

export type TftpPacket =
  | TftpRequest
  | { op: "DATA"; block: number; data: Uint8Array }
  | { op: "ACK"; block: number }
  | { op: "ERROR"; code: number; message: string }
  | { op: "OACK"; options: TftpOptions };

export const DATA_HEADER_SIZE = 4;

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

function readU16(buf: Uint8Array, at: number): number {
  return ((buf[at] ?? 0) << 8) | (buf[at + 1] ?? 0);
}

function writeU16(buf: Uint8Array, at: number, value: number): void {
  buf[at] = (value >>> 8) & 0xff;
  buf[at + 1] = value & 0xff;
}

/** The NUL-terminated strings in `buf[from..]`; bytes after the last NUL are ignored. */
function splitStrings(buf: Uint8Array, from: number): string[] {
  const strings: string[] = [];
  let start = from;
  for (let i = from; i < buf.length; i++) {
    if (buf[i] === 0) {
      strings.push(decodeText(buf.subarray(start, i)));
      start = i + 1;
    }
  }
  return strings;
}

function decodeText(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new TftpDecodeError("text is not valid UTF-8");
  }
}

// Lenient on purpose: real clients pad requests with NULs or leave a dangling option name,
// so incomplete trailing pairs and empty names are skipped rather than rejected.
function toOptions(pairs: readonly string[]): Map<string, string> {
  const options = new Map<string, string>();
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const name = (pairs[i] ?? "").toLowerCase();
    if (name === "" || options.has(name)) continue;
    options.set(name, pairs[i + 1] ?? "");
  }
  return options;
}

export function decodePacket(buf: Uint8Array): TftpPacket {
  if (buf.length < 4) throw new TftpDecodeError(`datagram of ${buf.length} bytes is too short`);
  const opcode = readU16(buf, 0);
  switch (opcode) {
    case Opcode.RRQ:
    case Opcode.WRQ: {
      const strings = splitStrings(buf, 2);
      if (strings.length < 2) throw new TftpDecodeError("request lacks a NUL-terminated filename and mode");
      return {
        op: opcode === Opcode.RRQ ? "RRQ" : "WRQ",
        filename: strings[0] ?? "",
        mode: (strings[1] ?? "").toLowerCase(),
        options: toOptions(strings.slice(2)),
      };
    }
    case Opcode.DATA:
      return { op: "DATA", block: readU16(buf, 2), data: buf.subarray(4) };
    case Opcode.ACK:
      return { op: "ACK", block: readU16(buf, 2) };
    case Opcode.ERROR: {
      // Some stacks omit the message's NUL; take what is there.
      const end = buf.indexOf(0, 4);
      const message = decodeText(buf.subarray(4, end === -1 ? buf.length : end));
      return { op: "ERROR", code: readU16(buf, 2), message };
    }
    case Opcode.OACK: {
      const strings = splitStrings(buf, 2);
      return { op: "OACK", options: toOptions(strings) };
    }
    default:
      throw new TftpDecodeError(`unknown opcode ${opcode}`);
  }
}

function encodeStrings(opcode: number, strings: readonly string[]): Uint8Array {
  const parts = strings.map((s) => encoder.encode(s));
  const size = 2 + parts.reduce((n, p) => n + p.length + 1, 0);
  const out = new Uint8Array(size);
  writeU16(out, 0, opcode);
  let at = 2;
  for (const part of parts) {
    out.set(part, at);
    at += part.length + 1; // the NUL is already there: the array starts zeroed
  }
  return out;
}

function flattenOptions(options: Iterable<readonly [string, string]>): string[] {
  const flat: string[] = [];
  for (const [name, value] of options) flat.push(name, value);
  return flat;
}

export function encodeRequest(
  op: "RRQ" | "WRQ",
  filename: string,
  mode: string,
  options: Iterable<readonly [string, string]> = [],
): Uint8Array {
  return encodeStrings(op === "RRQ" ? Opcode.RRQ : Opcode.WRQ, [filename, mode, ...flattenOptions(options)]);
}

export function encodeOack(options: Iterable<readonly [string, string]>): Uint8Array {
  return encodeStrings(Opcode.OACK, flattenOptions(options));
}

export function encodeError(code: number, message: string): Uint8Array {
  const text = encoder.encode(message);
  const out = new Uint8Array(4 + text.length + 1);
  writeU16(out, 0, Opcode.ERROR);
  writeU16(out, 2, code);
  out.set(text, 4);
  return out;
}

export function encodeAck(block: number): Uint8Array {
  const out = new Uint8Array(4);
  writeU16(out, 0, Opcode.ACK);
  writeU16(out, 2, block & 0xffff);
  return out;
}

export function encodeData(block: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(DATA_HEADER_SIZE + payload.length);
  writeDataHeader(out, block);
  out.set(payload, DATA_HEADER_SIZE);
  return out;
}

/** For senders that reuse one buffer: writes opcode and the 16-bit wire block number. */
export function writeDataHeader(buf: Uint8Array, block: number): void {
  writeU16(buf, 0, Opcode.DATA);
  writeU16(buf, 2, block & 0xffff);
}
