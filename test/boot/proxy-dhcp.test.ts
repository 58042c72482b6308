// provd as a ProxyDHCP server beside the site's DHCP server: dnsmasq hands out addresses and knows nothing about
// booting, provd (--dhcp-mode proxy) only says what to boot. Real firmware on one bridge boots through both: SeaBIOS'
// iPXE ROM, and OVMF's EDK2 PXE client, whose proxy offer on 67 lacks option 43, so it must ask port 4011 (BINL).
import { Database } from "bun:sqlite";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type LabProcess, MARKER, type Segment, bootVm, buildPayload, createSegment, labUnavailable, parseMarker, scratchDir, waitForListening } from "../lab/index.ts";
import { type Provd, allBoots, seconds, startProvd, withLogs } from "./provd-lab.ts";

const unavailable = labUnavailable() ?? (Bun.which("dnsmasq") ? undefined : "dnsmasq is not installed (dnsmasq-base)");
if (unavailable && process.env.CI) throw new Error(`CI must run the ProxyDHCP boot test, but: ${unavailable}`);

const MACS = { n01: "52:54:00:78:00:01", n02: "52:54:00:78:00:02" };
const RANGE = { first: 100, last: 150 };

describe.skipIf(unavailable)(`ProxyDHCP: provd boots machines that dnsmasq addresses${unavailable ? ` (skipped: ${unavailable})` : ""}`, () => {
  let segment: Segment | undefined;
  let dnsmasq: LabProcess | undefined;
  let provd: Provd | undefined;
  let dnsmasqDir = "";
  const started = performance.now();

  beforeAll(async () => {
    const payload = await buildPayload();
    segment = await createSegment({ name: "proxy", taps: 2 });
    const prefix = segment.ipv4.split(".").slice(0, 3).join(".");
    dnsmasqDir = scratchDir("dnsmasq");
    writeFileSync(
      join(dnsmasqDir, "dnsmasq.conf"),
      [
        "port=0",
        `interface=${segment.bridge}`,
        "bind-interfaces",
        // Its own files: the defaults (/var/lib/misc/dnsmasq.leases, /run/dnsmasq.pid) belong to the host.
        `dhcp-leasefile=${join(dnsmasqDir, "leases")}`,
        `pid-file=${join(dnsmasqDir, "dnsmasq.pid")}`,
        "log-facility=-",
        "log-dhcp",
        `dhcp-range=${prefix}.${RANGE.first},${prefix}.${RANGE.last},255.255.255.0,1h`,
        // Not a boot option: ping-before-offer would only make EDK2 miss its first offer window (+8 s).
        "no-ping",
        "",
      ].join("\n"),
    );
    // --user/--group root: as nobody, dnsmasq could not write its lease file in our scratch directory.
    dnsmasq = segment.spawn(["dnsmasq", "--keep-in-foreground", `--conf-file=${join(dnsmasqDir, "dnsmasq.conf")}`, "--user=root", "--group=root"]);
    await waitForListening(segment, [{ proto: "udp", port: 67 }], { processes: [dnsmasq] });

    provd = await withLogs(startProvd({ segment, address: segment.ipv4, dhcpInterfaces: [segment.bridge], dhcpMode: "proxy" }), { dnsmasq });
    const { provctl } = provd;
    // No network object and no node addresses: in proxy mode provd needs neither.
    await provctl("mkdef", "-t", "group", "compute", "addkcmdline=console=ttyS0 panic=-1");
    await provctl("mkdef", "n01", "groups=compute,all", `mac=${MACS.n01}`);
    await provctl("mkdef", "n02", "groups=compute,all", `mac=${MACS.n02}`);
    await provctl("imgimport", "lab-image", "--kernel", payload.kernel.path, "--initrd", payload.initrd.path, "osvers=debian12", "osarch=x86_64", "profile=lab");
    expect(await provctl("nodeset", "n01,n02", "osimage=lab-image")).toBe("n01: netboot debian12-x86_64-lab\nn02: netboot debian12-x86_64-lab\n");
    console.log(`[proxy-dhcp] set up in ${seconds(performance.now() - started)}`);
  }, 120_000);

  afterAll(async () => {
    await segment?.destroy();
    for (const dir of [dnsmasqDir, provd?.dataDir]) if (dir) rmSync(dir, { recursive: true, force: true });
    console.log(`[proxy-dhcp] whole file: ${seconds(performance.now() - started)}`);
  }, 30_000);

  test("BIOS and UEFI boot their nodes' image; the addresses are dnsmasq's, provd only proxied", async () => {
    const seg = segment!;
    const common = { segment: seg, timeoutMs: 150_000, until: MARKER };
    const [bios, uefi] = await withLogs(
      allBoots([
        bootVm({ ...common, firmware: "bios", tap: seg.taps[0]!, mac: MACS.n01, uuid: "11111111-2222-3333-4444-555555557801" }),
        bootVm({ ...common, firmware: "uefi", tap: seg.taps[1]!, mac: MACS.n02, uuid: "11111111-2222-3333-4444-555555557802" }),
      ]),
      { provd: provd?.process, dnsmasq },
    );
    console.log(`[proxy-dhcp] QEMU start → marker: BIOS ${seconds(bios!.elapsedMs)}, UEFI ${seconds(uefi!.elapsedMs)}`);
    expect(parseMarker(bios!.matched[0])).toEqual({ node: "n01", image: "lab-image", platform: "pcbios" });
    expect(parseMarker(uefi!.matched[0])).toEqual({ node: "n02", image: "lab-image", platform: "efi" });

    // provd answered each DHCP exchange as a proxy and never as the address server.
    const biosEvents = await provd!.bootlog("n01");
    const uefiEvents = await provd!.bootlog("n02");
    for (const events of [biosEvents, uefiEvents]) {
      const kinds = events.map((e) => e.kind);
      expect(kinds).toEqual(expect.arrayContaining(["proxy-offer", "script", "kernel", "initrd"]));
      expect(kinds.filter((k) => k.startsWith("dhcp-"))).toEqual([]);
    }
    // The iPXE ROM is told its script URL straight away.
    expect(biosEvents.find((e) => e.kind === "proxy-offer")?.detail).toContain(`file http://${seg.ipv4}:8640/boot/ipxe/${MACS.n01}?`);
    // The offer on 67 has no option 43, so EDK2 asks again on 4011, the only port where provd sends proxy-acks.
    expect(uefiEvents.find((e) => e.kind === "proxy-offer")?.detail).toMatch(/^file snponly\.efi /);
    expect(uefiEvents.find((e) => e.kind === "proxy-ack")?.detail).toMatch(/^file snponly\.efi /);

    // provd's own lease table: proxy mode must never have bound or even offered an address.
    const db = new Database(join(provd!.dataDir, "provd.db"), { readonly: true });
    try {
      expect(db.query("SELECT ip, mac FROM leases").all()).toEqual([]);
    } finally {
      db.close();
    }

    // dnsmasq's lease file: `<expiry> <mac> <ip> <hostname> <client id>` per line.
    const leases = readFileSync(join(dnsmasqDir, "leases"), "utf8").trim().split("\n").map((line) => line.split(" "));
    const prefix = `${seg.ipv4.split(".").slice(0, 3).join(".")}.`;
    const leased = (mac: string) => leases.filter((l) => l[1] === mac).map((l) => l[2]!);
    for (const mac of Object.values(MACS)) {
      expect(leased(mac).length, `dnsmasq leased nothing to ${mac}`).toBeGreaterThan(0);
      for (const ip of leased(mac)) {
        expect(ip.startsWith(prefix)).toBe(true);
        expect(Number(ip.slice(prefix.length))).toBeGreaterThanOrEqual(RANGE.first);
        expect(Number(ip.slice(prefix.length))).toBeLessThanOrEqual(RANGE.last);
      }
    }
    // And EDK2 used dnsmasq's address to fetch snponly.efi from provd.
    expect(tftpClients(provd!.process.stderr(), "snponly.efi")).toEqual(expect.arrayContaining(leased(MACS.n02)));
  }, 240_000);
});

/** Client addresses of the completed TFTP transfers of `file` in provd's JSON log (debug level). */
function tftpClients(log: string, file: string): string[] {
  return log.split("\n").flatMap((line) => {
    if (!line.includes('"tftp: transfer completed"')) return [];
    try {
      const entry = JSON.parse(line) as { file?: string; client?: { address?: string } };
      return entry.file === file && entry.client?.address ? [entry.client.address] : [];
    } catch {
      return []; // a line still being written
    }
  });
}
