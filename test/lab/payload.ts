// The boot payload for lab VMs: a Debian kernel and a busybox initramfs whose /init prints one marker line to the
// serial port and powers off. Built once per content and cached across runs (CI reruns on one machine included).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

export interface PayloadFile {
  path: string;
  sha256: string;
  size: number;
}

export interface KernelFile extends PayloadFile {
  /** The Debian package it came from, e.g. `linux-image-6.1.0-56-amd64` `6.1.192-2`. */
  package: string;
  version: string;
}

export interface Payload {
  kernel: KernelFile;
  initrd: PayloadFile;
  cacheDir: string;
}

export interface Marker {
  node: string;
  image: string;
  platform: string;
}

/** What /init prints, e.g. `PROVD-MARKER node=n01 image=- platform=efi`; a missing kernel argument prints `-`. */
export const MARKER = /PROVD-MARKER node=(\S+) image=(\S+) platform=(\S+)/;

export function parseMarker(text: string): Marker | undefined {
  const m = MARKER.exec(text);
  return m ? { node: m[1]!, image: m[2]!, platform: m[3]! } : undefined;
}

const BUSYBOX = "/bin/busybox";

// `set -f`: the command line is split on whitespace but must not be glob-expanded.
// The uptime line comes first because the test may kill the VM as soon as it sees the marker.
const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
set -f
node=-; image=-; platform=-
for w in $(cat /proc/cmdline); do
  case "$w" in
    provd.node=?*) node="\${w#provd.node=}" ;;
    provd.image=?*) image="\${w#provd.image=}" ;;
    provd.platform=?*) platform="\${w#provd.platform=}" ;;
  esac
done
echo "PROVD-UPTIME $(cut -d' ' -f1 /proc/uptime)" > /dev/ttyS0
echo "PROVD-MARKER node=$node image=$image platform=$platform" > /dev/ttyS0
sync
poweroff -f
`;

/** `${XDG_CACHE_HOME:-~/.cache}/provd-lab`, or `PROVD_LAB_CACHE` when set. */
export function labCacheDir(): string {
  if (process.env.PROVD_LAB_CACHE) return process.env.PROVD_LAB_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(process.env.HOME || homedir(), ".cache");
  return join(base, "provd-lab");
}

export function payloadUnavailable(): string | undefined {
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} is missing (apt-get install busybox-static)`;
  if (hasInterpreter(readFileSync(BUSYBOX))) return `${BUSYBOX} is dynamically linked: install busybox-static, not busybox`;
  if (!findCachedKernel(labCacheDir())) {
    for (const tool of ["apt-get", "apt-cache", "dpkg-deb", "tar"]) if (!Bun.which(tool)) return `${tool} is missing`;
  }
  return undefined;
}

/** Returns the cached payload, building what is missing. A cold build downloads one kernel package (~70 MB). */
export async function buildPayload(options: { cacheDir?: string; log?: (message: string) => void } = {}): Promise<Payload> {
  const cacheDir = options.cacheDir ?? labCacheDir();
  const log = options.log ?? (() => {});
  mkdirSync(cacheDir, { recursive: true });
  removeAbandonedTemps(cacheDir);
  const [kernel, initrd] = await Promise.all([ensureKernel(cacheDir, log), ensureInitrd(cacheDir)]);
  return { kernel, initrd, cacheDir };
}

/** Download directories of runs that were killed mid-build; an hour is far beyond any live download. */
function removeAbandonedTemps(cacheDir: string): void {
  for (const f of readdirSync(cacheDir)) {
    const path = join(cacheDir, f);
    if (f.startsWith(".tmp-") && Date.now() - statSync(path).mtimeMs > 3_600_000) rmSync(path, { recursive: true, force: true });
  }
}

interface KernelMeta {
  package: string;
  version: string;
  debSha256: string;
  sha256: string;
  size: number;
}

interface KernelCandidate {
  package: string;
  version: string;
  debSha256: string;
}

