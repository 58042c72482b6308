import { describe, expect, test } from "vitest";
import { NETBOOT_NOT_ALLOWED } from "../../server/dhcp/boot-file.ts";
import { decodePacket, replySizeLimit } from "../../server/dhcp/codec.ts";
import { MessageType, Opt, getIpv4, getString, getU32 } from "../../server/dhcp/options.ts";
import { BROADCAST_FLAG, BootOp } from "../../server/dhcp/packet.ts";
import {
  CLIENT_FIXTURES,
  edk2HttpBootDiscover,
  ipxeEfiDiscover,
  ovmfEdk2Discover,
  ovmfEdk2Request,
  pixiecoreBiosDiscover,
  seabiosIpxeDiscover,
} from "./fixtures/clients.ts";
import { toHex } from "./fixtures/hex.ts";
import { BR0, SERVER_IP, fixtureWith, harness, replyOf, request, selecting, typeOf } from "./fixtures/policy-harness.ts";

const MAC_A = "52:54:00:aa:00:01";
const MAC_B = "52:54:00:aa:00:02";
const BROADCAST = { address: "255.255.255.255", port: 68, broadcast: true };

function dora(h: ReturnType<typeof harness>, mac: string, xid = 0x100) {
  const offer = replyOf(h.decide(request({ mac, xid, type: MessageType.Discover })));
  const ack = replyOf(h.decide(selecting(request({ mac, xid, type: MessageType.Discover }), offer)));
  return { offer, ack };
}

