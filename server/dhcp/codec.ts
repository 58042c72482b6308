import { DhcpDecodeError, DhcpEncodeError } from "./errors.ts";
import { formatIpv4, writeIpv4 } from "./ipv4.ts";
import { Opt, getU16 } from "./options.ts";
import { FILE_FIELD_SIZE, SNAME_FIELD_SIZE, type DhcpPacket } from "./packet.ts";

// Fixed BOOTP layout (RFC 2131 figure 1).
const CIADDR_AT = 12;
const YIADDR_AT = 16;
const SIADDR_AT = 20;
const GIADDR_AT = 24;
const CHADDR_AT = 28;
const CHADDR_SIZE = 16;
const SNAME_AT = 44;
const FILE_AT = 108;
const COOKIE_AT = 236;
const OPTIONS_AT = 240;
const MAGIC_COOKIE = [99, 130, 83, 99] as const;

const OVERLOAD_FILE = 1;
const OVERLOAD_SNAME = 2;

/** RFC 1542 §3.1.1: some relays and old PXE ROMs drop BOOTP messages shorter than this. */
export const MIN_REPLY_SIZE = 300;

/** IPv4 (20) + UDP (8) header bytes that option 57 and the MTU include but our payload does not. */
const IP_UDP_HEADERS = 28;
/** RFC 2131 §2: every host accepts datagrams of this size, and 57 may not ask for less (RFC 2132 §9.10). */
const MIN_DATAGRAM = 576;

const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

/**
 * Parses one DHCPv4 datagram. Throws only DhcpDecodeError; option values are views into `buf`.
 * Repeated options are concatenated (RFC 3396) in the order options field, `file`, `sname`
 * (RFC 2131 §4.1), and options carried in `file`/`sname` under option 52 are merged into `options`.
 */
export function decodePacket(buf: Uint8Array): DhcpPacket {
  if (!(buf instanceof Uint8Array)) throw new DhcpDecodeError("not a byte array");
  if (buf.length < OPTIONS_AT) throw new DhcpDecodeError("truncated header");
  const op = buf[0]!;
  if (op !== 1 && op !== 2) throw new DhcpDecodeError("bad op");
  const hlen = buf[2]!;
  if (hlen > CHADDR_SIZE) throw new DhcpDecodeError("hlen > 16");
  for (let i = 0; i < MAGIC_COOKIE.length; i++) {
    if (buf[COOKIE_AT + i] !== MAGIC_COOKIE[i]) throw new DhcpDecodeError("bad magic cookie");
  }

  const found = new OptionAccumulator();
  scanOptions(buf, OPTIONS_AT, buf.length, found, "options", false);
  const overload = found.takeOverload();
  if (overload & OVERLOAD_FILE) scanOptions(buf, FILE_AT, FILE_AT + FILE_FIELD_SIZE, found, "file", true);
  if (overload & OVERLOAD_SNAME) scanOptions(buf, SNAME_AT, SNAME_AT + SNAME_FIELD_SIZE, found, "sname", true);

  return {
    op,
    htype: buf[1]!,
    hlen,
    hops: buf[3]!,
    xid: readU32(buf, 4),
    secs: (buf[8]! << 8) | buf[9]!,
    flags: (buf[10]! << 8) | buf[11]!,
    ciaddr: formatIpv4(buf, CIADDR_AT),
    yiaddr: formatIpv4(buf, YIADDR_AT),
    siaddr: formatIpv4(buf, SIADDR_AT),
    giaddr: formatIpv4(buf, GIADDR_AT),
    chaddr: buf.subarray(CHADDR_AT, CHADDR_AT + CHADDR_SIZE),
    sname: overload & OVERLOAD_SNAME ? "" : readCString(buf, SNAME_AT, SNAME_FIELD_SIZE),
    file: overload & OVERLOAD_FILE ? "" : readCString(buf, FILE_AT, FILE_FIELD_SIZE),
    options: found.finish(),
  };
}

/**
 * Walks PAD/END/TLV options in buf[start, end). A missing END is accepted when the last option
 * ends exactly at `end` (dnsmasq is as lenient); an option whose length runs past `end` is not.
 */
