// An isolated L2 segment for boot tests: one network namespace holding a bridge and tap devices for VMs.
// The namespace has no link to the host (no veth, no route out), so nothing started in it can reach another network.
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Kills the command after this long; default 30 s. */
  timeoutMs?: number;
  /** Throw on a non-zero exit (default true). */
  check?: boolean;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  cwd?: string;
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
  /**
   * Hard cap enforced by coreutils `timeout` inside the namespace, so the process dies even if this test process is
   * SIGKILLed and no cleanup runs. Default one hour; 0 disables.
   */
  lifetimeMs?: number;
}

export interface LabProcess {
  readonly pid: number;
  readonly argv: readonly string[];
  /** Resolves with the exit code (or 128 + signal) once the process is gone. */
  readonly exited: Promise<number>;
  readonly running: boolean;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 3 s); resolves when the process is gone. */
  stop(graceMs?: number): Promise<number>;
}

export interface SegmentOptions {
  /** A label added to the namespace name (which always carries this process's pid). */
  name?: string;
  taps: number;
  ipv4?: string;
  ipv6?: string;
}

export interface Segment {
  /** The namespace name, `provdlab-<pid>-<seq>[-label]`. */
  readonly name: string;
  readonly bridge: string;
  /** Bridge addresses without and with prefix length: `10.77.0.1`, `10.77.0.1/24`, `fd77::1`, `fd77::1/64`. */
  readonly ipv4: string;
  readonly ipv4Cidr: string;
  readonly ipv6: string;
  readonly ipv6Cidr: string;
  readonly taps: readonly string[];
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  spawn(argv: readonly string[], options?: SpawnOptions): LabProcess;
  /** Stops every process started in the segment, by PID, then deletes the namespace. Safe to call twice. */
  destroy(): Promise<void>;
}

const PREFIX = "provdlab";
const BRIDGE = "br0";
const live = new Set<SegmentImpl>();
let sequence = 0;

/** Throws unless this process is root; call from a test's setup to fail with a clear message. */
export function requireRoot(): void {
  const why = rootUnavailable();
  if (why) throw new Error(why);
}

export function rootUnavailable(): string | undefined {
  if (process.platform !== "linux") return `the PXE lab needs Linux, not ${process.platform}`;
  if (process.getuid?.() !== 0) return "the PXE lab needs root (network namespaces, tap devices)";
  return undefined;
}

let netnsVerdict: string | undefined | null = null;

/**
 * Why this machine cannot host a segment, or undefined if it can. Root alone is not enough (containers often lack
 * CAP_NET_ADMIN or /dev/net/tun), so this creates and deletes a throw-away namespace with a bridge and a tap, once.
 */
export function netnsUnavailable(): string | undefined {
  if (netnsVerdict !== null) return netnsVerdict;
  netnsVerdict = probeNetns();
  return netnsVerdict;
}

function probeNetns(): string | undefined {
  const root = rootUnavailable();
  if (root) return root;
  for (const tool of ["ip", "timeout", "ss"]) if (!Bun.which(tool)) return `${tool} is not installed (iproute2, coreutils)`;
  if (!existsSync("/dev/net/tun")) return "/dev/net/tun is missing: tap devices cannot be created";
  const ns = `${PREFIX}-${process.pid}-probe`;
  try {
    for (const argv of [
      ["ip", "netns", "add", ns],
      ["ip", "-n", ns, "link", "add", BRIDGE, "type", "bridge"],
      ["ip", "-n", ns, "tuntap", "add", "dev", "tap0", "mode", "tap"],
    ]) {
      const r = Bun.spawnSync(argv, { stdin: "ignore" });
      if (r.exitCode !== 0) return `cannot set up a network namespace (${argv.join(" ")}: ${r.stderr.toString().trim()})`;
    }
    return undefined;
  } finally {
    Bun.spawnSync(["ip", "netns", "del", ns], { stdin: "ignore", stderr: "ignore" });
  }
}

