// Option negotiation for a read request: RFC 2347 (OACK), 2348 (blksize), 2349 (tsize, timeout), 7440 (windowsize).
import type { TftpOptions } from "./packet.ts";

export const DEFAULT_BLKSIZE = 512;
export const MIN_BLKSIZE = 8;
export const MAX_BLKSIZE = 65464;
/** 1500-byte MTU minus IPv4 (20), UDP (8) and TFTP (4) headers. */
export const DEFAULT_MAX_BLKSIZE = 1468;
export const DEFAULT_MAX_WINDOWSIZE = 64;

export type OptionLimits = {
  maxBlksize: number;
  maxWindowsize: number;
};

export type NegotiatedOptions = {
  blksize: number;
  windowsize: number;
  /** The client's `timeout` option in seconds, when accepted. */
  timeoutSeconds: number | undefined;
  /** Accepted options in OACK order; empty means answer with DATA 1, not an OACK. */
  accepted: Array<[string, string]>;
};

function parseCount(text: string | undefined): number | undefined {
  if (text === undefined || !/^[0-9]{1,12}$/.test(text)) return undefined;
  return Number(text);
}

export function clampLimits(limits: Partial<OptionLimits>): OptionLimits {
  const maxBlksize = Math.min(MAX_BLKSIZE, Math.max(MIN_BLKSIZE, Math.floor(limits.maxBlksize ?? DEFAULT_MAX_BLKSIZE)));
  const maxWindowsize = Math.min(65535, Math.max(1, Math.floor(limits.maxWindowsize ?? DEFAULT_MAX_WINDOWSIZE)));
  return { maxBlksize, maxWindowsize };
}

/**
 * Values above our limits are lowered (the RFCs let the server answer smaller);
 * invalid or below-minimum values drop the option, which the client must accept.
 */
export function negotiateReadOptions(requested: TftpOptions, fileSize: number, limits: OptionLimits): NegotiatedOptions {
  const result: NegotiatedOptions = { blksize: DEFAULT_BLKSIZE, windowsize: 1, timeoutSeconds: undefined, accepted: [] };

  const blksize = parseCount(requested.get("blksize"));
  if (blksize !== undefined && blksize >= MIN_BLKSIZE) {
    result.blksize = Math.min(blksize, limits.maxBlksize);
    result.accepted.push(["blksize", String(result.blksize)]);
  }

  // RFC 2349 asks clients to send 0; any number is read as "tell me the size".
  if (parseCount(requested.get("tsize")) !== undefined) {
    result.accepted.push(["tsize", String(fileSize)]);
  }

  // RFC 2349: the server must use the requested timeout or leave it out; it may not change it.
  const timeout = parseCount(requested.get("timeout"));
  if (timeout !== undefined && timeout >= 1 && timeout <= 255) {
    result.timeoutSeconds = timeout;
    result.accepted.push(["timeout", String(timeout)]);
  }

  const windowsize = parseCount(requested.get("windowsize"));
  if (windowsize !== undefined && windowsize >= 1) {
    result.windowsize = Math.min(windowsize, limits.maxWindowsize);
    result.accepted.push(["windowsize", String(result.windowsize)]);
  }

  return result;
}
