// provd serves a subnet it has no interface on, through a DHCP relay. The machines' segment is a namespace that is
// also their router (bridge 10.79.0.1/24, IPv4 forwarding, ISC dhcrelay, router advertisements); provd
// (--dhcp-mode full) runs in a second namespace on 10.78.0.0/24; one veth joins the two. provd must pick the network by
// the relay's giaddr and answer to giaddr:67, and the machines fetch TFTP and HTTP from it across the router.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type LabProcess, MARKER, type Segment, bootVm, buildPayload, createSegment, labUnavailable, parseMarker, scratchDir, waitForListening } from "../lab/index.ts";
import { type BootEventJson, type Provd, allBoots, seconds, startProvd, withLogs } from "./provd-lab.ts";

const unavailable =
  labUnavailable() ??
  (Bun.which("dhcrelay") ? undefined : "dhcrelay is not installed (isc-dhcp-relay)") ??
  (Bun.which("dnsmasq") ? undefined : "dnsmasq is not installed (dnsmasq-base)");
if (unavailable && process.env.CI) throw new Error(`CI must run the DHCP relay boot test, but: ${unavailable}`);

const SERVER_IP = "10.78.0.1";
/** The router's address towards provd. */
const ROUTER_UP = "10.78.0.254";
/** The router's address towards the machines: the relay's giaddr and the machines' gateway. */
const GIADDR = "10.79.0.1";
const CLIENT_NET = "10.79.0.0";
const DYNAMIC = { first: 100, last: 150 };
const MACS = { n11: "52:54:00:79:00:11", n12: "52:54:00:79:00:12" };
// n11 leases from the dynamic range; n12 has a static address, so its TFTP transfer is also logged under its name.
const N12_IP = "10.79.0.22";

