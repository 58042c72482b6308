#!/usr/bin/env bun
// Image bench: provd's `genimage` of a package list against the raw tools doing the same work by hand
// (mmdebstrap of the same list with the same .deb cache, then mksquashfs zstd-3), in one run, warm cache;
// then provd's rebuild of the unchanged definition.
// Usage: bun bench/image.ts [--rounds N] [--packages a,b,c] [--kernel]          (root; see bench/README.md)
// Targets (issue 5): provd ≤ 1.1× the raw tools' time; an unchanged rebuild under 5% of it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { hostAptSources } from "../server/image/build/pipeline.ts";
import { SOURCE_DATE_EPOCH } from "../server/image/reproducible.ts";
import { type HostProvd, startHostProvd } from "../test/image/host-provd.ts";
import { labCacheDir } from "../test/lab/index.ts";
import { BenchCleanup, commandLine, lpad, pad, removeDir, requirePositiveIntegers, runBench } from "./lib.ts";

const DEFAULT_PACKAGES = "systemd-sysv,iproute2,procps,openssh-server,chrony,nfs-common,numactl,hwloc-nox,rsync,ethtool,pciutils";

function parseOptions(argv: string[]) {
  const o = { rounds: 3, packages: DEFAULT_PACKAGES, kernel: false };
  for (const { flag: a, value: next } of commandLine(argv)) {
    if (a === "--rounds") o.rounds = Number(next());
    else if (a === "--packages") o.packages = next();
    else if (a === "--kernel") o.kernel = true;
    else if (a === "-h" || a === "--help") {
      console.log("bun bench/image.ts [--rounds N] [--packages a,b,c] [--kernel]");
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  requirePositiveIntegers({ "--rounds": o.rounds });
  return o;
}

/** Before runBench takes over (the set-up below runs at load): the message alone, exit 1. */
function cannotRun(message: string): never {
  console.error(`bench/image.ts: ${message}`);
  process.exit(1);
}

const options = (() => {
  try {
    return parseOptions(process.argv.slice(2));
  } catch (e) {
    return cannotRun((e as Error).message);
  }
})();
if (process.getuid?.() !== 0) cannotRun("the image bench needs root (mmdebstrap --mode=root)");
const work = mkdtempSync(join(tmpdir(), "provd-bench-image-"));
const cache = join(labCacheDir(), "image-cache");
const aptCache = join(cache, "apt");
mkdirSync(aptCache, { recursive: true });
const packages = options.packages.split(",").filter(Boolean);

const cleanup = new BenchCleanup();
let host: HostProvd | undefined;
cleanup.add(() => host?.stop());
cleanup.add(() => removeDir(work));

/** The raw tools, as an admin would script them: same list, same cache, same compression. */
async function rawBuild(round: number): Promise<number> {
  const root = join(work, `raw-root-${round}`);
  const out = join(work, `raw-${round}.squashfs`);
  const include = [...packages, ...(options.kernel ? ["live-boot", "zstd"] : [])];
  const argv = [
    "mmdebstrap", "--mode=root", "--format=directory", "--variant=minbase", "--skip=essential/unlink",
    `--include=${include.join(",")}`,
    `--setup-hook=mkdir -p "$1"/var/cache/apt/archives/`,
    `--setup-hook=sync-in ${aptCache} /var/cache/apt/archives/`,
    ...(options.kernel ? [`--customize-hook=chroot "$1" apt-get install -y --no-install-recommends linux-image-amd64`] : []),
    `--customize-hook=sync-out /var/cache/apt/archives ${aptCache}`,
    "bookworm", root, hostAptSources(),
  ];
  const t0 = performance.now();
  await run(argv, { SOURCE_DATE_EPOCH: String(SOURCE_DATE_EPOCH) });
  await run(["mksquashfs", root, out, "-comp", "zstd", "-Xcompression-level", "3", "-noappend", "-no-progress", "-quiet"]);
  const ms = performance.now() - t0;
  rmSync(root, { recursive: true, force: true });
  rmSync(out, { force: true });
  return ms;
}

async function run(argv: string[], env: Record<string, string> = {}): Promise<void> {
  const proc = cleanup.track(Bun.spawn(argv, { env: { ...process.env, ...env }, stdout: "ignore", stderr: "pipe" }));
  const err = await new Response(proc.stderr).text();
  if ((await proc.exited) !== 0) throw new Error(`${argv[0]} failed:\n${err.slice(-2000)}`);
}

function definition(): string {
  const dir = join(work, "defs", "benchimage");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "osimage.toml"),
    [
      `distro = "debian"`, `osvers = "debian12"`, `release = "bookworm"`, `variant = "minbase"`,
      `kernel = "${options.kernel ? "linux-image-amd64" : ""}"`, `pkglist = "bench.pkglist"`, "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "bench.pkglist"), `${packages.join("\n")}\n`);
  return dir;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const server = await startHostProvd({ dataDir: join(work, "data"), imageCacheDir: cache });
  host = server;
  const dir = definition();
  console.log(`image bench: ${packages.length} packages${options.kernel ? " + kernel/live-boot" : ""}, ${options.rounds} round(s), load ${loadavg()[0]!.toFixed(2)}`);
  console.log("warming the package cache (one provd build, not measured)…");
  await server.provctl("genimage", dir);

  const raw: number[] = [];
  const provd: number[] = [];
  const provdBuild = async () => {
    const t0 = performance.now();
    await server.provctl("genimage", "benchimage", "--force");
    provd.push(performance.now() - t0);
  };
  for (let round = 0; round < options.rounds; round++) {
    // Alternate who goes first, so a drift in the machine's load or page cache hits both.
    if (round % 2 === 0) {
      raw.push(await rawBuild(round));
      await provdBuild();
    } else {
      await provdBuild();
      raw.push(await rawBuild(round));
    }
    console.log(`round ${round + 1}: raw ${s(raw.at(-1)!)}, provd ${s(provd.at(-1)!)}`);
  }
  const unchanged: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await server.provctl("genimage", "benchimage");
    unchanged.push(performance.now() - t0);
  }
  const timings = JSON.parse(await server.provctl("images", "benchimage", "-o", "json")).at(-1).timings as Record<string, number>;
  await server.stop();

  const rawMs = median(raw);
  const provdMs = median(provd);
  const unchangedMs = median(unchanged);
  console.log("");
  console.log(`${pad("", 34)}${lpad("median", 10)}${lpad("ratio", 10)}`);
  console.log(`${pad("raw mmdebstrap + mksquashfs", 34)}${lpad(s(rawMs), 10)}${lpad("1.00×", 10)}`);
  console.log(`${pad("provd genimage --force", 34)}${lpad(s(provdMs), 10)}${lpad(`${(provdMs / rawMs).toFixed(2)}×`, 10)}   target ≤ 1.10×`);
  console.log(`${pad("provd genimage (unchanged)", 34)}${lpad(s(unchangedMs), 10)}${lpad(`${((unchangedMs / rawMs) * 100).toFixed(2)}%`, 10)}   target < 5%`);
  console.log(`provd stages (last build, ms): ${Object.entries(timings).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  const ok = provdMs <= rawMs * 1.1 && unchangedMs < rawMs * 0.05;
  console.log(ok ? "targets met" : "targets NOT met");
}

await runBench("bench/image.ts", cleanup, "stopping provd and the raw build, removing temporary files", main);
