// An active RMCP+ session with one BMC: opened (socket, login), used for one request at a time, raised to
// administrator privilege before the first command that needs more than User, and always closed with Close
// Session, also when the caller's signal aborts.
import type { BmcTarget } from "../driver.ts";
import { BmcError } from "../driver.ts";
import { abortError } from "./abort.ts";
import { AuthAlgorithm, type CipherSuiteId } from "./algorithms.ts";
import { u32le } from "./bytes.ts";
import { PRIVILEGE_ADMINISTRATOR } from "./capabilities.ts";
import { Channel, type RetryPolicy } from "./channel.ts";
import { completionCodeText } from "./codes.ts";
import { credentialsOf } from "./credentials.ts";
import { type Session, logIn } from "./handshake.ts";
import { type IpmiRequest, type IpmiResponse, NetFn, answers, decodeResponse, encodeRequest } from "./message.ts";
import { decodeSessionPacket, encodeSessionPacket } from "./session-packet.ts";
import type { Slots } from "./slots.ts";

export const IPMI_PORT = 623;

export interface SessionOptions {
  readonly retry: RetryPolicy;
  /** Close Session gets its own short budget: the caller's may be spent already. */
  readonly closeRetry: RetryPolicy;
  readonly cipherSuites: readonly CipherSuiteId[];
  readonly slots: Slots;
  /**
   * The suite each BMC (host:port) last accepted, tried first next time: a BMC without suite 17 (ipmi_sim, older
   * firmware) then costs no refused Open Session per operation. A refusal still falls back through the list.
   * A BMC listed here has given us a session, so it speaks IPMI 2.0: its next login skips Get Channel
   * Authentication Capabilities. A failed login forgets the BMC, so the one after it asks again.
   */
  readonly acceptedSuites?: Map<string, CipherSuiteId>;
}

/** Command-specific completion codes (0x80–0xBE), named per command. */
export type CommandCodes = Readonly<Record<number, string>>;

/**
 * The privilege a command needs. A new session runs at User level until Set Session Privilege Level, which is
 * enough for reads such as Get Chassis Status (ipmi_sim and pyghmi answer it there); anything else first raises
 * the session to administrator, once. A BMC that wants more for a read answers 0xD4 and gets the raise then.
 */
export type CommandPrivilege = "user" | "administrator";

const INSUFFICIENT_PRIVILEGE = 0xd4;

const SET_PRIVILEGE_CODES: CommandCodes = {
  0x80: "requested level not available for this user",
  0x81: "requested level exceeds the channel or user privilege limit",
};

export class IpmiSession {
  private sequence = 0;
  private rqSeq = 0;
  /** Inbound session sequence numbers already accepted: a replayed reply is dropped. */
  private readonly seen = new Set<number>();
  /** Requests run one after another; close() queues behind whatever is in flight. */
  private queue: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;
  private administrator: Promise<void> | undefined;
  private readonly onAbort = (): void => void this.close();

  private constructor(
    private readonly channel: Channel,
    private readonly session: Session,
    private readonly signal: AbortSignal,
    private readonly options: SessionOptions,
    private readonly user: string,
    private readonly releaseSlot: () => void,
  ) {}

  static async open(target: BmcTarget, signal: AbortSignal, options: SessionOptions): Promise<IpmiSession> {
    const credentials = credentialsOf(target);
    const port = target.port ?? IPMI_PORT;
    const release = await options.slots.acquire(signal, `opening an IPMI session to ${target.host}:${port}`);
    let channel: Channel | undefined;
    let session: Session;
    const key = `${target.host}:${port}`;
    try {
      channel = await Channel.open(target.host, port, signal);
      const known = options.acceptedSuites?.get(key);
      const cipherSuites = known === undefined ? options.cipherSuites : [known, ...options.cipherSuites.filter((s) => s !== known)];
      session = await logIn(channel, credentials, { policy: options.retry, cipherSuites, signal, knownIpmi20: known !== undefined });
      options.acceptedSuites?.set(key, session.suite);
    } catch (error) {
      options.acceptedSuites?.delete(key);
      channel?.close();
      release();
      throw error;
    }
    const active = new IpmiSession(channel, session, signal, options, credentials.user, release);
    signal.addEventListener("abort", active.onAbort, { once: true });
    return active;
  }

