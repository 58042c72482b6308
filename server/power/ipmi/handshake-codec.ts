// Payloads of the RMCP+ session handshake (IPMI 2.0 §13.17–13.23): Open Session request/response and
// RAKP messages 1–4. Pure functions; decoding throws only BmcError("protocol"). A reply with a non-zero
// status may stop after the session id or even after the status (ipmi_sim refuses suite 17 with just
// tag and status), so decoders read the status before demanding the rest.
import { BmcError } from "../driver.ts";
import type { Algorithms } from "./algorithms.ts";
import { readU32le, writeU32le } from "./bytes.ts";

export const MAX_USERNAME_BYTES = 16;

export interface OpenSessionRequest {
  readonly tag: number;
  /** Requested maximum privilege (4 = administrator). */
  readonly privilege: number;
  /** Our session id (SIDc), non-zero. */
  readonly consoleSessionId: number;
  readonly algorithms: Algorithms;
}

export function encodeOpenSessionRequest(request: OpenSessionRequest): Uint8Array {
  const out = new Uint8Array(32);
  out[0] = request.tag;
  out[1] = request.privilege & 0x0f;
  writeU32le(out, 4, request.consoleSessionId);
  writeAlgorithmPayload(out, 8, 0x00, request.algorithms.auth);
  writeAlgorithmPayload(out, 16, 0x01, request.algorithms.integrity);
  writeAlgorithmPayload(out, 24, 0x02, request.algorithms.confidentiality);
  return out;
}

function writeAlgorithmPayload(out: Uint8Array, at: number, type: number, algorithm: number): void {
  out[at] = type;
  out[at + 3] = 0x08; // payload length
  out[at + 4] = algorithm;
}

interface ReplyHead {
  readonly tag: number;
  readonly status: number;
  /** Undefined when a refusal stops before it. */
  readonly consoleSessionId: number | undefined;
}

function decodeHead(payload: Uint8Array, name: string): ReplyHead {
  const status = payload[1] ?? 0;
  if (payload.length < 2 || (status === 0 && payload.length < 8)) {
    throw new BmcError("protocol", `${name} too short (${payload.length} bytes)`);
  }
  return { tag: payload[0] ?? 0, status, consoleSessionId: payload.length >= 8 ? readU32le(payload, 4) : undefined };
}

export interface OpenSessionResponse extends ReplyHead {
  /** Only meaningful when status is 0. */
  readonly bmcSessionId: number;
  /** The algorithm bytes the BMC chose, as sent (not necessarily ones we asked for or know). */
  readonly auth: number;
  readonly integrity: number;
  readonly confidentiality: number;
}

export function decodeOpenSessionResponse(payload: Uint8Array): OpenSessionResponse {
  const head = decodeHead(payload, "Open Session response");
  const status = head.status;
  if (status !== 0) return { ...head, bmcSessionId: 0, auth: 0, integrity: 0, confidentiality: 0 };
  if (payload.length < 36) throw new BmcError("protocol", `Open Session response truncated (${payload.length} of 36 bytes)`);
  if (payload[12] !== 0x00 || payload[20] !== 0x01 || payload[28] !== 0x02) {
    throw new BmcError("protocol", "Open Session response has its algorithm payloads out of order");
  }
  return {
    ...head,
    bmcSessionId: readU32le(payload, 8),
    auth: (payload[16] ?? 0) & 0x3f,
    integrity: (payload[24] ?? 0) & 0x3f,
    confidentiality: (payload[32] ?? 0) & 0x3f,
  };
}

export interface Rakp1 {
  readonly tag: number;
  readonly bmcSessionId: number;
  /** Our random number Rc (16 bytes). */
  readonly consoleRandom: Uint8Array;
  /** Requested role byte: 0x10 (name-only lookup) | privilege. */
  readonly role: number;
  readonly username: Uint8Array;
}

export function encodeRakp1(message: Rakp1): Uint8Array {
  const out = new Uint8Array(28 + message.username.length);
  out[0] = message.tag;
  writeU32le(out, 4, message.bmcSessionId);
  out.set(message.consoleRandom, 8);
  out[24] = message.role;
  out[27] = message.username.length;
  out.set(message.username, 28);
  return out;
}

export interface Rakp2 extends ReplyHead {
  /** The BMC's random number Rm (16 bytes); empty when status is not 0. */
  readonly bmcRandom: Uint8Array;
  readonly bmcGuid: Uint8Array;
  readonly authCode: Uint8Array;
}

export function decodeRakp2(payload: Uint8Array, authCodeLength: number): Rakp2 {
  const head = decodeHead(payload, "RAKP2");
  const status = head.status;
  const empty = new Uint8Array(0);
  if (status !== 0) return { ...head, bmcRandom: empty, bmcGuid: empty, authCode: empty };
  if (payload.length < 40 + authCodeLength) {
    throw new BmcError("protocol", `RAKP2 truncated (${payload.length} of ${40 + authCodeLength} bytes)`);
  }
  return {
    ...head,
    bmcRandom: payload.slice(8, 24),
    bmcGuid: payload.slice(24, 40),
    authCode: payload.slice(40, 40 + authCodeLength),
  };
}

export interface Rakp3 {
  readonly tag: number;
  /** 0, or the reason we give up on the session (the BMC then frees it). */
  readonly status: number;
  readonly bmcSessionId: number;
  readonly authCode: Uint8Array;
}

export function encodeRakp3(message: Rakp3): Uint8Array {
  const out = new Uint8Array(8 + message.authCode.length);
  out[0] = message.tag;
  out[1] = message.status;
  writeU32le(out, 4, message.bmcSessionId);
  out.set(message.authCode, 8);
  return out;
}

export interface Rakp4 extends ReplyHead {
  readonly integrityCheck: Uint8Array;
}

export function decodeRakp4(payload: Uint8Array, icvLength: number): Rakp4 {
  const head = decodeHead(payload, "RAKP4");
  const status = head.status;
  if (status !== 0) return { ...head, integrityCheck: new Uint8Array(0) };
  if (payload.length < 8 + icvLength) {
    throw new BmcError("protocol", `RAKP4 truncated (${payload.length} of ${8 + icvLength} bytes)`);
  }
  return { ...head, integrityCheck: payload.slice(8, 8 + icvLength) };
}
