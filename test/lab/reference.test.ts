// Proves the lab itself: real firmware (SeaBIOS + iPXE ROM, OVMF + EDK2 PXE → snponly.efi) PXE-boots the payload
// from the reference server (dnsmasq + static HTTP). Opt-in: CI runs the same boots against provd instead.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type BootResult,
  type Firmware,
  type Payload,
  type ReferenceServer,
  type Segment,
  bootVm,
  BootError,
  buildPayload,
  createSegment,
  labUnavailable,
  MARKER,
  parseMarker,
  referenceNodeName,
  startReference,
} from "./index.ts";

const skip = process.env.PROVD_LAB_REFERENCE === "1" ? labUnavailable({ reference: true }) : "set PROVD_LAB_REFERENCE=1 to run";

interface Vm {
  firmware: Firmware;
  tap: string;
  mac: string;
  uuid: string;
  platform: string;
}

const VMS: Vm[] = [
  { firmware: "bios", tap: "tap0", mac: "52:54:00:77:00:01", uuid: "11111111-2222-3333-4444-555555555501", platform: "pcbios" },
  { firmware: "uefi", tap: "tap1", mac: "52:54:00:77:00:02", uuid: "11111111-2222-3333-4444-555555555502", platform: "efi" },
];

describe.skipIf(skip !== undefined)(`PXE boot lab against the reference server${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let payload: Payload;
  let segment: Segment | undefined;
  let server: ReferenceServer | undefined;
  const started = performance.now();
  const report: string[] = [];

  beforeAll(async () => {
    const t = performance.now();
    payload = await buildPayload({ log: (m) => console.log(`[lab] ${m}`) });
    report.push(`payload ready in ${secs(performance.now() - t)} (${payload.kernel.package} ${payload.kernel.version})`);
    segment = await createSegment({ name: "ref", taps: 3 });
    server = await startReference({ segment, payload });
    report.push(`segment + reference server up at ${secs(performance.now() - started)}`);
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    await segment?.destroy();
    report.push(`whole file: ${secs(performance.now() - started)}`);
    console.log(`[lab] timings\n${report.map((l) => `  ${l}`).join("\n")}`);
  }, 60_000);

  test("a BIOS and a UEFI VM boot to the marker in parallel", async () => {
    const seg = segment!;
    const srv = server!;
    const t = performance.now();
    const settled = await Promise.allSettled(
      VMS.map((vm) => bootVm({ segment: seg, firmware: vm.firmware, tap: vm.tap, mac: vm.mac, uuid: vm.uuid, timeoutMs: 150_000, until: MARKER })),
    );
    const wall = performance.now() - t;
    dumpLogs(settled, srv);
    const failures = settled.flatMap((s) => (s.status === "rejected" ? [String((s.reason as Error).message)] : []));
    if (failures.length) {
      const log = srv.dnsmasqLog().slice(-40).map((l) => l.text).join("\n");
      throw new Error(`${failures.join("\n\n")}\n--- dnsmasq tail ---\n${log}`);
    }
    const results = settled.map((s) => (s as PromiseFulfilledResult<BootResult>).value);

    results.forEach((result, i) => {
      const vm = VMS[i]!;
      expect(parseMarker(result.matched[0])).toEqual({ node: referenceNodeName(vm.mac), image: "-", platform: vm.platform });
      report.push(...phases(vm, result, srv));
    });
    report.push(`both VMs (parallel): ${secs(wall)}`);

    // The UEFI firmware's own PXE client fetched the NBP over TFTP, i.e. the ROM did not take over.
    // EDK2 asks twice (a tsize probe it aborts, then the transfer); dnsmasq logs both.
    expect(new Set(srv.tftpSent())).toEqual(new Set(["snponly.efi"]));
    const fetched = (path: string) => srv.httpLog().filter((r) => r.path === path && r.status === 200).length;
    expect({ script: fetched("/boot.ipxe"), kernel: fetched("/vmlinuz"), initrd: fetched("/initrd.gz") }).toEqual({ script: 2, kernel: 2, initrd: 2 });
  }, 240_000);

  test("a VM that never shows the pattern is stopped at the timeout, with the serial tail in the error", async () => {
    const t = performance.now();
    const error = await bootVm({
      segment: segment!,
      firmware: "bios",
      tap: "tap2",
      mac: "52:54:00:77:00:03",
      uuid: "11111111-2222-3333-4444-555555555503",
      timeoutMs: 5_000,
      until: /this never appears/,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BootError);
    expect((error as BootError).message).toMatch(/within 5000 ms[\s\S]*serial tail[\s\S]*iPXE/);
    const left = Bun.spawnSync(["ip", "netns", "pids", segment!.name]).stdout.toString().split(/\s+/).filter(Boolean);
    const commands = left.map((pid) => Bun.spawnSync(["cat", `/proc/${pid}/comm`]).stdout.toString().trim());
    expect(commands.filter((c) => c.startsWith("qemu"))).toEqual([]);
    expect(commands).toContain("dnsmasq");
    report.push(`timeout path: rejected after ${secs(performance.now() - t)}`);
  }, 60_000);
});

/** With PROVD_LAB_LOGS=dir, keeps timestamped serial consoles and server logs for a look after the run (or CI). */
function dumpLogs(settled: PromiseSettledResult<BootResult>[], srv: ReferenceServer): void {
  const dir = process.env.PROVD_LAB_LOGS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  settled.forEach((s, i) => {
    const lines = s.status === "fulfilled" ? s.value.lines : s.reason instanceof BootError ? s.reason.lines : [];
    writeFileSync(join(dir, `${VMS[i]!.firmware}.serial`), lines.map((l) => `${(l.ms / 1000).toFixed(3).padStart(8)} ${l.text}`).join("\n"));
  });
  writeFileSync(join(dir, "dnsmasq.log"), srv.dnsmasqLog().map((l) => `${l.t} ${l.text}`).join("\n"));
  writeFileSync(join(dir, "http.log"), srv.httpLog().map((l) => JSON.stringify(l)).join("\n"));
}

/** Per-VM phases, from QEMU start, out of the serial lines and the reference server's logs. */
function phases(vm: Vm, result: BootResult, srv: ReferenceServer): string[] {
  const rel = (t: number | undefined) => (t === undefined ? "?" : secs(t - result.startedAt));
  const at = (re: RegExp) => result.lines.find((l) => re.test(l.text))?.ms;
  const dns = srv.dnsmasqLog();
  const mac = vm.mac.toLowerCase();
  const firstDhcp = dns.find((l) => l.text.includes("DHCPDISCOVER") && l.text.includes(mac))?.t;
  const ip = dns.map((l) => new RegExp(`DHCPACK\\(\\S+\\) (\\S+) ${mac}`).exec(l.text)?.[1]).find(Boolean);
  const tftp = dns.find((l) => /dnsmasq-tftp.*sent .*snponly\.efi/.test(l.text) && ip !== undefined && l.text.includes(ip))?.t;
  const http = srv.httpLog().filter((r) => r.remote === ip);
  const uptime = /PROVD-UPTIME (\S+)/.exec(result.serial)?.[1];
  const banner = at(/iPXE initialising devices|iPXE \d/);
  return [
    `${vm.firmware}: firmware start → marker ${secs(result.elapsedMs)}` +
      ` | first DHCP ${rel(firstDhcp)}` +
      (vm.firmware === "uefi" ? ` | snponly.efi sent ${rel(tftp)}` : "") +
      ` | iPXE banner ${banner === undefined ? "?" : secs(banner)}` +
      ` | boot.ipxe ${rel(http[0]?.t)} | last HTTP request ${rel(http.at(-1)?.t)}` +
      ` | guest uptime at marker ${uptime ?? "?"} s`,
  ];
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
