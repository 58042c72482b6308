// PowerState as the BMC reports it at this moment, and waiting for a target state within a deadline.
import { BmcError, type PowerDriver, type PowerState } from "../driver.ts";
import { asString, type JsonObject } from "./json.ts";

export type RedfishPowerState = "On" | "Off" | "PoweringOn" | "PoweringOff" | "Paused";

const MAPPING: Record<RedfishPowerState, PowerState> = {
  On: "on",
  Off: "off",
  // Still dark until it is On; still drawing power until it is Off. Polling for "on"/"off" thus waits out
  // the transition instead of returning early.
  PoweringOn: "off",
  PoweringOff: "on",
  Paused: "on",
};

export function readPowerState(system: JsonObject, systemPath: string): RedfishPowerState {
  const value = asString(system.PowerState);
  if (value !== undefined && value in MAPPING) return value as RedfishPowerState;
  throw new BmcError("protocol", `GET ${systemPath}: PowerState is ${JSON.stringify(system.PowerState ?? null)}`);
}

export function toPowerState(state: RedfishPowerState): PowerState {
  return MAPPING[state];
}

export interface WaitOptions {
  /** Give up after this long; transitions took 1–11 s in sushy-tools. */
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
}

/**
 * Polls until the state is `target`; returns the milliseconds it took. Throws BmcError "timeout" with the last state
 * seen when the deadline passes, and passes on any error the driver raises.
 */
export async function waitForPowerState(
  driver: Pick<PowerDriver, "powerState">,
  target: PowerState,
  options: WaitOptions,
): Promise<number> {
  const started = performance.now();
  const deadline = started + options.timeoutMs;
  const interval = options.intervalMs ?? 1000;
  for (;;) {
    const state = await driver.powerState();
    const now = performance.now();
    if (state === target) return Math.round(now - started);
    if (now >= deadline) {
      throw new BmcError("timeout", `power state still ${state} after ${options.timeoutMs} ms (waiting for ${target})`);
    }
    await sleep(Math.min(interval, deadline - now), options.signal);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new BmcError("timeout", "cancelled while waiting"));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new BmcError("timeout", "cancelled while waiting"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
