/** BOOTP `op` values (RFC 951). */
export const BootOp = { Request: 1, Reply: 2 } as const;

/** `flags` bit asking the server to broadcast its reply (RFC 2131 §2). */
export const BROADCAST_FLAG = 0x8000;

/** Ethernet `htype` (ARP hardware type 1). */
export const HTYPE_ETHERNET = 1;

/** Bytes available in the fixed `sname` and `file` fields, including their NUL terminator. */
export const SNAME_FIELD_SIZE = 64;
export const FILE_FIELD_SIZE = 128;

/**
 * One DHCPv4 message. Addresses are dotted-quad strings; `options` keeps wire order and maps an
 * option code to its value (PAD, END and option 52 are wire framing and never appear in it).
 * Decoded values are views into the datagram, not copies: copy any you keep after the buffer is reused.
 */
export interface DhcpPacket {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  /** Transaction id, an unsigned 32-bit integer. */
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** The 16-byte `chaddr` field; only its first `hlen` bytes are the hardware address. */
  chaddr: Uint8Array;
  sname: string;
  file: string;
  options: Map<number, Uint8Array>;
}

/** Anything that carries options: a packet, or a bare options holder. */
export type HasOptions = Pick<DhcpPacket, "options">;

const NO_ADDRESS = "0.0.0.0";

/** A zeroed Ethernet packet with `fields` filled in; the starting point for building replies. */
export function createPacket(fields: Partial<DhcpPacket> = {}): DhcpPacket {
  return {
    op: BootOp.Reply,
    htype: HTYPE_ETHERNET,
    hlen: 6,
    hops: 0,
    xid: 0,
    secs: 0,
    flags: 0,
    ciaddr: NO_ADDRESS,
    yiaddr: NO_ADDRESS,
    siaddr: NO_ADDRESS,
    giaddr: NO_ADDRESS,
    chaddr: new Uint8Array(16),
    sname: "",
    file: "",
    options: new Map(),
    ...fields,
  };
}

/** The first `hlen` bytes of `chaddr` (a view, not a copy). */
export function hardwareAddress(p: Pick<DhcpPacket, "chaddr" | "hlen">): Uint8Array {
  return p.chaddr.subarray(0, Math.min(p.hlen, p.chaddr.length));
}

/** Lower-case hex bytes joined by `:`, e.g. `52:54:00:77:00:01`. */
export function formatHardwareAddress(bytes: Uint8Array): string {
  const h = HEX_BYTE;
  // Ethernet in one template: a chain of += builds a rope that every Map lookup then has to flatten.
  if (bytes.length === 6) return `${h[bytes[0]!]}:${h[bytes[1]!]}:${h[bytes[2]!]}:${h[bytes[3]!]}:${h[bytes[4]!]}:${h[bytes[5]!]}`;
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0) out += ":";
    out += HEX_BYTE[bytes[i]!];
  }
  return out;
}

const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