export async function createSegment(options: SegmentOptions): Promise<Segment> {
  requireRoot();
  sweepStaleSegments();
  const ipv4Cidr = options.ipv4 ?? "10.77.0.1/24";
  const ipv6Cidr = options.ipv6 ?? "fd77::1/64";
  const label = options.name ? `-${options.name.replace(/[^A-Za-z0-9_.-]/g, "_")}` : "";
  const name = `${PREFIX}-${process.pid}-${++sequence}${label}`;
  const taps = Array.from({ length: options.taps }, (_, i) => `tap${i}`);

  runIp(["netns", "add", name]);
  const segment = new SegmentImpl(name, ipv4Cidr, ipv6Cidr, taps);
  live.add(segment);
  installExitHandlers();
  try {
    const n = ["-n", name];
    runIp([...n, "link", "set", "lo", "up"]);
    runIp([...n, "link", "add", BRIDGE, "type", "bridge", "stp_state", "0", "forward_delay", "0"]);
    runIp([...n, "addr", "add", ipv4Cidr, "dev", BRIDGE]);
    // nodad: the address is usable at once, so a router advertisement can go out before the first VM asks for one.
    runIp([...n, "addr", "add", ipv6Cidr, "dev", BRIDGE, "nodad"]);
    runIp([...n, "link", "set", BRIDGE, "up"]);
    for (const tap of taps) {
      runIp([...n, "tuntap", "add", "dev", tap, "mode", "tap"]);
      runIp([...n, "link", "set", tap, "master", BRIDGE]);
      runIp([...n, "link", "set", tap, "up"]);
    }
  } catch (error) {
    await segment.destroy();
    throw error;
  }
  return segment;
}

class SegmentImpl implements Segment {
  readonly bridge = BRIDGE;
  readonly ipv4: string;
  readonly ipv6: string;
  readonly processes = new Set<LabProcessImpl>();
  private destroyed = false;

  constructor(
    readonly name: string,
    readonly ipv4Cidr: string,
    readonly ipv6Cidr: string,
    readonly taps: readonly string[],
  ) {
    this.ipv4 = ipv4Cidr.split("/")[0]!;
    this.ipv6 = ipv6Cidr.split("/")[0]!;
  }

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    this.assertAlive();
    const proc = Bun.spawn(["ip", "netns", "exec", this.name, ...argv], {
      env: options.env ? { ...process.env, ...options.env } : undefined,
      cwd: options.cwd,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), options.timeoutMs ?? 30_000);
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]).finally(() => clearTimeout(timer));
    if (code !== 0 && options.check !== false) {
      throw new Error(`in ${this.name}: ${argv.join(" ")} exited ${code}: ${stderr.trim() || stdout.trim()}`);
    }
    return { code, stdout, stderr };
  }

  spawn(argv: readonly string[], options: SpawnOptions = {}): LabProcess {
    this.assertAlive();
    const lifetimeMs = options.lifetimeMs ?? 3_600_000;
    const capped = lifetimeMs > 0 ? ["timeout", "--kill-after=5", `${Math.ceil(lifetimeMs / 1000)}`, ...argv] : [...argv];
    const proc = Bun.spawn(["ip", "netns", "exec", this.name, ...capped], {
      env: options.env ? { ...process.env, ...options.env } : undefined,
      cwd: options.cwd,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const labProcess = new LabProcessImpl(proc, argv, options);
    this.processes.add(labProcess);
    void labProcess.exited.then(() => this.processes.delete(labProcess));
    return labProcess;
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await Promise.all([...this.processes].map((p) => p.stop(2_000)));
    this.destroySync();
  }

  /** The part of teardown that works inside a process `exit` handler: SIGKILL by PID, delete the namespace. */
  destroySync(): void {
    this.destroyed = true;
    for (const p of this.processes) p.killNow();
    killNamespacePids(this.name);
    Bun.spawnSync(["ip", "netns", "del", this.name], { stdin: "ignore", stderr: "ignore" });
    live.delete(this);
    if (live.size === 0) removeExitHandlers();
  }

  private assertAlive(): void {
    if (this.destroyed) throw new Error(`segment ${this.name} was destroyed`);
  }
}

class LabProcessImpl implements LabProcess {
  readonly pid: number;
  readonly exited: Promise<number>;
  private out = "";
  private err = "";

  constructor(
    private readonly proc: Subprocess<"ignore", "pipe", "pipe">,
    readonly argv: readonly string[],
    options: SpawnOptions,
  ) {
    this.pid = proc.pid;
    const streams = Promise.all([
      pump(proc.stdout, (s) => {
        this.out += s;
        options.onStdout?.(s);
      }),
      pump(proc.stderr, (s) => {
        this.err += s;
        options.onStderr?.(s);
      }),
    ]);
    // Wait for the pipes to drain too, so whatever the process printed last is in stdout() when `exited` resolves.
    this.exited = Promise.all([proc.exited, streams]).then(([code]) => code);
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  stdout(): string {
    return this.out;
  }

  stderr(): string {
    return this.err;
  }

  async stop(graceMs = 3_000): Promise<number> {
    if (this.running) this.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.killNow(), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  killNow(): void {
    // Bun's handle knows when the child was reaped, so this never signals a recycled PID.
    if (this.running) this.proc.kill("SIGKILL");
  }
}

async function pump(stream: ReadableStream<Uint8Array>, sink: (text: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) sink(decoder.decode(chunk, { stream: true }));
  const rest = decoder.decode();
  if (rest) sink(rest);
}

function runIp(args: string[]): void {
  const r = Bun.spawnSync(["ip", ...args], { stdin: "ignore" });
  if (r.exitCode !== 0) throw new Error(`ip ${args.join(" ")} failed: ${r.stderr.toString().trim()}`);
}

/** Every process still inside the namespace is one the lab started there (or a child of one): SIGKILL them by PID. */
function killNamespacePids(name: string): void {
  const r = Bun.spawnSync(["ip", "netns", "pids", name], { stdin: "ignore", stderr: "ignore" });
  if (r.exitCode !== 0) return;
  for (const pid of r.stdout.toString().split(/\s+/).filter(Boolean).map(Number)) {
    if (Number.isInteger(pid) && pid > 1 && pid !== process.pid) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }
}

/**
 * Namespaces of lab runs whose process died without cleaning up (SIGKILL, OOM, a CI timeout): their owner's pid is in
 * the name, so if that pid is gone, kill what is left inside and delete them.
 */
function sweepStaleSegments(): void {
  const r = Bun.spawnSync(["ip", "netns", "list"], { stdin: "ignore", stderr: "ignore" });
  for (const line of r.stdout.toString().split("\n")) {
    const m = new RegExp(`^(${PREFIX}-(\\d+)-\\S+)`).exec(line);
    if (!m) continue;
    const owner = Number(m[2]);
    if (owner === process.pid || pidAlive(owner)) continue;
    killNamespacePids(m[1]!);
    Bun.spawnSync(["ip", "netns", "del", m[1]!], { stdin: "ignore", stderr: "ignore" });
  }
  sweepStaleScratch();
}

export interface ListenSpec {
  proto: "tcp" | "udp";
  port: number;
  /** Only a socket bound to this address counts; any address when left out. */
  address?: string;
}

/**
 * Polls `ss` in the namespace until every socket listens, so VMs never start before their server. Fails early if one
 * of `processes` exits, and after `timeoutMs` (default 15 s) with what does listen.
 */
export async function waitForListening(
  segment: Segment,
  sockets: readonly ListenSpec[],
  options: { timeoutMs?: number; processes?: readonly LabProcess[] } = {},
): Promise<void> {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  // `ss -Hlnu` lines look like `udp UNCONN 0 0 0.0.0.0%br0:67 0.0.0.0:*`.
  const patterns = sockets.map((s) => new RegExp(`^${s.proto}\\s.*\\s\\[?${s.address ? escape(s.address) : "[^\\s]*"}\\]?(%\\S+)?:${s.port}\\s`, "m"));
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const dead = options.processes?.find((p) => !p.running);
    if (dead) throw new Error(`${dead.argv.join(" ")} exited before listening: ${dead.stderr().trim()}`);
    const { stdout } = await segment.exec(["ss", "-Hlnut"]);
    if (patterns.every((re) => re.test(stdout))) return;
    if (Date.now() > deadline) throw new Error(`not all of ${JSON.stringify(sockets)} listen in ${segment.name}:\n${stdout}`);
    await Bun.sleep(50);
  }
}

/** A scratch directory named after this process, so a later run can remove it if this one dies without cleanup. */
export function scratchDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `${PREFIX}-${process.pid}-${label}-`));
}

