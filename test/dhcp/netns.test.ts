// The DHCP server on real sockets, inside network namespaces this test creates and deletes: DHCP
// never reaches the host's links. Server namespace: s0 (10.77.0.1, full), s1 (10.78.0.1, full, the
// fuzz target), s2 (10.79.0.1, a proxyDHCP server), s3 (10.80.0.1, served by nobody). The client
// namespace holds their peers c0..c3; c0 also carries the relay agent's 10.90.0.1.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { DhcpNetwork } from "../../server/dhcp/backend.ts";
import { MessageType } from "../../server/dhcp/options.ts";
import type { DhcpStats } from "../../server/dhcp/server.ts";
import type { ReplySummary } from "./fixtures/netns-client.ts";
import type { NetnsServerConfig } from "./fixtures/netns-server.ts";
import { ServerProcess, TestNetwork, isRoot, sh } from "./fixtures/netns.ts";

const NETWORKS: DhcpNetwork[] = [
  {
    name: "lab",
    net: "10.77.0.0",
    mask: "255.255.255.0",
    gateway: "10.77.0.1",
    nameservers: ["10.77.0.1"],
    dynamicRange: { start: "10.77.0.100", end: "10.77.0.199" },
    interface: "s0",
    leaseSeconds: 3600,
  },
  {
    // Big enough that the fuzz's accidental DISCOVERs cannot exhaust it.
    name: "fuzz",
    net: "10.78.0.0",
    mask: "255.255.0.0",
    nameservers: [],
    dynamicRange: { start: "10.78.1.0", end: "10.78.255.254" },
    interface: "s1",
    leaseSeconds: 3600,
  },
  {
    name: "rack",
    net: "10.90.0.0",
    mask: "255.255.255.0",
    gateway: "10.90.0.1",
    nameservers: [],
    dynamicRange: { start: "10.90.0.100", end: "10.90.0.150" },
    leaseSeconds: 600,
  },
];

interface Dora {
  results: { mac: string; offer: ReplySummary | null; ack: ReplySummary | null }[];
  watched: Record<string, { datagrams: number; rxPackets: number }>;
}
type Exchange = { offer: ReplySummary | null; ack: ReplySummary | null };
type Stats = { stats: DhcpStats };

const root = isRoot();

