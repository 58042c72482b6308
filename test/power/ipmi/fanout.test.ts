// Many BMCs at once: dead ones must all be answered within about one timeout, not one after another
// (500 dead BMCs took xCAT 48 minutes, xcat2/xcat-core#3998), and the session cap must queue, not fail.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BmcError } from "../../../server/power/driver.ts";
import { createIpmiProtocol } from "../../../server/power/ipmi/index.ts";
import { freeUdpPorts } from "./bmc-probe.ts";
import { type ScriptedBmc, startScriptedBmc } from "./scripted-bmc.ts";

const retry = { tries: 3, firstWaitMs: 200, stepMs: 200, jitterMs: 100 };
/** The longest a single dead BMC can take with `retry`: 200 + 400 + 600 ms plus three jitters. */
const ONE_TIMEOUT_MS = 1500;

async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    if (error instanceof BmcError) return error.kind;
    throw error;
  }
}

describe("fan-out over many BMCs", () => {
  let blackHole: Bun.udp.Socket<"buffer">;
  let bmc: ScriptedBmc;

  beforeAll(async () => {
    blackHole = await Bun.udpSocket({ hostname: "127.0.0.1", socket: { data() {}, error() {} } });
    bmc = await startScriptedBmc();
  });
  afterAll(() => {
    blackHole?.close();
    bmc?.close();
  });

  test("200 silent BMCs all time out within one timeout", async () => {
    const ipmi = createIpmiProtocol({ retry });
    const target = { host: "127.0.0.1", port: blackHole.port, username: "admin", password: "password" };
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 200 }, () => outcome(ipmi.open(target, AbortSignal.timeout(10_000)))));
    const elapsed = performance.now() - started;
    expect(new Set(results)).toEqual(new Set(["timeout"]));
    // One after another they would take 200 times as long; a loaded CI host gets twice the time.
    expect(elapsed).toBeLessThan(2 * ONE_TIMEOUT_MS);
  });

  test("200 closed ports are all unreachable at once", async () => {
    // Five-second waits: only ICMP errors can end these opens quickly.
    const ipmi = createIpmiProtocol({ retry: { tries: 3, firstWaitMs: 5000, stepMs: 0, jitterMs: 0 } });
    const ports = await freeUdpPorts(200);
    const started = performance.now();
    const results = await Promise.all(
      ports.map((port) => outcome(ipmi.open({ host: "127.0.0.1", port, username: "admin", password: "password" }, AbortSignal.timeout(10_000)))),
    );
    expect(new Set(results)).toEqual(new Set(["unreachable"]));
    expect(performance.now() - started).toBeLessThan(3000);
  });

  test("beyond maxSessions, opens wait for a slot within their own budget", async () => {
    const ipmi = createIpmiProtocol({ maxSessions: 2 });
    const target = { host: "127.0.0.1", port: bmc.port, username: "admin", password: "password" };
    const drivers = await Promise.all([ipmi.open(target, AbortSignal.timeout(5000)), ipmi.open(target, AbortSignal.timeout(5000))]);
    const waiting = ipmi.open(target, AbortSignal.timeout(5000));
    const starved = ipmi.open(target, AbortSignal.timeout(100));
    const error = await starved.catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(BmcError);
    expect(String(error)).toContain("waiting for one of 2 session slots");
    await drivers[0]?.close();
    const third = await waiting;
    expect(await third.powerState()).toBe("on");
    await Promise.all([third.close(), drivers[1]?.close()]);
  });
});
