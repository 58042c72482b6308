/** Dotted-quad text of the 4 bytes at `offset`. */
export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  // Most request addresses are unset; skip building the string for them.
  if ((bytes[offset]! | bytes[offset + 1]! | bytes[offset + 2]! | bytes[offset + 3]!) === 0) return "0.0.0.0";
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/**
 * Writes dotted-quad `addr` into `out` at `offset`; false (nothing trustworthy written) if `addr`
 * is not exactly four decimal octets 0-255. Hand-rolled because it runs for every address of every reply.
 */
export function writeIpv4(out: Uint8Array, offset: number, addr: string): boolean {
  let octet = 0;
  let digits = 0;
  let part = 0;
  for (let i = 0; i < addr.length; i++) {
    const c = addr.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || part === 3) return false;
      out[offset + part++] = octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      octet = octet * 10 + (c - 48);
      digits++;
      if (octet > 255) return false;
    } else {
      return false;
    }
  }
  if (digits === 0 || part !== 3) return false;
  out[offset + 3] = octet;
  return true;
}

/** `addr` as an unsigned 32-bit number, or undefined if it is not a dotted quad. */
export function ipv4ToNumber(addr: string): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < addr.length; i++) {
    const c = addr.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      octet = octet * 10 + (c - 48);
      digits++;
      if (octet > 255) return undefined;
    } else {
      return undefined;
    }
  }
  if (digits === 0 || dots !== 3) return undefined;
  return value * 256 + octet;
}

/** Dotted-quad text of an unsigned 32-bit number. */
export function numberToIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}
