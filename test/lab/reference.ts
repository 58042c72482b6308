// The reference boot server the lab was validated with (shared/notes/pxe-clients.md): dnsmasq for DHCP, TFTP and
// router advertisements, plus a static HTTP server, both inside the segment. The provd boot test swaps in provd.
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type LabProcess, type Segment, scratchDir, waitForListening } from "./netns.ts";
import type { Payload } from "./payload.ts";
import type { HttpLogLine } from "./static-http.ts";

export interface ReferenceOptions {
  segment: Segment;
  payload: Payload;
  httpPort?: number;
}

export interface LogLine {
  /** `Date.now()` when the line arrived. */
  t: number;
  text: string;
}

export interface ReferenceServer {
  /** `http://10.77.0.1:8080` */
  httpUrl: string;
  bootScript: string;
  dnsmasqLog(): LogLine[];
  httpLog(): HttpLogLine[];
  /** Basenames dnsmasq reports as sent over TFTP, in order (`snponly.efi` once per UEFI boot). */
  tftpSent(): string[];
  stop(): Promise<void>;
}

const IPXE_DIR = "/usr/lib/ipxe";
const NBPS = ["snponly.efi", "undionly.kpxe"];
const STATIC_HTTP = join(import.meta.dirname, "static-http.ts");

export function referenceUnavailable(): string | undefined {
  if (!Bun.which("dnsmasq")) return "dnsmasq is not installed (dnsmasq-base)";
  for (const nbp of NBPS) if (!existsSync(join(IPXE_DIR, nbp))) return `${IPXE_DIR}/${nbp} is missing (ipxe)`;
  return undefined;
}

/**
 * The iPXE script both platforms run. `${platform}` (pcbios/efi) is expanded by iPXE itself, which proves the script
 * ran there; the node name is derived from the MAC, as provd derives it from its node table.
 */
export function referenceBootScript(httpUrl: string): string {
  return [
    "#!ipxe",
    // initrd=: the EFI stub loads the initrd by that name from iPXE's file system; BIOS ignores it.
    `kernel ${httpUrl}/vmlinuz initrd=initrd.gz provd.node=node-\${net0/mac:hexhyp} provd.platform=\${platform} console=ttyS0`,
    `initrd ${httpUrl}/initrd.gz`,
    "boot",
    "",
  ].join("\n");
}

/** The name the reference script gives a MAC: `52:54:00:77:00:01` → `node-52-54-00-77-00-01`. */
export function referenceNodeName(mac: string): string {
  return `node-${mac.toLowerCase().replaceAll(":", "-")}`;
}

export async function startReference(options: ReferenceOptions): Promise<ReferenceServer> {
  const { segment, payload } = options;
  const port = options.httpPort ?? 8080;
  const httpUrl = `http://${segment.ipv4}:${port}`;
  const work = scratchDir("ref");
  const tftpRoot = join(work, "tftp");
  mkdirSync(tftpRoot);
  for (const nbp of NBPS) copyFileSync(join(IPXE_DIR, nbp), join(tftpRoot, nbp));
  const bootScript = referenceBootScript(httpUrl);
  writeFileSync(join(work, "boot.ipxe"), bootScript);
  writeFileSync(
    join(work, "http.json"),
    JSON.stringify({
      hostname: segment.ipv4,
      port,
      files: { "/boot.ipxe": join(work, "boot.ipxe"), "/vmlinuz": payload.kernel.path, "/initrd.gz": payload.initrd.path },
    }),
  );
  writeFileSync(join(work, "dnsmasq.conf"), dnsmasqConf(segment, tftpRoot, work, `${httpUrl}/boot.ipxe`));

  const dnsLines: LogLine[] = [];
  const httpLines: HttpLogLine[] = [];
  const processes: LabProcess[] = [];
  const stop = async () => {
    await Promise.all(processes.map((p) => p.stop(2_000)));
    rmSync(work, { recursive: true, force: true });
  };
  try {
    processes.push(
      segment.spawn(
        // --user/--group root: otherwise dnsmasq drops to nobody and cannot read the TFTP root or write its lease file.
        ["dnsmasq", "--keep-in-foreground", `--conf-file=${join(work, "dnsmasq.conf")}`, "--user=root", "--group=root"],
        { onStderr: lineSplitter((text) => dnsLines.push({ t: Date.now(), text })) },
      ),
    );
    processes.push(
      segment.spawn([bunExecutable(), STATIC_HTTP, join(work, "http.json")], {
        onStdout: lineSplitter((text) => {
          try {
            const parsed = JSON.parse(text) as Partial<HttpLogLine>;
            if (parsed.path !== undefined) httpLines.push(parsed as HttpLogLine);
          } catch {
            // Not a log line (a runtime warning): it stays in stdout() for debugging.
          }
        }),
      }),
    );
    await waitForListening(
      segment,
      [{ proto: "udp", port: 67 }, { proto: "udp", address: segment.ipv4, port: 69 }, { proto: "tcp", address: segment.ipv4, port }],
      { processes },
    );
  } catch (error) {
    const logs = processes.map((p) => `${p.argv[0]}: ${p.stderr().trim()}`).join("\n");
    await stop();
    throw new Error(`reference server did not start: ${(error as Error).message}\n${logs}`);
  }

  return {
    httpUrl,
    bootScript,
    dnsmasqLog: () => [...dnsLines],
    httpLog: () => [...httpLines],
    tftpSent: () =>
      dnsLines.flatMap((l) => {
        const m = /dnsmasq-tftp.*: sent (\S+) to/.exec(l.text);
        return m ? [m[1]!.split("/").pop()!] : [];
      }),
    stop,
  };
}

