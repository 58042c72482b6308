import { describe, expect, test } from "vitest";
import { toPowerState, waitForPowerState } from "../../../server/power/redfish/index.ts";
import { json } from "../../bmc/redfish/replies.ts";
import { failure, withBmc, withDriver } from "./helpers.ts";

describe("power state", () => {
  test("maps what the BMC says now: PoweringOn is still off, PoweringOff still on", () => {
    expect(["On", "Off", "PoweringOn", "PoweringOff"].map((s) => toPowerState(s as "On"))).toEqual(["on", "off", "off", "on"]);
  });

  test("polls across PoweringOn to On within the deadline", async () => {
    await withBmc({ powerState: "Off", transitionMs: 600 }, async (bench) => {
      await withDriver(bench, async (driver) => {
        await driver.powerAction("on");
        expect(await driver.redfishPowerState()).toBe("PoweringOn");
        expect(await driver.powerState()).toBe("off");
        const took = await waitForPowerState(driver, "on", { timeoutMs: 3000, intervalMs: 50 });
        expect(took).toBeGreaterThanOrEqual(400);
        expect(await driver.redfishPowerState()).toBe("On");
      });
    });
  });

  test("polls across PoweringOff to Off after a graceful shutdown", async () => {
    await withBmc({ transitionMs: 400 }, async (bench) => {
      await withDriver(bench, async (driver) => {
        await driver.powerAction("softoff");
        expect(await driver.powerState()).toBe("on");
        await waitForPowerState(driver, "off", { timeoutMs: 3000, intervalMs: 50 });
        expect(bench.bmc.events.map((e) => e.to)).toEqual(["PoweringOff", "Off"]);
      });
    });
  });

  test("a transition slower than the deadline is a timeout naming the last state", async () => {
    await withBmc({ powerState: "Off", transitionMs: 5000 }, async (bench) => {
      await withDriver(bench, async (driver) => {
        await driver.powerAction("on");
        const started = performance.now();
        const error = await failure(waitForPowerState(driver, "on", { timeoutMs: 400, intervalMs: 100 }));
        expect(performance.now() - started).toBeLessThan(1000);
        expect(error.kind).toBe("timeout");
        expect(error.message).toContain("still off after 400 ms");
      });
    });
  });

  test("a PowerState the client does not know is a protocol error", async () => {
    await withBmc({}, async (bench) => {
      await withDriver(bench, async (driver) => {
        bench.bmc.intercept((r) => (r.method === "GET" && r.path === bench.bmc.systemPath ? json({ PowerState: "Sideways" }) : undefined));
        const error = await failure(driver.powerState());
        expect(error.kind).toBe("protocol");
        expect(error.message).toContain('"Sideways"');
      });
    });
  });
});
