// The IPMI client against real ipmi_sim BMCs (Debian openipmi) on loopback: bmc.md §6.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BmcError, type BmcTarget, type PowerAction } from "../../../server/power/driver.ts";
import { createIpmiProtocol } from "../../../server/power/ipmi/index.ts";
import { eventually, failure } from "./bmc-probe.ts";
import { type SimFleet, ipmiSimUnavailable, startIpmiSims } from "./ipmi-sim.ts";

const unavailable = ipmiSimUnavailable();
if (unavailable && process.env.CI) throw new Error(`CI must run the ipmi_sim tests, but: ${unavailable}`);

const ipmi = createIpmiProtocol();
/** Short retransmission waits, so timeout tests take a fraction of a second. */
const impatient = createIpmiProtocol({ retry: { tries: 3, firstWaitMs: 100, stepMs: 100, jitterMs: 50 } });
/** Long retransmission waits: an answer that comes quickly cannot have come from a retry or a timeout. */
const patient = createIpmiProtocol({ retry: { tries: 3, firstWaitMs: 5000, stepMs: 0, jitterMs: 0 } });
const budget = (ms = 10_000): AbortSignal => AbortSignal.timeout(ms);

async function withDriver<T>(target: BmcTarget, use: (driver: Awaited<ReturnType<typeof ipmi.open>>) => Promise<T>): Promise<T> {
  const driver = await ipmi.open(target, budget());
  try {
    return await use(driver);
  } finally {
    await driver.close();
  }
}

