import { describe, expect, test } from "vitest";
import { failure, resetsSent, withBmc, withDriver } from "./helpers.ts";
import { json } from "../../bmc/redfish/replies.ts";

describe("discovery", () => {
  test("finds the system from the service root, whatever its id", async () => {
    await withBmc({ systemId: "System.Embedded.1" }, async (bench) => {
      await withDriver(bench, async (driver) => {
        expect(driver.systemPath).toBe("/redfish/v1/Systems/System.Embedded.1");
        expect(await driver.powerState()).toBe("on");
      });
      const paths = bench.bmc.requests.map((r) => `${r.method} ${r.path}`);
      expect(paths.slice(0, 4)).toEqual([
        "GET /redfish/v1/",
        "POST /redfish/v1/SessionService/Sessions",
        "GET /redfish/v1/Systems",
        "GET /redfish/v1/Systems/System.Embedded.1",
      ]);
      expect(paths.some((p) => p.includes("437XR1138R2"))).toBe(false);
    });
  });

  test("follows a 307 from an alias and then talks to the real system", async () => {
    await withBmc({ quirks: ["alias-307"], powerState: "Off" }, async (bench) => {
      await withDriver(bench, async (driver) => {
        expect(driver.systemPath).toBe("/redfish/v1/Systems/437XR1138R2");
        await driver.powerAction("on");
        await driver.setBootOverride({ device: "net", persistent: false, uefi: false });
      });
      const { requests } = bench.bmc;
      expect(requests.find((r) => r.path === "/redfish/v1/Systems/Self")?.status).toBe(307);
      expect(requests.filter((r) => r.path === "/redfish/v1/Systems/Self")).toHaveLength(1);
      expect(bench.bmc.requestsTo("PATCH").map((r) => r.path)).toEqual(["/redfish/v1/Systems/437XR1138R2"]);
      expect(resetsSent(bench.bmc)).toEqual(["On"]);
    });
  });

  test("a BMC that lists no system is a protocol error, and the session is still deleted", async () => {
    await withBmc({}, async (bench) => {
      bench.bmc.intercept((r) => (r.method === "GET" && r.path === "/redfish/v1/Systems" ? json({ Members: [] }) : undefined));
      const error = await failure(bench.open());
      expect(error.kind).toBe("protocol");
      expect(error.message).toContain("lists no computer system");
      expect(bench.bmc.requestsTo("DELETE")).toHaveLength(1);
      expect(bench.bmc.sessions.list()).toEqual([]);
    });
  });
});
