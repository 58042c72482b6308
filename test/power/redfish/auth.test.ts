import { describe, expect, test } from "vitest";
import { failure, withBmc, withDriver } from "./helpers.ts";

describe("Basic auth", () => {
  test("credentials on every request but the service root; no session is created", async () => {
    await withBmc({}, async (bench) => {
      await withDriver(bench, (driver) => driver.powerAction("off"), { auth: "basic" });
      const [root, ...rest] = bench.bmc.requests;
      expect(root?.headers.authorization).toBeUndefined();
      expect(rest.length).toBeGreaterThan(2);
      expect(rest.every((r) => r.headers.authorization === `Basic ${btoa("admin:password")}`)).toBe(true);
      expect(bench.bmc.sessions.created).toEqual([]);
    });
  });

  test("a 401 stops at once: 'auth', no retry", async () => {
    await withBmc({}, async (bench) => {
      const error = await failure(bench.open({ auth: "basic", password: "wrong" }));
      expect(error.kind).toBe("auth");
      expect(error.message).toContain("HTTP 401");
      expect(bench.bmc.requests.map((r) => r.status)).toEqual([200, 401]);
    });
  });
});

describe("session auth", () => {
  test("logs in once, sends X-Auth-Token, and DELETEs the session at close", async () => {
    await withBmc({}, async (bench) => {
      await withDriver(bench, async (driver) => {
        await driver.powerAction("off");
        await driver.setBootOverride({ device: "net", persistent: false, uefi: false });
        expect(bench.bmc.sessions.list()).toHaveLength(1);
      });
      const [session] = bench.bmc.sessions.created;
      const authed = bench.bmc.requests.filter((r) => r.method !== "POST" || !r.path.endsWith("/Sessions")).slice(1);
      expect(authed.every((r) => r.headers["x-auth-token"] === session?.token && !r.headers.authorization)).toBe(true);
      expect(bench.bmc.requests.at(-1)).toMatchObject({ method: "DELETE", path: session?.path, status: 204 });
      expect(bench.bmc.sessions.list()).toEqual([]);
    });
  });

  test.each([["session-no-location"], ["session-204"]] as const)("%s: the session is still found and deleted", async (quirk) => {
    await withBmc({ quirks: [quirk] }, async (bench) => {
      await withDriver(bench, (driver) => driver.powerState());
      expect(bench.bmc.requestsTo("DELETE")).toHaveLength(1);
      expect(bench.bmc.sessions.list()).toEqual([]);
    });
  });

  test("a session dropped by the BMC gets one fresh login, then the request is retried", async () => {
    await withBmc({}, async (bench) => {
      await withDriver(bench, async (driver) => {
        bench.bmc.sessions.expireAll();
        expect(await driver.powerState()).toBe("on");
      });
      expect(bench.bmc.requestsTo("POST", bench.bmc.sessionsPath)).toHaveLength(2);
      expect(bench.bmc.requests.filter((r) => r.status === 401)).toHaveLength(1);
      expect(bench.bmc.sessions.list()).toEqual([]);
    });
  });

  test("a 401 after the fresh login is final", async () => {
    await withBmc({}, async (bench) => {
      await withDriver(bench, async (driver) => {
        bench.bmc.intercept((r) => (r.path === bench.bmc.systemPath ? new Response(null, { status: 401 }) : undefined));
        const error = await failure(driver.powerState());
        expect(error.kind).toBe("auth");
        expect(error.message).toContain("after a fresh login");
      });
      expect(bench.bmc.requestsTo("POST", bench.bmc.sessionsPath)).toHaveLength(2);
    });
  });

  test("a wrong password is 'auth'; a full session table is 'refused' with the BMC's message", async () => {
    await withBmc({ maxSessions: 1 }, async (bench) => {
      expect((await failure(bench.open({ password: "wrong" }))).kind).toBe("auth");
      const holder = await bench.open();
      const error = await failure(bench.open());
      expect(error.kind).toBe("refused");
      expect(error.message).toContain("SessionLimitExceeded");
      await holder.close();
      const next = await bench.open();
      await next.close();
    });
  });

  test("100 conversations in a row leave no session behind", async () => {
    await withBmc({ maxSessions: 4 }, async (bench) => {
      for (let i = 0; i < 100; i++) await withDriver(bench, (driver) => driver.powerState());
      expect(bench.bmc.sessions.created).toHaveLength(100);
      expect(bench.bmc.sessions.list()).toEqual([]);
    });
  });

  test("close() after the conversation was aborted still frees the slot", async () => {
    await withBmc({}, async (bench) => {
      const controller = new AbortController();
      const driver = await bench.open({}, {}, controller.signal);
      controller.abort();
      expect((await failure(driver.powerState())).kind).toBe("timeout");
      await driver.close();
      expect(bench.bmc.sessions.list()).toEqual([]);
    });
  });
});
