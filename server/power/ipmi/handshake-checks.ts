// What a handshake reply's status and codes mean: the algorithms to go on with, or a BmcError that says
// in words why the login cannot go on (unknown user, wrong key, no free session, unsupported suite).
import { BmcError } from "../driver.ts";
import { type Algorithms, type CipherSuiteId, cipherSuite, describeAlgorithms } from "./algorithms.ts";
import { bytesEqual } from "./bytes.ts";
import type { Channel } from "./channel.ts";
import { rmcpStatusText } from "./codes.ts";
import type { Credentials } from "./credentials.ts";
import type { OpenSessionResponse, Rakp2, Rakp4 } from "./handshake-codec.ts";
import { type RakpContext, type SessionKeys, expectedRakp4Icv } from "./rakp-keys.ts";

/**
 * The algorithms to go on with, or why this suite cannot be used. The BMC may answer with another suite
 * than the one asked for (pyghmi answers suite 3 to everything): fine if it is one we offer too.
 */
export function chosenAlgorithms(
  opened: OpenSessionResponse,
  channel: Channel,
  suite: CipherSuiteId,
  acceptable: readonly CipherSuiteId[],
): Algorithms | BmcError {
  if (opened.status === 0x01 || opened.status === 0x0b) {
    // A fallback suite would not help: every slot is taken.
    throw new BmcError("refused", `${channel.peer} has no free session: Open Session answered ${rmcpStatusText(opened.status)}`);
  }
  if (opened.status !== 0) {
    return new BmcError("unsupported", `${channel.peer} refused cipher suite ${suite}: ${rmcpStatusText(opened.status)}`);
  }
  if (opened.bmcSessionId === 0) throw new BmcError("protocol", `${channel.peer} opened a session with id 0`);
  for (const id of acceptable) {
    const algorithms = cipherSuite(id);
    if (opened.auth === algorithms.auth && opened.integrity === algorithms.integrity && opened.confidentiality === algorithms.confidentiality) {
      return algorithms;
    }
  }
  const hex = (value: number): string => `0x${value.toString(16).padStart(2, "0")}`;
  const offered = acceptable.map((id) => `suite ${id} = ${describeAlgorithms(cipherSuite(id))}`);
  return new BmcError(
    "unsupported",
    `${channel.peer} answered a request for cipher suite ${suite} with algorithms provd does not accept ` +
      `(authentication ${hex(opened.auth)}, integrity ${hex(opened.integrity)}, confidentiality ${hex(opened.confidentiality)}; ` +
      `offered: ${offered.join(", ")})`,
  );
}

export function checkRakp2Status(rakp2: Rakp2, credentials: Credentials, channel: Channel): void {
  switch (rakp2.status) {
    case 0:
      return;
    case 0x0d:
      throw new BmcError("auth", `user "${credentials.user}" is unknown to ${channel.peer} (RAKP2: ${rmcpStatusText(rakp2.status)})`);
    case 0x09:
    case 0x0a:
      throw new BmcError("auth", `user "${credentials.user}" may not log in as administrator on ${channel.peer} (RAKP2: ${rmcpStatusText(rakp2.status)})`);
    case 0x0c:
      throw new BmcError("auth", `user name "${credentials.user}" is refused by ${channel.peer} (RAKP2: ${rmcpStatusText(rakp2.status)})`);
    default:
      throw new BmcError("refused", `${channel.peer} refused the login of "${credentials.user}" (RAKP2: ${rmcpStatusText(rakp2.status)})`);
  }
}

export function checkRakp4(rakp4: Rakp4, context: RakpContext, keys: SessionKeys, credentials: Credentials, channel: Channel): void {
  if (rakp4.status === 0x0f || rakp4.status === 0x0d) {
    throw new BmcError("auth", `${channel.peer} rejected the login of "${credentials.user}" (RAKP4: ${rmcpStatusText(rakp4.status)})`);
  }
  if (rakp4.status !== 0) {
    throw new BmcError("refused", `${channel.peer} refused the session (RAKP4: ${rmcpStatusText(rakp4.status)})`);
  }
  if (!bytesEqual(expectedRakp4Icv(context, keys.sik), rakp4.integrityCheck)) {
    throw new BmcError(
      "auth",
      `session keys of ${channel.peer} differ from ours (RAKP4 integrity check failed): ` +
        "the BMC may require a BMC key (K_G), which provd does not set",
    );
  }
}
