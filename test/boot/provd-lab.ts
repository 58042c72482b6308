// What the boot tests share: `provctl serve` started inside a lab segment, the CLI pointed at it, and error messages
// that carry the servers' log tails, because a VM that never reaches its marker says little about why.
import { join } from "node:path";
import { type LabProcess, type ListenSpec, type Segment, scratchDir, waitForListening } from "../lab/index.ts";

const ROOT = join(import.meta.dirname, "../..");
const CLI = ["bun", join(ROOT, "server/main.ts")];
const TOKEN = "lab-token";
const HTTP_PORT = 8640;

export interface BootEventJson {
  node?: string;
  mac?: string;
  kind: string;
  detail: string;
  at: number;
}

export interface Provd {
  readonly process: LabProcess;
  readonly dataDir: string;
  /** Runs the CLI inside the segment against this server; resolves with stdout, throws with stderr. */
  provctl(...args: string[]): Promise<string>;
  bootlog(node: string): Promise<BootEventJson[]>;
}

export interface ProvdOptions {
  segment: Segment;
  /** Where the CLI reaches the server: an address of `segment`. */
  address: string;
  dhcpInterfaces: readonly string[];
  dhcpMode: "full" | "proxy";
  /** Reuse a data directory (e.g. one an image build filled); a fresh scratch one by default. */
  dataDir?: string;
}

export async function startProvd(options: ProvdOptions): Promise<Provd> {
  const { segment } = options;
  const dataDir = options.dataDir ?? scratchDir("provd-data");
  const server = segment.spawn([...CLI, "serve"], {
    env: {
      PROVCTL_DATA_DIR: dataDir,
      PROVCTL_LISTEN: `0.0.0.0:${HTTP_PORT}`,
      PROVCTL_TOKEN: TOKEN,
      PROVCTL_DHCP_INTERFACES: options.dhcpInterfaces.join(","),
      PROVCTL_DHCP_MODE: options.dhcpMode,
      PROVCTL_LOG_LEVEL: "debug",
    },
  });
  const sockets: ListenSpec[] = [{ proto: "udp", port: 69 }, { proto: "tcp", port: HTTP_PORT }];
  // provd opens 4011 right after its socket on 67, so in proxy mode 4011 also stands for 67, which another DHCP
  // server in the segment may already hold.
  sockets.push(options.dhcpMode === "proxy" ? { proto: "udp", port: 4011 } : { proto: "udp", port: 67 });
  await waitForListening(segment, sockets, { processes: [server], timeoutMs: 30_000 });

  const env = { PROVCTL_URL: `http://${options.address}:${HTTP_PORT}`, PROVCTL_TOKEN: TOKEN };
  const provctl = async (...args: string[]) => {
    const result = await segment.exec([...CLI, ...args], { env, check: false, timeoutMs: 60_000 });
    if (result.code !== 0) throw new Error(`provctl ${args.join(" ")} failed: ${result.stderr}`);
    return result.stdout;
  };
  return {
    process: server,
    dataDir,
    provctl,
    bootlog: async (node) => JSON.parse(await provctl("bootlog", node, "-o", "json")) as BootEventJson[],
  };
}

/** The last `count` lines a process wrote to stderr (provd's JSON log, dnsmasq's and dhcrelay's messages). */
function stderrTail(process: LabProcess | undefined, count = 30): string {
  if (!process) return "(not started)";
  return process.stderr().trimEnd().split("\n").slice(-count).join("\n");
}

/** `work`'s result; if it fails, its error with the named processes' log tails appended. */
export async function withLogs<T>(work: Promise<T>, processes: Record<string, LabProcess | undefined>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    const logs = Object.entries(processes).map(([name, p]) => `--- ${name} stderr tail ---\n${stderrTail(p)}`);
    throw new Error(`${(error as Error).message}\n${logs.join("\n")}`, { cause: error });
  }
}

/** Both VMs' outcomes, failing with every failure (not just the first) once all have settled. */
export async function allBoots<T>(boots: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(boots);
  const failures = settled.flatMap((s) => (s.status === "rejected" ? [(s.reason as Error).message] : []));
  if (failures.length) throw new Error(failures.join("\n\n"));
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
