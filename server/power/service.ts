// rpower / rsetboot across many BMCs: xCAT's verb semantics, bounded fan-out, per-BMC budget, results as a task.
import type { Inventory } from "../core/inventory.ts";
import type { Logger } from "../core/log.ts";
import { BmcError, type PowerDriver, type PowerProtocol } from "./driver.ts";
import { fanOut } from "./fanout.ts";
import { type NodeTarget, type Protocol, nodeTarget } from "./targets.ts";
import type { TaskStore } from "./task-store.ts";
import { type PowerRequest, bootLabel, describeRequest } from "./verbs.ts";

export interface PowerServiceOptions {
  protocols: Partial<Record<Protocol, PowerProtocol>>;
  /** BMCs worked on at once. */
  concurrency: number;
  /** Budget for one node's whole operation (login, command, logout), retries included. */
  timeoutMs: number;
  log?: Logger;
}

export class PowerService {
  constructor(
    private readonly inventory: Inventory,
    private readonly tasks: TaskStore,
    private readonly options: PowerServiceOptions,
  ) {}

  /** Starts the request on every node and returns the task id at once; results arrive in the task. */
  start(nodes: readonly string[], request: PowerRequest): number {
    const listed = this.inventory.list("node", nodes);
    const taskId = this.tasks.create(describeRequest(request), listed.length);
    const targets: NodeTarget[] = [];
    for (const node of listed) {
      const target = nodeTarget(node, (sealed) => this.inventory.store.revealSecret(sealed));
      if (typeof target === "string") this.tasks.addResult(taskId, { node: node.name, ok: false, message: target });
      else targets.push(target);
    }
    void fanOut(targets, { concurrency: this.options.concurrency, keyOf: (t) => t.key }, async (target) => {
      const { outcome, closed } = await this.runNode(target, request);
      this.tasks.addResult(taskId, { node: target.node, ...outcome });
      // The result is out as soon as it is known; the BMC's slot frees once its session is closed.
      await closed;
    })
      .catch((err: unknown) => this.options.log?.error({ err, taskId }, "power task failed"))
      .finally(() => this.tasks.finish(taskId));
    return taskId;
  }

  private async runNode(t: NodeTarget, request: PowerRequest): Promise<{ outcome: { ok: boolean; message: string }; closed: Promise<void> }> {
    const protocol = this.options.protocols[t.protocol];
    if (!protocol) return { outcome: { ok: false, message: `mgt=${t.protocol} is not available in this build` }, closed: Promise.resolve() };
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    const where = `${t.protocol} BMC ${t.target.host}${t.target.port ? `:${t.target.port}` : ""}`;
    let driver: PowerDriver | undefined;
    const close = () => (driver ? driver.close().catch((err: unknown) => this.options.log?.warn({ err, node: t.node }, "closing the BMC session failed")) : Promise.resolve());
    try {
      driver = await protocol.open(t.target, signal);
      const message = await perform(driver, request);
      return { outcome: { ok: true, message }, closed: close() };
    } catch (e) {
      const closed = close();
      if (signal.aborted) return { outcome: { ok: false, message: `timeout after ${this.options.timeoutMs / 1000} s: no complete answer from ${where}` }, closed };
      if (e instanceof BmcError) return { outcome: { ok: false, message: `${e.message} (${where})` }, closed };
      this.options.log?.error({ err: e, node: t.node }, "power operation failed unexpectedly");
      return { outcome: { ok: false, message: `internal error talking to ${where}; see the server log` }, closed };
    }
  }
}

/** xCAT semantics (xcat.md §3): "on" when already on sends nothing; boot = on if off, else reset. */
async function perform(driver: PowerDriver, request: PowerRequest): Promise<string> {
  if (request.kind === "rsetboot") {
    if (request.device === "stat") return bootLabel(await driver.getBootOverride());
    const device = request.device === "default" ? "none" : request.device;
    await driver.setBootOverride({ device, persistent: request.persistent, uefi: request.uefi });
    // What was set, as xCAT prints it: some BMCs (ipmi_sim) read back the device without its valid bit.
    return device === "none" ? "BIOS default" : bootLabel({ device, persistent: request.persistent, uefi: request.uefi });
  }
  const verb = request.verb;
  if (verb === "stat" || verb === "state" || verb === "status") return driver.powerState();
  if (verb === "nmi") {
    await driver.powerAction("nmi");
    return "nmi";
  }
  const state = await driver.powerState();
  switch (verb) {
    case "on":
      if (state === "off") await driver.powerAction("on");
      return "on";
    case "off":
      if (state === "on") await driver.powerAction("off");
      return "off";
    case "softoff":
      if (state === "off") return "off";
      await driver.powerAction("softoff");
      return "softoff";
    case "reset":
      if (state === "off") return "off";
      await driver.powerAction("reset");
      return "reset";
    case "cycle":
    case "boot":
      if (state === "off") {
        await driver.powerAction("on");
        return "on";
      }
      await driver.powerAction(verb === "boot" ? "reset" : "cycle");
      return verb === "boot" ? "reset" : "cycle";
  }
}