describe("DISCOVER → OFFER", () => {
  test("offers a pool address with the network's options, broadcast, at least 300 bytes", () => {
    const h = harness();
    const offer = replyOf(h.decide(request({ mac: MAC_A, xid: 0xabcdef01, type: MessageType.Discover })));
    expect(typeOf(offer.decision)).toBe(MessageType.Offer);
    expect(offer).toMatchObject({ op: BootOp.Reply, xid: 0xabcdef01, yiaddr: "10.77.0.100", ciaddr: "0.0.0.0", siaddr: "0.0.0.0", file: "" });
    expect(toHex(offer.chaddr.subarray(0, 6))).toBe("52 54 00 aa 00 01");
    expect(getIpv4(offer, Opt.ServerId)).toBe(SERVER_IP);
    expect(getU32(offer, Opt.LeaseTime)).toBe(3600);
    expect(getU32(offer, Opt.RenewalTime)).toBe(1800);
    expect(getU32(offer, Opt.RebindingTime)).toBe(3150);
    expect(getIpv4(offer, Opt.SubnetMask)).toBe("255.255.255.0");
    expect(getIpv4(offer, Opt.BroadcastAddress)).toBe("10.77.0.255");
    expect(getIpv4(offer, Opt.Router)).toBe("10.77.0.254");
    expect(toHex(offer.options.get(Opt.DnsServer)!)).toBe("0a 4d 00 35 0a 4d 00 36");
    expect(getString(offer, Opt.DomainName)).toBe("cluster.example");
    expect(toHex(offer.options.get(Opt.InterfaceMtu)!)).toBe("23 28");
    expect(offer.decision.to).toEqual(BROADCAST);
    expect(offer.decision.bytes.length).toBeGreaterThanOrEqual(300);
    expect(h.leases.forClient(MAC_A)).toMatchObject({ ip: "10.77.0.100", state: "offered" });
    expect(h.store.saves).toBe(0); // offers are not persisted
  });

  test("a static reservation gets its address and host name; the pool skips reserved addresses", () => {
    const h = harness({
      hosts: {
        [MAC_A]: { node: "n01", hostname: "n01", ip: "10.77.0.20" },
        [MAC_B]: { node: "n02", hostname: "n02", ip: "10.77.0.100" },
      },
    });
    const offer = replyOf(h.decide(request({ mac: MAC_A, type: MessageType.Discover })));
    expect(offer.yiaddr).toBe("10.77.0.20");
    expect(getString(offer, Opt.HostName)).toBe("n01");
    const unknown = replyOf(h.decide(request({ mac: "52:54:00:aa:00:99", type: MessageType.Discover })));
    expect(unknown.yiaddr).toBe("10.77.0.101");
    expect(unknown.options.has(Opt.HostName)).toBe(false);
  });

  test("a node with a dynamic address still gets its host name; a static address off this network is not used", () => {
    const h = harness({
      hosts: {
        [MAC_A]: { node: "n01", hostname: "n01" },
        [MAC_B]: { node: "n02", hostname: "n02", ip: "192.168.1.5" },
      },
    });
    const a = replyOf(h.decide(request({ mac: MAC_A, type: MessageType.Discover })));
    expect([a.yiaddr, getString(a, Opt.HostName)]).toEqual(["10.77.0.100", "n01"]);
    const b = replyOf(h.decide(request({ mac: MAC_B, type: MessageType.Discover })));
    expect(b.yiaddr).toBe("10.77.0.101");
  });

  test("unknown machines are reported as discovered, nodes are not; boot events carry the node", () => {
    const h = harness({ hosts: { [MAC_A]: { node: "n01", hostname: "n01" } } });
    h.decide(request({ mac: MAC_A, type: MessageType.Discover }));
    h.decide(ovmfEdk2Discover);
    expect(h.observer.discoveredMachines).toEqual([
      { mac: "52:54:00:77:00:02", ip: "10.77.0.101", interface: "br0", arch: "x64", uuid: "11111111-2222-3333-4444-555555555502", vendorClass: "PXEClient:Arch:00007:UNDI:003000" },
    ]);
    expect(h.observer.events[0]).toMatchObject({ kind: "dhcp-offer", mac: MAC_A, node: "n01" });
    expect(h.observer.events[1]).toMatchObject({ kind: "dhcp-offer", mac: "52:54:00:77:00:02" });
    expect(h.observer.events[1]!.node).toBeUndefined();
  });

  test("the client's option 50 is honoured when free", () => {
    const h = harness();
    const offer = replyOf(h.decide(request({ mac: MAC_A, type: MessageType.Discover, requested: "10.77.0.140" })));
    expect(offer.yiaddr).toBe("10.77.0.140");
  });

  test("an exhausted pool is silence, counted as pool-exhausted", () => {
    const h = harness({ networks: [{ ...(harness().directory.config.networks[0]!), dynamicRange: { start: "10.77.0.100", end: "10.77.0.101" } }] });
    dora(h, MAC_A);
    dora(h, MAC_B, 0x200);
    expect(h.decide(request({ mac: "52:54:00:aa:00:03", type: MessageType.Discover }))).toMatchObject({ action: "ignore", reason: "pool-exhausted" });
  });

  test("no network for the interface is silence", () => {
    const h = harness({ networks: [] });
    expect(h.decide(request({ mac: MAC_A, type: MessageType.Discover }))).toMatchObject({ action: "ignore", reason: "no-network" });
  });

  test("BOOTREPLYs, BOOTP (no 53) and server-only message types are ignored", () => {
    const h = harness();
    const reply = request({ mac: MAC_A, type: MessageType.Discover });
    reply.op = BootOp.Reply;
    expect(h.decide(reply)).toMatchObject({ action: "ignore", reason: "not-a-request" });
    const bootp = request({ mac: MAC_A, type: MessageType.Discover });
    bootp.options.delete(Opt.MessageType);
    expect(h.decide(bootp)).toMatchObject({ action: "ignore", reason: "bootp" });
    expect(h.decide(request({ mac: MAC_A, type: MessageType.Offer }))).toMatchObject({ action: "ignore", reason: "not-a-request" });
  });
});

