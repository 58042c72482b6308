#!/usr/bin/env bun
// HTTP boot bench: provd's iPXE scripts and boot files against nginx serving the same bytes, on loopback, with wrk.
// Usage: bun bench/http.ts [--binary[=PATH]] [--duration S] [--rounds N] [--warmup S] [--threads N] [--connections N]
//                          [--nginx-workers LIST] [--keep]        (see bench/README.md)
// Everything runs on 127.0.0.1 in a temporary directory that is removed at the end (also on Ctrl-C or failure); the
// servers it starts are stopped by PID.
import type { Subprocess } from "bun";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BenchCleanup, commandLine, drain, envWithout, freeTcpPort, lpad, pad, removeDir, runBench } from "./lib.ts";

const ROOT = join(import.meta.dir, "..");
const NODES = 1000;
const KERNEL_BYTES = 8 * 1024 ** 2;
const INITRD_BYTES = 64 * 1024 ** 2;
const OSIMAGE = "bench-img";
const MiB = 1024 ** 2;
const COLD_CONCURRENCY = 64;
/** USER_HZ: the unit of /proc/<pid>/stat times (100 on Linux). */
const CLOCK_TICKS = 100;

interface Options {
  /** The compiled provctl to run, or undefined for `bun server/main.ts`. */
  binary?: string;
  duration: number;
  warmup: number;
  threads: number;
  connections: number;
  nginxWorkers: string[];
  rounds: number;
  /** Only the cases whose name contains this (the cold row is always measured). */
  only?: string;
  keep: boolean;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { binary: undefined, duration: 2, warmup: 1, rounds: 3, threads: 2, connections: 64, nginxWorkers: ["1", "auto"], keep: false };
  for (const { flag: a, value: next } of commandLine(argv)) {
    if (a === "--binary") o.binary = join(ROOT, "dist/provctl");
    else if (a.startsWith("--binary=")) o.binary = resolve(a.slice("--binary=".length));
    else if (a === "--duration") o.duration = Number(next());
    else if (a === "--warmup") o.warmup = Number(next());
    else if (a === "--rounds") o.rounds = Math.floor(Number(next()));
    else if (a === "--threads") o.threads = Number(next());
    else if (a === "--connections") o.connections = Number(next());
    else if (a === "--nginx-workers") o.nginxWorkers = next().split(",").filter(Boolean);
    else if (a === "--keep") o.keep = true;
    else if (a === "--only") o.only = next();
    else if (a === "-h" || a === "--help") {
      console.log(`bun bench/http.ts [options]
  --binary[=PATH]       run dist/provctl (bun run build), or the provctl at PATH, instead of bun server/main.ts
  --duration S          seconds of one measured round (default 2)
  --rounds N            measured rounds per case and server, taken in turns; the median is reported (default 3)
  --warmup S            seconds of warm-up per case and server (default 1)
  --threads N           wrk threads (default 2)
  --connections N       wrk connections (default 64)
  --nginx-workers LIST  nginx worker_processes to compare with, comma-separated (default 1,auto)
  --only TEXT           only the cases whose name contains TEXT, e.g. --only file, --only script
  --keep                keep the temporary directory (servers are still stopped)`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (--help lists them)`);
  }
  for (const [k, v] of [["--duration", o.duration], ["--warmup", o.warmup], ["--rounds", o.rounds], ["--threads", o.threads], ["--connections", o.connections]] as const) {
    if (!Number.isFinite(v) || v < 0 || (k !== "--warmup" && v === 0)) throw new Error(`${k} must be a positive number`);
  }
  if (!o.nginxWorkers.length) throw new Error("--nginx-workers needs at least one value");
  return o;
}

// ---------------------------------------------------------------- cleanup: every process by PID, every temp dir

const cleanup = new BenchCleanup();
const track = <T extends Subprocess>(proc: T): T => cleanup.track(proc);
const tempDirs: string[] = [];
let keepTemp = false;
cleanup.add(() => {
  for (const dir of tempDirs) removeDir(dir, keepTemp);
});

// ---------------------------------------------------------------- helpers

async function waitForHttp(url: string, proc: Subprocess, what: string, log: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${what} exited (${proc.exitCode}) before answering:\n${log()}`);
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${what} did not answer ${url} within 20 s:\n${log()}`);
      await Bun.sleep(50);
    }
  }
}


function macOf(i: number, sep = "-"): string {
  return ["52", "54", "00", "00", ((i >> 8) & 0xff).toString(16).padStart(2, "0"), (i & 0xff).toString(16).padStart(2, "0")].join(sep);
}

function nodeName(i: number): string {
  return `n${String(i).padStart(4, "0")}`;
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

// ---------------------------------------------------------------- provd

interface Provd {
  url: string;
  proc: Subprocess;
  cli(args: string[], stdin?: string): Promise<string>;
}

async function startProvd(opts: Options, dir: string): Promise<Provd> {
  const base = opts.binary ? [opts.binary] : [process.execPath, join(ROOT, "server/main.ts")];
  if (opts.binary && !existsSync(opts.binary)) throw new Error(`${opts.binary} does not exist: run \`bun run build\` first, or drop --binary`);
  const port = await freeTcpPort();
  const url = `http://127.0.0.1:${port}`;
  const token = `bench-${randomBytes(16).toString("hex")}`;
  const cleanEnv = envWithout("PROVCTL_");
  let log = "";
  const proc = track(
    Bun.spawn([...base, "serve"], {
      cwd: ROOT,
      env: { ...cleanEnv, PROVCTL_DATA_DIR: join(dir, "provd-data"), PROVCTL_LISTEN: `127.0.0.1:${port}`, PROVCTL_TOKEN: token, PROVCTL_LOG_LEVEL: "warn" },
      stdout: "pipe",
      stderr: "pipe",
    }),
  );
  void drain(proc.stdout, (s) => (log += s));
  void drain(proc.stderr, (s) => (log += s));
  await waitForHttp(`${url}/healthz`, proc, "provd", () => log);
  const clientEnv = { ...cleanEnv, PROVCTL_URL: url, PROVCTL_TOKEN: token, PROVCTL_CLIENT_CONFIG: join(dir, "no-client-config.json") };
  return {
    url,
    proc,
    async cli(args, stdin) {
      const p = track(Bun.spawn([...base, ...args], { cwd: ROOT, env: clientEnv, stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" }));
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      if (code !== 0) {
        const stale = opts.binary && /unknown command/.test(err) ? `(${opts.binary} may be older than the source: bun run build)\n` : "";
        throw new Error(`provctl ${args.join(" ")} failed (${code}):\n${err}${out}${stale}server log:\n${log}`);
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------- nginx

interface Nginx {
  url: string;
  workers: string;
  proc: Subprocess;
}

async function startNginx(dir: string, www: string, workers: string): Promise<Nginx> {
  const prefix = join(dir, `nginx-${workers}`);
  mkdirSync(join(prefix, "logs"), { recursive: true });
  const port = await freeTcpPort();
  const conf = `# generated by bench/http.ts
worker_processes ${workers};
user root;                                 # ignored unless run as root; the files live in a 0700 temp dir
error_log ${prefix}/logs/error.log warn;
pid ${prefix}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 1000000000;             # like Bun.serve: no per-connection request cap
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${www};
    location /boot/ipxe/ {
      default_type "text/plain; charset=utf-8";
      add_header Cache-Control no-store;
    }
    location /boot/images/ {
      default_type application/octet-stream;
      types { }
    }
  }
}
`;
  const confPath = join(prefix, "nginx.conf");
  writeFileSync(confPath, conf);
  let log = "";
  const proc = track(Bun.spawn(["nginx", "-c", confPath, "-p", prefix, "-g", "daemon off;"], { stdout: "pipe", stderr: "pipe" }));
  void drain(proc.stdout, (s) => (log += s));
  void drain(proc.stderr, (s) => (log += s));
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/boot/ipxe/${macOf(1)}`, proc, `nginx (worker_processes ${workers})`, () => {
    const errorLog = join(prefix, "logs/error.log");
    return log + (existsSync(errorLog) ? readFileSync(errorLog, "utf8") : "");
  });
  return { url, workers, proc };
}

// ---------------------------------------------------------------- wrk

const REPORT_LUA = `
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH_JSON {\\"requests\\":%d,\\"bytes\\":%d,\\"duration_us\\":%d,\\"connect\\":%d,\\"read\\":%d,\\"write\\":%d,\\"status\\":%d,\\"timeout\\":%d,\\"p50_us\\":%d,\\"p99_us\\":%d}\\n",
    summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;

// Spreads requests over the 1,000 nodes' MACs, with the query iPXE's chain URL sends; each thread starts elsewhere.
const SPREAD_LUA = `
local macs = {}
for i = 1, ${NODES} do
  macs[i] = string.format("52-54-00-00-%02x-%02x", math.floor(i / 256) % 256, i % 256)
end
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local n = 0
function init(args)
  n = (tonumber(tid) or 0) * 397
end
function request()
  n = n + 1
  local i = (n % ${NODES}) + 1
  return wrk.format("GET", "/boot/ipxe/" .. macs[i] .. string.format("?uuid=00000000-0000-4000-8000-%012d&platform=efi&buildarch=x86_64", i))
end
${REPORT_LUA}`;

interface WrkResult {
  requests: number;
  bytes: number;
  seconds: number;
  reqPerSec: number;
  mibPerSec: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  p50ms: number;
  p99ms: number;
}

async function wrk(opts: Options, url: string, script: string, seconds: number, timeout: string): Promise<WrkResult> {
  const args = ["wrk", `-t${opts.threads}`, `-c${opts.connections}`, `-d${seconds}s`, `--timeout`, timeout, "-s", script, url];
  const p = track(Bun.spawn(args, { stdout: "pipe", stderr: "pipe" }));
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const line = out.split("\n").find((l) => l.startsWith("BENCH_JSON "));
  if (code !== 0 || !line) throw new Error(`${args.join(" ")} failed (${code}):\n${out}${err}`);
  const j = JSON.parse(line.slice("BENCH_JSON ".length)) as Record<string, number>;
  const secs = j.duration_us! / 1e6;
  return {
    requests: j.requests!,
    bytes: j.bytes!,
    seconds: secs,
    reqPerSec: j.requests! / secs,
    mibPerSec: j.bytes! / secs / MiB,
    errors: { connect: j.connect!, read: j.read!, write: j.write!, status: j.status!, timeout: j.timeout! },
    p50ms: j.p50_us! / 1000,
    p99ms: j.p99_us! / 1000,
  };
}

// ---------------------------------------------------------------- correctness checks (before timing)

interface Check {
  what: string;
  ok: boolean;
  detail: string;
}

async function checks(base: string, files: { kernel: Uint8Array; initrd: Uint8Array }, expectedScript: string): Promise<Check[]> {
  const out: Check[] = [];
  const add = (what: string, ok: boolean, detail: string) => out.push({ what, ok, detail });
  const kernelUrl = `${base}/boot/images/${OSIMAGE}/${nodeName(1)}/vmlinuz`;
  const initrdUrl = `${base}/boot/images/${OSIMAGE}/${nodeName(1)}/initrd.img`;
  try {
    const s = await fetch(`${base}/boot/ipxe/${macOf(1)}`);
    const text = await s.text();
    add("GET script", s.status === 200 && text === expectedScript && text.startsWith("#!ipxe"), `${s.status}, ${text.length} B, ${text === expectedScript ? "same bytes" : "DIFFERENT bytes"}`);

    const h = await fetch(kernelUrl, { method: "HEAD" });
    const hb = new Uint8Array(await h.arrayBuffer());
    const hlen = h.headers.get("content-length");
    add("HEAD 8 MiB", h.status === 200 && hlen === String(KERNEL_BYTES) && hb.length === 0 && h.headers.get("accept-ranges") === "bytes", `${h.status}, content-length ${hlen}, body ${hb.length} B, accept-ranges ${h.headers.get("accept-ranges")}`);

    const g = await fetch(kernelUrl);
    const gb = new Uint8Array(await g.arrayBuffer());
    add("GET 8 MiB", g.status === 200 && gb.length === KERNEL_BYTES && sha256(gb) === sha256(files.kernel), `${g.status}, ${gb.length} B, sha256 ${sha256(gb) === sha256(files.kernel) ? "matches" : "DIFFERS"}`);

    const r = await fetch(initrdUrl, { headers: { range: "bytes=1000000-1000999" } });
    const rb = new Uint8Array(await r.arrayBuffer());
    const rOk = r.status === 206 && r.headers.get("content-range") === `bytes 1000000-1000999/${INITRD_BYTES}` && rb.length === 1000 && Buffer.from(rb).equals(files.initrd.subarray(1000000, 1001000));
    add("Range bytes=1000000-1000999", rOk, `${r.status}, ${r.headers.get("content-range")}, ${rb.length} B${rOk ? ", bytes match" : ""}`);

    const sfx = await fetch(initrdUrl, { headers: { range: "bytes=-4096" } });
    const sb = new Uint8Array(await sfx.arrayBuffer());
    const sOk = sfx.status === 206 && sb.length === 4096 && Buffer.from(sb).equals(files.initrd.subarray(INITRD_BYTES - 4096));
    add("Range bytes=-4096", sOk, `${sfx.status}, ${sfx.headers.get("content-range")}, ${sb.length} B${sOk ? ", bytes match" : ""}`);

    const hr = await fetch(initrdUrl, { method: "HEAD", headers: { range: "bytes=0-1023" } });
    await hr.arrayBuffer();
    add("HEAD + Range bytes=0-1023", hr.status === 206 && hr.headers.get("content-length") === "1024", `${hr.status}, content-length ${hr.headers.get("content-length")}, ${hr.headers.get("content-range")}`);

    const u = await fetch(initrdUrl, { headers: { range: `bytes=${INITRD_BYTES}-` } });
    await u.arrayBuffer();
    add("Range past the end", u.status === 416 && u.headers.get("content-range") === `bytes */${INITRD_BYTES}`, `${u.status}, ${u.headers.get("content-range")}`);
  } catch (e) {
    add("requests", false, (e as Error).message);
  }
  return out;
}

// ---------------------------------------------------------------- main

interface Case {
  name: string;
  unit: "req/s" | "MiB/s";
  path: string;
  lua: "report" | "spread";
  /** provd must reach this fraction of nginx's figure. */
  target: number;
  timeout: string;
}

const CASES: Case[] = [
  { name: "iPXE script, one MAC", unit: "req/s", path: `/boot/ipxe/${macOf(1)}`, lua: "report", target: 1, timeout: "5s" },
  { name: "iPXE script, 1000 MACs", unit: "req/s", path: "/", lua: "spread", target: 1, timeout: "5s" },
  { name: "file 8 MiB (kernel)", unit: "MiB/s", path: `/boot/images/${OSIMAGE}/${nodeName(1)}/vmlinuz`, lua: "report", target: 0.9, timeout: "60s" },
  { name: "file 64 MiB (initrd)", unit: "MiB/s", path: `/boot/images/${OSIMAGE}/${nodeName(1)}/initrd.img`, lua: "report", target: 0.9, timeout: "60s" },
];

const fmtNum = (n: number) => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1));

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  keepTemp = opts.keep;
  for (const tool of ["wrk", "nginx"]) if (!Bun.which(tool)) throw new Error(`${tool} is not installed (apt-get install ${tool === "nginx" ? "nginx-light" : "wrk"})`);
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), "provd-bench-http-"));
  tempDirs.push(dir);
  const cpuList = cpus();
  const perRun = opts.warmup + opts.rounds * opts.duration;
  const cases = CASES.filter((c) => !opts.only || c.name.includes(opts.only));
  console.log(`provd HTTP boot bench — ${opts.binary ?? `bun ${Bun.version} server/main.ts`}, nginx worker_processes ${opts.nginxWorkers.join(" and ")}`);
  console.log(`machine: ${cpuList.length} CPU(s) (${cpuList[0]?.model.trim() ?? "unknown"}), shared by wrk and the server under test — figures are relative, not absolute`);
  console.log(
    `wrk -t${opts.threads} -c${opts.connections} -d${opts.duration}s × ${opts.rounds} rounds (median) after ${opts.warmup}s warm-up, same for every server; ` +
      `${cases.length * (1 + opts.nginxWorkers.length) * perRun} s of wrk plus setup`,
  );
  const load = loadavg()[0]!;
  console.log(`load average ${load.toFixed(2)} at start${cpuPressure()}${load > 0.5 ? " — other work is running on this machine: expect noisy figures" : ""}\n`);

  // Files: an 8 MiB "kernel" and a 64 MiB "initrd" (also registered as the rootfs), random so nothing compresses.
  process.stdout.write("setup: files… ");
  const filesDir = join(dir, "files");
  mkdirSync(filesDir);
  const kernel = randomBytes(KERNEL_BYTES);
  const initrd = randomBytes(INITRD_BYTES);
  writeFileSync(join(filesDir, "vmlinuz"), kernel);
  writeFileSync(join(filesDir, "initrd.img"), initrd);

  process.stdout.write("provd… ");
  const provd = await startProvd(opts, dir);
  // One mkdef -z for the 1,000 nodes with their MACs, a group attribute set with chdef so scripts carry group arguments.
  let stanza = "";
  for (let i = 1; i <= NODES; i++) stanza += `${nodeName(i)}:\n    objtype=node\n    groups=compute,all\n    mac=${macOf(i, ":")}\n\n`;
  await provd.cli(["mkdef", "-z"], stanza);
  await provd.cli(["chdef", "-t", "group", "compute", "addkcmdline=console=ttyS0,115200n8"]);
  await provd.cli(["imgimport", OSIMAGE, "--kernel", join(filesDir, "vmlinuz"), "--initrd", join(filesDir, "initrd.img"), "--rootfs", join(filesDir, "initrd.img"), "osvers=debian12", "osarch=x86_64", "profile=compute", "addkcmdline=quiet"]);
  await provd.cli(["nodeset", `n[0001-${NODES}]`, `osimage=${OSIMAGE}`]);
  console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  // Right after nodeset (a write) provd's script cache is empty: every node's first request renders its script, as in
  // a boot storm after nodeset. The scripts fetched here are also what nginx serves, byte for byte.
  process.stdout.write(`cold cache: fetching the ${NODES} nodes' scripts from provd, ${COLD_CONCURRENCY} at a time… `);
  const cold = await fetchScripts(provd.url);
  for (const [i, text] of cold.texts.entries()) {
    if (!text.includes(`provd.node=${nodeName(i + 1)} `)) throw new Error(`provd's script for ${nodeName(i + 1)} is not a netboot script:\n${text}`);
  }
  console.log(`${cold.seconds.toFixed(2)} s`);
  const www = join(dir, "www");
  mkdirSync(join(www, "boot/ipxe"), { recursive: true });
  for (const [i, text] of cold.texts.entries()) writeFileSync(join(www, "boot/ipxe", macOf(i + 1)), text);
  const script1 = cold.texts[0]!;
  // The same two files, hard links, at the URLs provd's scripts name.
  const imgDir = join(www, "boot/images", OSIMAGE, nodeName(1));
  mkdirSync(imgDir, { recursive: true });
  linkSync(join(filesDir, "vmlinuz"), join(imgDir, "vmlinuz"));
  linkSync(join(filesDir, "initrd.img"), join(imgDir, "initrd.img"));

  process.stdout.write("nginx… ");
  const nginxes: Nginx[] = [];
  for (const w of opts.nginxWorkers) nginxes.push(await startNginx(dir, www, w));
  console.log(`provd ${provd.url}, ${nginxes.map((n) => `nginx w=${n.workers} ${n.url}`).join(", ")}\n`);

  // Correctness first.
  const servers: Array<{ label: string; url: string; pid: number }> = [
    { label: "provd", url: provd.url, pid: provd.proc.pid },
    ...nginxes.map((n) => ({ label: `nginx ${n.workers}`, url: n.url, pid: n.proc.pid })),
  ];
  console.log("checks (before timing):");
  let allChecks = true;
  for (const s of servers) {
    const results = await checks(s.url, { kernel, initrd }, script1);
    for (const c of results) {
      allChecks &&= c.ok;
      console.log(`  ${c.ok ? "ok  " : "FAIL"} ${pad(s.label, 10)} ${pad(c.what, 28)} ${c.detail}`);
    }
  }

  // What a row of the table compares: a figure per server (provd first, then each nginx).
  const figures = new Map<string, number[]>();
  /** Server CPU seconds per 1,000 requests or per GiB, per case and server. */
  const cpuCost = new Map<string, number[]>();
  /** Every round's figure per server, for the noise check. */
  const roundFigures = new Map<string, number[][]>();
  const coldName = `iPXE script, ${NODES} MACs, cold*`;
  figures.set(coldName, [NODES / cold.seconds]);
  for (const n of nginxes) {
    const again = await fetchScripts(n.url);
    const same = again.texts.every((t, i) => t === cold.texts[i]);
    allChecks &&= same;
    console.log(`  ${same ? "ok  " : "FAIL"} ${pad(`nginx ${n.workers}`, 10)} ${pad(`${NODES} scripts`, 28)} ${same ? "same bytes as provd's" : "DIFFERENT from provd's"}`);
    figures.get(coldName)!.push(NODES / again.seconds);
  }
  console.log("");

  const reportLua = join(dir, "report.lua");
  const spreadLua = join(dir, "spread.lua");
  writeFileSync(reportLua, REPORT_LUA);
  writeFileSync(spreadLua, SPREAD_LUA);

  console.log(`  ${pad("cold*", 24)} ${servers.map((s, i) => `${s.label} ${fmtNum(figures.get(coldName)![i]!)} req/s`).join(", ")}`);
  // Each case: a warm-up per server, then rounds that take the servers in turn (rotating who goes first), so a burst
  // of outside load hits one round of one server, not a whole figure; the figure is the median round.
  for (const c of cases) {
    const lua = c.lua === "spread" ? spreadLua : reportLua;
    if (opts.warmup > 0) for (const s of servers) await wrk(opts, s.url + c.path, lua, opts.warmup, c.timeout);
    const runs: WrkResult[][] = servers.map(() => []);
    const cpuUsed = servers.map(() => 0);
    for (let round = 0; round < opts.rounds; round++) {
      for (let k = 0; k < servers.length; k++) {
        const i = (k + round) % servers.length;
        const before = cpuSeconds(servers[i]!.pid);
        runs[i]!.push(await wrk(opts, servers[i]!.url + c.path, lua, opts.duration, c.timeout));
        cpuUsed[i]! += cpuSeconds(servers[i]!.pid) - before;
      }
    }
    // The server's own CPU time per unit of work, over all rounds: what other load on the machine barely changes.
    cpuCost.set(
      c.name,
      servers.map((_, i) => {
        const work = runs[i]!.reduce((sum, r) => sum + (c.unit === "req/s" ? r.requests / 1000 : r.bytes / 1024 ** 3), 0);
        return work ? cpuUsed[i]! / work : NaN;
      }),
    );
    const value = (r: WrkResult) => (c.unit === "req/s" ? r.reqPerSec : r.mibPerSec);
    const values: number[] = [];
    for (const [i, s] of servers.entries()) {
      const sorted = [...runs[i]!].sort((x, y) => value(x) - value(y));
      const median = sorted[Math.floor(sorted.length / 2)]!;
      values.push(value(median));
      const errors: Record<string, number> = {};
      for (const r of runs[i]!) for (const [k, v] of Object.entries(r.errors)) if (v) errors[k] = (errors[k] ?? 0) + v;
      const errs = Object.entries(errors).map(([k, v]) => `${k} ${v}`);
      console.log(
        `  ${pad(c.name, 24)} ${pad(s.label, 10)} ${lpad(fmtNum(value(median)), 7)} ${c.unit}  rounds ${runs[i]!.map((r) => fmtNum(value(r))).join(" / ")}  ` +
          `p50 ${median.p50ms.toFixed(1)} ms  p99 ${median.p99ms.toFixed(1)} ms${errs.length ? `  errors: ${errs.join(", ")}` : ""}`,
      );
    }
    figures.set(c.name, values);
    roundFigures.set(c.name, runs.map((rs) => rs.map(value)));
  }

  // The table.
  const coldRow = { name: coldName, unit: "req/s", target: 1 };
  const order: Array<{ name: string; unit: string; target: number }> = [
    ...cases.filter((c) => c.unit === "req/s"),
    coldRow,
    ...cases.filter((c) => c.unit !== "req/s"),
  ];
  const header = ["case", "unit", "provd", ...nginxes.flatMap((n) => [`nginx w=${n.workers}`, "ratio"]), "target", ...nginxes.map((n) => `vs w=${n.workers}`)];
  const rows: string[][] = [];
  for (const c of order) {
    const [p, ...ng] = figures.get(c.name)!;
    const cells = [c.name, c.unit, fmtNum(p!)];
    const verdicts: string[] = [];
    const rounds = roundFigures.get(c.name);
    for (const [k, v] of ng.entries()) {
      const ratio = p! / v;
      cells.push(fmtNum(v), `${ratio.toFixed(2)}×`);
      // "?": some pairing of provd's and this nginx's rounds lands on the other side of the target.
      let unsure = false;
      if (rounds) {
        const [pr, nr] = [rounds[0]!, rounds[k + 1]!];
        const low = Math.min(...pr) / Math.max(...nr);
        const high = Math.max(...pr) / Math.min(...nr);
        unsure = low < c.target && high >= c.target;
      }
      verdicts.push(`${ratio >= c.target ? "PASS" : "FAIL"}${unsure ? "?" : " "}`);
    }
    cells.push(`≥ ${c.target.toFixed(2)}×`, ...verdicts);
    rows.push(cells);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i < 2 ? pad(cell, widths[i]!) : lpad(cell, widths[i]!))).join("  ");
  console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const r of rows) console.log(line(r));
  if (cpuCost.size && cpuSeconds(provd.proc.pid) > 0) {
    const cHeader = ["server CPU time", "per", "provd", ...nginxes.map((n) => `nginx w=${n.workers}`), ...nginxes.map((n) => `provd/w=${n.workers}`)];
    const cRows = cases.map((c) => {
      const [p, ...ng] = cpuCost.get(c.name)!;
      const ms = (v: number) => (v * 1000).toFixed(v * 1000 >= 100 ? 0 : 1);
      return [c.name, c.unit === "req/s" ? "1k requests" : "GiB", `${ms(p!)} ms`, ...ng.map((v) => `${ms(v)} ms`), ...ng.map((v) => `${(p! / v).toFixed(2)}×`)];
    });
    const cWidths = cHeader.map((h, i) => Math.max(h.length, ...cRows.map((r) => r[i]!.length)));
    const cLine = (cells: string[]) => cells.map((cell, i) => (i < 2 ? pad(cell, cWidths[i]!) : lpad(cell, cWidths[i]!))).join("  ");
    console.log(`\n${cLine(cHeader)}\n${cWidths.map((w) => "-".repeat(w)).join("  ")}`);
    for (const r of cRows) console.log(cLine(r));
  }
  console.log(
    `\ntargets: script req/s ≥ nginx's, file throughput ≥ 0.9× nginx's (MiB = 2^20 bytes). provd is one process with one JS thread: nginx w=1 is\n` +
      `the like-for-like comparison, w=auto (${cpuList.length} workers here) what a default nginx does on this machine.\n` +
      `* cold: each node's first script right after nodeset (provd's cache is empty), ${NODES} distinct URLs fetched once, ${COLD_CONCURRENCY} at a\n` +
      `  time, by this script's HTTP client (not wrk); nginx serves the same bytes from files.\n` +
      `? after PASS/FAIL: the rounds straddle the target (the best and worst pairings of rounds disagree): within noise, run again or use --rounds 5.\n` +
      `server CPU time: user+system time of the server's processes (nginx: master and workers) per unit of work, all rounds; lower is better.\n` +
      `  It changes little with other load on the machine, so it is the figure to trust when the throughput figures are noisy.`,
  );
  console.log(`${cpuList.length} CPU(s) (${cpuList[0]?.model.trim() ?? "unknown"}) shared by wrk (${opts.threads} threads) and the server; load average ${loadavg()[0]!.toFixed(2)} at the end${cpuPressure()}; checks ${allChecks ? "all passed" : "FAILED (see above)"}; ${((Date.now() - started) / 1000).toFixed(0)} s in all.`);
}

/** User + system CPU seconds of a process and its children's processes (nginx's workers), from /proc; 0 elsewhere. */
function cpuSeconds(pid: number): number {
  const ticksOf = (p: number) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return Number(fields[11]) + Number(fields[12]);
    } catch {
      return 0;
    }
  };
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // no /proc: no figure
  }
  return [pid, ...children].reduce((sum, p) => sum + ticksOf(p), 0) / CLOCK_TICKS;
}

/** Linux pressure stall information: the share of the last minute in which some runnable task waited for a CPU. */
function cpuPressure(): string {
  try {
    const some = /^some .*avg60=([\d.]+)/m.exec(readFileSync("/proc/pressure/cpu", "utf8"))?.[1];
    return some ? `, CPU pressure ${some}% (avg60)` : "";
  } catch {
    return "";
  }
}

/** Fetches every node's script once, `COLD_CONCURRENCY` requests in flight; texts in node order. */
async function fetchScripts(base: string): Promise<{ seconds: number; texts: string[] }> {
  const texts: string[] = new Array(NODES);
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: COLD_CONCURRENCY }, async () => {
      while (next < NODES) {
        const i = next++;
        const r = await fetch(`${base}/boot/ipxe/${macOf(i + 1)}`);
        texts[i] = await r.text();
        if (r.status !== 200) throw new Error(`${base}/boot/ipxe/${macOf(i + 1)}: ${r.status}\n${texts[i]}`);
      }
    }),
  );
  return { seconds: (performance.now() - start) / 1000, texts };
}

await runBench("bench/http.ts", cleanup, "stopping servers and removing temporary files", main);
