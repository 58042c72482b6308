// Logging in to a BMC (bmc.md §3): Get Channel Authentication Capabilities in IPMI 1.5 framing (left out
// for a BMC that gave us a session before), then Open Session and RAKP 1–4. Cipher suite 17 is asked
// first and suite 3 after a refusal; a BMC that accepts with other algorithms we also speak (pyghmi
// answers SHA1 to a SHA256 request) is taken at its word. A reply that does not come restarts the whole
// handshake with a fresh session id, as ipmitool does: the BMC may have dropped the half-built session.
import { randomBytes } from "node:crypto";
import { BmcError } from "../driver.ts";
import { type Algorithms, type CipherSuiteId, authCodeLength, cipherSuite, rakp4IcvLength } from "./algorithms.ts";
import type { Credentials } from "./credentials.ts";
import { bytesEqual, readU32le } from "./bytes.ts";
import { type Channel, type RetryPolicy, retryWaitMs } from "./channel.ts";
import { PRIVILEGE_ADMINISTRATOR, checkIpmi20 } from "./capabilities.ts";
import { checkRakp2Status, checkRakp4, chosenAlgorithms } from "./handshake-checks.ts";
import {
  decodeOpenSessionResponse,
  decodeRakp2,
  decodeRakp4,
  encodeOpenSessionRequest,
  encodeRakp1,
  encodeRakp3,
} from "./handshake-codec.ts";
import { type RakpContext, type SessionKeys, deriveSessionKeys, expectedRakp2AuthCode, rakp3AuthCode } from "./rakp-keys.ts";
import { PayloadType, decodeRmcpPlus, encodeRmcpPlus } from "./rmcp.ts";

/** RAKP1 role byte: name-only lookup (bit 4) | administrator. */
const ROLE = 0x10 | PRIVILEGE_ADMINISTRATOR;
const RAKP_STATUS_INVALID_INTEGRITY_CHECK = 0x0f;

export interface Session {
  readonly consoleSessionId: number;
  readonly bmcSessionId: number;
  readonly algorithms: Algorithms;
  readonly keys: SessionKeys;
  /** The cipher suite the BMC accepted. */
  readonly suite: CipherSuiteId;
}

export interface HandshakeOptions {
  readonly policy: RetryPolicy;
  /** In order of preference. */
  readonly cipherSuites: readonly CipherSuiteId[];
  readonly signal: AbortSignal;
  /** This BMC gave us a session before: skip Get Channel Authentication Capabilities (one round trip). */
  readonly knownIpmi20?: boolean;
}

export async function logIn(channel: Channel, credentials: Credentials, options: HandshakeOptions): Promise<Session> {
  if (!options.knownIpmi20) await checkIpmi20(channel, options.policy, options.signal);
  const suites = [...options.cipherSuites];
  let lastMissing = "RMCP+ Open Session response";
  channel.resetDrops();
  for (let attempt = 0; attempt < options.policy.tries; ) {
    const suite = suites[0] ?? 3;
    const wait = retryWaitMs(options.policy, attempt);
    const outcome = await attemptHandshake(channel, credentials, suite, options.cipherSuites, wait, options.signal);
    if (outcome.kind === "session") return outcome.session;
    if (outcome.kind === "suite refused" && suites.length > 1) {
      suites.shift();
      continue; // the BMC answered: not a lost try
    }
    if (outcome.kind === "suite refused") throw outcome.error;
    lastMissing = outcome.missing;
    // Some BMCs drop requests for suites they lack instead of refusing them.
    if (outcome.missing === OPEN_RESPONSE && suite === 17 && suites.length > 1) suites.shift();
    attempt++;
  }
  const error = channel.timeoutError(lastMissing, options.policy.tries);
  if (lastMissing !== RAKP2) throw error;
  throw new BmcError("timeout", `${error.message} (some BMCs ignore an unknown user name instead of answering "${credentials.user}" is unauthorized)`);
}

const OPEN_RESPONSE = "RMCP+ Open Session response";
const RAKP2 = "RAKP message 2";
const RAKP4 = "RAKP message 4";

type Outcome =
  | { kind: "session"; session: Session }
  | { kind: "suite refused"; error: BmcError }
  | { kind: "no reply"; missing: string };

let lastTag = 0;

/** Message tags tie each reply to its request; they only need to differ between neighbours. */
function newTag(): number {
  lastTag = (lastTag + 1) & 0xff;
  return lastTag;
}