describe("REQUEST (RFC 2131 §4.3.2)", () => {
  test("SELECTING: ACK binds and persists the offered address", () => {
    const h = harness();
    const { offer, ack } = dora(h, MAC_A);
    expect(typeOf(ack.decision)).toBe(MessageType.Ack);
    expect(ack.yiaddr).toBe(offer.yiaddr);
    expect(getU32(ack, Opt.LeaseTime)).toBe(3600);
    expect(ack.decision.to).toEqual(BROADCAST);
    expect(h.leases.forClient(MAC_A)).toMatchObject({ ip: "10.77.0.100", state: "bound", expiresAt: h.clock.now + 3600_000 });
    expect(h.store.rows.get(MAC_A)).toMatchObject({ ip: "10.77.0.100", state: "bound", network: "boot" });
    expect(h.observer.kinds()).toEqual(["dhcp-offer", "dhcp-ack"]);
  });

  test("SELECTING another server: ignored, and our offer is withdrawn", () => {
    const h = harness();
    const offer = replyOf(h.decide(request({ mac: MAC_A, type: MessageType.Discover })));
    const other = request({ mac: MAC_A, type: MessageType.Request, serverId: "10.77.0.2", requested: "10.77.0.77" });
    expect(h.decide(other)).toMatchObject({ action: "ignore", reason: "other-server" });
    expect(h.leases.forClient(MAC_A)).toBeUndefined();
    expect(replyOf(h.decide(request({ mac: MAC_B, type: MessageType.Discover }))).yiaddr).toBe(offer.yiaddr === "10.77.0.100" ? "10.77.0.101" : "10.77.0.100");
  });

  test("SELECTING an address other than the one offered: NAK, broadcast, with only 53, 54 and 56", () => {
    const h = harness();
    replyOf(h.decide(request({ mac: MAC_A, type: MessageType.Discover })));
    const nak = replyOf(h.decide(request({ mac: MAC_A, type: MessageType.Request, serverId: SERVER_IP, requested: "10.77.0.120" })));
    expect(typeOf(nak.decision)).toBe(MessageType.Nak);
    expect(nak).toMatchObject({ yiaddr: "0.0.0.0", siaddr: "0.0.0.0", file: "" });
    expect([...nak.options.keys()]).toEqual([Opt.MessageType, Opt.ServerId, Opt.Message]);
    expect(nak.flags & BROADCAST_FLAG).toBe(BROADCAST_FLAG);
    expect(nak.decision.to).toEqual(BROADCAST);
    expect(h.observer.kinds()).toContain("dhcp-nak");
  });

  test("INIT-REBOOT: ACK for its own address, NAK for another, NAK off-network, ACK for a free one we have no record of", () => {
    const h = harness();
    const { ack } = dora(h, MAC_A);
    const reboot = (mac: string, ip: string) => h.decide(request({ mac, xid: 0x999, type: MessageType.Request, requested: ip }));
    expect(typeOf(reboot(MAC_A, ack.yiaddr))).toBe(MessageType.Ack);
    expect(typeOf(reboot(MAC_A, "10.77.0.130"))).toBe(MessageType.Nak);
    expect(typeOf(reboot(MAC_A, "192.168.0.10"))).toBe(MessageType.Nak);
    expect(typeOf(reboot(MAC_B, "10.77.0.130"))).toBe(MessageType.Ack); // authoritative: free and in range
    expect(typeOf(reboot("52:54:00:aa:00:03", "10.77.0.130"))).toBe(MessageType.Nak); // now MAC_B's
    expect(typeOf(reboot("52:54:00:aa:00:03", "10.77.0.10"))).toBe(MessageType.Nak); // outside the range
  });

  test("INIT-REBOOT of a static node: its address or NAK", () => {
    const h = harness({ hosts: { [MAC_A]: { node: "n01", hostname: "n01", ip: "10.77.0.20" } } });
    expect(typeOf(h.decide(request({ mac: MAC_A, type: MessageType.Request, requested: "10.77.0.20" })))).toBe(MessageType.Ack);
    expect(typeOf(h.decide(request({ mac: MAC_A, type: MessageType.Request, requested: "10.77.0.100" })))).toBe(MessageType.Nak);
    expect(typeOf(h.decide(request({ mac: MAC_B, type: MessageType.Request, requested: "10.77.0.20" })))).toBe(MessageType.Nak);
  });

  test("RENEWING: unicast ACK to ciaddr that extends the lease; REBINDING with the broadcast flag is broadcast", () => {
    const h = harness();
    const { ack } = dora(h, MAC_A);
    h.clock.now += 1800_000;
    const renew = replyOf(h.decide(request({ mac: MAC_A, xid: 0x300, type: MessageType.Request, ciaddr: ack.yiaddr })));
    expect(typeOf(renew.decision)).toBe(MessageType.Ack);
    expect(renew).toMatchObject({ ciaddr: ack.yiaddr, yiaddr: ack.yiaddr });
    expect(renew.decision.to).toEqual({ address: ack.yiaddr, port: 68, broadcast: false });
    expect(h.leases.forClient(MAC_A)!.expiresAt).toBe(h.clock.now + 3600_000);
    const rebind = replyOf(h.decide(request({ mac: MAC_A, xid: 0x301, type: MessageType.Request, ciaddr: ack.yiaddr, flags: BROADCAST_FLAG })));
    expect(rebind.decision.to).toEqual(BROADCAST);
  });

  test("RENEWING an address another client holds: NAK", () => {
    const h = harness();
    const { ack } = dora(h, MAC_A);
    expect(typeOf(h.decide(request({ mac: MAC_B, type: MessageType.Request, ciaddr: ack.yiaddr })))).toBe(MessageType.Nak);
  });

  test("a REQUEST with neither option 50 nor ciaddr is ignored", () => {
    const h = harness();
    expect(h.decide(request({ mac: MAC_A, type: MessageType.Request }))).toMatchObject({ action: "ignore", reason: "bad-request" });
  });
});

