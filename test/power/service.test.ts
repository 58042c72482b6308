// The power service's xCAT semantics, fan-out and tasks, with a scripted BMC behind the driver contract.
import { randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import { createLogger } from "../../server/core/log.ts";
import { secretBox } from "../../server/core/secret-box.ts";
import { createServices } from "../../server/core/services.ts";
import { TokenStore } from "../../server/core/tokens.ts";
import { openDatabase } from "../../server/db/open.ts";
import { createApp } from "../../server/http/app.ts";
import { BmcError, type BmcTarget, type BootOverride, type PowerAction, type PowerProtocol, type PowerState } from "../../server/power/driver.ts";
import { testTempDir } from "../temp-dir.ts";

/** A BMC per host: its state, what it was told, and how it misbehaves. */
class FakeBmcs implements PowerProtocol {
  state = new Map<string, PowerState>();
  boot = new Map<string, BootOverride>();
  calls: string[] = [];
  dead = new Set<string>();
  inFlight = new Map<string, number>();
  maxInFlightPerHost = 0;
  maxInFlight = 0;
  passwords: string[] = [];

  async open(target: BmcTarget, signal: AbortSignal) {
    const host = target.host;
    this.passwords.push(target.password);
    if (this.dead.has(host)) await new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    if (target.password !== "secret") throw new BmcError("auth", `wrong password for user ${target.username}`);
    const n = (this.inFlight.get(host) ?? 0) + 1;
    this.inFlight.set(host, n);
    this.maxInFlightPerHost = Math.max(this.maxInFlightPerHost, n);
    this.maxInFlight = Math.max(this.maxInFlight, [...this.inFlight.values()].reduce((a, b) => a + b, 0));
    await Bun.sleep(5);
    return {
      powerState: async () => this.state.get(host) ?? "off",
      powerAction: async (action: PowerAction) => {
        this.calls.push(`${host} ${action}`);
        if (action === "on") this.state.set(host, "on");
        if (action === "off" || action === "softoff") this.state.set(host, "off");
      },
      setBootOverride: async (o: BootOverride) => {
        this.calls.push(`${host} boot ${o.device}${o.persistent ? " persistent" : ""}${o.uefi ? " uefi" : ""}`);
        this.boot.set(host, o);
      },
      getBootOverride: async () => this.boot.get(host) ?? { device: "none" as const, persistent: false, uefi: false },
      close: async () => {
        this.inFlight.set(host, (this.inFlight.get(host) ?? 1) - 1);
      },
    };
  }
}

async function setup(options: { timeoutMs?: number; concurrency?: number } = {}) {
  const bmcs = new FakeBmcs();
  const db = openDatabase(":memory:");
  const services = createServices(db, {
    secrets: secretBox(randomBytes(32)),
    blobDir: testTempDir("provd-power-"),
    power: { protocols: { ipmi: bmcs, redfish: bmcs }, concurrency: options.concurrency ?? 256, timeoutMs: options.timeoutMs ?? 2000 },
  });
  const app = createApp({ services, tokens: new TokenStore(db, "t"), log: createLogger("silent"), version: "test" });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await app.request(path, { method, headers: { authorization: "Bearer t", "content-type": "application/json" }, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, json: (await res.json()) as Record<string, unknown>, res };
  };
  await call("POST", "/api/v1/groups", { objects: [{ name: "compute", attrs: { mgt: "ipmi", bmcusername: "admin", bmcpassword: "secret", bmc: "|\\D+(\\d+)|10.1.0.($1+0)|" } }] });
  const run = async (range: string, request: Record<string, unknown>) => {
    const started = await call("POST", "/api/v1/power", { range, ...request });
    expect(started.status).toBe(202);
    const res = await app.request(`/api/v1/tasks/${started.json.task}/events`, { headers: { authorization: "Bearer t" } });
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l) as { node?: string; ok?: boolean; message?: string; done?: boolean });
    expect(lines.at(-1)).toEqual({ done: true, state: "done" });
    return Object.fromEntries(lines.filter((l) => l.node).map((l) => [l.node, `${l.ok ? "" : "Error: "}${l.message}`])) as Record<string, string>;
  };
  return { bmcs, call, run, services };
}

