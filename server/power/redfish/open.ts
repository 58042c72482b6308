// open(): service root, login, and discovery of the one ComputerSystem; a failure after login still logs out.
import { BmcError, type BmcTarget } from "../driver.ts";
import { BasicAuth, SessionAuth, type Authenticator } from "./auth.ts";
import { RedfishClient } from "./client.ts";
import { RedfishDriver } from "./driver.ts";
import { readServiceRoot } from "./service-root.ts";
import { canonicalPath, findSystemPath } from "./system.ts";
import { Transport } from "./transport.ts";
import { serviceOrigin } from "./url.ts";

export interface RedfishOptions {
  /** Budget for one HTTP exchange, within the conversation's signal. Default 10 s. */
  requestTimeoutMs?: number;
  /** How long a 202 task may run. Default 120 s. */
  taskTimeoutMs?: number;
  /** Task and power-state polling interval without Retry-After. Default 1 s. */
  pollIntervalMs?: number;
  /** "cycle" without PowerCycle: how long to wait for Off. Default 60 s. */
  cycleOffTimeoutMs?: number;
  /** Budget for the session DELETE when the conversation was aborted. Default 3 s. */
  closeTimeoutMs?: number;
  /** Things that worked but not as asked (a boot override that did not stick, a dropped Mode). */
  warn?(message: string): void;
}

const FULL_BOOT_OBJECT_VENDORS = /supermicro|\bami\b|asrock/i;

export async function openRedfish(target: BmcTarget, signal: AbortSignal, options: RedfishOptions): Promise<RedfishDriver> {
  if (signal.aborted) throw new BmcError("timeout", `${target.host}: cancelled before connecting`);
  const transport = new Transport({
    origin: serviceOrigin(target),
    tls: target.tls,
    signal,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
  });
  const root = await readServiceRoot(transport);
  const credentials = { username: target.username, password: target.password };
  let auth: Authenticator;
  if (target.auth === "basic") {
    auth = new BasicAuth(credentials);
  } else {
    const session = new SessionAuth(transport, root.sessionsPath, credentials);
    await session.login();
    auth = session;
  }
  const client = new RedfishClient(transport, auth);
  try {
    const listed = await findSystemPath(client, root.systemsPath);
    const { doc, answer } = await client.get(listed);
    const manufacturer = typeof doc.Manufacturer === "string" ? doc.Manufacturer : "";
    return new RedfishDriver(client, auth, canonicalPath(doc, answer.path), doc, {
      signal,
      taskTimeoutMs: options.taskTimeoutMs ?? 120_000,
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      cycleOffTimeoutMs: options.cycleOffTimeoutMs ?? 60_000,
      closeTimeoutMs: options.closeTimeoutMs ?? 3000,
      fullBootObject: FULL_BOOT_OBJECT_VENDORS.test(`${root.vendor ?? ""} ${manufacturer}`),
      warn: options.warn ?? (() => {}),
    });
  } catch (error) {
    await auth.logout(signal.aborted ? AbortSignal.timeout(options.closeTimeoutMs ?? 3000) : undefined);
    throw error;
  }
}
