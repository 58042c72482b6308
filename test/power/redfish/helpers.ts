// Shared set-up for the Redfish client tests: a test BMC per test and a fast-polling client aimed at it.
import type { BmcTarget } from "../../../server/power/driver.ts";
import { createRedfishProtocol, type RedfishDriver, type RedfishOptions } from "../../../server/power/redfish/index.ts";
import { startRedfishBmc, type RedfishBmc, type RedfishBmcOptions } from "../../bmc/redfish-bmc.ts";

export const FAST: RedfishOptions = { pollIntervalMs: 40, requestTimeoutMs: 3000, cycleOffTimeoutMs: 3000, taskTimeoutMs: 5000 };

export function targetFor(bmc: RedfishBmc, extra: Partial<BmcTarget> = {}): BmcTarget {
  const url = new URL(bmc.url);
  return {
    host: url.hostname,
    port: Number(url.port),
    scheme: url.protocol === "https:" ? "https" : "http",
    username: "admin",
    password: "password",
    ...extra,
  };
}

export interface Bench {
  bmc: RedfishBmc;
  warnings: string[];
  open(extra?: Partial<BmcTarget>, options?: RedfishOptions, signal?: AbortSignal): Promise<RedfishDriver>;
}

/** Starts a BMC, runs `body` against it, and always stops it. Transitions default to 150 ms to keep tests short. */
export async function withBmc(options: RedfishBmcOptions, body: (bench: Bench) => Promise<void>): Promise<void> {
  const bmc = await startRedfishBmc({ transitionMs: 150, ...options });
  const warnings: string[] = [];
  const bench: Bench = {
    bmc,
    warnings,
    open: (extra = {}, options = {}, signal = AbortSignal.timeout(20_000)) =>
      createRedfishProtocol({ ...FAST, warn: (m) => warnings.push(m), ...options }).open(targetFor(bmc, extra), signal),
  };
  try {
    await body(bench);
  } finally {
    await bmc.stop();
  }
}

/** Opens, runs, and closes a driver, as the power service does. */
export async function withDriver(
  bench: Bench,
  body: (driver: RedfishDriver) => Promise<unknown>,
  extra: Partial<BmcTarget> = {},
  options: RedfishOptions = {},
): Promise<void> {
  const driver = await bench.open(extra, options);
  try {
    await body(driver);
  } finally {
    await driver.close();
  }
}

/** The rejection of `promise`, for asserting on BmcError kinds and messages. */
export async function failure(promise: Promise<unknown>): Promise<Error & { kind?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { kind?: string };
  }
  throw new Error("expected a rejection, got success");
}

/** ResetType values POSTed to the BMC, in order. */
export function resetsSent(bmc: RedfishBmc): string[] {
  return bmc.requests
    .filter((r) => r.method === "POST" && r.path.endsWith("/Actions/ComputerSystem.Reset"))
    .map((r) => (r.body as { ResetType: string }).ResetType);
}
