// provd on the host's loopback with DHCP off, for image builds (they need the package mirror, which lab
// namespaces cannot reach). The process is stopped by PID; its data directory belongs to the caller.
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "../..");
const CLI = ["bun", join(ROOT, "server/main.ts")];
const TOKEN = "image-token";
const TOOLS = ["mmdebstrap", "mksquashfs", "unsquashfs", "zstd", "cpio", "unshare", "chroot"];

export interface HostProvd {
  url: string;
  /** PROVCTL_URL and PROVCTL_TOKEN for a CLI run by hand. */
  env: Record<string, string>;
  provctl(...args: string[]): Promise<string>;
  provctlResult(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  jobLog(id: number): Promise<string>;
  stop(): Promise<void>;
}

/** Why image builds cannot run here, or undefined. */
export function imageBuildUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "image builds need root (mmdebstrap --mode=root, chroot)";
  const missing = TOOLS.filter((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0);
  if (missing.length) return `missing ${missing.join(", ")} (apt-get install mmdebstrap squashfs-tools zstd cpio)`;
  return undefined;
}

export async function startHostProvd(options: { dataDir: string; imageCacheDir: string; port?: number }): Promise<HostProvd> {
  const port = options.port ?? 18000 + (process.pid % 1000);
  const url = `http://127.0.0.1:${port}`;
  const server = Bun.spawn([...CLI, "serve"], {
    env: {
      ...process.env,
      PROVCTL_DATA_DIR: options.dataDir,
      PROVCTL_LISTEN: `127.0.0.1:${port}`,
      PROVCTL_TOKEN: TOKEN,
      PROVCTL_DHCP_INTERFACES: "",
      PROVCTL_TFTP_LISTEN: "off",
      PROVCTL_IMAGE_CACHE_DIR: options.imageCacheDir,
      PROVCTL_LOG_LEVEL: "warn",
    },
    stdout: "ignore",
    stderr: "inherit",
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    if (server.exitCode !== null || Date.now() > deadline) throw new Error(`provd did not start on ${url}`);
    await Bun.sleep(100);
  }
  const env = { ...process.env, PROVCTL_URL: url, PROVCTL_TOKEN: TOKEN };
  const provctlResult = async (...args: string[]) => {
    const proc = Bun.spawn([...CLI, ...args], { env, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code, stdout, stderr };
  };
  return {
    url,
    env: { PROVCTL_URL: url, PROVCTL_TOKEN: TOKEN },
    provctlResult,
    async provctl(...args) {
      const r = await provctlResult(...args);
      if (r.code !== 0) throw new Error(`provctl ${args.join(" ")} failed (exit ${r.code}):\n${r.stderr.split("\n").slice(-40).join("\n")}`);
      return r.stdout;
    },
    async jobLog(id) {
      return (await fetch(`${url}/api/v1/jobs/${id}/log`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    },
    async stop() {
      if (server.exitCode !== null) return;
      server.kill("SIGTERM");
      const killer = setTimeout(() => server.kill("SIGKILL"), 5_000);
      await server.exited;
      clearTimeout(killer);
    },
  };
}