describe("RELEASE, DECLINE, INFORM", () => {
  test("RELEASE frees the address, keeps the record, and the client gets the same address back", () => {
    const h = harness();
    const { ack } = dora(h, MAC_A);
    expect(h.decide(request({ mac: MAC_A, type: MessageType.Release, ciaddr: ack.yiaddr, serverId: SERVER_IP }))).toEqual({ action: "noted", type: MessageType.Release });
    expect(h.store.rows.get(MAC_A)).toMatchObject({ state: "released" });
    expect(h.leases.isFreeFor(ack.yiaddr, MAC_B)).toBe(true);
    dora(h, MAC_B, 0x200); // round robin: B gets the next address, not A's
    expect(dora(h, MAC_A, 0x201).ack.yiaddr).toBe(ack.yiaddr);
    expect(h.observer.kinds()).toContain("dhcp-release");
  });

  test("RELEASE naming another server is ignored", () => {
    const h = harness();
    const { ack } = dora(h, MAC_A);
    expect(h.decide(request({ mac: MAC_A, type: MessageType.Release, ciaddr: ack.yiaddr, serverId: "10.0.0.9" }))).toMatchObject({ reason: "other-server" });
    expect(h.leases.forClient(MAC_A)!.state).toBe("bound");
  });

  test("DECLINE holds the address back for a while and the client gets another", () => {
    const h = harness();
    const { ack } = dora(h, MAC_A);
    const decline = request({ mac: MAC_A, type: MessageType.Decline, serverId: SERVER_IP, requested: ack.yiaddr });
    expect(h.decide(decline)).toEqual({ action: "noted", type: MessageType.Decline });
    expect(h.leases.atAddress(ack.yiaddr)).toMatchObject({ state: "declined", clientKey: `declined:${ack.yiaddr}` });
    expect(h.store.rows.get(`declined:${ack.yiaddr}`)).toMatchObject({ state: "declined" });
    const again = dora(h, MAC_A, 0x400).ack.yiaddr;
    expect(again).not.toBe(ack.yiaddr);
    h.clock.now += 11 * 60_000;
    expect(h.leases.isFreeFor(ack.yiaddr, MAC_B)).toBe(true);
    expect(h.observer.kinds()).toContain("dhcp-decline");
  });

  test("INFORM: ACK with ciaddr and configuration, no yiaddr and no lease times, unicast to ciaddr", () => {
    const h = harness();
    const ack = replyOf(h.decide(request({ mac: MAC_A, type: MessageType.Inform, ciaddr: "10.77.0.33" })));
    expect(typeOf(ack.decision)).toBe(MessageType.Ack);
    expect(ack).toMatchObject({ ciaddr: "10.77.0.33", yiaddr: "0.0.0.0" });
    for (const code of [Opt.LeaseTime, Opt.RenewalTime, Opt.RebindingTime]) expect(ack.options.has(code)).toBe(false);
    expect(getIpv4(ack, Opt.Router)).toBe("10.77.0.254");
    expect(ack.decision.to).toEqual({ address: "10.77.0.33", port: 68, broadcast: false });
    expect(h.leases.size).toBe(0);
  });
});

