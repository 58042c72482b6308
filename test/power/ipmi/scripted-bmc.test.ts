// The IPMI client against a scripted BMC: cipher suite 17, lost, corrupted, stale and refused replies,
// retransmission and handshake restarts. ipmitool (when installed) checks the scripted BMC's suite 3 and
// 17 cryptography independently of our code.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { BmcError } from "../../../server/power/driver.ts";
import { createIpmiProtocol } from "../../../server/power/ipmi/index.ts";
import { failure } from "./bmc-probe.ts";
import { type ScriptedBmc, startScriptedBmc } from "./scripted-bmc.ts";

const RETRY = { tries: 3, firstWaitMs: 60, stepMs: 60, jitterMs: 20 };
const ipmi = createIpmiProtocol({ retry: RETRY });
/** A client with no memory of earlier sessions (accepted suite, IPMI 2.0 seen). */
const fresh = () => createIpmiProtocol({ retry: RETRY });
const budget = (ms = 5000): AbortSignal => AbortSignal.timeout(ms);

const flip = (at: number) => (reply: Uint8Array) => {
  const copy = reply.slice();
  const index = at < 0 ? copy.length + at : at;
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
};

describe("IPMI client against a scripted BMC", () => {
  let bmc: ScriptedBmc;
  const target = () => ({ host: "127.0.0.1", port: bmc.port, username: "admin", password: "password" });

  beforeAll(async () => {
    bmc = await startScriptedBmc();
  });
  afterAll(() => bmc?.close());
  beforeEach(() => bmc.reset());

  test("cipher suite 17 (SHA256) is used where offered, and the whole session works", async () => {
    const driver = await fresh().open(target(), budget());
    expect(driver.cipherSuite).toBe(17);
    expect(await driver.powerState()).toBe("on");
    await driver.powerAction("cycle");
    await driver.setBootOverride({ device: "net", persistent: true, uefi: true });
    expect(await driver.getBootOverride()).toEqual({ device: "net", persistent: true, uefi: true });
    await driver.close();
    const sent = bmc.requests.map((r) => `${r.netFn}/${r.cmd}:${Buffer.from(r.data).toString("hex")}`);
    expect(sent.slice(0, -1)).toEqual([
      "0/1:", // Get Chassis Status: User level, the session's own
      "6/59:04", // Set Session Privilege Level: administrator, before the first command that needs it
      "0/2:02", // Chassis Control: cycle
      "0/8:0308", // boot option parameter 3: keep the valid bit past 60 s
      "0/8:05e004000000", // parameter 5: valid | persistent | EFI, PXE
      "0/9:050000",
    ]);
    expect(sent.at(-1)).toMatch(/^6\/60:[0-9a-f]{8}$/); // Close Session with the BMC's session id
    // Session sequence numbers start at 1 and grow by one per packet.
    expect(bmc.requests.map((r) => r.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  test("a status read is Get Chassis Status alone; a BMC that wants more privilege for it gets the session raised", async () => {
    const ipmi = fresh();
    let driver = await ipmi.open(target(), budget());
    expect(await driver.powerState()).toBe("on");
    await driver.close();
    expect(bmc.requests.map((r) => `${r.netFn}/${r.cmd}`)).toEqual(["0/1", "6/60"]);

    bmc.reset({ completionCode: (r) => (r.netFn === 0 && r.cmd === 1 && !r.administrator ? 0xd4 : 0) });
    driver = await ipmi.open(target(), budget());
    expect(await driver.powerState()).toBe("on");
    await driver.close();
    expect(bmc.requests.map((r) => `${r.netFn}/${r.cmd}`)).toEqual(["0/1", "6/59", "0/1", "6/60"]);

    // Refused administrator privilege: the command that needed it fails, naming the user.
    bmc.reset({ completionCode: (r) => (r.netFn === 6 && r.cmd === 59 ? 0x81 : 0) });
    driver = await ipmi.open(target(), budget());
    expect(await driver.powerState()).toBe("on");
    const error = await failure(driver.powerAction("off"));
    expect(error.kind).toBe("auth");
    expect(error.message).toContain('user "admin" cannot have administrator privilege');
    expect(error.message).toContain("0x81 requested level exceeds the channel or user privilege limit");
    await driver.close();
    expect(bmc.requests.map((r) => `${r.netFn}/${r.cmd}`)).toEqual(["0/1", "6/59", "6/60"]);
  });

  test("a BMC that gave a session is not asked for its authentication capabilities again, until a login fails", async () => {
    const ipmi = fresh();
    const login = async () => (await ipmi.open(target(), budget())).close();
    await login();
    expect(bmc.seen.get("gcac")).toBe(1);
    await login();
    await login();
    expect(bmc.seen.get("gcac")).toBe(1);
    expect(bmc.seen.get("open")).toBe(3);

    // A failed login forgets the BMC: the next one asks again, and its refusal is the clear one.
    bmc.reset({ openStatus: 0x01 });
    await failure(ipmi.open(target(), budget()));
    expect(bmc.seen.get("gcac") ?? 0).toBe(0);
    bmc.reset({ ipmi20: false });
    const error = await failure(ipmi.open(target(), budget()));
    expect(error.kind).toBe("unsupported");
    expect(bmc.seen.get("gcac")).toBe(1);
  });

  test("a refused suite 17 falls back to 3; a SHA1 answer to a SHA256 request is taken as suite 3", async () => {
    bmc.reset({ refuseSuites: [17] });
    let driver = await ipmi.open(target(), budget());
    expect(driver.cipherSuite).toBe(3);
    expect(bmc.seen.get("open")).toBe(2);
    await driver.close();

    // The suite this BMC accepted is tried first from now on: no refused Open Session per operation.
    bmc.reset({ refuseSuites: [17] });
    driver = await ipmi.open(target(), budget());
    expect(driver.cipherSuite).toBe(3);
    expect(bmc.seen.get("open")).toBe(1);
    await driver.close();

    bmc.reset({ suite: 3 });
    driver = await ipmi.open(target(), budget());
    expect(driver.cipherSuite).toBe(3);
    expect(bmc.seen.get("open")).toBe(1);
    expect(await driver.powerState()).toBe("on");
    await driver.close();

    // Offered only suite 17, the SHA1 answer is not acceptable.
    bmc.reset({ suite: 3 });
    const strict = createIpmiProtocol({ cipherSuites: [17] });
    const error = await failure(strict.open(target(), budget()));
    expect(error.kind).toBe("unsupported");
    expect(error.message).toContain("authentication 0x01");
  });

  test("a lost handshake reply restarts the handshake; a lost command reply is retransmitted with the same rqSeq", async () => {
    bmc.reset({ drop: (kind, n) => (kind === "rakp3" || kind === "session") && n === 1 });
    const driver = await ipmi.open(target(), budget());
    await driver.powerAction("on");
    expect(bmc.seen.get("open")).toBe(2);
    expect(bmc.seen.get("rakp3")).toBe(2);
    const privilege = bmc.requests.filter((r) => r.netFn === 6 && r.cmd === 59);
    expect(privilege).toHaveLength(2);
    expect(privilege[0]?.rqSeq).toBe(privilege[1]?.rqSeq);
    expect(privilege[1]?.sequence).toBeGreaterThan(privilege[0]?.sequence ?? 0);
    await driver.close();
  });

  test("corrupted, foreign, stale and replayed replies are dropped, and the good one is taken", async () => {
    // A RAKP2 with a bad HMAC is not here: it is the BMC saying the password is wrong.
    const corruptions: Record<string, [(reply: Uint8Array) => Uint8Array, string[]]> = {
      "bad HMAC": [flip(-1), ["session"]],
      "bad payload": [flip(40), ["session"]],
      "bad IPMI checksum": [flip(-1), ["gcac"]],
      "other session id": [flip(6), ["session"]],
      "other console session id": [flip(20), ["open", "rakp2", "rakp4"]],
      "truncated": [(reply) => reply.slice(0, 18), ["gcac", "open", "rakp2", "rakp4", "session"]],
      "wrong RMCP class": [flip(3), ["gcac", "open", "rakp2", "rakp4", "session"]],
      "junk": [() => new Uint8Array(3), ["gcac", "open", "rakp2", "rakp4", "session"]],
    };
    for (const [name, [corrupt, kinds]] of Object.entries(corruptions)) {
      bmc.reset({ mangle: (reply, kind) => (kinds.includes(kind) ? [corrupt(reply), reply] : reply) });
      const driver = await ipmi.open(target(), budget());
      expect(await driver.powerState(), name).toBe("on");
      await driver.close();
    }
  });

  test("only broken replies: a timeout that says what came back instead", async () => {
    bmc.reset({ mangle: (reply, kind) => (kind === "session" ? flip(-1)(reply) : reply) });
    const driver = await ipmi.open(target(), budget());
    const error = await failure(driver.powerAction("on"));
    await driver.close();
    expect(error.kind).toBe("timeout");
    expect(error.message).toContain("no answer to Set Session Privilege Level (administrator)");
    expect(error.message).toContain("after 3 tries");
    expect(error.message).toContain("3 unusable replies dropped (last: session packet failed its integrity check (bad HMAC))");
    // The session was established: Close Session went out all the same.
    expect(bmc.requests.some((r) => r.netFn === 6 && r.cmd === 60)).toBe(true);
  });

  test("refusals: no free session, no IPMI 2.0, a bad RAKP4, an unknown user", async () => {
    bmc.reset({ openStatus: 0x01 });
    let error = await failure(ipmi.open(target(), budget()));
    expect(error).toMatchObject({ kind: "refused" });
    expect(error.message).toContain("no free session");

    bmc.reset({ ipmi20: false });
    error = await failure(fresh().open(target(), budget()));
    expect(error.kind).toBe("unsupported");
    expect(error.message).toContain("IPMI 2.0");

    bmc.reset({ badRakp4: true });
    error = await failure(ipmi.open(target(), budget()));
    expect(error.kind).toBe("auth");
    expect(error.message).toContain("RAKP4 integrity check failed");

    bmc.reset();
    error = await failure(ipmi.open({ ...target(), username: "root" }, budget()));
    expect(error.kind).toBe("auth");
    expect(error.message).toContain('user "root" is unknown');

    bmc.reset({ completionCode: (r) => (r.netFn === 0 && r.cmd === 2 ? 0xd4 : 0) });
    const driver = await ipmi.open(target(), budget());
    error = await failure(driver.powerAction("on"));
    expect(error.kind).toBe("refused");
    expect(error.message).toContain("Chassis Control (on, 0x01): completion code 0xD4 insufficient privilege level");
    await driver.close();
  });

  test("a fuzzing BMC never makes the client throw anything but BmcError", async () => {
    const hasty = createIpmiProtocol({
      retry: { tries: 2, firstWaitMs: 15, stepMs: 15, jitterMs: 0 },
      closeRetry: { tries: 1, firstWaitMs: 15, stepMs: 0, jitterMs: 0 },
    });
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    for (let round = 0; round < 60; round++) {
      bmc.reset({
        mangle: (reply) => {
          if (random() < 0.5) return reply;
          const copy = reply.slice(0, Math.max(1, Math.floor(reply.length * (0.5 + random()))));
          for (let i = 0; i < 3; i++) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
          return copy;
        },
      });
      const outcome = await hasty.open(target(), budget(2000)).then(
        async (driver) => {
          await driver.close();
          return "opened";
        },
        (error: unknown) => error,
      );
      if (outcome !== "opened") expect(outcome).toBeInstanceOf(BmcError);
    }
  }, 30_000);

  const noIpmitool = Bun.which("ipmitool") === null ? "ipmitool is not installed (apt-get install ipmitool)" : undefined;
  test.skipIf(noIpmitool !== undefined && !process.env.CI)(
    `ipmitool agrees with the scripted BMC's suite 3 and 17 cryptography${noIpmitool ? ` (skipped: ${noIpmitool})` : ""}`,
    async () => {
      if (noIpmitool) throw new Error(`CI must run the ipmitool cross-check, but: ${noIpmitool}`);
      for (const suite of ["3", "17"]) {
        bmc.reset();
        const args = ["-I", "lanplus", "-H", "127.0.0.1", "-p", String(bmc.port), "-U", "admin", "-E", "-C", suite];
        const env = { ...process.env, IPMI_PASSWORD: "password" };
        const run = Bun.spawn(["ipmitool", ...args, "chassis", "power", "status"], { env, stdout: "pipe", stderr: "pipe" });
        expect(await new Response(run.stdout).text(), `ipmitool -C ${suite}`).toContain("Chassis Power is on");
        expect(await run.exited).toBe(0);
      }
    },
  );
});
