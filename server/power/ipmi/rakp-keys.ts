// The RAKP authentication codes and session keys (IPMI 2.0 §13.28–13.32, bmc.md §3). Multi-byte ids go
// into the HMACs little-endian, as on the wire. KG (the BMC key) is the user's password: provd does not
// configure BMC keys.
import {
  type AuthAlgorithmId,
  type ConfidentialityAlgorithmId,
  type IntegrityAlgorithmId,
  authHash,
  hmac,
  rakp4IcvLength,
} from "./algorithms.ts";
import { u32le } from "./bytes.ts";

/** Everything both sides mix into the RAKP codes. */
export interface RakpContext {
  readonly auth: AuthAlgorithmId;
  /** The user's password: Kuid, and KG too. */
  readonly password: Uint8Array;
  readonly consoleSessionId: number;
  readonly bmcSessionId: number;
  /** Rc */
  readonly consoleRandom: Uint8Array;
  /** Rm */
  readonly bmcRandom: Uint8Array;
  readonly bmcGuid: Uint8Array;
  /** The role byte sent in RAKP1 (lookup bit included). */
  readonly role: number;
  readonly username: Uint8Array;
}

function roleAndName(context: RakpContext): Uint8Array {
  const out = new Uint8Array(2 + context.username.length);
  out[0] = context.role;
  out[1] = context.username.length;
  out.set(context.username, 2);
  return out;
}

/** What RAKP2's key exchange authentication code must be if the BMC knows the same password. */
export function expectedRakp2AuthCode(context: RakpContext): Uint8Array {
  return hmac(
    authHash(context.auth),
    context.password,
    u32le(context.consoleSessionId),
    u32le(context.bmcSessionId),
    context.consoleRandom,
    context.bmcRandom,
    context.bmcGuid,
    roleAndName(context),
  );
}

export function rakp3AuthCode(context: RakpContext): Uint8Array {
  return hmac(
    authHash(context.auth),
    context.password,
    context.bmcRandom,
    u32le(context.consoleSessionId),
    roleAndName(context),
  );
}

export interface SessionKeys {
  readonly integrity: IntegrityAlgorithmId;
  readonly confidentiality: ConfidentialityAlgorithmId;
  readonly sik: Uint8Array;
  /** Integrity key. */
  readonly k1: Uint8Array;
  /** AES-CBC-128 key: K2's first 16 bytes. */
  readonly aesKey: Uint8Array;
}

// 20 bytes even for SHA256, as ipmitool (lanplus_crypt.c) and the BMCs it talks to do.
const CONST_1 = new Uint8Array(20).fill(0x01);
const CONST_2 = new Uint8Array(20).fill(0x02);

export function deriveSessionKeys(
  context: RakpContext,
  integrity: IntegrityAlgorithmId,
  confidentiality: ConfidentialityAlgorithmId,
): SessionKeys {
  const hash = authHash(context.auth);
  const sik = hmac(hash, context.password, context.consoleRandom, context.bmcRandom, roleAndName(context));
  const k1 = hmac(hash, sik, CONST_1);
  const k2 = hmac(hash, sik, CONST_2);
  return { integrity, confidentiality, sik, k1, aesKey: k2.slice(0, 16) };
}

/** What RAKP4's integrity check value must be: HMAC_SIK(Rc | SIDm | GUID), truncated. */
export function expectedRakp4Icv(context: RakpContext, sik: Uint8Array): Uint8Array {
  return hmac(authHash(context.auth), sik, context.consoleRandom, u32le(context.bmcSessionId), context.bmcGuid).slice(
    0,
    rakp4IcvLength(context.auth),
  );
}