describe.skipIf(unavailable)(`IPMI client against ipmi_sim${unavailable ? ` (skipped: ${unavailable})` : ""}`, () => {
  let fleet: SimFleet;
  const bmc = (index: number) => {
    const found = fleet.bmcs[index];
    if (found === undefined) throw new Error(`no BMC ${index}`);
    return found;
  };

  beforeAll(async () => {
    fleet = await startIpmiSims(24);
  });

  afterAll(async () => {
    await fleet?.stop();
  });

  test("logs in with cipher suite 3 once ipmi_sim refuses 17, and decodes the power state", async () => {
    const sim = bmc(0);
    await withDriver(sim.target, async (driver) => {
      expect(driver.cipherSuite).toBe(3);
      sim.setState("power", "1");
      expect(await driver.powerState()).toBe("on");
      sim.setState("power", "0");
      expect(await driver.powerState()).toBe("off");
    });
    expect(sim.calls()).toContain("get power");
  });

  test("every verb reaches the BMC as its Chassis Control code", async () => {
    const sim = bmc(1);
    const expected: Array<[PowerAction, string]> = [
      ["on", "set power 1"],
      ["off", "set power 0"],
      ["reset", "set reset 1"],
      ["softoff", "set shutdown 1"],
    ];
    for (const [action, line] of expected) {
      sim.clearCalls();
      await withDriver(sim.target, (driver) => driver.powerAction(action));
      expect(sim.calls().filter((call) => call.startsWith("set ")), action).toEqual([line]);
    }
    // ipmi_sim turns a cycle into power 0, then power 1 about a second later.
    sim.clearCalls();
    await withDriver(sim.target, (driver) => driver.powerAction("cycle"));
    const sets = () => sim.calls().filter((call) => call.startsWith("set "));
    expect(await eventually(() => sets().length >= 2, 4000)).toBe(true);
    expect(sets()).toEqual(["set power 0", "set power 1"]);
    // Without a VM behind it ipmi_sim has no NMI: the refusal must say why in words.
    const nmi = await failure(withDriver(sim.target, (driver) => driver.powerAction("nmi")));
    expect(nmi.kind).toBe("refused");
    expect(nmi.message).toContain("Chassis Control (nmi, 0x04)");
    expect(nmi.message).toContain("0xCC invalid data field in request");
  });

  test("boot overrides reach the BMC and the device selector reads back", async () => {
    const sim = bmc(2);
    await withDriver(sim.target, async (driver) => {
      const cases = [
        [{ device: "net", persistent: false, uefi: true }, "set boot pxe", 1],
        [{ device: "hd", persistent: true, uefi: true }, "set boot default", 2],
        [{ device: "cd", persistent: false, uefi: false }, "set boot cdrom", 5],
        [{ device: "setup", persistent: false, uefi: false }, "set boot bios", 6],
        [{ device: "none", persistent: false, uefi: false }, "set boot none", 0],
      ] as const;
      for (const [override, line, selector] of cases) {
        sim.clearCalls();
        await driver.setBootOverride(override);
        expect(sim.calls(), override.device).toContain(line);
        // ipmi_sim keeps only the device: the valid/persistent/EFI bits read back as 0.
        expect(await driver.bootFlags(), override.device).toEqual({ valid: false, persistent: false, uefi: false, selector });
        expect(await driver.getBootOverride()).toEqual({ device: "none", persistent: false, uefi: false });
      }
      const floppy = await failure(driver.setBootOverride({ device: "floppy", persistent: false, uefi: false }));
      expect(floppy.kind).toBe("refused");
      expect(floppy.message).toContain("boot flags 05 80 3c 00 00 00");
      expect(floppy.message).toContain("0xFF unspecified error");
    });
  });

  test("completion codes come back as readable refusals", async () => {
    await withDriver(bmc(3).target, async (driver) => {
      // Boot flags one byte short: ipmi_sim is strict where pyghmi is not.
      const short = await failure(driver.raw(0x00, 0x08, Uint8Array.of(0x05, 0x80, 0x04, 0x00, 0x00)));
      expect(short).toMatchObject({ kind: "refused" });
      expect(short.message).toContain("0xC7 request data length invalid");
      const unknown = await failure(driver.raw(0x00, 0x7f, new Uint8Array(0)));
      expect(unknown.message).toContain("0xC1 invalid command");
      // The session survives refusals.
      expect(await driver.powerState()).toMatch(/^(on|off)$/);
    });
  });

  test("a wrong password and an unknown user are clear auth errors, without retries", async () => {
    const sim = bmc(3);
    const started = performance.now();
    const wrong = await failure(patient.open({ ...sim.target, password: "not-it" }, budget()));
    expect(wrong.kind).toBe("auth");
    expect(wrong.message).toMatch(/password for user "admin" is wrong/);
    const unknown = await failure(patient.open({ ...sim.target, username: "nobody" }, budget()));
    expect(unknown.kind).toBe("auth");
    expect(unknown.message).toContain('user "nobody" is unknown');
    expect(unknown.message).toContain("0x0D unauthorized name");
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test("sessions are always closed: 100 operations, 70 failed logins and 70 aborts stay under the 63-session cap", async () => {
    const sim = bmc(4);
    for (let i = 0; i < 100; i++) {
      await withDriver(sim.target, (driver) => driver.powerState());
    }
    // A wrong password is told to the BMC (RAKP3 with an error status), which frees the half-open session.
    for (let i = 0; i < 70; i++) {
      await failure(ipmi.open({ ...sim.target, password: "wrong" }, budget()));
    }
    // An abort before or in the middle of a command still closes the session (close() then only waits).
    let abortedInFlight = 0;
    for (let i = 0; i < 70; i++) {
      const controller = new AbortController();
      const driver = await ipmi.open(sim.target, controller.signal);
      const pending = driver.powerState().then(
        () => "answered",
        (error: unknown) => (error instanceof BmcError ? error.kind : "not a BmcError"),
      );
      if (i % 2 === 1) await Bun.sleep(1); // ipmi_sim forks its hook first: the request is on its way
      controller.abort();
      const outcome = await pending;
      expect(["answered", "timeout"]).toContain(outcome);
      if (outcome === "timeout" && i % 2 === 1) abortedInFlight++;
      await driver.close();
    }
    expect(abortedInFlight).toBeGreaterThan(0);
    await withDriver(sim.target, async (driver) => expect(await driver.powerState()).toMatch(/^(on|off)$/));
  }, 30_000);

  test("the 64th concurrent session is refused with a clear message", async () => {
    const sim = bmc(5);
    const drivers = [];
    try {
      for (let i = 0; i < 63; i++) drivers.push(await ipmi.open(sim.target, budget()));
      const full = await failure(ipmi.open(sim.target, budget()));
      expect(full.kind).toBe("refused");
      expect(full.message).toContain("no free session");
      expect(full.message).toContain("0x01 insufficient resources");
    } finally {
      await Promise.all(drivers.map((driver) => driver.close()));
    }
    await withDriver(sim.target, (driver) => driver.powerState());
  });

  test("a stopped BMC times out within budget; a killed one is unreachable; a restarted one logs in again", async () => {
    const sim = bmc(6);
    sim.kill("SIGSTOP");
    let started = performance.now();
    const stopped = await failure(impatient.open(sim.target, budget()));
    expect(stopped.kind).toBe("timeout");
    expect(stopped.message).toMatch(/no answer to Get Channel Authentication Capabilities .* after 3 tries/);
    expect(performance.now() - started).toBeLessThan(3000);
    // The caller's budget wins over the retry schedule.
    started = performance.now();
    const cut = await failure(patient.open(sim.target, budget(300)));
    expect(cut.kind).toBe("timeout");
    expect(cut.message).toContain("time budget ran out");
    expect(performance.now() - started).toBeLessThan(2000);
    sim.kill("SIGCONT");

    const driver = await ipmi.open(sim.target, budget());
    sim.kill("SIGKILL");
    const gone = await failure(driver.powerState());
    expect(gone.kind).toBe("unreachable");
    await driver.close();
    await sim.restart();
    await withDriver(sim.target, async (again) => expect(await again.powerState()).toMatch(/^(on|off)$/));
  });

  test("nothing listening on the port is unreachable at once", async () => {
    const started = performance.now();
    const dead = await failure(patient.open({ host: "127.0.0.1", port: 9, username: "admin", password: "password" }, budget()));
    expect(dead.kind).toBe("unreachable");
    expect(dead.message).toContain("127.0.0.1:9");
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test("N BMCs in parallel, one operation each", async () => {
    const started = performance.now();
    const states = await Promise.all(fleet.bmcs.slice(8).map((sim) => withDriver(sim.target, (driver) => driver.powerState())));
    const elapsed = performance.now() - started;
    expect(states.every((state) => state === "on" || state === "off")).toBe(true);
    console.info(`ipmi_sim: ${states.length} BMCs open + Get Chassis Status + close in parallel: ${elapsed.toFixed(0)} ms`);
    expect(elapsed).toBeLessThan(3000);
  });

  test("BMCs that keep power as a process answer status from memory, and leave no process behind", async () => {
    const own = await startIpmiSims(2, { power: "process", on: (i) => i === 0 });
    const pids = own.bmcs.map((b) => b.pid());
    try {
      const [on, off] = own.bmcs;
      expect(await withDriver(on!.target, (d) => d.powerState())).toBe("on");
      expect(await withDriver(off!.target, (d) => d.powerState())).toBe("off");
      // Without a VM on its serial port, ipmi_sim refuses power control here: these BMCs are for status reads.
      const refused = await failure(withDriver(off!.target, (d) => d.powerAction("on")));
      expect(refused.message).toContain("0xCC");
      expect(() => on!.setState("power", "1")).toThrow(/keeps power as a process/);
    } finally {
      await own.stop();
    }
    // The power processes (children of the simulators) are gone with them.
    const orphans = Bun.spawnSync(["pgrep", "-f", `tail --pid=(${pids.join("|")}) `]).stdout.toString().trim();
    expect(orphans).toBe("");
  });
});
