#!/usr/bin/env bun
// Power bench: `provctl rpower NODERANGE stat` through provd against the same status reads done with ipmitool fanned
// out by xargs, on real ipmi_sim BMCs (test/power/ipmi/ipmi-sim.ts) of two kinds (power read through a forked hook,
// or from memory), and rpower on 200 dead BMCs.
// Usage: bun bench/power.ts [--bmcs N] [--dead N] [--rounds N] [--dead-rounds N] [--binary=PATH | --source] [--no-ipmitool-dead]
//                                                                                           (see bench/README.md)
// Everything runs on 127.0.0.1 in temporary directories that are removed at the end (also on Ctrl-C or failure);
// every process it starts (ipmi_sim, provd, provctl, xargs and its ipmitools) is stopped by PID.
import type { Subprocess } from "bun";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freeUdpPorts } from "../test/power/ipmi/bmc-probe.ts";
import { type SimFleet, ipmiSimUnavailable, startIpmiSims } from "../test/power/ipmi/ipmi-sim.ts";
import { BenchCleanup, commandLine, drain, envWithout, freeTcpPort, lpad, pad, removeDir, requirePositiveIntegers, runBench } from "./lib.ts";

const ROOT = join(import.meta.dir, "..");
/** provd's --power-timeout default, seconds (server/core/config.ts). */
const DEFAULT_TIMEOUT_S = 10;
/** The second timeout the dead cases run with (PROVCTL_POWER_TIMEOUT). */
const SHORT_TIMEOUT_S = 3;
/** What the CLI may add to one timeout in the dead cases: its own start, the HTTP request, the result stream. */
const CLI_ALLOWANCE_S = 2;
const TARGET_SPEEDUP = 10;
/**
 * A pause before every timed run, the same for both clients: the run before (120 processes exiting, the BMCs
 * finishing their sessions) is over before the clock starts.
 */
const SETTLE_MS = 1000;
const settle = () => Bun.sleep(SETTLE_MS);