describe("PXE replies (dhcp-tftp-http.md D3-D17)", () => {
  test("D3: a client whose 97 is malformed is no netboot client: address only", () => {
    const h = harness();
    const bytes = fixtureWith(ovmfEdk2Discover, (p) => p.options.set(Opt.ClientUuid, Uint8Array.of(1, 2, 3)));
    const offer = replyOf(h.decide(bytes));
    expect(offer.file).toBe("");
    expect(offer.options.has(Opt.VendorClass)).toBe(false);
    expect(offer.siaddr).toBe("0.0.0.0");
  });

  test("D5/D6/D7: the SeaBIOS iPXE ROM gets the script URL, never undionly.kpxe, and 175.176 = 1", () => {
    const h = harness();
    const offer = replyOf(h.decide(seabiosIpxeDiscover));
    expect(offer.file).toBe("http://10.77.0.1:8080/boot/52:54:00:77:00:01.ipxe");
    expect(getString(offer, Opt.BootfileName)).toBe(offer.file); // iPXE asks for 67
    expect(toHex(offer.options.get(Opt.Ipxe)!)).toBe("b0 01 01 ff");
    expect(toHex(offer.decision.bytes)).toContain("af 04 b0 01 01 ff");
    expect(offer.options.has(Opt.VendorSpecific)).toBe(false);
  });

  test("D5: iPXE is recognised by RFC 3004 user class and by option 175 alone", () => {
    const h = harness();
    const rfc3004 = fixtureWith(ovmfEdk2Discover, (p) => p.options.set(Opt.UserClass, Uint8Array.of(4, 0x69, 0x50, 0x58, 0x45)));
    expect(replyOf(h.decide(rfc3004)).file).toContain(".ipxe");
    const only175 = fixtureWith(pixiecoreBiosDiscover, (p) => p.options.set(Opt.Ipxe, Uint8Array.of(0xeb, 3, 1, 0, 0, 0xff)));
    const offer = replyOf(h.decide(only175));
    expect(offer.file).toContain(".ipxe");
    expect(toHex(offer.options.get(Opt.Ipxe)!)).toBe("b0 01 01 ff");
  });

  test("D8/D9: EDK2 gets snponly.efi via file (NUL-terminated), 54, 60 PXEClient, 97 echoed, 43 = no discovery", () => {
    const h = harness();
    const offer = replyOf(h.decide(ovmfEdk2Discover));
    expect(offer.file).toBe("snponly.efi");
    expect(offer.decision.bytes[108 + "snponly.efi".length]).toBe(0);
    expect(offer.siaddr).toBe(SERVER_IP);
    expect(getIpv4(offer, Opt.ServerId)).toBe(SERVER_IP);
    expect(getString(offer, Opt.VendorClass)).toBe("PXEClient");
    expect(toHex(offer.options.get(Opt.ClientUuid)!)).toBe("00 11 11 11 11 22 22 33 33 44 44 55 55 55 55 55 02");
    // Without 43, EDK2 files the offer as BINL and asks port 4011 instead of booting `file` (seen in the QEMU lab).
    expect(offer.options.get(Opt.VendorSpecific)).toEqual(Uint8Array.of(6, 1, 8, 255));
    expect(offer.decision.to).toEqual(BROADCAST); // EDK2 sets the broadcast flag
    expect(offer.flags).toBe(BROADCAST_FLAG);
  });

  test("D9: option 67 only when 55 asks for it", () => {
    const h = harness();
    expect(replyOf(h.decide(ovmfEdk2Discover)).options.has(Opt.BootfileName)).toBe(true);
    const notAsking = fixtureWith(ovmfEdk2Discover, (p) => p.options.set(Opt.ParameterRequestList, Uint8Array.of(1, 3, 6, 43, 60)));
    const offer = replyOf(harness().decide(notAsking));
    expect(offer.file).toBe("snponly.efi");
    expect(offer.options.has(Opt.BootfileName)).toBe(false);
  });

  test("D8: a BIOS PXE ROM gets undionly.kpxe and 43 = 06 01 08 ff", () => {
    const h = harness();
    const offer = replyOf(h.decide(pixiecoreBiosDiscover));
    expect(offer.file).toBe("undionly.kpxe");
    expect(toHex(offer.options.get(Opt.VendorSpecific)!)).toBe("06 01 08 ff");
    expect(toHex(offer.options.get(Opt.ClientUuid)!)).toBe("00 00 02 00 03 00 04 00 05 00 06 00 07 00 08 00 09");
  });

  test("D8: a 200-byte script URL goes only in option 67", () => {
    const longUrl = `http://10.77.0.1:8080/${"x".repeat(200 - 22)}`;
    expect(longUrl.length).toBe(200);
    const h = harness({ scriptUrl: () => longUrl });
    const notAsking = fixtureWith(seabiosIpxeDiscover, (p) => p.options.set(Opt.ParameterRequestList, Uint8Array.of(1, 3, 6)));
    const offer = replyOf(h.decide(notAsking));
    expect(offer.file).toBe("");
    expect(getString(offer, Opt.BootfileName)).toBe(longUrl);
  });

  test("D10: UEFI HTTP boot (arch 16) gets 60 = HTTPClient and an absolute URL", () => {
    const h = harness();
    const offer = replyOf(h.decide(edk2HttpBootDiscover));
    expect(getString(offer, Opt.VendorClass)).toBe("HTTPClient");
    expect(offer.file).toBe("http://10.77.0.1:8080/ipxe/snponly.efi");
  });

  test("D11: replies fit min(57 − 28, MTU − 28) and are never under 300 bytes", () => {
    const h = harness();
    for (const fixture of CLIENT_FIXTURES.filter((f) => f.bytes[0] === BootOp.Request)) {
      const decision = harness().decide(fixture.bytes);
      if (decision.action !== "reply") continue;
      expect(decision.bytes.length, fixture.name).toBeGreaterThanOrEqual(300);
      expect(decision.bytes.length, fixture.name).toBeLessThanOrEqual(replySizeLimit(decodePacket(fixture.bytes), BR0.mtu));
    }
    // EDK2's REQUEST asks for 65280: the 1500-byte MTU still caps it, and a reply that cannot fit is dropped, not thrown.
    const offer = replyOf(h.decide(ovmfEdk2Discover));
    const huge = "x".repeat(1500);
    const tooBig = harness({ scriptUrl: () => huge });
    expect(tooBig.decide(seabiosIpxeDiscover)).toMatchObject({ action: "ignore", reason: "unencodable" });
    const ack = replyOf(h.decide(fixtureWith(ovmfEdk2Request, (p) => p.options.set(Opt.RequestedAddress, Uint8Array.of(10, 77, 0, Number(offer.yiaddr.split(".")[3]))))));
    expect(typeOf(ack.decision)).toBe(MessageType.Ack);
    expect(ack.decision.bytes.length).toBeLessThanOrEqual(1472);
  });

  test("D12: two MACs with the same xid are both answered, with different addresses", () => {
    const h = harness();
    const sameXid = fixtureWith(ovmfEdk2Discover, (p) => p.chaddr.set([0x52, 0x54, 0, 0x77, 0, 0x09]));
    const a = replyOf(h.decide(ovmfEdk2Discover));
    const b = replyOf(h.decide(sameXid));
    expect(a.xid).toBe(b.xid);
    expect(a.yiaddr).not.toBe(b.yiaddr);
    expect(b.decision.retransmit).toBe(false);
  });

  test("D12: five identical DISCOVERs cost one directory lookup and get the same reply", () => {
    const h = harness();
    const replies = Array.from({ length: 5 }, () => h.decide(ovmfEdk2Discover));
    expect(h.directory.hostLookups).toBe(1);
    const bytes = replies.map((d) => (d.action === "reply" ? toHex(d.bytes) : ""));
    expect(new Set(bytes).size).toBe(1);
    expect(replies.map((d) => d.action === "reply" && d.retransmit)).toEqual([false, true, true, true, true]);
    expect(h.observer.kinds()).toEqual(["dhcp-offer"]);
    h.clock.now += 5000; // the cache is short-lived
    h.decide(ovmfEdk2Discover);
    expect(h.directory.hostLookups).toBe(2);
  });

  test("D12: EDK2 (no 61) and the iPXE it chains (61 = 01+MAC) share one lease; iPXE gets the script", () => {
    const h = harness();
    const edk2Offer = replyOf(h.decide(ovmfEdk2Discover));
    const edk2Ack = replyOf(h.decide(selecting(ovmfEdk2Discover, edk2Offer)));
    expect(edk2Ack.file).toBe("snponly.efi");
    const ipxeOffer = replyOf(h.decide(ipxeEfiDiscover));
    const ipxeAck = replyOf(h.decide(selecting(ipxeEfiDiscover, ipxeOffer)));
    expect(ipxeOffer.yiaddr).toBe(edk2Ack.yiaddr);
    expect(ipxeAck.yiaddr).toBe(edk2Ack.yiaddr);
    expect(ipxeAck.file).toBe("http://10.77.0.1:8080/boot/52:54:00:77:00:02.ipxe");
    expect(h.leases.size).toBe(1);
  });

  test("D13: a REQUEST naming another server's 54 is ignored (the lab fixture names 10.77.0.1, we are .2)", () => {
    const h = harness();
    const other = { ...BR0, address: "10.77.0.2" };
    replyOf(h.decide(ovmfEdk2Discover, other));
    expect(h.decide(ovmfEdk2Request, other)).toMatchObject({ action: "ignore", reason: "other-server" });
  });

  test("D14: broadcast flag or ciaddr 0 → 255.255.255.255:68; else unicast to ciaddr", () => {
    const h = harness();
    const { ack } = dora(h, MAC_A);
    expect(ack.decision.to).toEqual(BROADCAST); // ciaddr 0, no flag
    const flagged = replyOf(h.decide(request({ mac: MAC_B, type: MessageType.Discover, flags: BROADCAST_FLAG })));
    expect(flagged.decision.to).toEqual(BROADCAST);
    // A DISCOVER's ciaddr is not trusted (dnsmasq): the OFFER is still broadcast.
    const buggy = replyOf(h.decide(request({ mac: "52:54:00:aa:00:05", type: MessageType.Discover, ciaddr: "10.77.0.99" })));
    expect(buggy.decision.to).toEqual(BROADCAST);
  });

  test("D15: a relayed DISCOVER is answered to giaddr:67 from the relay's network, flags kept, 82 echoed verbatim and last", () => {
    const h = harness();
    const relayInfo = Uint8Array.of(1, 4, 0x65, 0x74, 0x68, 0x31, 2, 6, 0x52, 0x54, 0, 0, 0, 1);
    const relayed = fixtureWith(ovmfEdk2Discover, (p) => {
      p.giaddr = "10.90.0.1";
      p.hops = 1;
      p.options.set(Opt.RelayAgentInfo, relayInfo);
    });
    const offer = replyOf(h.decide(relayed));
    expect(offer.decision.to).toEqual({ address: "10.90.0.1", port: 67, broadcast: false });
    expect(offer).toMatchObject({ giaddr: "10.90.0.1", flags: BROADCAST_FLAG });
    expect(offer.yiaddr).toBe("10.90.0.100");
    expect(getIpv4(offer, Opt.Router)).toBe("10.90.0.1");
    const bytes = offer.decision.bytes;
    const endAt = bytes.lastIndexOf(0xff, bytes.findLastIndex((b) => b !== 0));
    expect(toHex(bytes.subarray(endAt - relayInfo.length - 2, endAt))).toBe(toHex(Uint8Array.of(82, relayInfo.length, ...relayInfo)));
    // And the REQUEST through the relay.
    const ack = replyOf(h.decide(fixtureWith(relayed, (p) => {
      p.options.set(Opt.MessageType, Uint8Array.of(MessageType.Request));
      p.options.set(Opt.ServerId, Uint8Array.of(10, 77, 0, 1));
      p.options.set(Opt.RequestedAddress, Uint8Array.of(10, 90, 0, 100));
    })));
    expect(typeOf(ack.decision)).toBe(MessageType.Ack);
    expect(ack.decision.to).toEqual({ address: "10.90.0.1", port: 67, broadcast: false });
  });

  test("D15: RFC 3527 link selection picks the network over giaddr", () => {
    const h = harness();
    const relayed = request({ mac: MAC_A, type: MessageType.Discover, giaddr: "192.0.2.1", options: [[Opt.RelayAgentInfo, Uint8Array.of(5, 4, 10, 90, 0, 0)]] });
    expect(replyOf(h.decide(relayed)).yiaddr).toBe("10.90.0.100");
  });

  test("D17: unknown architectures, IA32 and ARM64 without builds, and denied nodes get /netboot-not-allowed", () => {
    // A new xid each time, or the transaction cache answers with the first reply.
    const arch = (code: number) =>
      fixtureWith(ovmfEdk2Discover, (p) => {
        p.options.set(Opt.ClientArch, Uint8Array.of(0, code));
        p.xid = code;
      });
    const h = harness();
    for (const code of [2, 6, 10, 11, 25]) {
      const offer = replyOf(h.decide(arch(code)));
      expect(offer.file, `arch ${code}`).toBe(NETBOOT_NOT_ALLOWED);
      expect(offer.yiaddr).not.toBe("0.0.0.0");
    }
    expect(h.observer.events.at(-1)!.detail).toContain("architecture 25");
    const withBuilds = harness({ bootFiles: { efi32: "ipxe-i386.efi", arm64: "snponly-arm64.efi" } });
    expect(replyOf(withBuilds.decide(arch(6))).file).toBe("ipxe-i386.efi");
    expect(replyOf(withBuilds.decide(arch(11))).file).toBe("snponly-arm64.efi");
    expect(replyOf(withBuilds.decide(arch(9))).file).toBe("snponly.efi");
    const denied = harness({ hosts: { "52:54:00:77:00:02": { node: "n02", hostname: "n02", netbootDenied: true } } });
    expect(replyOf(denied.decide(ovmfEdk2Discover)).file).toBe(NETBOOT_NOT_ALLOWED);
  });

  test("a node's bootfile overrides the firmware binary but never the iPXE script", () => {
    const h = harness({ hosts: { "52:54:00:77:00:02": { node: "n02", hostname: "n02", bootfile: "snp-nolacp.efi" } } });
    expect(replyOf(h.decide(ovmfEdk2Discover)).file).toBe("snp-nolacp.efi");
    expect(replyOf(h.decide(ipxeEfiDiscover)).file).toContain(".ipxe");
  });

  test("every real-client fixture is decided without throwing", () => {
    const h = harness();
    for (const fixture of CLIENT_FIXTURES) expect(() => h.decide(fixture.bytes), fixture.name).not.toThrow();
  });
});

