import { describe, expect, test } from "vitest";
import { describeArch } from "../../server/dhcp/arch.ts";
import { decodePacket } from "../../server/dhcp/codec.ts";
import { IpxeFeature, Opt } from "../../server/dhcp/options.ts";
import { createPacket, type DhcpPacket } from "../../server/dhcp/packet.ts";
import { classifyClient, clientKey } from "../../server/dhcp/pxe.ts";
import {
  edk2HttpBootDiscover,
  ipxeEfiDiscover,
  ipxeEfiRequest,
  ovmfEdk2Discover,
  ovmfEdk2Request,
  pixiecoreBiosDiscover,
  pixiecoreRelayedRequest,
  seabiosIpxeDiscover,
  seabiosIpxeRequest,
} from "./fixtures/clients.ts";
import { hex } from "./fixtures/hex.ts";

function withOptions(bytes: Uint8Array, change: (options: Map<number, Uint8Array>) => void): DhcpPacket {
  const p = decodePacket(bytes);
  change(p.options);
  return p;
}

describe("classifyClient on real clients", () => {
  test("SeaBIOS iPXE ROM: BIOS x86, already iPXE", () => {
    for (const bytes of [seabiosIpxeDiscover, seabiosIpxeRequest]) {
      expect(classifyClient(decodePacket(bytes))).toMatchObject({
        netboot: true,
        arch: "x86",
        archCode: 0,
        firmware: "bios",
        httpBoot: false,
        ipxe: true,
        provdIpxe: false,
        uuid: "11111111-2222-3333-4444-555555555501",
        vendorClass: "PXEClient:Arch:00000:UNDI:002001",
        userClass: ["iPXE"],
      });
    }
  });

  test("OVMF EDK2: UEFI x64, not iPXE", () => {
    for (const bytes of [ovmfEdk2Discover, ovmfEdk2Request]) {
      const c = classifyClient(decodePacket(bytes));
      expect(c).toMatchObject({
        netboot: true,
        arch: "x64",
        archCode: 7,
        firmware: "uefi",
        httpBoot: false,
        ipxe: false,
        uuid: "11111111-2222-3333-4444-555555555502",
      });
      expect(c.userClass).toBeUndefined();
      expect(c.ipxeFeatures.size).toBe(0);
    }
  });

  test("iPXE snponly.efi: UEFI x64 iPXE that can do HTTP but not HTTPS", () => {
    for (const bytes of [ipxeEfiDiscover, ipxeEfiRequest]) {
      const c = classifyClient(decodePacket(bytes));
      expect(c).toMatchObject({ netboot: true, arch: "x64", archCode: 7, firmware: "uefi", ipxe: true });
      expect(c.ipxeFeatures.has(IpxeFeature.Http)).toBe(true);
      expect(c.ipxeFeatures.has(IpxeFeature.Https)).toBe(false);
      expect(c.ipxeFeatures.has(IpxeFeature.Efi)).toBe(true);
    }
  });

  test("arch 16 is UEFI HTTP boot", () => {
    expect(classifyClient(decodePacket(edk2HttpBootDiscover))).toMatchObject({
      netboot: true,
      arch: "x64",
      archCode: 16,
      firmware: "uefi",
      httpBoot: true,
      ipxe: false,
      vendorClass: "HTTPClient:Arch:00016:UNDI:003000",
    });
  });

  test("pixiecore capture: a physical BIOS PXE ROM", () => {
    expect(classifyClient(decodePacket(pixiecoreBiosDiscover))).toMatchObject({
      netboot: true,
      arch: "x86",
      firmware: "bios",
      ipxe: false,
      uuid: "00020003-0004-0005-0006-000700080009",
    });
  });

  test("an ordinary OS client is not a netboot client", () => {
    expect(classifyClient(decodePacket(pixiecoreRelayedRequest))).toMatchObject({
      netboot: false,
      arch: "unknown",
      archCode: undefined,
      firmware: "unknown",
      ipxe: false,
    });
  });

  test("plain PXE, iPXE and provd's own iPXE are three different clients (D5)", () => {
    const provd = withOptions(ipxeEfiDiscover, (o) => o.set(Opt.UserClass, hex(`"provd"`)));
    const kinds = [ovmfEdk2Discover, ipxeEfiDiscover].map((b) => classifyClient(decodePacket(b)));
    kinds.push(classifyClient(provd));
    expect(kinds.map((c) => [c.ipxe, c.provdIpxe])).toEqual([[false, false], [true, false], [true, true]]);
  });
});