function sweepStaleScratch(): void {
  for (const f of readdirSync(tmpdir())) {
    const owner = new RegExp(`^${PREFIX}-(\\d+)-`).exec(f)?.[1];
    if (owner && Number(owner) !== process.pid && !pidAlive(Number(owner))) rmSync(join(tmpdir(), f), { recursive: true, force: true });
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const SIGNAL_NUMBERS: Record<(typeof SIGNALS)[number], number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
let handlersInstalled = false;

function cleanupAll(): void {
  for (const segment of [...live]) segment.destroySync();
}

function onSignal(signal: NodeJS.Signals): void {
  cleanupAll();
  process.exit(128 + (SIGNAL_NUMBERS[signal as (typeof SIGNALS)[number]] ?? 15));
}

// A test worker whose runner died (SIGTERM to the runner alone, as a CI timeout may send) would otherwise finish its
// boots unobserved; losing the IPC channel to the runner means nobody waits for the result any more.
function onDisconnect(): void {
  cleanupAll();
  process.exit(1);
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", cleanupAll);
  for (const s of SIGNALS) process.on(s, onSignal);
  if (process.send) process.on("disconnect", onDisconnect);
}

function removeExitHandlers(): void {
  if (!handlersInstalled) return;
  handlersInstalled = false;
  process.off("exit", cleanupAll);
  for (const s of SIGNALS) process.off(s, onSignal);
  process.off("disconnect", onDisconnect);
}
