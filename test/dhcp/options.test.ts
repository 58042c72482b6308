import { describe, expect, test } from "vitest";
import { decodePacket, encodePacket } from "../../server/dhcp/codec.ts";
import { DhcpEncodeError } from "../../server/dhcp/errors.ts";
import {
  IpxeFeature,
  IpxeSub,
  MessageType,
  Opt,
  PxeSub,
  RelaySub,
  buildIpxeOptions,
  buildPxeVendorOptions,
  decodeSubOptions,
  decodeUserClass,
  encodeSubOptions,
  encodeUserClass,
  getClientArchs,
  getClientId,
  getClientNdi,
  getClientUuid,
  getIpv4,
  getIpv4List,
  getIpxeFeatures,
  getIpxeOptions,
  getMessageType,
  getParameterRequestList,
  getRelayAgentInfo,
  getString,
  getU16,
  getU32,
  getU8,
  getUserClass,
  getVendorClass,
  requestsOption,
  setIpv4,
  setIpv4List,
  setMessageType,
  setString,
  setU16,
  setU32,
  setU8,
  setUserClass,
} from "../../server/dhcp/options.ts";
import { createPacket } from "../../server/dhcp/packet.ts";
import {
  ipxeEfiDiscover,
  ovmfEdk2Request,
  pixiecoreDhcpOffer,
  pixiecoreProxyOffer,
  seabiosIpxeDiscover,
  seabiosIpxeRequest,
} from "./fixtures/clients.ts";
import { hex, toHex } from "./fixtures/hex.ts";

describe("scalar and address options", () => {
  test("read the site DHCP server's offer", () => {
    const p = decodePacket(pixiecoreDhcpOffer);
    expect(getMessageType(p)).toBe(MessageType.Offer);
    expect(getIpv4(p, Opt.SubnetMask)).toBe("255.255.255.0");
    expect(getIpv4List(p, Opt.Router)).toEqual(["192.168.16.1"]);
    expect(getU32(p, Opt.LeaseTime)).toBe(3600);
    expect(getU32(p, Opt.RebindingTime)).toBe(3150);
    expect(getString(p, Opt.DomainName)).toBe("home.universe.tf");
  });

  test("read a REQUEST's server id, requested address and max size", () => {
    const p = decodePacket(ovmfEdk2Request);
    expect(getMessageType(p)).toBe(MessageType.Request);
    expect(getIpv4(p, Opt.ServerId)).toBe("10.77.0.1");
    expect(getIpv4(p, Opt.RequestedAddress)).toBe("10.77.0.101");
    expect(getU16(p, Opt.MaxMessageSize)).toBe(65280);
  });

  test("return undefined for absent or wrongly sized options", () => {
    const p = createPacket();
    p.options.set(Opt.ServerId, hex("0a4d00"));
    p.options.set(Opt.Router, hex("0a4d0001 0a"));
    p.options.set(Opt.MessageType, hex("09"));
    expect(getIpv4(p, Opt.ServerId)).toBeUndefined();
    expect(getIpv4List(p, Opt.Router)).toBeUndefined();
    expect(getMessageType(p)).toBeUndefined();
    expect(getU8(p, Opt.InterfaceMtu)).toBeUndefined();
    expect(getU16(p, Opt.ServerId)).toBeUndefined();
    expect(getU32(p, Opt.MessageType)).toBeUndefined();
    expect(getString(p, Opt.HostName)).toBeUndefined();
  });

  test("setters write network byte order and survive a round trip", () => {
    const p = createPacket();
    setMessageType(p, MessageType.Ack);
    setU8(p, 19, 1);
    setU16(p, Opt.InterfaceMtu, 1500);
    setU32(p, Opt.LeaseTime, 86400);
    setIpv4(p, Opt.ServerId, "10.77.0.1");
    setIpv4List(p, Opt.DnsServer, ["10.77.0.1", "9.9.9.9"]);
    setString(p, Opt.HostName, "node-01");
    expect(toHex(p.options.get(Opt.LeaseTime)!)).toBe("00 01 51 80");
    expect(toHex(p.options.get(Opt.InterfaceMtu)!)).toBe("05 dc");
    const back = decodePacket(encodePacket(p));
    expect(getMessageType(back)).toBe(MessageType.Ack);
    expect(getU8(back, 19)).toBe(1);
    expect(getU16(back, Opt.InterfaceMtu)).toBe(1500);
    expect(getU32(back, Opt.LeaseTime)).toBe(86400);
    expect(getIpv4List(back, Opt.DnsServer)).toEqual(["10.77.0.1", "9.9.9.9"]);
    expect(getString(back, Opt.HostName)).toBe("node-01");
  });

  test("setters refuse values the wire cannot carry", () => {
    const p = createPacket();
    expect(() => setU8(p, 19, 256)).toThrow(DhcpEncodeError);
    expect(() => setU16(p, 26, -1)).toThrow(DhcpEncodeError);
    expect(() => setU32(p, 51, 2 ** 32)).toThrow(DhcpEncodeError);
    expect(() => setIpv4(p, 54, "10.77.0.1.5")).toThrow(DhcpEncodeError);
    expect(() => setIpv4List(p, 6, ["10.77.0.1", "::1"])).toThrow(DhcpEncodeError);
  });

  test("drops the trailing NUL some clients put on strings", () => {
    const p = createPacket();
    p.options.set(Opt.HostName, hex(`"win10" 00`));
    expect(getString(p, Opt.HostName)).toBe("win10");
  });
});

