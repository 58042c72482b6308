// Request/reply over one Link: one request in flight, retransmitted on xCAT's schedule (IPMI.pm: 0.5 s
// plus up to 0.5 s of jitter, one second more per retry), every wait abortable. Replies that are
// malformed, forged or stale are dropped and counted, so a timeout can say what did come back.
import { BmcError } from "../driver.ts";
import { abortError } from "./abort.ts";
import { type Link, openLink } from "./link.ts";

export interface RetryPolicy {
  /** Sends per request, the first one included. */
  readonly tries: number;
  /** How long to wait for a reply to the first send. */
  readonly firstWaitMs: number;
  /** Added to the wait after each retransmission. */
  readonly stepMs: number;
  /** Up to this much random extra per wait, so a thousand BMCs do not retransmit in lockstep. */
  readonly jitterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { tries: 3, firstWaitMs: 500, stepMs: 1000, jitterMs: 500 };

export function retryWaitMs(policy: RetryPolicy, tryIndex: number, random: () => number = Math.random): number {
  return policy.firstWaitMs + tryIndex * policy.stepMs + Math.floor(random() * policy.jitterMs);
}

/** Returns the reply if `datagram` is it, undefined if it is someone else's; throws BmcError if it is broken. */
export type Accept<T> = (datagram: Uint8Array) => T | undefined;

interface Waiter {
  what: string;
  accept: Accept<unknown>;
  resolve(value: unknown): void;
  reject(error: BmcError): void;
}

export class Channel {
  private waiter: Waiter | undefined;
  private dropped = 0;
  private lastDropReason = "";
  private unreachable = false;
  private link: Link | undefined;

  private constructor() {}

  static async open(host: string, port: number, signal: AbortSignal): Promise<Channel> {
    const channel = new Channel();
    channel.link = await openLink(
      host,
      port,
      { onDatagram: (datagram) => channel.deliver(datagram), onUnreachable: () => channel.markUnreachable() },
      signal,
    );
    return channel;
  }

  get peer(): string {
    return this.link?.peer ?? "?";
  }

  /** Sends without waiting for anything (RAKP3 aborts, for one). */
  post(datagram: Uint8Array): void {
    this.link?.send(datagram);
  }

  /** One send, one wait: the accepted reply, or undefined if none came within `waitMs`. */
  async once<T>(datagram: Uint8Array, accept: Accept<T>, waitMs: number, signal: AbortSignal, what: string): Promise<T | undefined> {
    if (this.unreachable) throw this.unreachableError(what);
    if (signal.aborted) throw abortError(signal, `waiting for ${what} from ${this.peer}`);
    if (this.waiter !== undefined) throw new BmcError("protocol", `internal: two requests in flight to ${this.peer}`);
    return new Promise<T | undefined>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.waiter = undefined;
      };
      const onAbort = (): void => {
        finish();
        reject(abortError(signal, `waiting for ${what} from ${this.peer}`));
      };
      const timer = setTimeout(() => {
        finish();
        resolve(undefined);
      }, waitMs);
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiter = {
        what,
        accept,
        resolve: (value) => {
          finish();
          resolve(value as T);
        },
        reject: (error) => {
          finish();
          reject(error);
        },
      };
      this.link?.send(datagram);
    });
  }

  /** Sends `build(try)` until a reply is accepted; a BmcError "timeout" after `policy.tries` sends. */
  async exchange<T>(options: {
    build: (tryIndex: number) => Uint8Array;
    accept: Accept<T>;
    policy: RetryPolicy;
    signal: AbortSignal;
    what: string;
  }): Promise<T> {
    this.resetDrops();
    for (let tryIndex = 0; tryIndex < options.policy.tries; tryIndex++) {
      const wait = retryWaitMs(options.policy, tryIndex);
      const reply = await this.once(options.build(tryIndex), options.accept, wait, options.signal, options.what);
      if (reply !== undefined) return reply;
    }
    throw this.timeoutError(options.what, options.policy.tries);
  }

  /** Replies dropped since the last resetDrops(): something is answering, just not usefully. */
  get droppedReplies(): number {
    return this.dropped;
  }

  resetDrops(): void {
    this.dropped = 0;
    this.lastDropReason = "";
  }

  timeoutError(what: string, tries: number): BmcError {
    const drops = this.dropped === 0 ? "" : `; ${this.dropped} unusable ${this.dropped === 1 ? "reply" : "replies"} dropped (last: ${this.lastDropReason})`;
    return new BmcError("timeout", `no ${what} from ${this.peer} after ${tries} ${tries === 1 ? "try" : "tries"}${drops}`);
  }

  close(): void {
    this.link?.close();
    this.waiter?.reject(new BmcError("timeout", `session to ${this.peer} closed while waiting`));
  }

  private deliver(datagram: Uint8Array): void {
    const waiter = this.waiter;
    if (waiter === undefined) return;
    try {
      const reply = waiter.accept(datagram);
      if (reply !== undefined) waiter.resolve(reply);
    } catch (error) {
      this.dropped++;
      this.lastDropReason = error instanceof BmcError ? error.message : "undecodable reply";
    }
  }

  private markUnreachable(): void {
    this.unreachable = true;
    if (this.waiter !== undefined) this.waiter.reject(this.unreachableError(this.waiter.what));
  }

  private unreachableError(what: string): BmcError {
    return new BmcError("unreachable", `${this.peer} is unreachable (ICMP port or host unreachable) while waiting for ${what}`);
  }
}