function scanOptions(
  buf: Uint8Array,
  start: number,
  end: number,
  into: OptionAccumulator,
  where: string,
  insideOverload: boolean,
): void {
  let i = start;
  while (i < end) {
    const code = buf[i]!;
    if (code === Opt.Pad) {
      i++;
      continue;
    }
    if (code === Opt.End) return;
    if (i + 1 >= end) throw new DhcpDecodeError(`option ${code} has no length byte in ${where}`);
    const valueAt = i + 2;
    const next = valueAt + buf[i + 1]!;
    if (next > end) throw new DhcpDecodeError(`option ${code} runs past the end of ${where}`);
    // RFC 2131 §4.1: option 52 is only meaningful in the options field itself.
    if (!(insideOverload && code === Opt.Overload)) into.add(code, buf.subarray(valueAt, next));
    i = next;
  }
}

/** Collects options in first-seen order, deferring RFC 3396 concatenation to one copy per repeated code. */
class OptionAccumulator {
  private readonly options = new Map<number, Uint8Array>();
  private repeated: Map<number, Uint8Array[]> | undefined;

  add(code: number, value: Uint8Array): void {
    const first = this.options.get(code);
    if (first === undefined) {
      this.options.set(code, value);
      return;
    }
    this.repeated ??= new Map();
    const parts = this.repeated.get(code);
    if (parts) parts.push(value);
    else this.repeated.set(code, [first, value]);
  }

  /** Removes option 52 and returns its flags (0 when absent). */
  takeOverload(): number {
    const parts = this.repeated?.get(Opt.Overload);
    const value = parts ? concat(parts) : this.options.get(Opt.Overload);
    if (value === undefined) return 0;
    this.options.delete(Opt.Overload);
    this.repeated?.delete(Opt.Overload);
    const flags = value[0];
    if (value.length !== 1 || flags === undefined || flags < 1 || flags > 3) {
      throw new DhcpDecodeError("bad option overload (52)");
    }
    return flags;
  }