describe("client identification options", () => {
  test("parameter request list", () => {
    const p = decodePacket(seabiosIpxeDiscover);
    expect([...getParameterRequestList(p)!]).toEqual([
      1, 3, 6, 7, 12, 15, 17, 26, 43, 60, 66, 67, 119, 128, 129, 130, 131, 132, 133, 134, 135, 175, 203,
    ]);
    expect(requestsOption(p, Opt.BootfileName)).toBe(true);
    expect(requestsOption(p, Opt.ClientUuid)).toBe(false);
    expect(requestsOption(createPacket(), Opt.BootfileName)).toBe(false);
  });

  test("client id, vendor class, arch, NDI", () => {
    const p = decodePacket(ipxeEfiDiscover);
    expect(toHex(getClientId(p)!)).toBe("01 52 54 00 77 00 02");
    expect(getVendorClass(p)).toBe("PXEClient:Arch:00007:UNDI:003010");
    expect(getClientArchs(p)).toEqual([7]);
    expect(getClientNdi(p)).toEqual({ type: 1, major: 3, minor: 10 });
  });

  test("option 93 may list several architectures", () => {
    const p = createPacket();
    p.options.set(Opt.ClientArch, hex("0007 0010"));
    expect(getClientArchs(p)).toEqual([7, 16]);
    p.options.set(Opt.ClientArch, hex("00"));
    expect(getClientArchs(p)).toBeUndefined();
  });

  test("UUID in wire order and in GUID order", () => {
    const uuid = getClientUuid(decodePacket(seabiosIpxeRequest))!;
    expect(uuid.type).toBe(0);
    expect(uuid.text).toBe("11111111-2222-3333-4444-555555555501");
    expect(uuid.guidText).toBe("11111111-2222-3333-4444-555555555501");
    const p = createPacket();
    p.options.set(Opt.ClientUuid, hex("00 33221100 5544 7766 8899 aabbccddeeff"));
    expect(getClientUuid(p)).toMatchObject({
      text: "33221100-5544-7766-8899-aabbccddeeff",
      guidText: "00112233-4455-6677-8899-aabbccddeeff",
    });
    p.options.set(Opt.ClientUuid, hex("00 0102"));
    expect(getClientUuid(p)).toBeUndefined();
  });
});

describe("user class (77)", () => {
  test("iPXE's raw form", () => {
    expect(getUserClass(decodePacket(seabiosIpxeDiscover))).toEqual(["iPXE"]);
    expect(decodeUserClass(hex(`"iPXE"`))).toEqual(["iPXE"]);
  });

  test("RFC 3004 length-prefixed, one or several classes", () => {
    expect(decodeUserClass(hex(`04 "iPXE"`))).toEqual(["iPXE"]);
    expect(decodeUserClass(hex(`04 "iPXE" 05 "provd"`))).toEqual(["iPXE", "provd"]);
  });

  test("falls back to raw when the prefixes do not add up", () => {
    expect(decodeUserClass(hex(`04 "iPXE" 09 "x"`))).toEqual(["\u0004iPXE\tx"]);
    expect(decodeUserClass(hex(`00 "ab"`))).toEqual(["\u0000ab"]);
    expect(decodeUserClass(new Uint8Array(0))).toEqual([]);
  });

  test("encodes either form", () => {
    expect(toHex(encodeUserClass(["iPXE"], "raw"))).toBe("69 50 58 45");
    expect(toHex(encodeUserClass(["iPXE", "provd"], "rfc3004"))).toBe(toHex(hex(`04 "iPXE" 05 "provd"`)));
    expect(() => encodeUserClass(["a", "b"], "raw")).toThrow(DhcpEncodeError);
    expect(() => encodeUserClass([""], "rfc3004")).toThrow(DhcpEncodeError);
    const p = createPacket();
    setUserClass(p, ["provd"]);
    expect(getUserClass(p)).toEqual(["provd"]);
  });
});

