// Encrypts secrets at rest (BMC passwords) with AES-256-GCM under a key file only the server user can read.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { UserError } from "./errors.ts";

const PREFIX = "enc:v1:";

export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

export function isSealed(value: string): boolean {
  return value.startsWith(PREFIX);
}

/** Loads the key at `path`, creating it (mode 0600) on first use. */
export function secretBoxFromKeyFile(path: string): SecretBox {
  if (!existsSync(path)) {
    writeFileSync(path, randomBytes(32).toString("base64") + "\n", { mode: 0o600, flag: "wx" });
  }
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) chmodSync(path, 0o600);
  const key = Buffer.from(readFileSync(path, "utf8").trim(), "base64");
  if (key.length !== 32) throw new Error(`secret key file ${path} is damaged: expected 32 base64 bytes`);
  return secretBox(key);
}

export function secretBox(key: Uint8Array): SecretBox {
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
    },
    open(sealed) {
      const raw = Buffer.from(sealed.slice(PREFIX.length), "base64");
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
      } catch {
        throw new UserError(
          "an encrypted value (enc:v1:…) was sealed with another server's secret.key or is damaged: copy that key file into this server's data dir, or set the password again in plain text",
        );
      }
    },
  };
}