interface Options {
  bmcs: number;
  dead: number;
  rounds: number;
  deadRounds: number;
  /** The provctl to run; undefined: `bun server/main.ts` (--source). */
  binary?: string;
  /** Build dist/provctl first (the default): the CLI's start is part of every figure, so measure the product. */
  build: boolean;
  ipmitoolDead: boolean;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { bmcs: 120, dead: 200, rounds: 3, deadRounds: 2, binary: join(ROOT, "dist/provctl"), build: true, ipmitoolDead: true };
  for (const { flag: a, value: next } of commandLine(argv)) {
    if (a === "--bmcs") o.bmcs = Number(next());
    else if (a === "--dead") o.dead = Number(next());
    else if (a === "--rounds") o.rounds = Number(next());
    else if (a === "--dead-rounds") o.deadRounds = Number(next());
    else if (a === "--binary") Object.assign(o, { binary: join(ROOT, "dist/provctl"), build: true });
    else if (a.startsWith("--binary=")) Object.assign(o, { binary: resolve(a.slice("--binary=".length)), build: false });
    else if (a === "--source") Object.assign(o, { binary: undefined, build: false });
    else if (a === "--no-ipmitool-dead") o.ipmitoolDead = false;
    else if (a === "-h" || a === "--help") {
      console.log(`bun bench/power.ts [options]        (needs ipmi_sim and ipmitool: apt-get install openipmi ipmitool)
  --bmcs N            ipmi_sim BMCs per kind, one node each: groups 'bench' (hook) and 'benchmem' (memory) (default 120)
  --dead N            dead BMCs per case: closed ports, and ports that never answer (default 200)
  --rounds N          timed rounds of rpower stat and of each ipmitool fan-out, taken in turns; medians (default 3)
  --dead-rounds N     rounds of each dead case per timeout (default 2)
  --binary=PATH       run the provctl at PATH (default: \`bun run build\` first, then dist/provctl)
  --source            run bun server/main.ts instead (the CLI's start then includes transpiling)
  --no-ipmitool-dead  skip ipmitool's runs against the dead BMCs (about 20 s each)`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (--help lists them)`);
  }
  requirePositiveIntegers({ "--bmcs": o.bmcs, "--dead": o.dead, "--rounds": o.rounds, "--dead-rounds": o.deadRounds });
  return o;
}

// ---------------------------------------------------------------- cleanup: every process by PID, every temp dir

// tree: xargs's ipmitools are signalled by PID too.
const cleanup = new BenchCleanup({ tree: true });
const track = <T extends Subprocess>(proc: T): T => cleanup.track(proc);
const tempDirs: string[] = [];
const udpSockets: Array<{ close(): void }> = [];
let fleetStarting: Promise<SimFleet> | undefined;
let memoryFleetStarting: Promise<SimFleet> | undefined;
cleanup.add(async () => {
  for (const s of udpSockets.splice(0)) s.close();
  // The harness stops its ipmi_sims by PID and removes its directory; if it is still starting them, wait for it.
  for (const starting of [fleetStarting, memoryFleetStarting]) await (await starting?.catch(() => undefined))?.stop();
  for (const dir of tempDirs) removeDir(dir);
});

// ---------------------------------------------------------------- helpers

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const secs = (s: number) => (Number.isFinite(s) ? `${s.toFixed(s < 10 ? 2 : 1)} s` : "n/a");

/** Linux pressure stall information: the share of the last minute in which some runnable task waited for a CPU. */
function cpuPressure(): string {
  try {
    const some = /^some .*avg60=([\d.]+)/m.exec(readFileSync("/proc/pressure/cpu", "utf8"))?.[1];
    return some ? `, CPU pressure ${some}% (avg60)` : "";
  } catch {
    return "";
  }
}

const loadText = () => loadavg().map((l) => l.toFixed(2)).join(" ");

interface Run {
  seconds: number;
  code: number;
  out: string;
  err: string;
}

/** Runs a command to its end; the time is spawn to exit, output read. */
async function run(argv: string[], opts: { env?: Record<string, string>; stdin?: string; cwd?: string } = {}): Promise<Run> {
  const started = performance.now();
  const p = track(
    Bun.spawn(argv, {
      cwd: opts.cwd ?? ROOT,
      env: opts.env ?? (process.env as Record<string, string>),
      stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
      stdout: "pipe",
      stderr: "pipe",
    }),
  );
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { seconds: (performance.now() - started) / 1000, code, out, err };
}

// ---------------------------------------------------------------- provd

interface Provd {
  url: string;
  token: string;
  proc: Subprocess;
  log(): string;
  /** A provctl command as a user runs it (a new process), timed. */
  cli(args: string[], stdin?: string): Promise<Run>;
  /** GET an API path with the token. */
  get<T>(path: string): Promise<T | undefined>;
}

function baseCommand(opts: Options): string[] {
  return opts.binary ? [opts.binary] : [process.execPath, join(ROOT, "server/main.ts")];
}

const cleanEnv = envWithout("PROVCTL_");

async function startProvd(opts: Options, dataDir: string, token: string, timeoutS?: number): Promise<Provd> {
  const base = baseCommand(opts);
  const port = await freeTcpPort();
  const url = `http://127.0.0.1:${port}`;
  let log = "";
  const env: Record<string, string> = { ...cleanEnv, PROVCTL_DATA_DIR: dataDir, PROVCTL_LISTEN: `127.0.0.1:${port}`, PROVCTL_TOKEN: token, PROVCTL_LOG_LEVEL: "warn" };
  if (timeoutS !== undefined) env.PROVCTL_POWER_TIMEOUT = String(timeoutS);
  const proc = track(Bun.spawn([...base, "serve"], { cwd: ROOT, env, stdout: "pipe", stderr: "pipe" }));
  void drain(proc.stdout, (s) => (log += s));
  void drain(proc.stderr, (s) => (log += s));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`provd exited (${proc.exitCode}) before answering:\n${log}`);
    try {
      const r = await fetch(`${url}/healthz`);
      await r.arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`provd did not answer ${url}/healthz within 30 s:\n${log}`);
      await Bun.sleep(50);
    }
  }
  const clientEnv = { ...cleanEnv, PROVCTL_URL: url, PROVCTL_TOKEN: token, PROVCTL_CLIENT_CONFIG: join(dataDir, "no-client-config.json") };
  return {
    url,
    token,
    proc,
    log: () => log,
    cli: (args, stdin) => run([...base, ...args], { env: clientEnv, stdin }),
    async get<T>(path: string) {
      const r = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      if (!r.ok) {
        await r.arrayBuffer();
        return undefined;
      }
      return (await r.json()) as T;
    },
  };
}

