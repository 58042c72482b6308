// The IPMI client against pyghmi's BMC (Debian python3-pyghmi), lenient where ipmi_sim is strict:
// it answers suite 3 to a suite-17 request and ignores unknown users instead of refusing them.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { BootOverride, PowerAction } from "../../../server/power/driver.ts";
import { createIpmiProtocol } from "../../../server/power/ipmi/index.ts";
import { failure } from "./bmc-probe.ts";
import { type PyghmiFleet, pyghmiUnavailable, startPyghmi } from "./pyghmi-bmc.ts";

const unavailable = pyghmiUnavailable();
if (unavailable && process.env.CI) throw new Error(`CI must run the pyghmi tests, but: ${unavailable}`);

const ipmi = createIpmiProtocol();
const budget = (ms = 10_000): AbortSignal => AbortSignal.timeout(ms);

describe.skipIf(unavailable)(`IPMI client against a pyghmi BMC${unavailable ? ` (skipped: ${unavailable})` : ""}`, () => {
  let fleet: PyghmiFleet;
  const bmc = (index: number) => {
    const found = fleet.bmcs[index];
    if (found === undefined) throw new Error(`no BMC ${index}`);
    return found;
  };

  beforeAll(async () => {
    fleet = await startPyghmi(3);
  });
  afterAll(async () => {
    await fleet?.stop();
  });

  test("handshake: the SHA1 answer to a SHA256 request is taken as suite 3, and every verb arrives", async () => {
    const fake = bmc(0);
    const driver = await ipmi.open(fake.target, budget());
    try {
      expect(driver.cipherSuite).toBe(3);
      expect(await driver.powerState()).toBe("off");
      const verbs: PowerAction[] = ["on", "off", "cycle", "reset", "nmi", "softoff"];
      for (const verb of verbs) await driver.powerAction(verb);
      expect(await driver.powerState()).toBe("off");
    } finally {
      await driver.close();
    }
    expect(fake.calls()).toEqual([
      "get power",
      "power on",
      "power off",
      "power cycle",
      "power reset",
      "power nmi",
      "power softoff",
      "get power",
    ]);
  });

  test("boot overrides go out as exactly 05 F D 00 00 00 and read back whole", async () => {
    const fake = bmc(1);
    const driver = await ipmi.open(fake.target, budget());
    const cases: Array<[BootOverride, string]> = [
      [{ device: "net", persistent: false, uefi: true }, "05 a0 04 00 00 00"],
      [{ device: "hd", persistent: true, uefi: true }, "05 e0 08 00 00 00"],
      [{ device: "cd", persistent: false, uefi: false }, "05 80 14 00 00 00"],
      [{ device: "setup", persistent: true, uefi: false }, "05 c0 18 00 00 00"],
      [{ device: "floppy", persistent: false, uefi: false }, "05 80 3c 00 00 00"],
    ];
    try {
      for (const [override, bytes] of cases) {
        fake.clearCalls();
        await driver.setBootOverride(override);
        expect(fake.calls(), override.device).toEqual(["boot 03 08", `boot ${bytes}`]);
        expect(await driver.getBootOverride()).toEqual(override);
      }
      fake.clearCalls();
      await driver.setBootOverride({ device: "none", persistent: false, uefi: false });
      expect(fake.calls()).toEqual(["boot 05 00 00 00 00 00"]);
      expect(await driver.getBootOverride()).toEqual({ device: "none", persistent: false, uefi: false });
    } finally {
      await driver.close();
    }
  });

  test("a wrong password is an auth error; an unknown user, which pyghmi ignores, times out saying so", async () => {
    const fake = bmc(2);
    const wrong = await failure(ipmi.open({ ...fake.target, password: "secret" }, budget()));
    expect(wrong.kind).toBe("auth");
    expect(wrong.message).toContain('password for user "admin" is wrong');

    const impatient = createIpmiProtocol({ retry: { tries: 2, firstWaitMs: 100, stepMs: 100, jitterMs: 0 } });
    const unknown = await failure(impatient.open({ ...fake.target, username: "ghost" }, budget()));
    expect(unknown.kind).toBe("timeout");
    expect(unknown.message).toContain("no RAKP message 2");
    expect(unknown.message).toContain('unknown user name instead of answering "ghost" is unauthorized');
  });

  test("several pyghmi BMCs in parallel, several sessions each", async () => {
    const runs = fleet.bmcs.flatMap((fake) =>
      Array.from({ length: 4 }, async () => {
        const driver = await ipmi.open(fake.target, budget());
        try {
          return await driver.powerState();
        } finally {
          await driver.close();
        }
      }),
    );
    const states = await Promise.all(runs);
    expect(states).toHaveLength(12);
  });
});
