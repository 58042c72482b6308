// The RMCP+ algorithms provd speaks (IPMI 2.0 tables 13-17 to 13-19) and the primitives behind them.
// Cipher suite 3 = RAKP-HMAC-SHA1 + HMAC-SHA1-96 + AES-CBC-128; suite 17 = the SHA256 variants.
// Suites without integrity or confidentiality are never offered: they send the session in the clear.
import { createCipheriv, createDecipheriv, createHmac } from "node:crypto";

export const AuthAlgorithm = { hmacSha1: 0x01, hmacSha256: 0x03 } as const;
export const IntegrityAlgorithm = { hmacSha1_96: 0x01, hmacSha256_128: 0x04 } as const;
export const ConfidentialityAlgorithm = { aesCbc128: 0x01 } as const;

export type AuthAlgorithmId = (typeof AuthAlgorithm)[keyof typeof AuthAlgorithm];
export type IntegrityAlgorithmId = (typeof IntegrityAlgorithm)[keyof typeof IntegrityAlgorithm];
export type ConfidentialityAlgorithmId = (typeof ConfidentialityAlgorithm)[keyof typeof ConfidentialityAlgorithm];

export interface Algorithms {
  readonly auth: AuthAlgorithmId;
  readonly integrity: IntegrityAlgorithmId;
  readonly confidentiality: ConfidentialityAlgorithmId;
}

/** The cipher suites provd offers: 3 (SHA1) and 17 (SHA256), both with AES-CBC-128. */
export type CipherSuiteId = 3 | 17;

export const CIPHER_SUITE_3: Algorithms = {
  auth: AuthAlgorithm.hmacSha1,
  integrity: IntegrityAlgorithm.hmacSha1_96,
  confidentiality: ConfidentialityAlgorithm.aesCbc128,
};

export const CIPHER_SUITE_17: Algorithms = {
  auth: AuthAlgorithm.hmacSha256,
  integrity: IntegrityAlgorithm.hmacSha256_128,
  confidentiality: ConfidentialityAlgorithm.aesCbc128,
};

export function cipherSuite(id: CipherSuiteId): Algorithms {
  return id === 17 ? CIPHER_SUITE_17 : CIPHER_SUITE_3;
}

export type Hash = "sha1" | "sha256";

export function authHash(auth: AuthAlgorithmId): Hash {
  return auth === AuthAlgorithm.hmacSha256 ? "sha256" : "sha1";
}

/** Length of the RAKP2/RAKP3 key exchange authentication codes: the full HMAC. */
export function authCodeLength(auth: AuthAlgorithmId): number {
  return auth === AuthAlgorithm.hmacSha256 ? 32 : 20;
}

/** Length of the RAKP4 integrity check value: HMAC-SHA1-96 or HMAC-SHA256-128. */
export function rakp4IcvLength(auth: AuthAlgorithmId): number {
  return auth === AuthAlgorithm.hmacSha256 ? 16 : 12;
}

export function integrityHash(integrity: IntegrityAlgorithmId): Hash {
  return integrity === IntegrityAlgorithm.hmacSha256_128 ? "sha256" : "sha1";
}

export function integrityLength(integrity: IntegrityAlgorithmId): number {
  return integrity === IntegrityAlgorithm.hmacSha256_128 ? 16 : 12;
}

export function describeAlgorithms(algorithms: Algorithms): string {
  const auth = algorithms.auth === AuthAlgorithm.hmacSha256 ? "RAKP-HMAC-SHA256" : "RAKP-HMAC-SHA1";
  const integrity = algorithms.integrity === IntegrityAlgorithm.hmacSha256_128 ? "HMAC-SHA256-128" : "HMAC-SHA1-96";
  return `${auth}/${integrity}/AES-CBC-128`;
}

export function hmac(hash: Hash, key: Uint8Array, ...parts: readonly Uint8Array[]): Uint8Array {
  const mac = createHmac(hash, key);
  for (const part of parts) mac.update(part);
  return new Uint8Array(mac.digest());
}

/** AES-CBC-128 over whole blocks; the IPMI pad is the caller's (it is not PKCS#7). */
export function aesCbcEncrypt(key: Uint8Array, iv: Uint8Array, plain: Uint8Array): Uint8Array {
  const cipher = createCipheriv("aes-128-cbc", key, iv).setAutoPadding(false);
  const head = cipher.update(plain);
  const tail = cipher.final();
  return tail.length === 0 ? new Uint8Array(head) : new Uint8Array(Buffer.concat([head, tail]));
}

export function aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, encrypted: Uint8Array): Uint8Array {
  const decipher = createDecipheriv("aes-128-cbc", key, iv).setAutoPadding(false);
  const head = decipher.update(encrypted);
  const tail = decipher.final();
  return tail.length === 0 ? new Uint8Array(head) : new Uint8Array(Buffer.concat([head, tail]));
}