interface Task {
  id: number;
  command: string;
  nodeCount: number;
  state: string;
  createdAt: number;
  finishedAt?: number;
}

/**
 * The CLI does not print its task's id; provd numbers tasks 1, 2, … in a fresh data directory and this bench is the
 * only client, so the task of the n-th power command is n. Checked against the command and node count.
 */
class TaskClock {
  private last = 0;
  async next(provd: Provd, command: string, nodes: number): Promise<number> {
    const id = this.last + 1;
    const task = await provd.get<Task>(`/api/v1/tasks/${id}`);
    if (!task) return Number.NaN;
    this.last = id;
    if (task.command !== command || task.nodeCount !== nodes || task.finishedAt === undefined) return Number.NaN;
    return (task.finishedAt - task.createdAt) / 1000;
  }
}

// ---------------------------------------------------------------- the live BMC fleets

interface LiveFleet {
  /** "hook" or "memory": how the BMCs keep power (see main). */
  label: string;
  group: string;
  ports: number[];
  expected: Map<number, string>;
  nodePort: Map<string, number>;
  onCount: number;
  /** How many nodes' answers differ from their BMC's state. */
  wrong(answers: Map<string, string>): number;
}

function liveFleet(label: string, group: string, prefix: string, fleet: SimFleet, isOn: (i: number) => boolean): LiveFleet {
  const expected = new Map<number, string>();
  const nodePort = new Map<string, number>();
  for (const [i, bmc] of fleet.bmcs.entries()) {
    expected.set(bmc.port, isOn(i) ? "on" : "off");
    nodePort.set(nodeName(prefix, i), bmc.port);
  }
  return {
    label,
    group,
    ports: fleet.bmcs.map((b) => b.port),
    expected,
    nodePort,
    onCount: [...expected.values()].filter((s) => s === "on").length,
    wrong: (answers) => [...nodePort].filter(([node, port]) => answers.get(node) !== expected.get(port)).length,
  };
}

// ---------------------------------------------------------------- rpower and ipmitool runs

const nodeName = (prefix: string, i: number) => `${prefix}${String(i + 1).padStart(3, "0")}`;

interface RpowerResult {
  wall: number;
  server: number;
  code: number;
  ok: Map<string, string>;
  errors: Map<string, string>;
}

async function rpower(provd: Provd, clock: TaskClock, group: string, count: number): Promise<RpowerResult> {
  const r = await provd.cli(["rpower", group, "stat"]);
  const server = await clock.next(provd, "rpower stat", count);
  const ok = new Map<string, string>();
  const errors = new Map<string, string>();
  for (const line of r.out.split("\n")) {
    const m = /^(\S+): (.*)$/.exec(line);
    if (m) ok.set(m[1]!, m[2]!);
  }
  for (const line of r.err.split("\n")) {
    const m = /^(\S+): Error: (.*)$/.exec(line);
    if (m) errors.set(m[1]!, m[2]!);
  }
  return { wall: r.seconds, server, code: r.code, ok, errors };
}

const IPMITOOL = ["ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", "{}", "-U", "admin", "-P", "password", "chassis", "power", "status"];

/** `xargs -P parallel` over the ports, one ipmitool per port; counts the answers. */
async function ipmitoolFanOut(ports: readonly number[], parallel: number): Promise<{ wall: number; on: number; off: number; failed: number; sample: string }> {
  const r = await run(["xargs", "-P", String(parallel), "-I{}", ...IPMITOOL], { stdin: `${ports.join("\n")}\n` });
  const on = r.out.split("\n").filter((l) => l === "Chassis Power is on").length;
  const off = r.out.split("\n").filter((l) => l === "Chassis Power is off").length;
  const errLines = r.err.split("\n").filter((l) => l.startsWith("Error"));
  return { wall: r.seconds, on, off, failed: ports.length - on - off, sample: errLines[0] ?? "" };
}