  get peer(): string {
    return this.channel.peer;
  }

  get cipherSuite(): CipherSuiteId {
    return this.session.algorithms.auth === AuthAlgorithm.hmacSha256 ? 17 : 3;
  }

  /**
   * Sends `request` at the privilege it needs and returns the response data; a non-zero completion code is a
   * BmcError "refused". A BMC that wants more than User for a "user" command gets the session raised and the
   * command again.
   */
  async command(request: IpmiRequest, what: string, codes?: CommandCodes, privilege: CommandPrivilege = "administrator"): Promise<Uint8Array> {
    if (privilege === "administrator") await this.raiseToAdministrator();
    let response = await this.request(request, what);
    if (response.completionCode === INSUFFICIENT_PRIVILEGE && this.administrator === undefined) {
      await this.raiseToAdministrator();
      response = await this.request(request, what);
    }
    if (response.completionCode !== 0) {
      throw new BmcError("refused", `${this.peer} refused ${what}: completion code ${completionCodeText(response.completionCode, codes)}`);
    }
    return response.data;
  }

  request(request: IpmiRequest, what: string): Promise<IpmiResponse> {
    if (this.closing !== undefined) {
      const closed = new BmcError("protocol", `${what}: the session to ${this.peer} is closed`);
      return Promise.reject(this.signal.aborted ? abortError(this.signal, `${what} to ${this.peer}`) : closed);
    }
    return this.enqueue(() => this.send(request, what, this.signal, this.options.retry));
  }

  /** Close Session, then the socket; never throws, and only the first call does anything. */
  close(): Promise<void> {
    this.closing ??= this.enqueue(async () => {
      this.signal.removeEventListener("abort", this.onAbort);
      try {
        const request = { netFn: NetFn.app, cmd: 0x3c, data: u32le(this.session.bmcSessionId) };
        await this.send(request, "Close Session", new AbortController().signal, this.options.closeRetry);
      } catch {
        // The BMC drops the session at its own timeout.
      } finally {
        this.channel.close();
        this.releaseSlot();
      }
    });
    return this.closing;
  }

  /** Set Session Privilege Level (administrator), sent once; its failure is every later command's failure. */
  private raiseToAdministrator(): Promise<void> {
    this.administrator ??= this.setAdministrator();
    return this.administrator;
  }

  private async setAdministrator(): Promise<void> {
    const request = { netFn: NetFn.app, cmd: 0x3b, data: Uint8Array.of(PRIVILEGE_ADMINISTRATOR) };
    const what = "Set Session Privilege Level (administrator)";
    const response = await this.request(request, what);
    if (response.completionCode !== 0) {
      const refusal = `${this.peer} refused ${what}: completion code ${completionCodeText(response.completionCode, SET_PRIVILEGE_CODES)}`;
      throw new BmcError("auth", `user "${this.user}" cannot have administrator privilege: ${refusal}`);
    }
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job, job);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async send(request: IpmiRequest, what: string, signal: AbortSignal, policy: RetryPolicy): Promise<IpmiResponse> {
    if (signal.aborted) throw abortError(signal, `${what} to ${this.peer}`);
    this.rqSeq = (this.rqSeq + 1) & 0x3f;
    const rqSeq = this.rqSeq;
    const message = encodeRequest(request, rqSeq);
    return this.channel.exchange({
      // A retransmission keeps rqSeq, so the BMC can recognise a duplicate, but needs a new sequence number.
      build: () => encodeSessionPacket(this.session.keys, this.session.bmcSessionId, this.nextSequence(), message),
      accept: (datagram) => {
        const packet = decodeSessionPacket(this.session.keys, this.session.consoleSessionId, datagram);
        if (this.seen.has(packet.sequence)) throw new BmcError("protocol", `replayed session sequence number ${packet.sequence}`);
        const response = decodeResponse(packet.message);
        if (!answers(response, request, rqSeq)) throw new BmcError("protocol", "reply to an earlier request");
        this.seen.add(packet.sequence);
        return response;
      },
      policy,
      signal,
      what: `answer to ${what}`,
    });
  }

  private nextSequence(): number {
    // Starts at 1; 0 means "no session" and the counter must not wrap back to it.
    this.sequence = this.sequence >= 0xffffffff ? 1 : this.sequence + 1;
    return this.sequence;
  }
}