describe("D16: proxy mode", () => {
  test("BIOS PXE DISCOVER: offer without yiaddr, 54, 60 PXEClient, 97, 43 = 06 01 08 ff, undionly.kpxe", () => {
    const h = harness({ mode: "proxy" });
    const offer = replyOf(h.decide(pixiecoreBiosDiscover));
    expect(typeOf(offer.decision)).toBe(MessageType.Offer);
    expect(offer).toMatchObject({ yiaddr: "0.0.0.0", siaddr: SERVER_IP, file: "undionly.kpxe" });
    expect(getIpv4(offer, Opt.ServerId)).toBe(SERVER_IP);
    expect(getString(offer, Opt.VendorClass)).toBe("PXEClient");
    expect(offer.options.has(Opt.ClientUuid)).toBe(true);
    expect(toHex(offer.options.get(Opt.VendorSpecific)!)).toBe("06 01 08 ff");
    for (const code of [Opt.LeaseTime, Opt.SubnetMask, Opt.Router]) expect(offer.options.has(code)).toBe(false);
    expect(offer.decision.to).toEqual(BROADCAST);
    expect(h.leases.size).toBe(0);
    expect(h.observer.kinds()).toEqual(["proxy-offer"]);
  });

  test("EFI DISCOVER: no 43, so the firmware goes to 4011, where its REQUEST gets an ACK with the file", () => {
    const h = harness({ mode: "proxy" });
    const offer = replyOf(h.decide(ovmfEdk2Discover));
    expect(offer.options.has(Opt.VendorSpecific)).toBe(false);
    expect(offer.yiaddr).toBe("0.0.0.0");
    const binlRequest = fixtureWith(ovmfEdk2Request, (p) => {
      p.ciaddr = "10.77.0.60";
      p.flags = 0;
    });
    const source = { address: "10.77.0.60", port: 68 };
    const ack = replyOf(h.decide(binlRequest, { ...BR0, binl: true }, source));
    expect(typeOf(ack.decision)).toBe(MessageType.Ack);
    expect(ack).toMatchObject({ file: "snponly.efi", yiaddr: "0.0.0.0", ciaddr: "10.77.0.60", siaddr: SERVER_IP });
    expect(getIpv4(ack, Opt.ServerId)).toBe(SERVER_IP);
    expect(ack.decision.to).toEqual({ address: "10.77.0.60", port: 68, broadcast: false });
    expect(h.observer.kinds()).toEqual(["proxy-offer", "proxy-ack"]);
  });

  test("iPXE gets the script URL; REQUESTs on 67 and non-PXE clients are left to the real DHCP server", () => {
    const h = harness({ mode: "proxy" });
    const offer = replyOf(h.decide(seabiosIpxeDiscover));
    expect(offer.file).toContain(".ipxe");
    expect(toHex(offer.options.get(Opt.Ipxe)!)).toBe("b0 01 01 ff");
    expect(h.decide(ovmfEdk2Request)).toMatchObject({ action: "ignore", reason: "unexpected-type" });
    expect(h.decide(request({ mac: MAC_A, type: MessageType.Discover }))).toMatchObject({ action: "ignore", reason: "not-pxe" });
    expect(h.decide(ovmfEdk2Discover, { ...BR0, binl: true })).toMatchObject({ action: "ignore", reason: "unexpected-type" });
  });

  test("retransmitted proxy DISCOVERs come from the cache", () => {
    const h = harness({ mode: "proxy" });
    h.decide(ovmfEdk2Discover);
    expect(h.decide(ovmfEdk2Discover)).toMatchObject({ action: "reply", retransmit: true });
    expect(h.directory.hostLookups).toBe(1);
  });
});