describe("rpower semantics (xcat.md §3)", () => {
  test("on/off/boot/reset/stat print xCAT's words and send only what is needed", async () => {
    const t = await setup();
    await t.call("POST", "/api/v1/nodes", { objects: [{ name: "n[1-2]", attrs: { groups: "compute" } }] });
    expect(await t.run("n1,n2", { command: "rpower", verb: "stat" })).toEqual({ n1: "off", n2: "off" });
    expect(await t.run("n1", { command: "rpower", verb: "boot" })).toEqual({ n1: "on" });
    expect(await t.run("n1", { command: "rpower", verb: "on" })).toEqual({ n1: "on" });
    expect(await t.run("n1", { command: "rpower", verb: "boot" })).toEqual({ n1: "reset" });
    expect(await t.run("n2", { command: "rpower", verb: "reset" })).toEqual({ n2: "off" });
    expect(await t.run("n2", { command: "rpower", verb: "off" })).toEqual({ n2: "off" });
    expect(await t.run("n1", { command: "rpower", verb: "softoff" })).toEqual({ n1: "softoff" });
    expect(t.bmcs.calls).toEqual(["10.1.0.1 on", "10.1.0.1 reset", "10.1.0.1 softoff"]);
  });

  test("rsetboot sets, reads back and clears; stat is the default", async () => {
    const t = await setup();
    await t.call("POST", "/api/v1/nodes", { objects: [{ name: "n1", attrs: { groups: "compute" } }] });
    expect(await t.run("n1", { command: "rsetboot", device: "stat" })).toEqual({ n1: "boot override inactive" });
    expect(await t.run("n1", { command: "rsetboot", device: "net", uefi: true })).toEqual({ n1: "Network" });
    expect(await t.run("n1", { command: "rsetboot", device: "hd", persistent: true })).toEqual({ n1: "Hard Drive" });
    expect(await t.run("n1", { command: "rsetboot", device: "def" })).toEqual({ n1: "BIOS default" });
    expect(t.bmcs.calls).toEqual(["10.1.0.1 boot net uefi", "10.1.0.1 boot hd persistent", "10.1.0.1 boot none"]);
  });

  test("missing attributes, wrong passwords and bad verbs are per-node or whole-request errors", async () => {
    const t = await setup();
    await t.call("POST", "/api/v1/nodes", { objects: [{ name: "n1", attrs: { groups: "compute" } }, { name: "x1", attrs: { groups: "other" } }, { name: "n2", attrs: { groups: "compute", bmcpassword: "nope" } }] });
    expect(await t.run("n1,x1,n2", { command: "rpower", verb: "stat" })).toEqual({
      n1: "off",
      x1: "Error: Unable to get attribute mgt (set mgt=ipmi or mgt=redfish on the node or a group)",
      n2: "Error: wrong password for user admin (ipmi BMC 10.1.0.2)",
    });
    const bad = await t.call("POST", "/api/v1/power", { range: "n1", command: "rpower", verb: "explode" });
    expect([bad.status, bad.json.error]).toEqual([400, "Unsupported command: rpower explode (expected one of on, off, softoff, reset, cycle, boot, nmi, stat, state, status)"]);
    expect((await t.call("POST", "/api/v1/power", { range: "n1", command: "rsetboot", device: "usb" })).json.error).toMatch(/Unsupported boot device 'usb'/);
    expect((await t.call("POST", "/api/v1/power", { range: "ghost", command: "rpower", verb: "on" })).json.error).toMatch(/Invalid nodes/);
  });

  test("the password reaches the driver decrypted and never appears in the task", async () => {
    const t = await setup();
    await t.call("POST", "/api/v1/nodes", { objects: [{ name: "n1", attrs: { groups: "compute" } }] });
    const started = await t.call("POST", "/api/v1/power", { range: "n1", command: "rpower", verb: "stat" });
    await Bun.sleep(50);
    expect(t.bmcs.passwords).toEqual(["secret"]);
    expect(JSON.stringify((await t.call("GET", `/api/v1/tasks/${started.json.task}`)).json)).not.toContain("secret");
  });
});

describe("fan-out", () => {
  test("200 dead BMCs all answer within one timeout, not one after another", async () => {
    const t = await setup({ timeoutMs: 1000 });
    await t.call("POST", "/api/v1/nodes", { objects: [{ name: "d[001-200]", attrs: { groups: "compute" } }] });
    for (let i = 1; i <= 200; i++) t.bmcs.dead.add(`10.1.0.${i}`);
    const started = Date.now();
    const results = await t.run("d[001-200]", { command: "rpower", verb: "stat" });
    const elapsed = Date.now() - started;
    expect(Object.keys(results)).toHaveLength(200);
    expect(Object.values(results).every((m) => m.startsWith("Error: timeout after 1 s: no complete answer from ipmi BMC 10.1.0."))).toBe(true);
    expect(elapsed).toBeLessThan(3000);
  });

  test("one operation per BMC at a time, and no more than the global cap", async () => {
    const t = await setup({ concurrency: 4 });
    // Eight nodes behind one BMC (a chassis), twenty with their own.
    await t.call("POST", "/api/v1/nodes", { objects: [{ name: "c[1-8]", attrs: { groups: "compute", bmc: "10.9.9.9" } }, { name: "s[01-20]", attrs: { groups: "compute" } }] });
    const results = await t.run("c[1-8],s[01-20]", { command: "rpower", verb: "stat" });
    expect(Object.keys(results)).toHaveLength(28);
    expect(t.bmcs.maxInFlightPerHost).toBe(1);
    expect(t.bmcs.maxInFlight).toBeLessThanOrEqual(4);
  });

  test("a task is readable while it runs", async () => {
    const t = await setup({ timeoutMs: 800 });
    await t.call("POST", "/api/v1/nodes", { objects: [{ name: "n[1-2]", attrs: { groups: "compute" } }] });
    t.bmcs.dead.add("10.1.0.2");
    const started = await t.call("POST", "/api/v1/power", { range: "n1,n2", command: "rpower", verb: "stat" });
    await Bun.sleep(200);
    const running = (await t.call("GET", `/api/v1/tasks/${started.json.task}`)).json;
    expect(running).toMatchObject({ state: "running", nodeCount: 2, results: [{ node: "n1", ok: true, message: "off" }] });
    await Bun.sleep(900);
    expect((await t.call("GET", `/api/v1/tasks/${started.json.task}`)).json).toMatchObject({ state: "done" });
  });
});