async function ensureKernel(cacheDir: string, log: (message: string) => void): Promise<KernelFile> {
  let candidate: KernelCandidate;
  try {
    candidate = resolveKernelPackage(cacheDir);
  } catch (error) {
    // No apt lists (or no apt): a kernel cached by an earlier run still does.
    const cached = findCachedKernel(cacheDir);
    if (cached) return cached;
    throw error;
  }
  // Keyed by the .deb's SHA256 from the archive index: a new kernel upload gets a new entry, a rerun finds the old one.
  const key = `kernel-${candidate.debSha256.slice(0, 16)}`;
  const hit = readKernel(cacheDir, key);
  if (hit) return hit;

  log(`downloading ${candidate.package} ${candidate.version} to extract vmlinuz`);
  const tmp = mkdtempSync(join(cacheDir, ".tmp-"));
  try {
    await run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", `${candidate.package}=${candidate.version}`], tmp);
    const deb = readdirSync(tmp).find((f) => f.endsWith(".deb"));
    if (!deb) throw new Error(`apt-get download ${candidate.package} left no .deb in ${tmp}`);
    const debSha = sha256(readFileSync(join(tmp, deb)));
    if (debSha !== candidate.debSha256) throw new Error(`${deb}: SHA256 ${debSha}, the archive index says ${candidate.debSha256}`);
    const vmlinuz = await extractVmlinuz(join(tmp, deb));
    const meta: KernelMeta = { ...candidate, sha256: sha256(vmlinuz), size: vmlinuz.length };
    writeAtomically(join(cacheDir, `${key}.vmlinuz`), vmlinuz);
    // The metadata is written last: its presence means the entry is complete.
    writeAtomically(join(cacheDir, `${key}.json`), `${JSON.stringify(meta, null, 2)}\n`);
    prune(cacheDir, "kernel-", key, 2);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const built = readKernel(cacheDir, key);
  if (!built) throw new Error(`kernel cache entry ${key} is unreadable right after writing it`);
  return built;
}

const APT_LISTS = "/var/lib/apt/lists";

/**
 * apt-cache takes over a second per call where the binary package cache is disabled (Debian's container images), so
 * the answer is remembered until the apt lists change.
 */
function resolveKernelPackage(cacheDir: string): KernelCandidate {
  const stamp = sha256(
    readdirSync(APT_LISTS)
      .filter((f) => f.endsWith("_Packages") || f.includes("_Packages."))
      .map((f) => {
        const st = statSync(join(APT_LISTS, f));
        return `${f} ${st.size} ${st.mtimeMs}`;
      })
      .sort()
      .join("\n"),
  );
  const memo = join(cacheDir, "apt-candidate.json");
  try {
    const saved = JSON.parse(readFileSync(memo, "utf8")) as { stamp: string; candidate: KernelCandidate };
    if (saved.stamp === stamp) return saved.candidate;
  } catch {
    // First run, or the lists changed.
  }
  const candidate = queryKernelPackage();
  writeAtomically(memo, `${JSON.stringify({ stamp, candidate })}\n`);
  return candidate;
}

function queryKernelPackage(): KernelCandidate {
  const depends = spawnText(["apt-cache", "depends", "linux-image-amd64"]);
  const pkg = /Depends: (linux-image-\d\S*)/.exec(depends)?.[1];
  if (!pkg) throw new Error("apt-cache knows no linux-image-amd64 dependency: run apt-get update");
  const show = spawnText(["apt-cache", "show", "--no-all-versions", pkg]);
  const version = /^Version: (\S+)/m.exec(show)?.[1];
  const debSha256 = /^SHA256: ([0-9a-f]{64})/m.exec(show)?.[1];
  if (!version || !debSha256) throw new Error(`apt-cache show ${pkg} gave no Version/SHA256`);
  return { package: pkg, version, debSha256 };
}

async function extractVmlinuz(deb: string): Promise<Buffer> {
  const dpkg = Bun.spawn(["dpkg-deb", "--fsys-tarfile", deb], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const tar = Bun.spawn(["tar", "-xO", "--wildcards", "./boot/vmlinuz-*"], { stdin: dpkg.stdout, stdout: "pipe", stderr: "pipe" });
  const [out, tarErr, dpkgErr, tarCode, dpkgCode] = await Promise.all([
    new Response(tar.stdout).arrayBuffer(),
    new Response(tar.stderr).text(),
    new Response(dpkg.stderr).text(),
    tar.exited,
    dpkg.exited,
  ]);
  if (dpkgCode !== 0 || tarCode !== 0 || out.byteLength < 1_000_000) {
    throw new Error(`extracting vmlinuz from ${deb} failed: ${dpkgErr.trim()} ${tarErr.trim()} (${out.byteLength} bytes)`);
  }
  return Buffer.from(out);
}

function readKernel(cacheDir: string, key: string): KernelFile | undefined {
  const metaPath = join(cacheDir, `${key}.json`);
  const path = join(cacheDir, `${key}.vmlinuz`);
  if (!existsSync(metaPath) || !existsSync(path)) return undefined;
  try {
    const meta = JSON.parse(readFileSync(metaPath, "utf8")) as KernelMeta;
    // A hash check costs ~20 ms and catches a truncated or damaged entry, which is then rebuilt.
    if (statSync(path).size !== meta.size || sha256(readFileSync(path)) !== meta.sha256) return undefined;
    return { path, sha256: meta.sha256, size: meta.size, package: meta.package, version: meta.version };
  } catch {
    return undefined;
  }
}

function findCachedKernel(cacheDir: string): KernelFile | undefined {
  if (!existsSync(cacheDir)) return undefined;
  const keys = readdirSync(cacheDir)
    .filter((f) => /^kernel-[0-9a-f]{16}\.json$/.test(f))
    .map((f) => ({ key: f.slice(0, -".json".length), mtime: statSync(join(cacheDir, f)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { key } of keys) {
    const hit = readKernel(cacheDir, key);
    if (hit) return hit;
  }
  return undefined;
}

// Bump when the archive layout changes: it is part of the cache key, with busybox's bytes and /init.
const INITRD_FORMAT = "1";

async function ensureInitrd(cacheDir: string): Promise<PayloadFile> {
  const busybox = readFileSync(BUSYBOX);
  if (hasInterpreter(busybox)) throw new Error(`${BUSYBOX} is dynamically linked: install busybox-static`);
  // Keyed by the inputs, so a warm run hashes 2 MB instead of compressing it again.
  const key = `initrd-${sha256(`${INITRD_FORMAT}\n${sha256(busybox)}\n${INIT}`).slice(0, 16)}`;
  const path = join(cacheDir, `${key}.gz`);
  const metaPath = join(cacheDir, `${key}.json`);
  try {
    const meta = JSON.parse(readFileSync(metaPath, "utf8")) as { sha256: string; size: number };
    const image = readFileSync(path);
    if (image.length === meta.size && sha256(image) === meta.sha256) return { path, ...meta };
  } catch {
    // Not cached yet, or damaged: build it.
  }
  const image = gzipSync(initramfs(busybox), { level: 9 });
  const meta = { sha256: sha256(image), size: image.length };
  writeAtomically(path, image);
  writeAtomically(metaPath, `${JSON.stringify(meta)}\n`);
  prune(cacheDir, "initrd-", key, 3);
  return { path, ...meta };
}

/** Keeps the `keep` most recent entries with this prefix (besides `current`), so reruns over months stay small. */
function prune(cacheDir: string, prefix: string, current: string, keep: number): void {
  const others = readdirSync(cacheDir)
    .filter((f) => new RegExp(`^${prefix}[0-9a-f]{16}\\.json$`).test(f) && f !== `${current}.json`)
    .map((f) => ({ key: f.slice(0, -".json".length), mtime: statSync(join(cacheDir, f)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { key } of others.slice(Math.max(0, keep - 1))) {
    for (const f of readdirSync(cacheDir)) if (f.startsWith(`${key}.`)) rmSync(join(cacheDir, f), { force: true });
  }
}

interface CpioEntry {
  name: string;
  mode: number;
  data?: Uint8Array;
  rdev?: [number, number];
}

/** A newc cpio archive built in memory: no cpio, no mknod and no root needed, and the same bytes on every machine. */
function initramfs(busybox: Uint8Array): Buffer {
  const entries: CpioEntry[] = [
    { name: ".", mode: 0o040755 },
    { name: "bin", mode: 0o040755 },
    { name: "bin/busybox", mode: 0o100755, data: busybox },
    { name: "dev", mode: 0o040755 },
    { name: "dev/console", mode: 0o020600, rdev: [5, 1] },
    { name: "proc", mode: 0o040755 },
    { name: "sys", mode: 0o040755 },
    { name: "init", mode: 0o100755, data: new TextEncoder().encode(INIT) },
  ];
  const parts: Buffer[] = [];
  let offset = 0;
  const push = (b: Buffer) => {
    parts.push(b);
    offset += b.length;
  };
  const pad = () => {
    if (offset % 4) push(Buffer.alloc(4 - (offset % 4)));
  };
  const record = (entry: CpioEntry, ino: number) => {
    const data = entry.data ?? new Uint8Array(0);
    const [rmaj, rmin] = entry.rdev ?? [0, 0];
    const isDir = (entry.mode & 0o170000) === 0o040000;
    const fields = [ino, entry.mode, 0, 0, isDir ? 2 : 1, 0, data.length, 0, 0, rmaj, rmin, entry.name.length + 1, 0];
    push(Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, "0")).join("")}${entry.name}\0`, "latin1"));
    pad();
    push(Buffer.from(data));
    pad();
  };
  entries.forEach((e, i) => record(e, i + 1));
  record({ name: "TRAILER!!!", mode: 0 }, 0);
  return Buffer.concat(parts);
}

/** True if an ELF64 file has a PT_INTERP program header, i.e. it needs a dynamic loader the initramfs lacks. */
function hasInterpreter(elf: Uint8Array): boolean {
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  if (elf.length < 64 || view.getUint32(0) !== 0x7f454c46) return false;
  const phoff = Number(view.getBigUint64(0x20, true));
  const phentsize = view.getUint16(0x36, true);
  const phnum = view.getUint16(0x38, true);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 <= elf.length && view.getUint32(at, true) === 3) return true;
  }
  return false;
}

function sha256(data: Uint8Array | string): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

/** Written beside the target and renamed over it, so a concurrent or interrupted run never sees half a file. */
function writeAtomically(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function spawnText(argv: string[]): string {
  const r = Bun.spawnSync(argv, { stdin: "ignore" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${r.exitCode}: ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
}

async function run(argv: string[], cwd: string): Promise<void> {
  const proc = Bun.spawn(argv, { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${err.trim() || out.trim()}`);
}