describe("encapsulated options", () => {
  test("43 for BIOS PXE: discovery control 8, END", () => {
    expect(toHex(buildPxeVendorOptions())).toBe("06 01 08 ff");
    expect(toHex(buildPxeVendorOptions(3))).toBe("06 01 03 ff");
  });

  test("175 with no-pxedhcp: b0 01 01 ff", () => {
    expect(toHex(buildIpxeOptions({ noPxeDhcp: true }))).toBe("b0 01 01 ff");
    expect(toHex(buildIpxeOptions({}))).toBe("ff");
  });

  test("decodes pixiecore's 43 boot menu", () => {
    const subs = decodeSubOptions(decodePacket(pixiecoreProxyOffer).options.get(Opt.VendorSpecific)!)!;
    expect([...subs.keys()]).toEqual([PxeSub.DiscoveryControl, PxeSub.BootServers, PxeSub.BootMenu, PxeSub.MenuPrompt]);
    expect(toHex(subs.get(PxeSub.BootServers)!)).toBe("80 00 01 c0 a8 10 0a");
  });

  test("decodes iPXE's 175 and its feature flags", () => {
    const p = decodePacket(seabiosIpxeDiscover);
    const subs = getIpxeOptions(p)!;
    expect(toHex(subs.get(IpxeSub.BusId)!)).toBe("01 1a f4 10 00");
    expect(toHex(subs.get(IpxeSub.Version)!)).toBe("01 00 00");
    const features = getIpxeFeatures(p);
    expect(features.has(IpxeFeature.Http)).toBe(true);
    expect(features.has(IpxeFeature.Https)).toBe(false);
    expect(features.has(IpxeFeature.PxeExt)).toBe(true);
    expect(getIpxeFeatures(decodePacket(ipxeEfiDiscover)).has(IpxeFeature.Efi)).toBe(true);
    expect(getIpxeFeatures(createPacket()).size).toBe(0);
  });

  test("sub-option framing: PAD and END in 43/175, ordinary codes in 82", () => {
    expect([...decodeSubOptions(hex("00 06 01 08 ff 09 01 01"))!.keys()]).toEqual([6]);
    const relay = createPacket();
    relay.options.set(Opt.RelayAgentInfo, hex("01 03 657468 00 01 07 ff 00"));
    const info = getRelayAgentInfo(relay)!;
    expect(toHex(info.get(RelaySub.CircuitId)!)).toBe("65 74 68");
    expect(toHex(info.get(0)!)).toBe("07");
    expect(toHex(info.get(255)!)).toBe("");
  });

  test("malformed sub-options give undefined, not an exception", () => {
    expect(decodeSubOptions(hex("06 05 08"))).toBeUndefined();
    expect(decodeSubOptions(hex("06"))).toBeUndefined();
    expect(decodeSubOptions(hex("01 09"), "plain")).toBeUndefined();
    const p = createPacket();
    p.options.set(Opt.Ipxe, hex("b1 09 01"));
    expect(getIpxeOptions(p)).toBeUndefined();
    expect(getIpxeFeatures(p).size).toBe(0);
  });

  test("encodeSubOptions writes TLVs and refuses oversized values", () => {
    expect(toHex(encodeSubOptions([[RelaySub.CircuitId, hex("6574")]], "plain"))).toBe("01 02 65 74");
    expect(toHex(encodeSubOptions([[9, hex("0000")], [10, hex("01")]]))).toBe("09 02 00 00 0a 01 01 ff");
    expect(() => encodeSubOptions([[1, new Uint8Array(256)]])).toThrow(DhcpEncodeError);
    expect(() => encodeSubOptions([[256, new Uint8Array(1)]])).toThrow(DhcpEncodeError);
  });
});
