// The router advertiser against an independent client, rdisc6 (Debian's ndisc6), in a private network namespace.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import type { Subprocess } from "bun";
import {
  buildRouterAdvert,
  parseIpv6Prefix,
  type RouterAdvertiserOptions,
  startRouterAdvertiser,
} from "../../server/net/router-advert.ts";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

describe("router advertisement packet", () => {
  it("has hop limit 64, no flags, router lifetime 0, then SLLA and prefix options", () => {
    const mac = Uint8Array.from([0x02, 0x00, 0x5e, 0x10, 0x20, 0x30]);
    const packet = buildRouterAdvert(mac, parseIpv6Prefix("fd77::/64"));
    expect(hex(packet)).toBe(
      "86000000" + "40000000" + "00000000" + "00000000" + // type, code, checksum; hop limit, flags, lifetime; timers
        "0101" + "02005e102030" + // source link-layer address
        "0304" + "40c0" + "00000258" + "0000012c" + "00000000" + "fd770000000000000000000000000000", // prefix
    );
  });

  it("leaves out the options it has nothing for", () => {
    expect(hex(buildRouterAdvert(undefined, undefined))).toBe("86000000400000000000000000000000");
  });

  it("parses prefixes and refuses bad ones", () => {
    expect(parseIpv6Prefix("2001:db8:1:2::/64")).toEqual({
      address: Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]),
      length: 64,
    });
    const bad = ["fd77::", "fd77::/0", "fd77::/129", "fd77::1/64", "fd77:::/64", "::ffff:1.2.3.4/96", "fd77::%eth0/64"];
    for (const text of bad) expect(() => parseIpv6Prefix(text), text).toThrow();
  });

  it("rejects bad options before touching any socket", () => {
    expect(() => startRouterAdvertiser({ interfaces: ["eth0"], prefixes: { eth1: "fd77::/64" } })).toThrow(/eth1/);
    expect(() => startRouterAdvertiser({ interfaces: ["../x"] })).toThrow(/interface name/);
    expect(() => startRouterAdvertiser({ interfaces: ["eth0"], intervalMs: 0 })).toThrow(/intervalMs/);
  });
});

const notRoot = process.getuid?.() !== 0;
if (notRoot) console.warn("router-advert namespace tests skipped: they need root (network namespaces, raw sockets)");