describe("iPXE detection", () => {
  test("user class iPXE in RFC 3004 form, without 175", () => {
    const p = withOptions(ovmfEdk2Discover, (o) => o.set(Opt.UserClass, hex(`04 "iPXE"`)));
    expect(classifyClient(p).ipxe).toBe(true);
  });

  test("user class iPXE among several RFC 3004 classes", () => {
    const p = withOptions(ovmfEdk2Discover, (o) => o.set(Opt.UserClass, hex(`05 "other" 04 "iPXE"`)));
    expect(classifyClient(p)).toMatchObject({ ipxe: true, userClass: ["other", "iPXE"] });
  });

  test("any option 175, even without a user class", () => {
    const p = withOptions(seabiosIpxeDiscover, (o) => o.delete(Opt.UserClass));
    expect(classifyClient(p).ipxe).toBe(true);
    const empty = withOptions(ovmfEdk2Discover, (o) => o.set(Opt.Ipxe, new Uint8Array(0)));
    expect(classifyClient(empty).ipxe).toBe(true);
  });

  test("a user class that merely contains the letters is not iPXE", () => {
    const p = withOptions(ovmfEdk2Discover, (o) => o.set(Opt.UserClass, hex(`"iPXE-like"`)));
    expect(classifyClient(p).ipxe).toBe(false);
  });
});

describe("netboot test (D3)", () => {
  test("97 absent is fine (Intel ROMs without it)", () => {
    const p = withOptions(pixiecoreBiosDiscover, (o) => o.delete(Opt.ClientUuid));
    const c = classifyClient(p);
    expect(c.netboot).toBe(true);
    expect(c.uuid).toBeUndefined();
  });

  test("97 of the wrong size or type disqualifies", () => {
    expect(classifyClient(withOptions(ovmfEdk2Discover, (o) => o.set(Opt.ClientUuid, hex("00 0102")))).netboot).toBe(false);
    expect(classifyClient(withOptions(ovmfEdk2Discover, (o) => o.set(Opt.ClientUuid, hex("01 00*16")))).netboot).toBe(false);
  });

  test("94 absent is tolerated", () => {
    expect(classifyClient(withOptions(ovmfEdk2Discover, (o) => o.delete(Opt.ClientNdi))).netboot).toBe(true);
  });

  test("93 absent falls back to the Arch field of option 60", () => {
    const c = classifyClient(withOptions(ovmfEdk2Discover, (o) => o.delete(Opt.ClientArch)));
    expect(c).toMatchObject({ netboot: true, archCode: 7, arch: "x64" });
  });

  test("no 93 and no arch in 60 is not a netboot client", () => {
    const p = withOptions(ovmfEdk2Discover, (o) => {
      o.delete(Opt.ClientArch);
      o.set(Opt.VendorClass, hex(`"PXEClient"`));
    });
    expect(classifyClient(p)).toMatchObject({ netboot: false, archCode: undefined });
  });

  test("option 60 must start with a boot-client prefix", () => {
    expect(classifyClient(withOptions(ovmfEdk2Discover, (o) => o.delete(Opt.VendorClass))).netboot).toBe(false);
    const hw = withOptions(ovmfEdk2Discover, (o) => o.set(Opt.VendorClass, hex(`"HW-Client:Arch:00007"`)));
    expect(classifyClient(hw).netboot).toBe(false);
    expect(classifyClient(hw, { vendorPrefixes: ["PXEClient", "HW-Client"] }).netboot).toBe(true);
  });

  test("HTTPClient in 60 marks HTTP boot even with a plain UEFI arch", () => {
    const p = withOptions(ovmfEdk2Discover, (o) => o.set(Opt.VendorClass, hex(`"HTTPClient:Arch:00007:UNDI:003000"`)));
    expect(classifyClient(p)).toMatchObject({ netboot: true, httpBoot: true });
  });

  test("the first of several 93 codes decides", () => {
    const p = withOptions(ovmfEdk2Discover, (o) => o.set(Opt.ClientArch, hex("000b 0007")));
    expect(classifyClient(p)).toMatchObject({ archCode: 11, arch: "arm64" });
  });

  test("never throws on a bare packet", () => {
    expect(classifyClient(createPacket())).toMatchObject({ netboot: false, arch: "unknown", ipxe: false });
  });
});

