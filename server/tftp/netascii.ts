// RFC 1350 netascii mode for reads: LF becomes CR LF and a bare CR becomes CR NUL.
// The whole file is converted up front so `tsize` and block boundaries stay exact; the mode is
// only used by hand-typed `tftp` sessions for small text files, never by boot firmware.
import { ErrorCode } from "./packet.ts";
import { TftpRequestError } from "./request-error.ts";
import { memorySource, type TftpSource } from "./source.ts";

export const MAX_NETASCII_SOURCE = 16 * 1024 * 1024;

export function encodeNetascii(input: Uint8Array): Uint8Array {
  let extra = 0;
  for (const byte of input) if (byte === 0x0a || byte === 0x0d) extra++;
  const out = new Uint8Array(input.length + extra);
  let at = 0;
  for (const byte of input) {
    if (byte === 0x0a) {
      out[at++] = 0x0d;
      out[at++] = 0x0a;
    } else if (byte === 0x0d) {
      out[at++] = 0x0d;
      out[at++] = 0x00;
    } else {
      out[at++] = byte;
    }
  }
  return out;
}

export async function netasciiSource(source: TftpSource): Promise<TftpSource> {
  try {
    if (source.size > MAX_NETASCII_SOURCE) {
      throw new TftpRequestError(ErrorCode.NOT_DEFINED, "file too large for netascii mode; use octet");
    }
    const raw = await source.read(0, source.size);
    return memorySource(encodeNetascii(raw.subarray(0, source.size)));
  } finally {
    await source.close?.();
  }
}
