// Independent clients against our test BMC, so it is not only checked against our own reading of the spec.
import { describe, expect, test } from "vitest";
import { missingRedfishtool, missingSushy, redfishtool, sushy } from "./oracles/run.ts";
import { resetsSent, withBmc } from "./helpers.ts";

const noSushy = missingSushy();
const noRedfishtool = missingRedfishtool();
if (process.env.CI && (noSushy || noRedfishtool)) {
  throw new Error(`CI must run the Redfish oracle tests, but: ${[noSushy, noRedfishtool].filter(Boolean).join("; ")}`);
}

interface SushySaw {
  members: string[];
  identity: string;
  power_before: string;
  allowed_resets: string[];
  power_after_off: string;
  power_after_on: string;
  boot: { target: string; enabled: string; mode: string };
}

describe.skipIf(noSushy)(`python3-sushy${noSushy ? ` (skipped: ${noSushy})` : ""}`, () => {
  test("session login, power off/on, boot override with If-Match, logout", async () => {
    await withBmc({ ifMatch: "require", transitionMs: 200 }, async ({ bmc }) => {
      const result = await sushy(bmc.url, "session");
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const saw = JSON.parse(result.stdout) as SushySaw;
      expect(saw).toMatchObject({
        members: [bmc.systemPath],
        power_before: "On",
        power_after_off: "Off",
        power_after_on: "On",
        boot: { target: "Hdd", enabled: "Continuous", mode: "UEFI" },
      });
      expect(saw.allowed_resets).toEqual(["ForceOff", "ForceOn", "ForceRestart", "GracefulRestart", "GracefulShutdown", "Nmi", "On", "PushPowerButton"]);
      expect(resetsSent(bmc)).toEqual(["ForceOff", "On"]);
      const [session] = bmc.sessions.created;
      expect(bmc.requestsTo("PATCH").map((r) => [r.headers["if-match"], r.headers["x-auth-token"] === session?.token, r.status])).toEqual([
        ['W/"4"', true, 204],
      ]);
      expect(bmc.requestsTo("DELETE").map((r) => r.path)).toEqual([session?.path]);
      expect(bmc.sessions.list()).toEqual([]);
    });
  });

  test("Basic auth through a 307 alias, a renamed system, and an ETag only its strong form matches", async () => {
    await withBmc({ quirks: ["alias-307", "etag-strong-only"], ifMatch: "require", systemId: "System.Embedded.1" }, async ({ bmc }) => {
      const result = await sushy(bmc.url, "basic");
      expect(result.code).toBe(0);
      const saw = JSON.parse(result.stdout) as SushySaw;
      expect(saw.members).toEqual(["/redfish/v1/Systems/Self"]);
      expect(saw.boot).toEqual({ target: "Hdd", enabled: "Continuous", mode: "UEFI" });
      const patches = bmc.requestsTo("PATCH", bmc.systemPath).map((r) => [r.headers["if-match"], r.status]);
      expect(patches).toEqual([['W/"4"', 412], ['"4"', 204]]);
      expect(bmc.requests.filter((r) => r.path.startsWith("/redfish/v1/Systems/Self")).every((r) => r.status === 307)).toBe(true);
      expect(bmc.sessions.created).toEqual([]);
    });
  });
});

describe.skipIf(noRedfishtool)(`redfishtool${noRedfishtool ? ` (skipped: ${noRedfishtool})` : ""}`, () => {
  test("reset, get, setBootOverride over plain http with Basic auth and If-Match", async () => {
    await withBmc({ ifMatch: "require" }, async ({ bmc }) => {
      const off = await redfishtool(bmc.url, "Systems", "reset", "ForceOff");
      expect([off.code, off.stderr]).toEqual([0, ""]);
      expect(bmc.powerState).toBe("Off");
      const get = await redfishtool(bmc.url, "Systems", "get", "-P", "PowerState");
      expect(JSON.parse(get.stdout)).toEqual({ PowerState: "Off" });
      const boot = await redfishtool(bmc.url, "Systems", "setBootOverride", "Continuous", "Hdd");
      expect(boot.code).toBe(0);
      expect((JSON.parse(boot.stdout) as { Boot: Record<string, unknown> }).Boot).toMatchObject({
        BootSourceOverrideEnabled: "Continuous",
        BootSourceOverrideTarget: "Hdd",
      });
      expect(bmc.requestsTo("PATCH").map((r) => [r.headers["if-match"], r.status])).toEqual([['W/"2"', 204]]);
      expect(bmc.requests.filter((r) => r.path !== "/redfish" && r.path !== "/redfish/v1/").every((r) => r.headers.authorization)).toBe(true);
    });
  });

  test("a session (-A Session) is created and used for the reset", async () => {
    await withBmc({ powerState: "Off" }, async ({ bmc }) => {
      const on = await redfishtool(bmc.url, "-A", "Session", "Systems", "reset", "On");
      expect(on.code).toBe(0);
      expect(resetsSent(bmc)).toEqual(["On"]);
      const [session] = bmc.sessions.created;
      expect(bmc.requestsTo("POST").at(-1)?.headers["x-auth-token"]).toBe(session?.token);
    });
  });

  test("it reads ResetType from @Redfish.ActionInfo and follows the 307 alias", async () => {
    await withBmc({ quirks: ["action-info", "alias-307"], resetTypes: ["On", "ForceOff"] }, async ({ bmc }) => {
      const refused = await redfishtool(bmc.url, "Systems", "reset", "PowerCycle");
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain("via @Redfish.ActionInfo");
      expect(resetsSent(bmc)).toEqual([]);
      const off = await redfishtool(bmc.url, "Systems", "reset", "ForceOff");
      expect(off.code).toBe(0);
      expect(bmc.powerState).toBe("Off");
    });
  });
});