describe.skipIf(!root)(root ? "DHCP on real sockets in private network namespaces" : "DHCP sockets (skipped: network namespaces need root)", () => {
  const net = new TestNetwork("sock");
  const dir = mkdtempSync(join(tmpdir(), "provd-dhcp-netns-"));
  let full: ServerProcess;
  const fullConfig = join(dir, "full.json");

  beforeAll(async () => {
    net.create(4);
    sh("ip", "-n", net.clientNs, "addr", "add", "10.90.0.1/24", "dev", "c0");
    sh("ip", "-n", net.serverNs, "route", "add", "10.90.0.0/24", "via", "10.77.0.2");
    const config: NetnsServerConfig = { interfaces: ["s0", "s1"], mode: "full", db: join(dir, "leases.db"), networks: NETWORKS };
    writeFileSync(fullConfig, JSON.stringify(config));
    const proxyConfig: NetnsServerConfig = { interfaces: ["s2"], mode: "proxy", db: join(dir, "proxy.db"), networks: [] };
    writeFileSync(join(dir, "proxy.json"), JSON.stringify(proxyConfig));
    [full] = await Promise.all([ServerProcess.start(net, fullConfig), ServerProcess.start(net, join(dir, "proxy.json"))]);
  });

  afterAll(async () => {
    await net.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test("D14: broadcast replies leave only through the link the request came in on", async () => {
    const onC0 = await net.client<Dora>({ op: "dora", iface: "c0", macs: ["02:00:00:00:00:01"], watch: ["c1", "c3"] });
    const { offer, ack } = onC0.results[0]!;
    expect(offer).toMatchObject({ type: MessageType.Offer, yiaddr: "10.77.0.100", serverId: "10.77.0.1", fromAddress: "10.77.0.1", fromPort: 67 });
    expect(ack).toMatchObject({ type: MessageType.Ack, yiaddr: "10.77.0.100" });
    expect(onC0.watched).toEqual({ c1: { datagrams: 0, rxPackets: 0 }, c3: { datagrams: 0, rxPackets: 0 } });

    const onC1 = await net.client<Dora>({ op: "dora", iface: "c1", macs: ["02:00:00:00:01:01"], watch: ["c0"] });
    expect(onC1.results[0]!.ack).toMatchObject({ type: MessageType.Ack, yiaddr: "10.78.1.0", serverId: "10.78.0.1" });
    expect(onC1.watched).toEqual({ c0: { datagrams: 0, rxPackets: 0 } });
  });

  test("an interface that is not configured is never served", async () => {
    const onC3 = await net.client<Dora>({ op: "dora", iface: "c3", macs: ["02:00:00:00:03:01"], timeoutMs: 600 });
    expect(onC3.results[0]!.offer).toBeNull();
    const { stats } = await full.stats<Stats>();
    expect(Object.keys(stats.byInterface).sort()).toEqual(["s0", "s1"]);
  });

  test("D15: relayed requests are answered to giaddr:67 with flags kept and option 82 verbatim and last", async () => {
    const relayInfoHex = "0104657468310206525400000001"; // circuit id "eth1", remote id
    const { offer, ack } = await net.client<Exchange>({ op: "relay", iface: "c0", relayAddress: "10.90.0.1", server: "10.77.0.1", mac: "02:00:00:00:90:01", relayInfoHex });
    expect(offer).toMatchObject({ type: MessageType.Offer, yiaddr: "10.90.0.100", giaddr: "10.90.0.1", flags: 0x8000, fromAddress: "10.77.0.1", fromPort: 67 });
    expect(offer!.hex.replace(/(00)+$/, "")).toMatch(new RegExp(`52${(relayInfoHex.length / 2).toString(16).padStart(2, "0")}${relayInfoHex}ff$`));
    expect(ack).toMatchObject({ type: MessageType.Ack, yiaddr: "10.90.0.100", giaddr: "10.90.0.1" });
  });

  test("D16: proxyDHCP offers EFI firmware no 43, then ACKs its REQUEST on 4011 with the boot file", async () => {
    const { offer, ack } = await net.client<Exchange>({ op: "proxy", iface: "c2", server: "10.79.0.1", ciaddr: "10.79.0.2", mac: "02:00:00:00:79:01" });
    expect(offer).toMatchObject({ type: MessageType.Offer, yiaddr: "0.0.0.0", serverId: "10.79.0.1", vendorClass: "PXEClient", has43: false, file: "snponly.efi" });
    expect(ack).toMatchObject({ type: MessageType.Ack, file: "snponly.efi", fromAddress: "10.79.0.1", fromPort: 4011 });
  });

  test("leases survive a server restart: the same MAC gets the same address", async () => {
    const macs = ["02:00:00:00:77:01", "02:00:00:00:77:02", "02:00:00:00:77:03"];
    const before = await net.client<Dora>({ op: "dora", iface: "c0", macs });
    const addresses = before.results.map((r) => r.ack?.yiaddr);
    expect(addresses).toEqual(["10.77.0.101", "10.77.0.102", "10.77.0.103"]);

    await full.close();
    full = await ServerProcess.start(net, fullConfig);
    // Asked in another order: without the stored leases the first would get .100 again.
    const after = await net.client<Dora>({ op: "dora", iface: "c0", macs: [macs[2]!, macs[0]!], xid: 0x2000 });
    expect(after.results.map((r) => r.ack?.yiaddr)).toEqual([addresses[2], addresses[0]]);
  });

  test("D1: 100,000 random and mutated datagrams are dropped or answered, never crash, and DORA still works", async () => {
    const before = (await full.stats<Stats>()).stats;
    const { sent } = await net.client<{ sent: number }>({ op: "fuzz", iface: "c1", server: "10.78.0.1", count: 100_000, seed: 0xd15ea5e }, 60_000);
    expect(sent).toBe(100_000);
    let after = (await full.stats<Stats>()).stats;
    // Let the server drain its receive queue.
    for (let i = 0; i < 50 && after.byInterface.s1!.received - before.byInterface.s1!.received < 95_000; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = (await full.stats<Stats>()).stats;
    }
    const received = after.byInterface.s1!.received - before.byInterface.s1!.received;
    expect(received).toBeGreaterThan(90_000);
    expect(after.droppedMalformed - before.droppedMalformed).toBeGreaterThan(50_000);
    expect(after.errors).toBe(0);

    const dora = await net.client<Dora>({ op: "dora", iface: "c1", macs: ["02:00:00:00:01:99"], xid: 0x3000 });
    expect(dora.results[0]!.ack).toMatchObject({ type: MessageType.Ack, serverId: "10.78.0.1" });
  });
});