  finish(): Map<number, Uint8Array> {
    if (this.repeated) for (const [code, parts] of this.repeated) this.options.set(code, concat(parts));
    return this.options;
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function readU32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

/** Text up to the first NUL (or the whole field if a client filled it). */
function readCString(buf: Uint8Array, at: number, size: number): string {
  if (buf[at] === 0) return "";
  let end = at;
  const limit = at + size;
  while (end < limit && buf[end] !== 0) end++;
  return utf8Decoder.decode(buf.subarray(at, end));
}

export interface EncodeOptions {
  /** Largest payload the receiver takes, usually replySizeLimit(request); exceeding it throws. */
  maxSize?: number;
  /** Zero-pad to at least this many bytes (default 300, but never beyond maxSize). */
  minSize?: number;
}

/**
 * Serialises `p`. Options go out in map order except 82 (relay agent information), which goes
 * last as RFC 3046 §2.1 requires; values over 255 bytes are split into consecutive instances
 * (RFC 3396). `sname`/`file` are always NUL-terminated. Throws DhcpEncodeError when it cannot comply.
 */
export function encodePacket(p: DhcpPacket, opts: EncodeOptions = {}): Uint8Array {
  checkUint(p.op, 0xff, "op");
  checkUint(p.htype, 0xff, "htype");
  checkUint(p.hlen, CHADDR_SIZE, "hlen");
  checkUint(p.hops, 0xff, "hops");
  checkUint(p.xid, 0xffffffff, "xid");
  checkUint(p.secs, 0xffff, "secs");
  checkUint(p.flags, 0xffff, "flags");
  if (p.chaddr.length > CHADDR_SIZE) throw new DhcpEncodeError("chaddr longer than 16 bytes");

  let optionBytes = 0;
  let relayInfo: Uint8Array | undefined;
  for (const [code, value] of p.options) {
    checkOptionCode(code);
    if (code === Opt.RelayAgentInfo) relayInfo = value;
    optionBytes += encodedOptionSize(value);
  }
  const needed = OPTIONS_AT + optionBytes + 1;
  const maxSize = opts.maxSize ?? Number.POSITIVE_INFINITY;
  if (needed > maxSize) {
    throw new DhcpEncodeError(`packet needs ${needed} bytes but the receiver accepts ${maxSize}`);
  }
  const size = Math.max(needed, Math.min(opts.minSize ?? MIN_REPLY_SIZE, maxSize));

  const out = new Uint8Array(size);
  out[0] = p.op;
  out[1] = p.htype;
  out[2] = p.hlen;
  out[3] = p.hops;
  writeU32(out, 4, p.xid);
  out[8] = p.secs >>> 8;
  out[9] = p.secs & 0xff;
  out[10] = p.flags >>> 8;
  out[11] = p.flags & 0xff;
  writeAddress(out, CIADDR_AT, p.ciaddr, "ciaddr");
  writeAddress(out, YIADDR_AT, p.yiaddr, "yiaddr");
  writeAddress(out, SIADDR_AT, p.siaddr, "siaddr");
  writeAddress(out, GIADDR_AT, p.giaddr, "giaddr");
  out.set(p.chaddr, CHADDR_AT);
  writeCString(out, SNAME_AT, SNAME_FIELD_SIZE, p.sname, "sname");
  writeCString(out, FILE_AT, FILE_FIELD_SIZE, p.file, "file");
  out.set(MAGIC_COOKIE, COOKIE_AT);

  let at = OPTIONS_AT;
  for (const [code, value] of p.options) {
    if (code !== Opt.RelayAgentInfo) at = writeOption(out, at, code, value);
  }
  if (relayInfo) at = writeOption(out, at, Opt.RelayAgentInfo, relayInfo);
  out[at] = Opt.End;
  return out;
}

/**
 * Largest reply payload for `request`: the client's option 57 (or the 576-byte floor every host
 * accepts) and the link MTU, each less the IP and UDP headers.
 */
export function replySizeLimit(request: Pick<DhcpPacket, "options">, mtu = 1500): number {
  const asked = getU16(request, Opt.MaxMessageSize);
  const datagram = asked === undefined ? MIN_DATAGRAM : Math.max(asked, MIN_DATAGRAM);
  return Math.min(datagram, mtu) - IP_UDP_HEADERS;
}

function encodedOptionSize(value: Uint8Array): number {
  if (value.length === 0) return 2;
  return value.length + 2 * Math.ceil(value.length / 255);
}

function writeOption(out: Uint8Array, at: number, code: number, value: Uint8Array): number {
  if (value.length <= 255) {
    // The common case, without the subarray view (measurably costly per option on the reply path).
    out[at] = code;
    out[at + 1] = value.length;
    out.set(value, at + 2);
    return at + 2 + value.length;
  }
  let from = 0;
  do {
    const chunk = Math.min(255, value.length - from);
    out[at] = code;
    out[at + 1] = chunk;
    out.set(value.subarray(from, from + chunk), at + 2);
    at += 2 + chunk;
    from += chunk;
  } while (from < value.length);
  return at;
}

function checkOptionCode(code: number): void {
  if (!Number.isInteger(code) || code < 1 || code > 254) {
    throw new DhcpEncodeError(`option code ${code} is not 1-254 (PAD and END are written by the encoder)`);
  }
  if (code === Opt.Overload) {
    throw new DhcpEncodeError("option 52 is not supported when encoding: sname and file are never overloaded");
  }
}

function checkUint(value: number, max: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new DhcpEncodeError(`${field} ${value} is not an integer 0-${max}`);
  }
}

function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

function writeAddress(out: Uint8Array, at: number, addr: string, field: string): void {
  if (!writeIpv4(out, at, addr)) throw new DhcpEncodeError(`${field} "${addr}" is not an IPv4 address`);
}

function writeCString(out: Uint8Array, at: number, size: number, text: string, field: string): void {
  if (text.length === 0) return;
  // Encoding straight into the field leaves the last byte for the NUL; the rest is already zero.
  const { read, written } = utf8Encoder.encodeInto(text, out.subarray(at, at + size - 1));
  if (read < text.length) {
    const bytes = utf8Encoder.encode(text).length;
    throw new DhcpEncodeError(`${field} is ${bytes} bytes; the field holds ${size - 1} plus its NUL (use option ${field === "file" ? 67 : 66})`);
  }
  if (out.subarray(at, at + written).includes(0)) throw new DhcpEncodeError(`${field} contains a NUL byte`);
}