/** One ipmitool per port as above, each answer tagged with its port (a shell per call: for checking, not timing). */
async function ipmitoolStates(ports: readonly number[], parallel: number): Promise<Map<number, string>> {
  const cmd = IPMITOOL.map((a) => (a === "{}" ? '"$1"' : a)).join(" ");
  const r = await run(["xargs", "-P", String(parallel), "-I{}", "sh", "-c", `echo "$1 $(${cmd} 2>&1)"`, "sh", "{}"], { stdin: `${ports.join("\n")}\n` });
  const states = new Map<number, string>();
  for (const line of r.out.split("\n")) {
    const m = /^(\d+) (.*)$/.exec(line);
    if (m) states.set(Number(m[1]), /^Chassis Power is (on|off)$/.exec(m[2]!)?.[1] ?? m[2]!);
  }
  return states;
}

/** Error messages grouped with the node names and ports blanked out: what kinds of failure, how many of each. */
function errorKinds(errors: Map<string, string>): string {
  const kinds = new Map<string, number>();
  for (const message of errors.values()) {
    const kind = message.replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:PORT").replace(/\d+(\.\d+)? ms/g, "N ms");
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return [...kinds].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n}× "${k}"`).join("; ");
}

// ---------------------------------------------------------------- main

interface Row {
  name: string;
  provd: number;
  ipmitool: number;
  /** ipmitool / provd. */
  ratio: number;
  target: string;
  verdict: string;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const unavailable = ipmiSimUnavailable();
  if (unavailable) throw new Error(unavailable);
  for (const tool of ["ipmitool", "xargs"]) if (!Bun.which(tool)) throw new Error(`${tool} is not installed (apt-get install ipmitool)`);
  if (opts.build) {
    process.stdout.write("bun run build… ");
    const build = Bun.spawnSync(["bun", "run", "build"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    if (build.exitCode !== 0) throw new Error(`bun run build failed:\n${build.stderr.toString()}`);
    console.log("done");
  }
  if (opts.binary && !existsSync(opts.binary)) throw new Error(`${opts.binary} does not exist`);
  const started = Date.now();
  const cpuList = cpus();
  const N = opts.bmcs;
  const D = opts.dead;
  console.log(`provd power bench — ${opts.binary ?? `bun ${Bun.version} server/main.ts`}; ${N} ipmi_sim BMCs, ${D} dead BMCs per case, ipmitool -I lanplus -C 3`);
  console.log(`machine: ${cpuList.length} CPU(s) (${cpuList[0]?.model.trim() ?? "unknown"}), shared by the BMCs, provd and the clients — figures are relative`);
  const load0 = loadavg()[0]!;
  console.log(`load average ${loadText()} at start${cpuPressure()}${load0 > cpuList.length / 2 ? " — other work is running on this machine: expect noisy figures" : ""}\n`);

  const dir = mkdtempSync(join(tmpdir(), "provd-bench-power-"));
  tempDirs.push(dir);
  const dataDir = join(dir, "provd-data");
  const token = `bench-${randomBytes(16).toString("hex")}`;

  // The BMCs: two fleets of N ipmi_sims (the tests' harness), half of each on, so that the states to compare are not
  // all alike. "hook" BMCs keep power in files their chassis_control hook reads, and ipmi_sim forks that hook (a
  // shell) for every status read; "memory" BMCs keep power as a process of their own and answer from memory, as a
  // real BMC does. The same clients read the same BMCs either way; the fork is CPU both sides pay on this machine.
  process.stdout.write(`setup: ${N} + ${N} ipmi_sim BMCs… `);
  const isOn = (i: number) => i % 2 === 0;
  fleetStarting = startIpmiSims(N);
  const hookFleet = await fleetStarting;
  for (const [i, bmc] of hookFleet.bmcs.entries()) bmc.setState("power", isOn(i) ? "1" : "0");
  memoryFleetStarting = startIpmiSims(N, { power: "process", on: isOn });
  const memoryFleet = await memoryFleetStarting;
  const fleets: LiveFleet[] = [
    liveFleet("hook", "bench", "bench", hookFleet, isOn),
    liveFleet("memory", "benchmem", "mem", memoryFleet, isOn),
  ];
  // Dead BMCs with ports of their own (provd runs one operation per BMC address at a time, so 200 nodes on one dead
  // port would be 200 timeouts in a row by design): D UDP sockets bound here that never answer (a timeout, no ICMP),
  // and D ports the kernel handed out and took back (closed: ICMP port unreachable, for as long as nobody binds them).
  process.stdout.write(`${D} silent and ${D} closed ports… `);
  const silentPorts: number[] = [];
  for (let i = 0; i < D; i++) {
    const socket = await Bun.udpSocket({ hostname: "127.0.0.1", socket: { data() {}, error() {} } });
    udpSockets.push(socket);
    silentPorts.push(socket.port);
  }
  const taken = new Set([...silentPorts, ...fleets.flatMap((f) => f.ports)]);
  const closedPorts = (await freeUdpPorts(D + 20)).filter((p) => !taken.has(p)).slice(0, D);
  if (closedPorts.length < D) throw new Error("could not find enough free UDP ports");

  process.stdout.write("provd… ");
  let provd = await startProvd(opts, dataDir, token);
  const clock = new TaskClock();
  const bmcAttrs = (port: number) => `    mgt=ipmi\n    bmc=127.0.0.1\n    bmcport=${port}\n    bmcusername=admin\n    bmcpassword=password\n`;
  let stanza = "";
  for (const f of fleets) for (const [node, port] of f.nodePort) stanza += `${node}:\n    objtype=node\n    groups=${f.group}\n${bmcAttrs(port)}\n`;
  for (const [i, port] of closedPorts.entries()) stanza += `${nodeName("closed", i)}:\n    objtype=node\n    groups=deadclosed,dead\n${bmcAttrs(port)}\n`;
  for (const [i, port] of silentPorts.entries()) stanza += `${nodeName("silent", i)}:\n    objtype=node\n    groups=deadsilent,dead\n${bmcAttrs(port)}\n`;
  const def = await provd.cli(["mkdef", "-z"], stanza);
  if (def.code !== 0) throw new Error(`provctl mkdef -z failed (${def.code}):\n${def.err}${def.out}\nserver log:\n${provd.log()}`);
  console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s (provd ${provd.url}, ${2 * N + 2 * D} nodes)\n`);

  // ------------------------------------------------------------ checks: both see the BMCs' states
  console.log("checks (before timing):");
  let allChecks = true;
  const check = (ok: boolean, what: string, detail: string) => {
    allChecks &&= ok;
    console.log(`  ${ok ? "ok  " : "FAIL"} ${pad(what, 44)} ${detail}`);
  };
  for (const f of fleets) {
    const first = await rpower(provd, clock, f.group, N);
    const provdWrong = f.wrong(first.ok);
    check(
      first.code === 0 && first.ok.size === N && provdWrong === 0,
      `provctl rpower ${f.group} stat (${N} ${f.label} BMCs)`,
      `exit ${first.code}, ${first.ok.size} answers, ${first.errors.size} errors, ${provdWrong} differ from the BMCs' states` +
        (first.errors.size ? `: ${errorKinds(first.errors)}` : "") +
        ` (${secs(first.wall)}, a warm-up)`,
    );
    if (opts.binary && [...first.errors.values()].some((m) => m.includes("not available in this build"))) {
      console.log(`       (${opts.binary} may be older than the source: bun run build)`);
    }
    const tool = await ipmitoolStates(f.ports, 32);
    const toolWrong = f.ports.filter((p) => tool.get(p) !== f.expected.get(p));
    check(toolWrong.length === 0, `ipmitool per port (${N} ${f.label} BMCs, -P 32)`, `${tool.size} answers, ${toolWrong.length} differ${toolWrong.length ? `: e.g. port ${toolWrong[0]} → ${tool.get(toolWrong[0]!) ?? "nothing"}` : ""}`);
    const disagree = [...f.nodePort].filter(([node, port]) => first.ok.get(node) !== tool.get(port));
    check(disagree.length === 0, `provd and ipmitool agree (${f.label})`, `${N - disagree.length}/${N} the same (${f.onCount} on, ${N - f.onCount} off)`);
  }
  console.log("");

  // ------------------------------------------------------------ live BMCs: rounds taken in turns
  console.log(`live BMCs, ${opts.rounds} rounds (load average at each round's start):`);
  const rows: Row[] = [];
  for (const f of fleets) {
    const provdWall: number[] = [];
    const provdServer: number[] = [];
    const fanN: number[] = [];
    const fan32: number[] = [];
    /** Every round: provd answered every node with its BMC's state, and both ipmitool fan-outs counted the same states. */
    let liveCorrect = true;
    for (let round = 0; round < opts.rounds; round++) {
      const load = loadavg()[0]!.toFixed(2);
      await settle();
      const p = await rpower(provd, clock, f.group, N);
      const pWrong = f.wrong(p.ok);
      liveCorrect &&= p.code === 0 && pWrong === 0;
      provdWall.push(p.wall);
      provdServer.push(p.server);
      await settle();
      const a = await ipmitoolFanOut(f.ports, N);
      await settle();
      const b = await ipmitoolFanOut(f.ports, 32);
      for (const fan of [a, b]) liveCorrect &&= fan.on === f.onCount && fan.off === N - f.onCount;
      fanN.push(a.wall);
      fan32.push(b.wall);
      console.log(
        `  ${f.label} round ${round + 1} (load ${load}): provd ${secs(p.wall)} CLI, ${secs(p.server)} task, ${p.ok.size} answers${pWrong ? `, ${pWrong} WRONG` : ""}${p.errors.size ? `, errors: ${errorKinds(p.errors)}` : ""}` +
          ` | ipmitool -P ${N} ${secs(a.wall)} (${a.on} on, ${a.off} off${a.failed ? `, ${a.failed} failed: ${a.sample}` : ""})` +
          ` | -P 32 ${secs(b.wall)} (${b.on} on, ${b.off} off${b.failed ? `, ${b.failed} failed: ${b.sample}` : ""})`,
      );
    }
    allChecks &&= liveCorrect;
    const speedRow = (name: string, p: number, t: number, verdictToo = true): Row => {
      const ratio = t / p;
      // Fast wrong answers are no pass: the verdict needs every round's states right.
      const verdict = !liveCorrect ? "FAIL (wrong states)" : ratio >= TARGET_SPEEDUP ? "PASS" : "FAIL";
      return { name, provd: p, ipmitool: t, ratio, target: verdictToo ? `≥ ${TARGET_SPEEDUP}× faster` : "(info)", verdict: verdictToo ? verdict : "" };
    };
    rows.push(speedRow(`rpower ${f.group} stat, ${N} ${f.label} BMCs: CLI wall vs ipmitool xargs -P ${N}`, median(provdWall), median(fanN)));
    rows.push(speedRow(`rpower ${f.group} stat, ${N} ${f.label} BMCs: CLI wall vs ipmitool xargs -P 32`, median(provdWall), median(fan32)));
    rows.push(speedRow(`rpower ${f.group} stat, ${N} ${f.label} BMCs: server task time vs -P ${N}`, median(provdServer), median(fanN), false));
  }
  console.log("");

  // ------------------------------------------------------------ dead BMCs
  const deadCases = [
    { group: "deadclosed", prefix: "closed", label: "closed ports (ICMP unreachable)", ports: closedPorts },
    { group: "deadsilent", prefix: "silent", label: "silent ports (no answer)", ports: silentPorts },
  ];
  interface DeadFigure {
    group: string;
    label: string;
    timeoutS: number;
    wall: number;
    within: boolean;
    reportedAll: boolean;
  }
  const deadFigures: DeadFigure[] = [];
  const deadRounds = async (timeoutS: number) => {
    for (const c of deadCases) {
      console.log(`  ${c.label}, PROVCTL_POWER_TIMEOUT ${timeoutS === DEFAULT_TIMEOUT_S ? `unset (${timeoutS} s)` : `${timeoutS} s`}:`);
      const walls: number[] = [];
      let reportedAll = true;
      for (let round = 0; round < opts.deadRounds; round++) {
        const load = loadavg()[0]!.toFixed(2);
        const r = await rpower(provd, clock, c.group, D);
        walls.push(r.wall);
        // Every node on an error line that names its own BMC: a failure before the BMC was tried (a missing
        // attribute, a protocol left out of the build) does not count as a dead BMC answered in time.
        const aboutBmc = c.ports.filter((port, i) => r.errors.get(nodeName(c.prefix, i))?.includes(`127.0.0.1:${port}`)).length;
        const complete = r.code === 1 && aboutBmc === D && r.ok.size === 0;
        reportedAll &&= complete;
        allChecks &&= complete;
        console.log(
          `    round ${round + 1} (load ${load}): ${secs(r.wall)} CLI, ${secs(r.server)} task, exit ${r.code}, ${r.errors.size}/${D} error lines (${aboutBmc} about the node's BMC), ${r.ok.size} answers; ${errorKinds(r.errors)}`,
        );
      }
      deadFigures.push({ group: c.group, label: c.label, timeoutS, wall: median(walls), within: Math.max(...walls) <= timeoutS + CLI_ALLOWANCE_S, reportedAll });
    }
  };
  console.log(`dead BMCs, ${opts.deadRounds} round(s) per case and timeout (provd with PROVCTL_POWER_TIMEOUT unset, then =${SHORT_TIMEOUT_S}):`);
  await deadRounds(DEFAULT_TIMEOUT_S);
  // ipmitool against the same dead ports, once per case. It only waits out its own timeouts (about 20 s), so both
  // cases run at the same time; each is timed on its own.
  const toolDead = new Map<string, number>();
  if (opts.ipmitoolDead) {
    const load = loadavg()[0]!.toFixed(2);
    const results = await Promise.all(deadCases.map((c) => ipmitoolFanOut(c.ports, D)));
    for (const [i, c] of deadCases.entries()) {
      const f = results[i]!;
      toolDead.set(c.group, f.wall);
      console.log(`  ${c.label}, ipmitool xargs -P ${D}, one run (both cases at once, load ${load}): ${secs(f.wall)}, ${f.failed}/${D} failed (${f.sample || "no error text"})`);
    }
  }
  // PROVCTL_POWER_TIMEOUT is a server setting: restart provd on the same data directory with it.
  await cleanup.stop(provd.proc);
  provd = await startProvd(opts, dataDir, token, SHORT_TIMEOUT_S);
  await deadRounds(SHORT_TIMEOUT_S);
  console.log("");
  for (const d of deadFigures) {
    const t = toolDead.get(d.group);
    rows.push({
      name: `rpower ${d.group} stat, ${D} ${d.label.replace(/ \(.*/, "")}, timeout ${d.timeoutS} s`,
      provd: d.wall,
      ipmitool: t ?? Number.NaN,
      ratio: t === undefined ? Number.NaN : t / d.wall,
      target: `≤ ${d.timeoutS}+${CLI_ALLOWANCE_S} s, ${D} errors`,
      verdict: !d.reportedAll ? "FAIL (errors)" : d.within ? "PASS" : "FAIL",
    });
  }

  // ------------------------------------------------------------ the table
  const header = ["case", "provd", "ipmitool", "ratio", "target", "verdict"];
  const cells = rows.map((r) => [r.name, secs(r.provd), secs(r.ipmitool), Number.isFinite(r.ratio) ? `${r.ratio.toFixed(1)}×` : "n/a", r.target, r.verdict]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((cell, i) => (i === 0 || i >= 4 ? pad(cell, widths[i]!) : lpad(cell, widths[i]!))).join("  ");
  console.log(`${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const c of cells) console.log(line(c));
  console.log(
    `\nmedians of the rounds above. provd: the whole \`provctl rpower … stat\` as a user runs it (process start to exit, all result lines read);\n` +
      `"task time": createdAt → finishedAt of its task (GET /api/v1/tasks/{id}). ipmitool: \`xargs -P n ipmitool -I lanplus -C 3 … chassis power\n` +
      `status\`, one process per BMC. ratio = ipmitool / provd. Dead BMCs: one port per node; "closed" = nothing bound (ICMP port\n` +
      `unreachable), "silent" = a UDP socket that never answers; the target is one timeout plus ${CLI_ALLOWANCE_S} s for the CLI\n` +
      `(the slowest round counts) with every node on an error line; ipmitool's dead runs use its own timeouts (one run per case).`,
  );
  console.log(
    `${cpuList.length} CPU(s); load average ${loadText()} at the end${cpuPressure()}; checks ${allChecks ? "all passed" : "FAILED (see above)"}; ` +
      `${((Date.now() - started) / 1000).toFixed(0)} s in all.`,
  );
}

await runBench("bench/power.ts", cleanup, "stopping BMCs and servers, removing temporary files", main);
