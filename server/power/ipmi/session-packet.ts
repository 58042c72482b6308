// Packets of an active RMCP+ session: the IPMI message AES-CBC-128 encrypted, then the whole packet
// (from authtype on) authenticated with HMAC-SHA1-96 or HMAC-SHA256-128 under K1 (bmc.md §3):
//   06 00 ff 07 | 06 | c0 | SIDm | seq | len | IV | AES(msg | 01 02 … N | N) | ff… | padlen | 07 | authcode
// Pure functions; decoding throws only BmcError("protocol"). The MAC is checked before anything is decrypted.
import { randomBytes } from "node:crypto";
import { BmcError } from "../driver.ts";
import { aesCbcDecrypt, aesCbcEncrypt, hmac, integrityHash, integrityLength } from "./algorithms.ts";
import { bytesEqual } from "./bytes.ts";
import type { SessionKeys } from "./rakp-keys.ts";
import {
  AUTHTYPE_OFFSET,
  PAYLOAD_AUTHENTICATED,
  PAYLOAD_ENCRYPTED,
  PayloadType,
  V20_HEADER,
  decodeRmcpPlus,
  writeRmcpPlusHeader,
} from "./rmcp.ts";

const AES_BLOCK = 16;
const NEXT_HEADER = 0x07;

export function encodeSessionPacket(
  keys: SessionKeys,
  bmcSessionId: number,
  sequence: number,
  message: Uint8Array,
  iv: Uint8Array = randomBytes(AES_BLOCK),
): Uint8Array {
  const padLength = (AES_BLOCK - ((message.length + 1) % AES_BLOCK)) % AES_BLOCK;
  const plain = new Uint8Array(message.length + padLength + 1);
  plain.set(message, 0);
  for (let i = 1; i <= padLength; i++) plain[message.length + i - 1] = i;
  plain[plain.length - 1] = padLength;
  const encrypted = aesCbcEncrypt(keys.aesKey, iv, plain);
  const payloadLength = AES_BLOCK + encrypted.length;

  // authtype … next header must be a multiple of 4 bytes long.
  const covered = V20_HEADER - AUTHTYPE_OFFSET + payloadLength + 2;
  const integrityPad = (4 - (covered % 4)) % 4;
  const macLength = integrityLength(keys.integrity);
  const end = V20_HEADER + payloadLength + integrityPad + 2;
  const out = new Uint8Array(end + macLength);
  const payloadType = PAYLOAD_ENCRYPTED | PAYLOAD_AUTHENTICATED | PayloadType.ipmi;
  writeRmcpPlusHeader(out, payloadType, bmcSessionId, sequence, payloadLength);
  out.set(iv, V20_HEADER);
  out.set(encrypted, V20_HEADER + AES_BLOCK);
  out.fill(0xff, V20_HEADER + payloadLength, V20_HEADER + payloadLength + integrityPad);
  out[end - 2] = integrityPad;
  out[end - 1] = NEXT_HEADER;
  const mac = hmac(integrityHash(keys.integrity), keys.k1, out.subarray(AUTHTYPE_OFFSET, end));
  out.set(mac.subarray(0, macLength), end);
  return out;
}

export interface SessionMessage {
  readonly sequence: number;
  /** The IPMI message, decrypted. */
  readonly message: Uint8Array;
}

/** Rejects anything not addressed to `consoleSessionId`, not authenticated and encrypted, or not intact. */
export function decodeSessionPacket(keys: SessionKeys, consoleSessionId: number, datagram: Uint8Array): SessionMessage {
  const packet = decodeRmcpPlus(datagram);
  if (packet.payloadType !== PayloadType.ipmi) {
    throw new BmcError("protocol", `unexpected payload type 0x${packet.payloadType.toString(16)} in the session`);
  }
  if (packet.sessionId !== consoleSessionId) {
    throw new BmcError("protocol", `packet for session 0x${packet.sessionId.toString(16)}, not ours`);
  }
  if (!packet.authenticated || !packet.encrypted) {
    throw new BmcError("protocol", "unauthenticated or unencrypted packet inside the session");
  }
  const macLength = integrityLength(keys.integrity);
  const macStart = datagram.length - macLength;
  const integrityPad = datagram[macStart - 2] ?? 0;
  if (macStart - 2 < packet.payloadEnd || integrityPad > 3 || packet.payloadEnd + integrityPad + 2 !== macStart) {
    throw new BmcError("protocol", "session packet trailer is malformed");
  }
  if (datagram[macStart - 1] !== NEXT_HEADER) throw new BmcError("protocol", "session trailer's next header is not 07");
  const expected = hmac(integrityHash(keys.integrity), keys.k1, datagram.subarray(AUTHTYPE_OFFSET, macStart));
  if (!bytesEqual(expected.subarray(0, macLength), datagram.subarray(macStart))) {
    throw new BmcError("protocol", "session packet failed its integrity check (bad HMAC)");
  }
  return { sequence: packet.sequence, message: decryptPayload(keys, packet.payload) };
}

function decryptPayload(keys: SessionKeys, payload: Uint8Array): Uint8Array {
  if (payload.length < 2 * AES_BLOCK || payload.length % AES_BLOCK !== 0) {
    throw new BmcError("protocol", `encrypted payload of ${payload.length} bytes is not IV + whole AES blocks`);
  }
  const plain = aesCbcDecrypt(keys.aesKey, payload.subarray(0, AES_BLOCK), payload.subarray(AES_BLOCK));
  const padLength = plain[plain.length - 1] ?? 0;
  const messageLength = plain.length - 1 - padLength;
  if (padLength >= AES_BLOCK || messageLength < 0) throw new BmcError("protocol", "confidentiality pad length is invalid");
  for (let i = 1; i <= padLength; i++) {
    if (plain[messageLength + i - 1] !== i) throw new BmcError("protocol", "confidentiality pad bytes are wrong");
  }
  return plain.slice(0, messageLength);
}
