// IPMI 2.0 (RMCP+) power control, in-process: no ipmitool. bmc.md §3 is the specification.
import type { BmcTarget, PowerProtocol } from "../driver.ts";
import { BmcError } from "../driver.ts";
import type { CipherSuiteId } from "./algorithms.ts";
import { DEFAULT_RETRY, type RetryPolicy } from "./channel.ts";
import { IpmiDriver } from "./ipmi-driver.ts";
import { IpmiSession } from "./session.ts";
import { Slots } from "./slots.ts";

export type { BootFlags } from "./boot-options.ts";
export type { CipherSuiteId } from "./algorithms.ts";
export type { RetryPolicy } from "./channel.ts";
export { IpmiDriver } from "./ipmi-driver.ts";

export interface IpmiOptions {
  /** Retransmission schedule per request; default xCAT's: 3 tries, 0.5 s + ≤0.5 s jitter, +1 s per retry. */
  retry?: RetryPolicy;
  /** Close Session's own schedule (the caller's budget may be spent); default 2 tries, 0.25 s and 0.5 s. */
  closeRetry?: RetryPolicy;
  /** Cipher suites to offer, in order; default [17, 3]. */
  cipherSuites?: readonly CipherSuiteId[];
  /** Sessions (sockets) open at once; more wait for a slot within their budget. Default 1024. */
  maxSessions?: number;
}

export const DEFAULT_CLOSE_RETRY: RetryPolicy = { tries: 2, firstWaitMs: 250, stepMs: 250, jitterMs: 0 };

export interface IpmiProtocol extends PowerProtocol {
  open(target: BmcTarget, signal: AbortSignal): Promise<IpmiDriver>;
}

export function createIpmiProtocol(options: IpmiOptions = {}): IpmiProtocol {
  const cipherSuites = options.cipherSuites ?? [17, 3];
  if (cipherSuites.length === 0) throw new TypeError("createIpmiProtocol: cipherSuites must name at least one suite");
  const sessionOptions = {
    retry: options.retry ?? DEFAULT_RETRY,
    closeRetry: options.closeRetry ?? DEFAULT_CLOSE_RETRY,
    cipherSuites,
    slots: new Slots(options.maxSessions ?? 1024),
    // One entry per BMC ever talked to: as many as the cluster has.
    acceptedSuites: new Map<string, CipherSuiteId>(),
  };
  return {
    async open(target, signal) {
      try {
        return new IpmiDriver(await IpmiSession.open(target, signal, sessionOptions));
      } catch (error) {
        throw asBmcError(error, target);
      }
    },
  };
}

/** Nothing but BmcError leaves this module, whatever went wrong underneath. */
function asBmcError(error: unknown, target: BmcTarget): BmcError {
  if (error instanceof BmcError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BmcError("protocol", `IPMI session to ${target.host}: unexpected failure: ${message}`);
}

export const ipmiProtocol: PowerProtocol = createIpmiProtocol();