describe.skipIf(notRoot)("router advertiser in a network namespace", () => {
  const ns = `provd-ra-${process.pid}`;
  const fixture = fileURLToPath(new URL("./fixtures/ra-server.ts", import.meta.url));
  // veth pairs, advertiser on the *0 ends, clients on the *1 ends: ra0 with a prefix, rb0 without, rc0 not named
  // (must stay silent), rn0 named but without any link-local address; rd0 gets deleted and recreated.
  const processes = new Set<Subprocess>();
  let server: Running;
  let passiveServed: Running;
  let passiveUnnamed: Running;
  let mac = "";

  type Running = { proc: Subprocess; exited: Promise<number>; stdout: string; stderr: string };

  function inNs(argv: string[]): Running {
    // `timeout` kills it even if this test process dies before afterAll.
    const proc = Bun.spawn(["ip", "netns", "exec", ns, "timeout", "120", ...argv], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    processes.add(proc);
    const running: Running = { proc, exited: Promise.resolve(0), stdout: "", stderr: "" };
    const collect = async (stream: ReadableStream<Uint8Array>, key: "stdout" | "stderr") => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) running[key] += decoder.decode(chunk, { stream: true });
    };
    // Resolves once the process is gone and all its output is in.
    const output = Promise.all([collect(proc.stdout, "stdout"), collect(proc.stderr, "stderr")]);
    running.exited = Promise.all([proc.exited, output]).then(([code]) => {
      processes.delete(proc);
      return code;
    });
    return running;
  }

  async function rdisc6(args: string[]): Promise<{ code: number; out: string; ms: number }> {
    const started = performance.now();
    const run = inNs(["rdisc6", "-n", ...args]);
    const code = await run.exited;
    return { code, out: run.stdout + run.stderr, ms: performance.now() - started };
  }

  function sh(argv: string[]): void {
    const result = Bun.spawnSync(argv, { stdin: "ignore" });
    if (result.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${result.stderr.toString().trim()}`);
  }

  function addPair(pair: string, linkLocal: boolean): void {
    sh(["ip", "-n", ns, "link", "add", `${pair}0`, "type", "veth", "peer", "name", `${pair}1`]);
    // No automatic link-local: it would sit in DAD for a second; the nodad ones below are usable at once.
    for (const end of ["0", "1"]) sh(["ip", "-n", ns, "link", "set", `${pair}${end}`, "addrgenmode", "none"]);
    if (linkLocal) {
      sh(["ip", "-n", ns, "addr", "add", "fe80::1/64", "dev", `${pair}0`, "nodad"]);
      sh(["ip", "-n", ns, "addr", "add", "fe80::2/64", "dev", `${pair}1`, "nodad"]);
    }
    for (const end of ["0", "1"]) sh(["ip", "-n", ns, "link", "set", `${pair}${end}`, "up"]);
  }

  async function startFixture(options: RouterAdvertiserOptions): Promise<Running> {
    const running = inNs([process.execPath, fixture, JSON.stringify(options)]);
    await until(() => running.stdout.startsWith("ready") || !processes.has(running.proc), "the fixture to start");
    if (!running.stdout.startsWith("ready")) throw new Error(`the fixture did not start: ${running.stderr}`);
    return running;
  }

  async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!condition()) {
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await Bun.sleep(10);
    }
  }

  beforeAll(async () => {
    if (!Bun.which("rdisc6")) throw new Error("rdisc6 is missing: apt-get install -y ndisc6");
    sh(["ip", "netns", "add", ns]);
    sh(["ip", "-n", ns, "link", "set", "lo", "up"]);
    for (const pair of ["ra", "rb", "rc", "rd"]) addPair(pair, true);
    addPair("rn", false);
    const address = Bun.spawnSync(["ip", "netns", "exec", ns, "cat", "/sys/class/net/ra0/address"]);
    mac = address.stdout.toString().trim().toUpperCase();

    // Listen without soliciting from before the start, to see the unsolicited RAs and anything leaking onto rc.
    passiveServed = inNs(["rdisc6", "-n", "-d", "-m", "-r", "1", "-w", "4000", "ra1"]);
    passiveUnnamed = inNs(["rdisc6", "-n", "-d", "-m", "-r", "1", "-w", "4000", "rc1"]);
    await Bun.sleep(200);

    // A long interval, so every RA after the first answers a solicitation.
    server = await startFixture({
      interfaces: ["ra0", "rb0", "rn0"],
      prefixes: { ra0: "fd77::/64" },
      intervalMs: 60_000,
    });
  });

  afterAll(async () => {
    // SIGTERM, which `timeout` passes on to its child; SIGKILL would stop `timeout` alone and orphan the child.
    const left = [...processes];
    for (const proc of left) proc.kill("SIGTERM");
    await Promise.race([Promise.all(left.map((proc) => proc.exited)), Bun.sleep(3000)]);
    for (const proc of processes) proc.kill("SIGKILL");
    await Promise.all(left.map((proc) => proc.exited));
    Bun.spawnSync(["ip", "netns", "del", ns], { stdin: "ignore", stderr: "ignore" });
  });

  it("answers a solicitation with hop limit 64, router lifetime 0, its MAC and the prefix", async () => {
    const { code, out } = await rdisc6(["-1", "-w", "1000", "ra1"]);
    console.log(`rdisc6 on ra1:\n${out}`);
    expect(code).toBe(0);
    expect(out).toMatch(/^Hop limit\s*:\s*64\b/m);
    expect(out).toMatch(/^Stateful address conf\.\s*:\s*No$/m);
    expect(out).toMatch(/^Stateful other conf\.\s*:\s*No$/m);
    expect(out).toMatch(/^Router lifetime\s*:\s*0 \(/m);
    expect(mac).toMatch(/^([0-9A-F]{2}:){5}[0-9A-F]{2}$/);
    expect(out).toContain(`Source link-layer address: ${mac}`);
    expect(out).toMatch(/Prefix\s*:\s*fd77::\/64\n\s*On-link\s*:\s*Yes\n\s*Autonomous address conf\.\s*:\s*Yes/);
    expect(out).toMatch(/from fe80::1$/m);
  });

  it("announces no prefix where none is configured", async () => {
    const { code, out } = await rdisc6(["-1", "-w", "1000", "rb1"]);
    expect(code).toBe(0);
    expect(out).toMatch(/^Router lifetime\s*:\s*0 \(/m);
    expect(out).not.toContain("Prefix");
  });

  it("answers within 200 ms", async () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { code, ms } = await rdisc6(["-1", "-r", "1", "-w", "1000", "ra1"]);
      expect(code).toBe(0);
      times.push(Math.round(ms));
    }
    console.log(`RS→RA round trips including process start, ms: ${times.join(" ")}`);
    // The median, so one slow process start on a busy machine does not fail the test; each run includes one.
    expect(times.sort((a, b) => a - b)[2]).toBeLessThan(200);
  });

  it("never answers on an interface it was not given", async () => {
    const { code, out } = await rdisc6(["-1", "-r", "2", "-w", "500", "rc1"]);
    expect(out).toContain("No response");
    expect(code).not.toBe(0);
  });

  it("lets nothing reach an interface it was not given, while a named one hears it", async () => {
    await Promise.all([passiveServed.exited, passiveUnnamed.exited]);
    expect(passiveServed.stdout).toMatch(/Router lifetime\s*:\s*0 \(/);
    expect(passiveUnnamed.stdout).not.toContain("Hop limit");
  });

  it("advertised at start, reported the interface without a link-local address, and stops cleanly", async () => {
    server.proc.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(server.stderr).toMatch(/"interface":"rn0".*no usable IPv6 link-local address/);
    // The unsolicited ones at start, before anyone asked.
    expect(server.stderr).toContain('"interface":"ra0","solicitations":0');
    expect(server.stderr).toContain('"interface":"rb0","solicitations":0');
    expect(server.stderr).not.toMatch(/"interface":"rc/);
    const stats = JSON.parse(server.stdout.trim().split("\n").at(-1) ?? "") as Record<string, number>;
    // At start: ra0 and rb0; then one per solicitation above (1 + 1 + 5), rn0 counted as an error.
    expect(stats.sent).toBeGreaterThanOrEqual(9);
    expect(stats.solicitationsAnswered).toBeGreaterThanOrEqual(7);
    expect(stats.errors).toBeGreaterThanOrEqual(1);
  });

  it("picks up its interface again after it is deleted and recreated", async () => {
    const recreated = await startFixture({ interfaces: ["rd0"], intervalMs: 300 });
    expect((await rdisc6(["-1", "-r", "1", "-w", "1000", "rd1"])).code).toBe(0);
    sh(["ip", "-n", ns, "link", "del", "rd0"]);
    await Bun.sleep(700);
    addPair("rd", true);
    expect((await rdisc6(["-1", "-r", "3", "-w", "500", "rd1"])).code).toBe(0);
    recreated.proc.kill("SIGTERM");
    expect(await recreated.exited).toBe(0);
    expect(recreated.stderr).toContain("no such interface");
    expect(recreated.stderr).toContain("sending again on rd0");
  });
});