async function attemptHandshake(
  channel: Channel,
  credentials: Credentials,
  suite: CipherSuiteId,
  acceptable: readonly CipherSuiteId[],
  waitMs: number,
  signal: AbortSignal,
): Promise<Outcome> {
  const consoleSessionId = randomSessionId();
  const openTag = newTag();
  const openRequest = encodeOpenSessionRequest({
    tag: openTag,
    privilege: PRIVILEGE_ADMINISTRATOR,
    consoleSessionId,
    algorithms: cipherSuite(suite),
  });
  const opened = await channel.once(
    encodeRmcpPlus(PayloadType.openSessionRequest, openRequest),
    (datagram) => handshakeReply(datagram, PayloadType.openSessionResponse, openTag, consoleSessionId, decodeOpenSessionResponse),
    waitMs,
    signal,
    OPEN_RESPONSE,
  );
  if (opened === undefined) return { kind: "no reply", missing: OPEN_RESPONSE };
  const chosen = chosenAlgorithms(opened, channel, suite, acceptable);
  if (chosen instanceof BmcError) return { kind: "suite refused", error: chosen };

  const context: RakpContext = {
    auth: chosen.auth,
    password: credentials.password,
    consoleSessionId,
    bmcSessionId: opened.bmcSessionId,
    consoleRandom: new Uint8Array(randomBytes(16)),
    bmcRandom: new Uint8Array(0),
    bmcGuid: new Uint8Array(0),
    role: ROLE,
    username: credentials.username,
  };
  const rakp1Tag = newTag();
  const rakp1 = encodeRakp1({
    tag: rakp1Tag,
    bmcSessionId: opened.bmcSessionId,
    consoleRandom: context.consoleRandom,
    role: ROLE,
    username: credentials.username,
  });
  const rakp2 = await channel.once(
    encodeRmcpPlus(PayloadType.rakp1, rakp1),
    (datagram) => {
      const decode = (payload: Uint8Array) => decodeRakp2(payload, authCodeLength(chosen.auth));
      return handshakeReply(datagram, PayloadType.rakp2, rakp1Tag, consoleSessionId, decode);
    },
    waitMs,
    signal,
    RAKP2,
  );
  if (rakp2 === undefined) return { kind: "no reply", missing: RAKP2 };
  checkRakp2Status(rakp2, credentials, channel);
  const verified: RakpContext = { ...context, bmcRandom: rakp2.bmcRandom, bmcGuid: rakp2.bmcGuid };

  const rakp3Tag = newTag();
  if (!bytesEqual(expectedRakp2AuthCode(verified), rakp2.authCode)) {
    // Telling the BMC lets it free the half-open session now rather than at its timeout.
    const abort = encodeRakp3({
      tag: rakp3Tag,
      status: RAKP_STATUS_INVALID_INTEGRITY_CHECK,
      bmcSessionId: opened.bmcSessionId,
      authCode: new Uint8Array(0),
    });
    channel.post(encodeRmcpPlus(PayloadType.rakp3, abort));
    throw new BmcError(
      "auth",
      `password for user "${credentials.user}" is wrong: ${channel.peer} answered with a RAKP2 HMAC for another password`,
    );
  }
  const keys = deriveSessionKeys(verified, chosen.integrity, chosen.confidentiality);
  const rakp3 = encodeRakp3({ tag: rakp3Tag, status: 0, bmcSessionId: opened.bmcSessionId, authCode: rakp3AuthCode(verified) });
  const rakp4 = await channel.once(
    encodeRmcpPlus(PayloadType.rakp3, rakp3),
    (datagram) => {
      const decode = (payload: Uint8Array) => decodeRakp4(payload, rakp4IcvLength(chosen.auth));
      return handshakeReply(datagram, PayloadType.rakp4, rakp3Tag, consoleSessionId, decode);
    },
    waitMs,
    signal,
    RAKP4,
  );
  if (rakp4 === undefined) return { kind: "no reply", missing: RAKP4 };
  checkRakp4(rakp4, verified, keys, credentials, channel);
  return { kind: "session", session: { consoleSessionId, bmcSessionId: opened.bmcSessionId, algorithms: chosen, keys, suite } };
}

/** Decodes a handshake reply, insisting it answers this attempt's message (tag and our session id). */
function handshakeReply<T extends { tag: number; status: number; consoleSessionId: number | undefined }>(
  datagram: Uint8Array,
  payloadType: number,
  tag: number,
  consoleSessionId: number,
  decode: (payload: Uint8Array) => T,
): T {
  const packet = decodeRmcpPlus(datagram);
  if (packet.payloadType !== payloadType) {
    throw new BmcError("protocol", `expected payload type 0x${payloadType.toString(16)}, got 0x${packet.payloadType.toString(16)}`);
  }
  const reply = decode(packet.payload);
  // A refusal cut short before the session id can only be matched by its tag.
  const sessionMatches = reply.consoleSessionId === consoleSessionId || (reply.consoleSessionId === undefined && reply.status !== 0);
  if (reply.tag !== tag || !sessionMatches) {
    throw new BmcError("protocol", "stale handshake reply (message tag or session id of an earlier attempt)");
  }
  return reply;
}

function randomSessionId(): number {
  for (;;) {
    const id = readU32le(new Uint8Array(randomBytes(4)), 0);
    if (id !== 0) return id;
  }
}