describe("option 93 table", () => {
  test.each([
    [0, "x86", "bios", false],
    [6, "ia32", "uefi", false],
    [7, "x64", "uefi", false],
    [9, "x64", "uefi", false],
    [10, "arm32", "uefi", false],
    [11, "arm64", "uefi", false],
    [15, "ia32", "uefi", true],
    [16, "x64", "uefi", true],
    [18, "arm32", "uefi", true],
    [19, "arm64", "uefi", true],
    [20, "x86", "bios", true],
    [22, "arm64", "uboot", false],
    [27, "riscv64", "uefi", false],
    [28, "riscv64", "uefi", true],
    [41, "arm64", "rpiboot", false],
    [999, "unknown", "unknown", false],
  ] as const)("code %i → %s %s http=%s", (code, arch, firmware, httpBoot) => {
    expect(describeArch(code)).toEqual({ arch, firmware, httpBoot });
  });
});

describe("clientKey (D12)", () => {
  test("EDK2 (no 61) and the iPXE it chains to (61 = 01+MAC) share one key", () => {
    const keys = [ovmfEdk2Discover, ovmfEdk2Request, ipxeEfiDiscover, ipxeEfiRequest].map((b) => clientKey(decodePacket(b)));
    expect(new Set(keys)).toEqual(new Set(["52:54:00:77:00:02"]));
  });

  test("different machines get different keys", () => {
    expect(clientKey(decodePacket(seabiosIpxeDiscover))).toBe("52:54:00:77:00:01");
    expect(clientKey(decodePacket(pixiecoreRelayedRequest))).toBe("00:24:d7:ba:0b:20");
  });

  test("an opaque client id is kept as such", () => {
    const p = withOptions(ovmfEdk2Discover, (o) => o.set(Opt.ClientId, hex(`00 "node-7"`)));
    expect(clientKey(p)).toBe("id:00:6e:6f:64:65:2d:37");
    const duid = withOptions(ovmfEdk2Discover, (o) => o.set(Opt.ClientId, hex("ff 00000001 0002 0001aabb")));
    expect(clientKey(duid)).toMatch(/^id:ff:/);
  });

  test("non-Ethernet hardware addresses carry their type", () => {
    const p = createPacket({ htype: 32, hlen: 0, chaddr: new Uint8Array(16) });
    p.options.set(Opt.ClientId, hex("20 0102030405060708"));
    expect(clientKey(p)).toBe("id:20:01:02:03:04:05:06:07:08");
    const q = createPacket({ htype: 6, hlen: 6, chaddr: hex("0a0b0c0d0e0f 00*10") });
    expect(clientKey(q)).toBe("hw6:0a:0b:0c:0d:0e:0f");
    q.options.set(Opt.ClientId, hex("06 0a0b0c0d0e0f"));
    expect(clientKey(q)).toBe("hw6:0a:0b:0c:0d:0e:0f");
  });
});
