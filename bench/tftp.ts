#!/usr/bin/env bun
// TFTP bench: provd's TFTP server (`bun server/main.ts serve` with PROVCTL_TFTP_LISTEN) against dnsmasq's, serving
// the same files on 127.0.0.1, downloaded by the same client (atftp) with the same options.
// Usage: bun bench/tftp.ts [--runs N] [--concurrent N] [--concurrent-runs N] [--keep]   (see bench/README.md)
// Needs root and atftp, dnsmasq (dnsmasq-base), /usr/lib/ipxe/ipxe.efi (ipxe).
//
// dnsmasq 2.90 has no option to move its TFTP port off 69, which other work on the machine may hold (provd's own
// tests serve TFTP on 0.0.0.0:69 when DHCP is on). So the bench runs in a network namespace of its own that has only
// a loopback interface: everything still goes over 127.0.0.1, on a loopback no other process shares. The script
// re-runs itself inside that namespace (--inside), so atftp is started directly, without `ip netns exec` per
// transfer. Every process is stopped by PID, the namespace deleted and the temporary directory removed at the end,
// on Ctrl-C or on failure.
import type { Subprocess } from "bun";
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { BenchCleanup, commandLine, drain, envWithout, pad, removeDir, requirePositiveIntegers, runBench } from "./lib.ts";

const ROOT = join(import.meta.dir, "..");
const IPXE_EFI = "/usr/lib/ipxe/ipxe.efi";
const BIG_BYTES = 16 * 1024 * 1024;
const PROVD_TFTP_PORT = 6969;
const DNSMASQ_TFTP_PORT = 69; // fixed in dnsmasq 2.90
const BLKSIZE = 1468;