function dnsmasqConf(segment: Segment, tftpRoot: string, work: string, scriptUrl: string): string {
  const [a, b, c] = segment.ipv4.split(".");
  const prefix = `${a}.${b}.${c}`;
  return `${[
    "port=0",
    `interface=${segment.bridge}`,
    "bind-interfaces",
    // Our own files: the defaults (/var/lib/misc/dnsmasq.leases, /run/dnsmasq.pid) are shared with the host.
    `dhcp-leasefile=${join(work, "leases")}`,
    `pid-file=${join(work, "dnsmasq.pid")}`,
    "log-facility=-",
    `dhcp-range=${prefix}.100,${prefix}.150,255.255.255.0,1h`,
    "dhcp-authoritative",
    // Ping-before-offer costs iPXE 3 s and makes EDK2 miss its first offer window (+8 s).
    "no-ping",
    "log-dhcp",
    "enable-tftp",
    `tftp-root=${tftpRoot}`,
    // Without router advertisements iPXE waits ≈13 s for one before it uses its DHCPv4 lease.
    "enable-ra",
    `dhcp-range=${ipv6Network(segment.ipv6Cidr)},ra-only,64`,
    "dhcp-userclass=set:ipxe,iPXE",
    "dhcp-match=set:bios,option:client-arch,0",
    "dhcp-match=set:efi64,option:client-arch,7",
    "dhcp-match=set:efi64,option:client-arch,9",
    `dhcp-boot=tag:ipxe,${scriptUrl}`,
    "dhcp-boot=tag:!ipxe,tag:efi64,snponly.efi",
    "dhcp-boot=tag:!ipxe,tag:bios,undionly.kpxe",
    // 175.176 = 1: iPXE skips waiting 2–3 s for ProxyDHCP offers.
    "dhcp-option=tag:ipxe,encap:175,176,1",
  ].join("\n")}\n`;
}

/** `fd77::1/64` → `fd77:0:0:0:0:0:0:0` (dnsmasq accepts the uncompressed form). */
function ipv6Network(cidr: string): string {
  const [addr = "", len = "64"] = cidr.split("/");
  const [head = "", tail = ""] = addr.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = addr.includes("::") ? [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t] : h;
  let bits = Number(len);
  return groups
    .map((g) => {
      const keep = Math.max(0, Math.min(16, bits));
      bits -= 16;
      const mask = keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
      return (parseInt(g || "0", 16) & mask).toString(16);
    })
    .join(":");
}

/** Turns a stream of chunks into complete lines. */
function lineSplitter(onLine: (line: string) => void): (chunk: string) => void {
  let partial = "";
  return (chunk) => {
    const pieces = (partial + chunk).split("\n");
    partial = pieces.pop() ?? "";
    for (const piece of pieces) if (piece.trim()) onLine(piece);
  };
}

function bunExecutable(): string {
  // Under `bun --bun vitest` the worker is bun itself; the lab needs Bun anyway (Bun.spawn, Bun.serve).
  return process.execPath;
}