describe.skipIf(unavailable)(`DHCP relay: provd boots machines on a routed subnet${unavailable ? ` (skipped: ${unavailable})` : ""}`, () => {
  let clients: Segment | undefined;
  let server: Segment | undefined;
  let relay: LabProcess | undefined;
  let provd: Provd | undefined;
  const scratch: string[] = [];
  const started = performance.now();

  beforeAll(async () => {
    const payload = await buildPayload();
    clients = await createSegment({ name: "relay-clients", taps: 2, ipv4: `${GIADDR}/24`, ipv6: "fd79::1/64" });
    server = await createSegment({ name: "relay-server", taps: 0, ipv4: `${SERVER_IP}/24`, ipv6: "fd78::1/64" });

    // Created straight into the two namespaces, the link never exists on the host.
    await clients.exec(["ip", "link", "add", "uplink", "type", "veth", "peer", "name", "downlink", "netns", server.name]);
    await clients.exec(["ip", "addr", "add", `${ROUTER_UP}/24`, "dev", "uplink"]);
    await clients.exec(["ip", "link", "set", "uplink", "up"]);
    await clients.exec(["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    await server.exec(["ip", "link", "set", "downlink", "master", server.bridge]);
    await server.exec(["ip", "link", "set", "downlink", "up"]);
    await server.exec(["ip", "route", "add", `${CLIENT_NET}/24`, "via", ROUTER_UP]);

    provd = await startProvd({ segment: server, address: SERVER_IP, dhcpInterfaces: [server.bridge], dhcpMode: "full" });
    scratch.push(provd.dataDir);
    const { provctl } = provd;
    await provctl(
      "mkdef", "-t", "network", "clients", `net=${CLIENT_NET}`, "mask=255.255.255.0", `gateway=${GIADDR}`,
      `dynamicrange=10.79.0.${DYNAMIC.first}-10.79.0.${DYNAMIC.last}`,
    );
    await provctl("mkdef", "-t", "group", "compute", "addkcmdline=console=ttyS0 panic=-1");
    await provctl("mkdef", "n11", "groups=compute,all", `mac=${MACS.n11}`);
    await provctl("mkdef", "n12", "groups=compute,all", `mac=${MACS.n12}`, `ip=${N12_IP}`);
    await provctl("imgimport", "lab-image", "--kernel", payload.kernel.path, "--initrd", payload.initrd.path, "osvers=debian12", "osarch=x86_64", "profile=lab");
    expect(await provctl("nodeset", "n11,n12", "osimage=lab-image")).toBe("n11: netboot debian12-x86_64-lab\nn12: netboot debian12-x86_64-lab\n");

    const work = scratchDir("router");
    scratch.push(work);
    // Router advertisements, as the machines' real router would send: without one on their link iPXE (the BIOS ROM and
    // snponly.efi alike) waits ≈15 s before it uses its DHCPv4 lease, and provd's own advertiser only reaches provd's
    // link. RA only: this dnsmasq hands out no address and opens no port 67.
    const routerAdverts = clients.spawn([
      "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0", `--interface=${clients.bridge}`, "--bind-interfaces",
      `--dhcp-leasefile=${join(work, "leases")}`, `--pid-file=${join(work, "dnsmasq.pid")}`, "--log-facility=-",
      "--enable-ra", "--dhcp-range=fd79::,ra-only,64", "--user=root", "--group=root",
    ]);
    // -a: the relay adds option 82 as most do, so provd's reply has to carry it back; -pf: not the host's pid file.
    relay = clients.spawn(["dhcrelay", "-4", "-d", "-a", "-pf", join(work, "dhcrelay.pid"), "-id", clients.bridge, "-iu", "uplink", SERVER_IP]);
    await withLogs(waitForListening(clients, [{ proto: "udp", port: 67 }], { processes: [relay, routerAdverts] }), {
      dhcrelay: relay,
      "dnsmasq (RA)": routerAdverts,
    });
    console.log(`[relay] set up in ${seconds(performance.now() - started)}`);
  }, 120_000);

  afterAll(async () => {
    await clients?.destroy();
    await server?.destroy();
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
    console.log(`[relay] whole file: ${seconds(performance.now() - started)}`);
  }, 30_000);

  test("BIOS and UEFI boot through the relay, with addresses from the client subnet's network object", async () => {
    const seg = clients!;
    const common = { segment: seg, timeoutMs: 150_000, until: MARKER };
    const [bios, uefi] = await withLogs(
      allBoots([
        bootVm({ ...common, firmware: "bios", tap: seg.taps[0]!, mac: MACS.n11, uuid: "11111111-2222-3333-4444-555555557911" }),
        bootVm({ ...common, firmware: "uefi", tap: seg.taps[1]!, mac: MACS.n12, uuid: "11111111-2222-3333-4444-555555557912" }),
      ]),
      { provd: provd?.process, dhcrelay: relay },
    );
    console.log(`[relay] QEMU start → marker: BIOS ${seconds(bios!.elapsedMs)}, UEFI ${seconds(uefi!.elapsedMs)}`);
    expect(parseMarker(bios!.matched[0])).toEqual({ node: "n11", image: "lab-image", platform: "pcbios" });
    expect(parseMarker(uefi!.matched[0])).toEqual({ node: "n12", image: "lab-image", platform: "efi" });

    const n11 = await provd!.bootlog("n11");
    const n12 = await provd!.bootlog("n12");
    for (const events of [n11, n12]) {
      expect(events.map((e) => e.kind)).toEqual(expect.arrayContaining(["dhcp-offer", "dhcp-ack", "script", "kernel", "initrd"]));
    }
    // provd has no interface on 10.79.0.0/24: addresses there can only come from the network its giaddr selected.
    const dynamic = dhcpAddresses(n11);
    expect(dynamic.length).toBeGreaterThanOrEqual(2);
    for (const ip of dynamic) {
      expect(ip).toMatch(/^10\.79\.0\.\d+$/);
      expect(Number(ip.split(".")[3])).toSatisfy((host: number) => host >= DYNAMIC.first && host <= DYNAMIC.last);
    }
    expect(new Set(dhcpAddresses(n12))).toEqual(new Set([N12_IP]));
    expect(n12.find((e) => e.kind === "dhcp-offer")?.detail).toMatch(/ file snponly\.efi /);
    // EDK2 fetched snponly.efi from provd's address across the router.
    expect(n12.some((e) => e.kind === "tftp" && e.detail === `snponly.efi to ${N12_IP}`)).toBe(true);

    // The relay carried every exchange both ways: requests to provd, replies back to the client subnet.
    for (const mac of Object.values(MACS)) {
      expect(relay!.stderr()).toContain(`Forwarded BOOTREQUEST for ${mac} to ${SERVER_IP}`);
      expect(relay!.stderr()).toMatch(new RegExp(`Forwarded BOOTREPLY for ${mac} to (10\\.79\\.0\\.\\d+|255\\.255\\.255\\.255)\\n`));
    }
  }, 240_000);
});

/** The addresses in a node's dhcp-offer/dhcp-ack events, whose detail starts with the address. */
function dhcpAddresses(events: readonly BootEventJson[]): string[] {
  return events.filter((e) => e.kind === "dhcp-offer" || e.kind === "dhcp-ack").map((e) => e.detail.split(" ")[0]!);
}
