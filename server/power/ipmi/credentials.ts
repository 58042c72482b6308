// A BmcTarget's user and password as RAKP carries them: the name in at most 16 bytes, the password
// (Kuid) in at most 20 (IPMI 2.0 §13.31). Longer ones cannot log in, so say so before sending anything.
import { type BmcTarget, BmcError } from "../driver.ts";
import { MAX_USERNAME_BYTES } from "./handshake-codec.ts";

const MAX_PASSWORD_BYTES = 20;

export interface Credentials {
  /** For messages. */
  readonly user: string;
  readonly username: Uint8Array;
  readonly password: Uint8Array;
}
const utf8 = new TextEncoder();

export function credentialsOf(target: BmcTarget): Credentials {
  const username = utf8.encode(target.username);
  const password = utf8.encode(target.password);
  if (username.length > MAX_USERNAME_BYTES) {
    throw new BmcError("auth", `IPMI user names have at most ${MAX_USERNAME_BYTES} bytes; "${target.username}" has ${username.length}`);
  }
  if (password.length > MAX_PASSWORD_BYTES) {
    throw new BmcError("auth", `IPMI 2.0 passwords have at most ${MAX_PASSWORD_BYTES} bytes; the one for "${target.username}" has ${password.length}`);
  }
  return { user: target.username, username, password };
}
