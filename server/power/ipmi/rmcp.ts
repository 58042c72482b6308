// RMCP and the two IPMI session framings around a payload (bmc.md §3). Pure functions; decoding throws
// only BmcError("protocol").
//   RMCP:          06 00 ff 07   (version 6, reserved, sequence ff = no RMCP ACK, class 7 = IPMI)
//   IPMI 1.5:      authtype 00 | sequence (4) | session id (4) | length (1) | message
//   RMCP+ (2.0):   authtype 06 | payload type | session id (4) | sequence (4) | length (2) | payload [| trailer]
import { BmcError } from "../driver.ts";
import { readU16le, readU32le, writeU32le } from "./bytes.ts";

export const RMCP_HEADER = Uint8Array.of(0x06, 0x00, 0xff, 0x07);
export const AUTHTYPE_RMCP_PLUS = 0x06;

export const PayloadType = {
  ipmi: 0x00,
  openSessionRequest: 0x10,
  openSessionResponse: 0x11,
  rakp1: 0x12,
  rakp2: 0x13,
  rakp3: 0x14,
  rakp4: 0x15,
} as const;

export const PAYLOAD_ENCRYPTED = 0x80;
export const PAYLOAD_AUTHENTICATED = 0x40;

const V15_HEADER = 14; // RMCP 4 + authtype 1 + sequence 4 + session id 4 + length 1
/** Offset of the authtype byte: where the integrity-covered part of an RMCP+ packet starts. */
export const AUTHTYPE_OFFSET = 4;
export const V20_HEADER = 16; // RMCP 4 + authtype 1 + payload type 1 + session id 4 + sequence 4 + length 2

/** A sessionless IPMI 1.5 packet (authtype none, session 0): how Get Channel Authentication Capabilities travels. */
export function encodeSessionless15(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(V15_HEADER + message.length);
  out.set(RMCP_HEADER, 0);
  out[13] = message.length;
  out.set(message, V15_HEADER);
  return out;
}

/** An RMCP+ packet without integrity trailer: the handshake messages (session id 0, sequence 0). */
export function encodeRmcpPlus(payloadType: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(V20_HEADER + payload.length);
  writeRmcpPlusHeader(out, payloadType, 0, 0, payload.length);
  out.set(payload, V20_HEADER);
  return out;
}

export function writeRmcpPlusHeader(
  out: Uint8Array,
  payloadType: number,
  sessionId: number,
  sequence: number,
  payloadLength: number,
): void {
  out.set(RMCP_HEADER, 0);
  out[4] = AUTHTYPE_RMCP_PLUS;
  out[5] = payloadType;
  writeU32le(out, 6, sessionId);
  writeU32le(out, 10, sequence);
  out[14] = payloadLength & 0xff;
  out[15] = (payloadLength >>> 8) & 0xff;
}

function checkRmcp(datagram: Uint8Array): void {
  if (datagram.length < 5) throw new BmcError("protocol", `datagram too short for RMCP (${datagram.length} bytes)`);
  if (datagram[0] !== 0x06 || datagram[3] !== 0x07) {
    throw new BmcError("protocol", "not an RMCP/IPMI datagram (version or class byte is wrong)");
  }
}

/**
 * The IPMI message of a sessionless reply. IPMI 1.5 framing is the norm; an unauthenticated RMCP+ framing
 * with session 0 is accepted too, since lenient BMCs answer in the framing they prefer.
 */
export function decodeSessionless(datagram: Uint8Array): Uint8Array {
  checkRmcp(datagram);
  if (datagram[4] === AUTHTYPE_RMCP_PLUS) {
    const packet = decodeRmcpPlus(datagram);
    if (packet.payloadType !== PayloadType.ipmi || packet.encrypted || packet.authenticated || packet.sessionId !== 0) {
      throw new BmcError("protocol", "sessionless reply is not a plain IPMI payload");
    }
    return packet.payload;
  }
  if (datagram[4] !== 0x00) throw new BmcError("protocol", `sessionless reply has authtype ${datagram[4]}, expected none`);
  if (datagram.length < V15_HEADER) throw new BmcError("protocol", "IPMI 1.5 header truncated");
  if (readU32le(datagram, 9) !== 0) throw new BmcError("protocol", "sessionless reply carries a session id");
  const length = datagram[13] ?? 0;
  if (datagram.length < V15_HEADER + length) throw new BmcError("protocol", "IPMI 1.5 message truncated");
  return datagram.slice(V15_HEADER, V15_HEADER + length);
}

export interface RmcpPlusPacket {
  /** The low 6 bits of the payload type byte. */
  readonly payloadType: number;
  readonly encrypted: boolean;
  readonly authenticated: boolean;
  readonly sessionId: number;
  readonly sequence: number;
  /** The payload as sent (still encrypted when `encrypted`). */
  readonly payload: Uint8Array;
  /** Offset of the first byte after the payload (the integrity trailer, if any). */
  readonly payloadEnd: number;
}

export function decodeRmcpPlus(datagram: Uint8Array): RmcpPlusPacket {
  checkRmcp(datagram);
  if (datagram[4] !== AUTHTYPE_RMCP_PLUS) throw new BmcError("protocol", `authtype ${datagram[4]} is not RMCP+`);
  if (datagram.length < V20_HEADER) throw new BmcError("protocol", "RMCP+ header truncated");
  const type = datagram[5] ?? 0;
  if ((type & 0x3f) === 0x02) throw new BmcError("protocol", "OEM payloads are not supported");
  const length = readU16le(datagram, 14);
  const payloadEnd = V20_HEADER + length;
  if (datagram.length < payloadEnd) {
    throw new BmcError("protocol", `RMCP+ payload truncated (${datagram.length - V20_HEADER} of ${length} bytes)`);
  }
  return {
    payloadType: type & 0x3f,
    encrypted: (type & PAYLOAD_ENCRYPTED) !== 0,
    authenticated: (type & PAYLOAD_AUTHENTICATED) !== 0,
    sessionId: readU32le(datagram, 6),
    sequence: readU32le(datagram, 10),
    payload: datagram.slice(V20_HEADER, payloadEnd),
    payloadEnd,
  };
}
