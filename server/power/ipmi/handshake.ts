// Logging in to a BMC (bmc.md §3): Get Channel Authentication Capabilities in IPMI 1.5 framing, then
// Open Session and RAKP 1–4. Cipher suite 17 is asked first and suite 3 after a refusal; a BMC that
// accepts with other algorithms we also speak (pyghmi answers SHA1 to a SHA256 request) is taken at
// its word. A reply that does not come restarts the whole handshake with a fresh session id, as
// ipmitool does: the BMC may have dropped the half-built session.
import { randomBytes } from "node:crypto";
import { BmcError } from "../driver.ts";
import {
  type Algorithms,
  CIPHER_SUITE_17,
  CIPHER_SUITE_3,
  authCodeLength,
  describeAlgorithms,
  rakp4IcvLength,
} from "./algorithms.ts";
import { bytesEqual, readU32le } from "./bytes.ts";
import { type Channel, type RetryPolicy, retryWaitMs } from "./channel.ts";
import { completionCodeText, rmcpStatusText } from "./codes.ts";
import {
  type OpenSessionResponse,
  type Rakp2,
  type Rakp4,
  decodeOpenSessionResponse,
  decodeRakp2,
  decodeRakp4,
  encodeOpenSessionRequest,
  encodeRakp1,
  encodeRakp3,
} from "./handshake-codec.ts";
import { NetFn, answers, decodeResponse, encodeRequest } from "./message.ts";
import { type RakpContext, type SessionKeys, deriveSessionKeys, expectedRakp2AuthCode, expectedRakp4Icv, rakp3AuthCode } from "./rakp-keys.ts";
import { PayloadType, decodeRmcpPlus, decodeSessionless, encodeRmcpPlus, encodeSessionless15 } from "./rmcp.ts";

export const PRIVILEGE_ADMINISTRATOR = 0x04;
/** RAKP1 role byte: name-only lookup (bit 4) | administrator. */
const ROLE = 0x10 | PRIVILEGE_ADMINISTRATOR;
const RAKP_STATUS_INVALID_INTEGRITY_CHECK = 0x0f;

export type CipherSuiteId = 3 | 17;

export interface Credentials {
  /** For messages. */
  readonly user: string;
  readonly username: Uint8Array;
  readonly password: Uint8Array;
}

export interface Session {
  readonly consoleSessionId: number;
  readonly bmcSessionId: number;
  readonly algorithms: Algorithms;
  readonly keys: SessionKeys;
}

export interface HandshakeOptions {
  readonly policy: RetryPolicy;
  /** In order of preference. */
  readonly cipherSuites: readonly CipherSuiteId[];
  readonly signal: AbortSignal;
}

