import { describe, expect, test } from "vitest";
import { createRedfishProtocol } from "../../../server/power/redfish/index.ts";
import { failure, FAST, withBmc, withDriver } from "./helpers.ts";
import { makeSelfSignedCert } from "./tls-cert.ts";

function closedPort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

const garbage = () => new Response("<html>500 Internal Server Error", { status: 200, headers: { "Content-Type": "application/json" } });

describe("transport failures are classified", () => {
  test("a refused connection is 'unreachable'", async () => {
    const target = { host: "127.0.0.1", port: closedPort(), scheme: "http" as const, username: "a", password: "b" };
    const error = await failure(createRedfishProtocol(FAST).open(target, AbortSignal.timeout(5000)));
    expect(error.kind).toBe("unreachable");
    expect(error.message).toContain("ECONNREFUSED");
  });

  test("a BMC that never answers is a 'timeout' within the per-request budget", async () => {
    await withBmc({}, async (bench) => {
      bench.bmc.intercept((r) => (r.path === bench.bmc.systemPath ? new Promise<Response>(() => {}) : undefined));
      const started = performance.now();
      const error = await failure(bench.open({}, { requestTimeoutMs: 300 }));
      expect(performance.now() - started).toBeLessThan(1500);
      expect(error.kind).toBe("timeout");
      expect(error.message).toContain("no answer within 300 ms");
      expect(bench.bmc.requestsTo("DELETE")).toHaveLength(1);
    });
  });

  test("the caller's deadline wins over the per-request budget", async () => {
    await withBmc({}, async (bench) => {
      bench.bmc.intercept((r) => (r.path === bench.bmc.systemPath ? new Promise<Response>(() => {}) : undefined));
      const error = await failure(bench.open({}, { requestTimeoutMs: 10_000 }, AbortSignal.timeout(300)));
      expect(error.kind).toBe("timeout");
      expect(error.message).toContain("time budget exhausted");
      expect(bench.bmc.sessions.list()).toEqual([]);
    });
  });
});

describe("malformed answers are 'protocol' errors, never crashes", () => {
  test.each([
    ["the service root", (path: string) => path === "/redfish/v1/"],
    ["the Systems collection", (path: string) => path === "/redfish/v1/Systems"],
    ["the system", (path: string) => path.startsWith("/redfish/v1/Systems/")],
  ])("%s", async (_name, matches) => {
    await withBmc({}, async (bench) => {
      bench.bmc.intercept((r) => (r.method === "GET" && matches(r.path) ? garbage() : undefined));
      const error = await failure(bench.open());
      expect(error.kind).toBe("protocol");
      expect(error.message).toContain("not JSON");
    });
  });

  test("a task monitor answering garbage", async () => {
    await withBmc({ resetResponse: 202, retryAfterSeconds: 0 }, async (bench) => {
      bench.bmc.intercept((r) => (r.path.includes("/TaskMonitors/") ? garbage() : undefined));
      await withDriver(bench, async (driver) => {
        expect((await failure(driver.powerAction("off"))).kind).toBe("protocol");
      });
    });
  });

  test("a session login without a token", async () => {
    await withBmc({}, async (bench) => {
      bench.bmc.intercept((r) => (r.method === "POST" ? new Response("{}", { status: 201 }) : undefined));
      const error = await failure(bench.open());
      expect(error.kind).toBe("protocol");
      expect(error.message).toContain("without an X-Auth-Token");
    });
  });
});

describe("TLS policy per BMC", () => {
  const { cert, key } = makeSelfSignedCert("bmc-factory-name");

  test("verify (the default) refuses a self-signed certificate; pinned and insecure accept it", async () => {
    await withBmc({ tls: { cert, key } }, async (bench) => {
      const refused = await failure(bench.open());
      expect(refused.kind).toBe("unreachable");
      expect(refused.message).toContain("TLS");
      await withDriver(bench, async (driver) => expect(await driver.powerState()).toBe("on"), { tls: { mode: "pinned", caPem: cert } });
      await withDriver(bench, async (driver) => expect(await driver.powerState()).toBe("on"), { tls: { mode: "insecure" } });
    });
  });

  test("pinned to another CA is refused", async () => {
    const other = makeSelfSignedCert("someone-else");
    await withBmc({ tls: { cert, key } }, async (bench) => {
      const error = await failure(bench.open({ tls: { mode: "pinned", caPem: other.cert } }));
      expect(error.kind).toBe("unreachable");
    });
  });
});