interface Options {
  runs: number;
  concurrent: number;
  concurrentRuns: number;
  keep: boolean;
  inside?: string;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { runs: 5, concurrent: 100, concurrentRuns: 3, keep: false };
  for (const { flag: a, value: next } of commandLine(argv)) {
    if (a === "--runs") o.runs = Number(next());
    else if (a === "--concurrent") o.concurrent = Number(next());
    else if (a === "--concurrent-runs") o.concurrentRuns = Number(next());
    else if (a === "--keep") o.keep = true;
    else if (a === "--inside") o.inside = next();
    else if (a === "-h" || a === "--help") {
      console.log(`bun bench/tftp.ts [options]        (root; atftp, dnsmasq, /usr/lib/ipxe/ipxe.efi)
  --runs N             single transfers per case and server, taken in turns; the median counts (default 5)
  --concurrent N       simultaneous atftp downloads of ipxe.efi (default 100)
  --concurrent-runs N  rounds of the concurrent case per option set and server (default 3)
  --keep               keep the temporary directory (processes and the namespace are still removed)`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (--help lists them)`);
  }
  requirePositiveIntegers({ "--runs": o.runs, "--concurrent": o.concurrent, "--concurrent-runs": o.concurrentRuns });
  return o;
}

// ---------------------------------------------------------------- cleanup: every process by PID, the namespace, the temp dir

const cleanup = new BenchCleanup();
const track = <T extends Subprocess>(proc: T): T => cleanup.track(proc);
let namespace: string | undefined;
let tempDir: string | undefined;
let keepTemp = false;
cleanup.add(() => {
  if (namespace) Bun.spawnSync(["ip", "netns", "del", namespace], { stdout: "ignore", stderr: "ignore" });
  namespace = undefined;
});
cleanup.add(() => removeDir(tempDir, keepTemp));

// ---------------------------------------------------------------- helpers

function sh(...args: string[]): string {
  const r = Bun.spawnSync(args, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${args.join(" ")} failed (${r.exitCode}): ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
}


function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function mean(values: number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A process's CPU time so far (all its threads, user + system), ms: the sum of /proc/PID/task/TID/schedstat, in ns. */
function cpuMs(pid: number): number {
  try {
    let ns = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        // The thread ended in between.
      }
    }
    return ns / 1e6;
  } catch {
    return NaN;
  }
}

function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
}

const cleanEnv = envWithout("PROVCTL_");

// ---------------------------------------------------------------- the servers

interface Server {
  name: string;
  port: number;
  proc: Subprocess;
  log: () => string;
}

function startDaemon(name: string, port: number, argv: string[], env: Record<string, string>): Server {
  let log = "";
  const proc = track(Bun.spawn(argv, { cwd: ROOT, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" }));
  const keep = (s: string) => {
    log += s;
    if (log.length > 100_000) log = log.slice(-50_000);
  };
  void drain(proc.stdout, keep);
  void drain(proc.stderr, keep);
  return { name, port, proc, log: () => log };
}

function startProvd(dir: string, files: string): Server {
  return startDaemon("provd", PROVD_TFTP_PORT, [process.execPath, join(ROOT, "server/main.ts"), "serve"], {
    ...cleanEnv,
    PROVCTL_DATA_DIR: join(dir, "provd-data"),
    PROVCTL_LISTEN: "127.0.0.1:8640",
    PROVCTL_TOKEN: "x",
    PROVCTL_LOG_LEVEL: "warn",
    PROVCTL_TFTP_LISTEN: `127.0.0.1:${PROVD_TFTP_PORT}`,
    PROVCTL_IPXE_DIR: files,
  });
}

function startDnsmasq(dir: string, files: string): Server {
  return startDaemon(
    "dnsmasq",
    DNSMASQ_TFTP_PORT,
    [
      "dnsmasq",
      "--no-daemon",
      "--conf-file=/dev/null",
      "--port=0",
      "--enable-tftp",
      `--tftp-root=${files}`,
      "--listen-address=127.0.0.1",
      "--bind-interfaces",
      // The default, 50, would turn the 100-transfer case into a test of atftp's retry timer.
      "--tftp-max=1000",
      "--quiet-tftp",
      `--log-facility=${join(dir, "dnsmasq.log")}`,
      `--pid-file=${join(dir, "dnsmasq.pid")}`,
      "--user=root",
      "--group=root",
    ],
    cleanEnv,
  );
}

// ---------------------------------------------------------------- atftp

interface Transfer {
  ok: boolean;
  ms: number;
  detail: string;
}

function atftpArgs(file: string, out: string, port: number, windowsize: number | undefined, trace = false): string[] {
  if (cleanup.started) throw new Error("interrupted");
  const args = ["atftp", "-g", "-r", file, "-l", out, "--option", `blksize ${BLKSIZE}`];
  if (windowsize !== undefined) args.push("--option", `windowsize ${windowsize}`);
  if (trace) args.push("--trace");
  args.push("127.0.0.1", String(port));
  return args;
}

async function fetchOnce(file: string, expected: { size: number; sha: string }, out: string, port: number, windowsize: number | undefined): Promise<Transfer> {
  rmSync(out, { force: true });
  const t0 = performance.now();
  const proc = track(Bun.spawn(atftpArgs(file, out, port, windowsize), { stdin: "ignore", stdout: "pipe", stderr: "pipe" }));
  const timer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
  const [o, e, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const ms = performance.now() - t0;
  clearTimeout(timer);
  if (code !== 0) return { ok: false, ms, detail: `atftp exit ${code}: ${(o + e).trim().split("\n").slice(-2).join(" ")}` };
  if (!existsSync(out)) return { ok: false, ms, detail: "no output file" };
  const got = readFileSync(out);
  if (got.length !== expected.size || sha256(got) !== expected.sha) return { ok: false, ms, detail: `wrong bytes (${got.length} of ${expected.size})` };
  return { ok: true, ms, detail: "" };
}

/** The options the server's OACK granted, from one traced download. */
async function granted(file: string, out: string, port: number, windowsize: number | undefined): Promise<string> {
  const proc = track(Bun.spawn(atftpArgs(file, out, port, windowsize, true), { stdin: "ignore", stdout: "pipe", stderr: "pipe" }));
  const [o, e] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const m = /received OACK <([^>]*)>/.exec(o + e);
  if (!m) return "no OACK";
  return m[1]!
    .split(",")
    .map((kv) => kv.trim().replace(/:\s*/, "="))
    .filter(Boolean)
    .join(" ")
    .trim();
}

interface Concurrent {
  ms: number;
  cpuMs: number;
  failures: number;
  perTransferMedianMs: number;
  perTransferMaxMs: number;
  firstFailure: string;
}

async function fetchConcurrently(n: number, file: string, expected: { size: number; sha: string }, outDir: string, server: Server, windowsize: number | undefined): Promise<Concurrent> {
  const port = server.port;
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const cpu0 = cpuMs(server.proc.pid);
  const t0 = performance.now();
  const runs: Array<Promise<{ code: number | null; ms: number; text: string }>> = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const proc = track(Bun.spawn(atftpArgs(file, join(outDir, `c${i}`), port, windowsize), { stdin: "ignore", stdout: "pipe", stderr: "pipe" }));
    const timer = setTimeout(() => proc.kill("SIGKILL"), 120_000);
    runs.push(
      Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]).then(([o, e, code]) => {
        clearTimeout(timer);
        return { code, ms: performance.now() - started, text: (o + e).trim() };
      }),
    );
  }
  const results = await Promise.all(runs);
  const ms = performance.now() - t0;
  const cpu = cpuMs(server.proc.pid) - cpu0;
  let failures = 0;
  let firstFailure = "";
  for (let i = 0; i < n; i++) {
    const r = results[i]!;
    let why = "";
    if (r.code !== 0) why = `atftp exit ${r.code}: ${r.text.split("\n").slice(-1)[0] ?? ""}`;
    else {
      const path = join(outDir, `c${i}`);
      const got = existsSync(path) ? readFileSync(path) : new Uint8Array(0);
      if (got.length !== expected.size || sha256(got) !== expected.sha) why = `wrong bytes (${got.length} of ${expected.size})`;
    }
    if (why) {
      failures++;
      firstFailure ||= why;
    }
  }
  const times = results.map((r) => r.ms);
  return { ms, cpuMs: cpu, failures, perTransferMedianMs: median(times), perTransferMaxMs: Math.max(...times), firstFailure };
}

async function waitForTftp(server: Server, expected: { size: number; sha: string }, out: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (server.proc.exitCode !== null) throw new Error(`${server.name} exited (${server.proc.exitCode}):\n${server.log()}`);
    const t = await fetchOnce("ipxe.efi", expected, out, server.port, undefined);
    if (t.ok) return;
    if (Date.now() > deadline) throw new Error(`${server.name} did not serve ipxe.efi over TFTP within 30 s: ${t.detail}\n${server.log()}`);
    await Bun.sleep(200);
  }
}

// ---------------------------------------------------------------- inside the namespace


async function inside(opts: Options, dir: string): Promise<void> {
  const files = join(dir, "files");
  mkdirSync(files, { recursive: true });
  copyFileSync(IPXE_EFI, join(files, "ipxe.efi"));
  writeFileSync(join(files, "big.bin"), randomBytes(BIG_BYTES));
  const expected: Record<string, { size: number; sha: string }> = {};
  for (const f of ["ipxe.efi", "big.bin"]) {
    const bytes = readFileSync(join(files, f));
    expected[f] = { size: bytes.length, sha: sha256(bytes) };
  }
  const out = join(dir, "out");
  mkdirSync(out);

  // Both servers run side by side (idle ones cost nothing); runs alternate between them so load changes hit both.
  const servers = [startProvd(dir, files), startDnsmasq(dir, files)];
  for (const s of servers) await waitForTftp(s, expected["ipxe.efi"]!, join(out, "probe"));

  const windows: Array<number | undefined> = [undefined, 16, 64];
  const wname = (w: number | undefined) => (w === undefined ? "no windowsize" : `windowsize ${w}`);
  console.log("options granted (the server's OACK to atftp's request):");
  for (const w of windows) {
    const line = await Promise.all(servers.map(async (s) => `${s.name}: ${await granted("ipxe.efi", join(out, "trace"), s.port, w)}`));
    console.log(`  blksize ${BLKSIZE}, ${pad(wname(w), 14)} → ${line.join("; ")}`);
  }
  console.log();

  // ---- single transfers
  interface Row {
    caseName: string;
    file: string;
    windowsize: number | undefined;
    mbps: Record<string, number>;
    /** The server's CPU time per transfer, ms (median). */
    cpu: Record<string, number[]>;
    all: Record<string, number[]>;
    failures: Record<string, string[]>;
  }
  const rows: Row[] = [];
  console.log(`single transfers: ${opts.runs} runs per case and server, in turns (MB/s = 10^6 bytes per second, atftp start to exit)`);
  for (const file of ["ipxe.efi", "big.bin"]) {
    for (const w of windows) {
      const row: Row = { caseName: `${file === "big.bin" ? "16 MiB random" : `ipxe.efi (${Math.round(expected[file]!.size / 1024)} KiB)`}, ${wname(w)}`, file, windowsize: w, mbps: {}, all: {}, failures: {}, cpu: {} };
      for (const s of servers) {
        row.all[s.name] = [];
        row.failures[s.name] = [];
        row.cpu[s.name] = [];
      }
      // One untimed transfer each first (provd reads the file into its cache, dnsmasq into the page cache).
      for (const s of servers) await fetchOnce(file, expected[file]!, join(out, "single"), s.port, w);
      for (let i = 0; i < opts.runs; i++) {
        for (const s of i % 2 ? [...servers].reverse() : servers) {
          const cpu0 = cpuMs(s.proc.pid);
          const t = await fetchOnce(file, expected[file]!, join(out, "single"), s.port, w);
          row.cpu[s.name]!.push(cpuMs(s.proc.pid) - cpu0);
          if (t.ok) row.all[s.name]!.push(expected[file]!.size / 1e6 / (t.ms / 1000));
          else row.failures[s.name]!.push(t.detail);
        }
      }
      for (const s of servers) row.mbps[s.name] = median(row.all[s.name]!);
      rows.push(row);
      console.log(
        `  ${pad(row.caseName, 36)} ` +
          servers
            .map((s) => `${s.name} ${row.mbps[s.name]!.toFixed(1)} MB/s [${row.all[s.name]!.map((v) => v.toFixed(0)).join(" ")}] CPU ${mean(row.cpu[s.name]!).toFixed(1)} ms${row.failures[s.name]!.length ? ` ${row.failures[s.name]!.length} FAILED: ${row.failures[s.name]![0]}` : ""}`)
            .join("   "),
      );
    }
  }
  console.log();

  // ---- concurrent transfers
  interface CRow {
    caseName: string;
    results: Record<string, Concurrent[]>;
  }
  const crows: CRow[] = [];
  console.log(`${opts.concurrent} concurrent downloads of ipxe.efi (all started at once, each its own atftp process), ${opts.concurrentRuns} rounds per server, in turns`);
  for (const w of [undefined, 16]) {
    const row: CRow = { caseName: `${opts.concurrent} × ipxe.efi, ${wname(w)}`, results: {} };
    for (const s of servers) row.results[s.name] = [];
    for (let i = 0; i < opts.concurrentRuns; i++) {
      for (const s of i % 2 ? [...servers].reverse() : servers) {
        const r = await fetchConcurrently(opts.concurrent, "ipxe.efi", expected["ipxe.efi"]!, join(out, `conc-${s.name}`), s, w);
        row.results[s.name]!.push(r);
      }
    }
    crows.push(row);
    for (const s of servers) {
      const rs = row.results[s.name]!;
      console.log(
        `  ${pad(row.caseName, 36)} ${pad(s.name, 8)} total ${rs.map((r) => `${(r.ms / 1000).toFixed(2)} s`).join(", ")}; ` +
          `failures ${rs.map((r) => r.failures).join(", ")}; per transfer median ${rs.map((r) => r.perTransferMedianMs.toFixed(0)).join("/")} ms, ` +
          `max ${rs.map((r) => r.perTransferMaxMs.toFixed(0)).join("/")} ms; server CPU ${rs.map((r) => r.cpuMs.toFixed(0)).join("/")} ms${rs.find((r) => r.failures)?.firstFailure ? ` — ${rs.find((r) => r.failures)!.firstFailure}` : ""}`,
      );
    }
  }
  console.log();

  for (const s of servers) {
    await cleanup.stop(s.proc);
    const log = s.log().trim();
    if (s.name === "provd" && log) console.log(`provd logged: ${log.split("\n").slice(0, 3).join("\n  ")}`);
  }

  // ---- the table
  const table: string[][] = [];
  let targetOk = true;
  for (const r of rows) {
    const p = r.mbps.provd!;
    const d = r.mbps.dnsmasq!;
    const ratio = p / d;
    const target = r.windowsize === undefined ? "-" : "≥ 2× dnsmasq";
    let verdict = "";
    if (r.windowsize !== undefined) {
      const ok = ratio >= 2 && r.failures.provd!.length === 0;
      targetOk &&= ok;
      verdict = ok ? "PASS" : "FAIL";
    }
    const cpu = `${mean(r.cpu.provd!).toFixed(1)} / ${mean(r.cpu.dnsmasq!).toFixed(1)} ms`;
    table.push([r.caseName, `${p.toFixed(1)} MB/s`, `${d.toFixed(1)} MB/s`, `${ratio.toFixed(2)}×`, cpu, target, verdict]);
  }
  for (const r of crows) {
    const p = r.results.provd!;
    const d = r.results.dnsmasq!;
    const pFail = p.reduce((n, x) => n + x.failures, 0);
    const dFail = d.reduce((n, x) => n + x.failures, 0);
    const pMs = median(p.map((x) => x.ms));
    const dMs = median(d.map((x) => x.ms));
    const ok = pFail === 0;
    targetOk &&= ok;
    table.push([
      r.caseName,
      `${(pMs / 1000).toFixed(2)} s, ${pFail} failed`,
      `${(dMs / 1000).toFixed(2)} s, ${dFail} failed`,
      `${(dMs / pMs).toFixed(2)}× (time ratio)`,
      `${median(p.map((x) => x.cpuMs)).toFixed(0)} / ${median(d.map((x) => x.cpuMs)).toFixed(0)} ms`,
      "all complete",
      ok ? "PASS" : "FAIL",
    ]);
  }
  const header = ["case (blksize 1468)", "provd", "dnsmasq 2.90", "provd speed / dnsmasq", "server CPU provd / dnsmasq", "target", ""];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of table) console.log(line(r));
  console.log(`\nsingle transfers: medians of ${opts.runs}; concurrent: median total of ${opts.concurrentRuns} rounds, failures summed over them`);
  console.log("server CPU: the server process's own CPU time (all threads, /proc/PID/task/*/schedstat) per transfer (mean), or per round of concurrent transfers (median)");
  console.log(`targets (windowsize rows ≥ 2× dnsmasq, concurrent transfers all complete): ${targetOk ? "all met" : "NOT all met"}`);
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  keepTemp = opts.keep;
  if (opts.inside) {
    // Run by the outer process inside the namespace; the temp dir is the outer process's to remove.
    await inside(opts, opts.inside);
    return;
  }
  if (process.getuid?.() !== 0) throw new Error("needs root (a network namespace of its own, dnsmasq on port 69)");
  process.env.PATH = `${process.env.PATH}:/usr/sbin:/sbin`;
  for (const [tool, pkg] of [["atftp", "atftp"], ["dnsmasq", "dnsmasq-base"], ["ip", "iproute2"]] as const) {
    if (!Bun.which(tool)) throw new Error(`${tool} is not installed (apt-get install ${pkg})`);
  }
  if (!existsSync(IPXE_EFI)) throw new Error(`${IPXE_EFI} is missing (apt-get install ipxe)`);
  const started = Date.now();
  tempDir = mkdtempSync(join(tmpdir(), "provd-bench-tftp-"));
  const cpuList = cpus();
  const dnsmasqVersion = (Bun.spawnSync(["dnsmasq", "-v"]).stdout.toString().split("\n")[0] ?? "").replace(/ +Copyright.*/, "");
  const atftpVersion = (Bun.spawnSync(["atftp", "-V"]).stdout.toString() + Bun.spawnSync(["atftp", "-V"]).stderr.toString()).trim().split("\n")[0];
  console.log(`provd TFTP bench — provd: bun ${Bun.version} server/main.ts serve (PROVCTL_TFTP_LISTEN=127.0.0.1:${PROVD_TFTP_PORT}, PROVCTL_IPXE_DIR), ${dnsmasqVersion} (127.0.0.1:69); client ${atftpVersion}`);
  console.log(`machine: ${cpuList.length} CPU(s) (${cpuList[0]?.model.trim() ?? "unknown"}), shared by the client and the servers — figures are relative, not absolute`);
  const load0 = loadavg()[0]!;
  console.log(`load average ${load()} at start${load0 > 0.5 ? " — other work is running on this machine: expect noisy figures" : ""}`);
  namespace = `provd-bench-${process.pid}-tftp`;
  sh("ip", "netns", "add", namespace);
  sh("ip", "-n", namespace, "link", "set", "lo", "up");
  console.log(`namespace ${namespace} (loopback only); files: ${IPXE_EFI} and 16 MiB of random bytes\n`);
  const child = track(
    Bun.spawn(["ip", "netns", "exec", namespace, process.execPath, import.meta.path, "--inside", tempDir, "--runs", String(opts.runs), "--concurrent", String(opts.concurrent), "--concurrent-runs", String(opts.concurrentRuns)], {
      cwd: ROOT,
      env: cleanEnv,
      stdin: "ignore",
      stdout: "inherit",
      stderr: "inherit",
    }),
  );
  const code = await child.exited;
  if (code !== 0) throw new Error(`the bench inside the namespace failed (exit ${code})`);
  console.log(`load average ${load()} at the end; ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
}

// Inside the namespace, the outer process tells the user; both clean up their own.
const interrupted = process.argv.includes("--inside") ? undefined : "stopping servers, deleting the namespace and temporary files";
await runBench("bench/tftp.ts", cleanup, interrupted, main);