export async function logIn(channel: Channel, credentials: Credentials, options: HandshakeOptions): Promise<Session> {
  await checkIpmi20(channel, options);
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

const GET_CHANNEL_AUTH_CAPS = { netFn: NetFn.app, cmd: 0x38, data: Uint8Array.of(0x8e, PRIVILEGE_ADMINISTRATOR) };

/** Sessionless and in IPMI 1.5 framing: ipmi_sim ignores sessionless payloads framed as RMCP+. */
async function checkIpmi20(channel: Channel, options: HandshakeOptions): Promise<void> {
  const rqSeq = 1;
  const response = await channel
    .exchange({
      build: () => encodeSessionless15(encodeRequest(GET_CHANNEL_AUTH_CAPS, rqSeq)),
      accept: (datagram) => {
        const reply = decodeResponse(decodeSessionless(datagram));
        if (!answers(reply, GET_CHANNEL_AUTH_CAPS, rqSeq)) throw new BmcError("protocol", "reply to another request");
        return reply;
      },
      policy: options.policy,
      signal: options.signal,
      what: "answer to Get Channel Authentication Capabilities",
    })
    .catch((error: unknown) => {
      if (error instanceof BmcError && error.kind === "timeout" && !options.signal.aborted && channel.droppedReplies === 0) {
        throw new BmcError("timeout", `${error.message} (is an IPMI BMC listening there?)`);
      }
      throw error;
    });
  if (response.completionCode !== 0) {
    throw new BmcError(
      "unsupported",
      `${channel.peer} does not speak IPMI 2.0: Get Channel Authentication Capabilities answered ${completionCodeText(response.completionCode)}`,
    );
  }
  const data = response.data;
  if (data.length < 4 || ((data[1] ?? 0) & 0x80) === 0 || ((data[3] ?? 0) & 0x02) === 0) {
    throw new BmcError("unsupported", `${channel.peer} does not offer IPMI 2.0 (RMCP+) on this channel`);
  }
}

const OPEN_RESPONSE = "RMCP+ Open Session response";
const RAKP2 = "RAKP message 2";
const RAKP4 = "RAKP message 4";

type Outcome =
  | { kind: "session"; session: Session }
  | { kind: "suite refused"; error: BmcError }
  | { kind: "no reply"; missing: string };

let nextTag = 0;

async function attemptHandshake(
  channel: Channel,
  credentials: Credentials,
  suite: CipherSuiteId,
  acceptable: readonly CipherSuiteId[],
  waitMs: number,
  signal: AbortSignal,
): Promise<Outcome> {
  const consoleSessionId = randomSessionId();
  const requested = suite === 17 ? CIPHER_SUITE_17 : CIPHER_SUITE_3;
  const openTag = (nextTag = (nextTag + 1) & 0xff);
  const openRequest = encodeOpenSessionRequest({
    tag: openTag,
    privilege: PRIVILEGE_ADMINISTRATOR,
    consoleSessionId,
    algorithms: requested,
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
  const rakp1Tag = (nextTag = (nextTag + 1) & 0xff);
  const rakp1 = encodeRakp1({
    tag: rakp1Tag,
    bmcSessionId: opened.bmcSessionId,
    consoleRandom: context.consoleRandom,
    role: ROLE,
    username: credentials.username,
  });
  const rakp2 = await channel.once(
    encodeRmcpPlus(PayloadType.rakp1, rakp1),
    (datagram) =>
      handshakeReply(datagram, PayloadType.rakp2, rakp1Tag, consoleSessionId, (payload) => decodeRakp2(payload, authCodeLength(chosen.auth))),
    waitMs,
    signal,
    RAKP2,
  );
  if (rakp2 === undefined) return { kind: "no reply", missing: RAKP2 };
  checkRakp2Status(rakp2, credentials, channel);
  const verified: RakpContext = { ...context, bmcRandom: rakp2.bmcRandom, bmcGuid: rakp2.bmcGuid };

  const rakp3Tag = (nextTag = (nextTag + 1) & 0xff);
  if (!bytesEqual(expectedRakp2AuthCode(verified), rakp2.authCode)) {
    // Telling the BMC lets it free the half-open session now rather than at its timeout.
    channel.post(
      encodeRmcpPlus(
        PayloadType.rakp3,
        encodeRakp3({ tag: rakp3Tag, status: RAKP_STATUS_INVALID_INTEGRITY_CHECK, bmcSessionId: opened.bmcSessionId, authCode: new Uint8Array(0) }),
      ),
    );
    throw new BmcError("auth", `password for user "${credentials.user}" is wrong: ${channel.peer} answered with a RAKP2 HMAC for another password`);
  }
  const keys = deriveSessionKeys(verified, chosen.integrity, chosen.confidentiality);
  const rakp3 = encodeRakp3({ tag: rakp3Tag, status: 0, bmcSessionId: opened.bmcSessionId, authCode: rakp3AuthCode(verified) });
  const rakp4 = await channel.once(
    encodeRmcpPlus(PayloadType.rakp3, rakp3),
    (datagram) =>
      handshakeReply(datagram, PayloadType.rakp4, rakp3Tag, consoleSessionId, (payload) => decodeRakp4(payload, rakp4IcvLength(chosen.auth))),
    waitMs,
    signal,
    RAKP4,
  );
  if (rakp4 === undefined) return { kind: "no reply", missing: RAKP4 };
  checkRakp4(rakp4, verified, keys, credentials, channel);
  return { kind: "session", session: { consoleSessionId, bmcSessionId: opened.bmcSessionId, algorithms: chosen, keys } };
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

/**
 * The algorithms to go on with, or why this suite cannot be used. The BMC may answer with another suite
 * than the one asked for (pyghmi answers suite 3 to everything): fine if it is one we offer too.
 */
function chosenAlgorithms(
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
    const algorithms = id === 17 ? CIPHER_SUITE_17 : CIPHER_SUITE_3;
    if (opened.auth === algorithms.auth && opened.integrity === algorithms.integrity && opened.confidentiality === algorithms.confidentiality) {
      return algorithms;
    }
  }
  const hex = (value: number): string => `0x${value.toString(16).padStart(2, "0")}`;
  return new BmcError(
    "unsupported",
    `${channel.peer} answered a request for cipher suite ${suite} with algorithms provd does not accept ` +
      `(authentication ${hex(opened.auth)}, integrity ${hex(opened.integrity)}, confidentiality ${hex(opened.confidentiality)}; ` +
      `offered: ${acceptable.map((id) => `suite ${id} = ${describeAlgorithms(id === 17 ? CIPHER_SUITE_17 : CIPHER_SUITE_3)}`).join(", ")})`,
  );
}

function checkRakp2Status(rakp2: Rakp2, credentials: Credentials, channel: Channel): void {
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

function checkRakp4(rakp4: Rakp4, context: RakpContext, keys: SessionKeys, credentials: Credentials, channel: Channel): void {
  if (rakp4.status === 0x0f || rakp4.status === 0x0d) {
    throw new BmcError("auth", `${channel.peer} rejected the login of "${credentials.user}" (RAKP4: ${rmcpStatusText(rakp4.status)})`);
  }
  if (rakp4.status !== 0) {
    throw new BmcError("refused", `${channel.peer} refused the session (RAKP4: ${rmcpStatusText(rakp4.status)})`);
  }
  if (!bytesEqual(expectedRakp4Icv(context, keys.sik), rakp4.integrityCheck)) {
    throw new BmcError(
      "auth",
      `session keys of ${channel.peer} differ from ours (RAKP4 integrity check failed): the BMC may require a BMC key (K_G), which provd does not set`,
    );
  }
}

function randomSessionId(): number {
  for (;;) {
    const id = readU32le(new Uint8Array(randomBytes(4)), 0);
    if (id !== 0) return id;
  }
}
