import { describe, expect, test } from "vitest";
import { baseError } from "../../bmc/redfish/replies.ts";
import { failure, resetsSent, withBmc, withDriver } from "./helpers.ts";

const ALL = ["On", "ForceOn", "ForceOff", "GracefulShutdown", "ForceRestart", "PowerCycle", "Nmi"];

describe("ResetType selection", () => {
  test.each([
    ["on", "Off", ALL, ["On"]],
    ["on", "Off", ["ForceOn", "ForceOff"], ["ForceOn"]],
    ["off", "On", ALL, ["ForceOff"]],
    ["softoff", "On", ALL, ["GracefulShutdown"]],
    ["reset", "On", ALL, ["ForceRestart"]],
    ["reset", "On", ["On", "ForceOff", "PowerCycle"], ["PowerCycle"]],
    ["cycle", "On", ALL, ["PowerCycle"]],
    ["nmi", "On", ALL, ["Nmi"]],
  ] as const)("%s on a system %s offering %j sends %j", async (action, power, resetTypes, expected) => {
    await withBmc({ powerState: power, resetTypes: [...resetTypes] }, async (bench) => {
      await withDriver(bench, (driver) => driver.powerAction(action));
      expect(resetsSent(bench.bmc)).toEqual(expected);
    });
  });

  test("values from @Redfish.ActionInfo (OpenBMC) are used like AllowableValues", async () => {
    await withBmc({ quirks: ["action-info"], resetTypes: ["ForceOn", "ForceOff", "ForceRestart"], powerState: "Off" }, async (bench) => {
      await withDriver(bench, (driver) => driver.powerAction("on"));
      expect(bench.bmc.requestsTo("GET", `${bench.bmc.systemPath}/ResetActionInfo`)).toHaveLength(1);
      expect(resetsSent(bench.bmc)).toEqual(["ForceOn"]);
    });
  });

  test("an action the BMC does not advertise is 'unsupported' and nothing is sent", async () => {
    await withBmc({ resetTypes: ["On", "ForceOff"] }, async (bench) => {
      await withDriver(bench, async (driver) => {
        const error = await failure(driver.powerAction("nmi"));
        expect(error.kind).toBe("unsupported");
        expect(error.message).toContain("offers On, ForceOff");
      });
      expect(resetsSent(bench.bmc)).toEqual([]);
    });
  });

  test("cycle without PowerCycle: ForceOff, wait for Off, then On", async () => {
    await withBmc({ resetTypes: ["On", "ForceOff", "GracefulShutdown"] }, async (bench) => {
      await withDriver(bench, (driver) => driver.powerAction("cycle"));
      expect(resetsSent(bench.bmc)).toEqual(["ForceOff", "On"]);
      expect(bench.bmc.events.map((e) => e.to)).toEqual(["Off", "PoweringOn"]);
    });
  });

  test("PowerCycle answered 501 (sushy-tools) falls back to ForceOff → On", async () => {
    await withBmc({ quirks: ["powercycle-501"], resetTypes: ALL }, async (bench) => {
      await withDriver(bench, (driver) => driver.powerAction("cycle"));
      expect(resetsSent(bench.bmc)).toEqual(["PowerCycle", "ForceOff", "On"]);
    });
  });

  test.each([
    ["cycle", "PowerCycle", ["PowerCycle", "ForceOff", "On"]],
    ["reset", "ForceRestart", ["ForceRestart", "PowerCycle"]],
  ] as const)("%s: a 400 on %s falls back to the next choice", async (action, refused, expected) => {
    await withBmc({ resetTypes: ALL }, async (bench) => {
      bench.bmc.intercept((r) =>
        (r.body as { ResetType?: string } | undefined)?.ResetType === refused
          ? baseError(400, "ActionParameterNotSupported", "not on this model")
          : undefined,
      );
      await withDriver(bench, (driver) => driver.powerAction(action));
      expect(resetsSent(bench.bmc)).toEqual(expected);
    });
  });

  test("the last choice refused is reported with the BMC's message; 501 means unsupported", async () => {
    await withBmc({ quirks: ["powercycle-501"], resetTypes: ["PowerCycle"] }, async (bench) => {
      await withDriver(bench, async (driver) => {
        const error = await failure(driver.powerAction("reset"));
        expect(error.kind).toBe("unsupported");
        expect(error.message).toContain("HTTP 501");
        expect(error.message).toContain("ActionNotSupported");
      });
    });
  });
});

describe("vendor answers that mean done", () => {
  test("iDRAC's 409 'already on' is success", async () => {
    await withBmc({ quirks: ["already-on-409"] }, async (bench) => {
      await withDriver(bench, (driver) => driver.powerAction("on"));
      expect(bench.bmc.requestsTo("POST").at(-1)?.status).toBe(409);
    });
  });

  test("a 409 on On while the system is really off stays a refusal, with the BMC's words", async () => {
    await withBmc({ powerState: "Off" }, async (bench) => {
      bench.bmc.intercept((r) =>
        r.method === "POST" && r.path.endsWith("ComputerSystem.Reset") ? baseError(409, "ActionParameterValueConflict", "try again later") : undefined,
      );
      await withDriver(bench, async (driver) => {
        const error = await failure(driver.powerAction("on"));
        expect(error.kind).toBe("refused");
        expect(error.message).toContain("Base.1.15.0.ActionParameterValueConflict: try again later");
      });
    });
  });

  test("iLO's 400 on a reset while off is answered with On", async () => {
    await withBmc({ quirks: ["reset-off-400"], powerState: "Off", resetTypes: ALL }, async (bench) => {
      await withDriver(bench, (driver) => driver.powerAction("reset"));
      expect(resetsSent(bench.bmc)).toEqual(["ForceRestart", "On"]);
    });
  });
});

describe("how the BMC accepts a reset", () => {
  test.each([200, 204] as const)("%i is accepted", async (resetResponse) => {
    await withBmc({ resetResponse }, async (bench) => {
      await withDriver(bench, (driver) => driver.powerAction("off"));
      expect(bench.bmc.powerState).toBe("Off");
    });
  });

  test("202: the task monitor is polled, honouring Retry-After, until the task is done", async () => {
    await withBmc({ resetResponse: 202, taskMs: 1200, retryAfterSeconds: 1 }, async (bench) => {
      await withDriver(bench, (driver) => driver.powerAction("off"));
      expect(bench.bmc.powerState).toBe("Off");
      const polls = bench.bmc.requests.filter((r) => r.path.includes("/TaskMonitors/"));
      expect(polls.map((p) => p.status)).toEqual([202, 200]);
      const post = bench.bmc.requestsTo("POST").at(-1)!;
      expect(polls[0]!.at - post.at).toBeGreaterThanOrEqual(950);
      expect(polls[1]!.at - polls[0]!.at).toBeGreaterThanOrEqual(950);
    });
  });

  test("202 ending in an Exception is refused with the task's messages", async () => {
    await withBmc({ resetResponse: 202, taskMs: 100, retryAfterSeconds: 0, taskOutcome: "Exception" }, async (bench) => {
      await withDriver(bench, async (driver) => {
        const error = await failure(driver.powerAction("off"));
        expect(error.kind).toBe("refused");
        expect(error.message).toContain("ended Exception");
        expect(error.message).toContain("InternalError");
      });
      expect(bench.bmc.powerState).toBe("On");
    });
  });
});
