import { DhcpEncodeError } from "./errors.ts";
import { formatIpv4, writeIpv4 } from "./ipv4.ts";
import type { HasOptions } from "./packet.ts";

/** Option codes provd reads or writes (RFC 2132 unless noted). */
export const Opt = {
  Pad: 0,
  SubnetMask: 1,
  TimeOffset: 2,
  Router: 3,
  DnsServer: 6,
  LogServer: 7,
  HostName: 12,
  BootFileSize: 13,
  DomainName: 15,
  RootPath: 17,
  InterfaceMtu: 26,
  BroadcastAddress: 28,
  NtpServer: 42,
  VendorSpecific: 43,
  RequestedAddress: 50,
  LeaseTime: 51,
  Overload: 52,
  MessageType: 53,
  ServerId: 54,
  ParameterRequestList: 55,
  Message: 56,
  MaxMessageSize: 57,
  RenewalTime: 58,
  RebindingTime: 59,
  VendorClass: 60,
  ClientId: 61,
  TftpServerName: 66,
  BootfileName: 67,
  /** RFC 3004. */
  UserClass: 77,
  /** RFC 3046. */
  RelayAgentInfo: 82,
  /** RFC 4578: client system architecture, client network interface, client machine UUID. */
  ClientArch: 93,
  ClientNdi: 94,
  ClientUuid: 97,
  /** RFC 3397. */
  DomainSearch: 119,
  /** iPXE's encapsulated options ("Etherboot"). */
  Ipxe: 175,
  IscsiInitiatorIqn: 203,
  End: 255,
} as const;

/** Option 53 values (RFC 2132 §9.6). */
export const MessageType = {
  Discover: 1,
  Offer: 2,
  Request: 3,
  Decline: 4,
  Ack: 5,
  Nak: 6,
  Release: 7,
  Inform: 8,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

// Getters return undefined when the option is absent or has the wrong shape; they never throw.
// Setters throw DhcpEncodeError for a value that cannot be represented on the wire.

export function getU8(p: HasOptions, code: number): number | undefined {
  const v = p.options.get(code);
  return v?.length === 1 ? v[0] : undefined;
}

export function setU8(p: HasOptions, code: number, value: number): void {
  checkRange(value, 0xff, code);
  p.options.set(code, Uint8Array.of(value));
}

export function getU16(p: HasOptions, code: number): number | undefined {
  const v = p.options.get(code);
  return v?.length === 2 ? (v[0]! << 8) | v[1]! : undefined;
}

export function setU16(p: HasOptions, code: number, value: number): void {
  checkRange(value, 0xffff, code);
  p.options.set(code, Uint8Array.of(value >>> 8, value & 0xff));
}

export function getU32(p: HasOptions, code: number): number | undefined {
  const v = p.options.get(code);
  return v?.length === 4 ? ((v[0]! << 24) | (v[1]! << 16) | (v[2]! << 8) | v[3]!) >>> 0 : undefined;
}

export function setU32(p: HasOptions, code: number, value: number): void {
  checkRange(value, 0xffffffff, code);
  p.options.set(code, Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff));
}

export function getIpv4(p: HasOptions, code: number): string | undefined {
  const v = p.options.get(code);
  return v?.length === 4 ? formatIpv4(v) : undefined;
}

export function setIpv4(p: HasOptions, code: number, addr: string): void {
  setIpv4List(p, code, [addr]);
}

/** An address-list option (3, 6, 42, ...): a non-empty multiple of 4 bytes. */
export function getIpv4List(p: HasOptions, code: number): string[] | undefined {
  const v = p.options.get(code);
  if (!v || v.length === 0 || v.length % 4 !== 0) return undefined;
  const out: string[] = [];
  for (let at = 0; at < v.length; at += 4) out.push(formatIpv4(v, at));
  return out;
}

export function setIpv4List(p: HasOptions, code: number, addrs: readonly string[]): void {
  const out = new Uint8Array(addrs.length * 4);
  addrs.forEach((addr, i) => {
    if (!writeIpv4(out, i * 4, addr)) throw new DhcpEncodeError(`option ${code}: "${addr}" is not an IPv4 address`);
  });
  p.options.set(code, out);
}

/** UTF-8 text; trailing NULs are dropped because some clients terminate option strings. */
export function getString(p: HasOptions, code: number): string | undefined {
  const v = p.options.get(code);
  return v === undefined ? undefined : decodeText(v);
}

export function setString(p: HasOptions, code: number, text: string): void {
  p.options.set(code, utf8Encoder.encode(text));
}

export function getMessageType(p: HasOptions): MessageType | undefined {
  const t = getU8(p, Opt.MessageType);
  return t !== undefined && t >= MessageType.Discover && t <= MessageType.Inform ? (t as MessageType) : undefined;
}

export function setMessageType(p: HasOptions, type: MessageType): void {
  setU8(p, Opt.MessageType, type);
}

/** Option 55 as the list of requested codes (a view). */
export function getParameterRequestList(p: HasOptions): Uint8Array | undefined {
  return p.options.get(Opt.ParameterRequestList);
}

/** Whether option 55 asks for `code` (dnsmasq sends 67 only when asked). */
export function requestsOption(p: HasOptions, code: number): boolean {
  return getParameterRequestList(p)?.includes(code) ?? false;
}

/** Option 61 raw bytes: usually a hardware type byte followed by the hardware address. */
export function getClientId(p: HasOptions): Uint8Array | undefined {
  const v = p.options.get(Opt.ClientId);
  return v && v.length > 0 ? v : undefined;
}

export function getVendorClass(p: HasOptions): string | undefined {
  return getString(p, Opt.VendorClass);
}

/** Option 77 as a list of classes, whichever encoding the client used (see decodeUserClass). */
export function getUserClass(p: HasOptions): string[] | undefined {
  const v = p.options.get(Opt.UserClass);
  return v === undefined ? undefined : decodeUserClass(v);
}

/**
 * RFC 3004 says 77 is a list of length-prefixed classes, but iPXE sends its class as bare text
 * ("iPXE", no length byte). A value that parses exactly as RFC 3004 is taken as such; anything
 * else is one raw class. A raw class whose first byte equals the length of the rest reads as
 * RFC 3004, but it then yields the same text minus that byte, which no real client relies on.
 */
export function decodeUserClass(value: Uint8Array): string[] {
  const classes: string[] = [];
  let at = 0;
  while (at < value.length) {
    const len = value[at]!;
    if (len === 0 || at + 1 + len > value.length) return [decodeText(value)];
    classes.push(decodeText(value.subarray(at + 1, at + 1 + len)));
    at += 1 + len;
  }
  return classes;
}

export type UserClassForm = "rfc3004" | "raw";

export function encodeUserClass(classes: readonly string[], form: UserClassForm): Uint8Array {
  if (form === "raw") {
    if (classes.length !== 1) throw new DhcpEncodeError("a raw user class holds exactly one class");
    return utf8Encoder.encode(classes[0]);
  }
  const parts = classes.map((c) => utf8Encoder.encode(c));
  const out = new Uint8Array(parts.reduce((n, part) => n + 1 + part.length, 0));
  let at = 0;
  for (const part of parts) {
    if (part.length === 0 || part.length > 255) throw new DhcpEncodeError("an RFC 3004 user class is 1-255 bytes");
    out[at] = part.length;
    out.set(part, at + 1);
    at += 1 + part.length;
  }
  return out;
}

export function setUserClass(p: HasOptions, classes: readonly string[], form: UserClassForm = "rfc3004"): void {
  p.options.set(Opt.UserClass, encodeUserClass(classes, form));
}

/** Option 93: one or more 16-bit architecture codes (RFC 4578 §2.1). */
export function getClientArchs(p: HasOptions): number[] | undefined {
  const v = p.options.get(Opt.ClientArch);
  if (!v || v.length === 0 || v.length % 2 !== 0) return undefined;
  const out: number[] = [];
  for (let at = 0; at < v.length; at += 2) out.push((v[at]! << 8) | v[at + 1]!);
  return out;
}

export interface ClientNdi {
  /** 1 = UNDI. */
  type: number;
  major: number;
  minor: number;
}

/** Option 94 (RFC 4578 §2.2), e.g. `01 03 0a` = UNDI 3.10. */
export function getClientNdi(p: HasOptions): ClientNdi | undefined {
  const v = p.options.get(Opt.ClientNdi);
  return v?.length === 3 ? { type: v[0]!, major: v[1]!, minor: v[2]! } : undefined;
}

export interface ClientUuid {
  /** 0 = GUID; RFC 4578 defines no other type. */
  type: number;
  /** The 16 identifier bytes (a view). */
  bytes: Uint8Array;
  /** The bytes in wire order, as QEMU's OVMF and iPXE sent them in the lab. */
  text: string;
  /** The first three fields byte-swapped (EFI GUID / SMBIOS order), which other firmware may use. */
  guidText: string;
}

/** Option 97: a type byte and 16 bytes (RFC 4578 §2.3). Match a node on `text` or `guidText`. */
export function getClientUuid(p: HasOptions): ClientUuid | undefined {
  const v = p.options.get(Opt.ClientUuid);
  if (v?.length !== 17) return undefined;
  const bytes = v.subarray(1);
  return { type: v[0]!, bytes, text: uuidText(bytes, false), guidText: uuidText(bytes, true) };
}

const GUID_BYTE_ORDER = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15] as const;

function uuidText(bytes: Uint8Array, guidOrder: boolean): string {
  let out = "";
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out += "-";
    out += bytes[guidOrder ? GUID_BYTE_ORDER[i]! : i]!.toString(16).padStart(2, "0");
  }
  return out;
}

// ---- Encapsulated options: 43 (PXE), 175 (iPXE), 82 (relay agent) ----

/**
 * 43 and 175 use DHCP framing inside (0 = PAD, 255 = END, which they end with);
 * 82's sub-options are plain TLVs where 0 and 255 are ordinary codes (RFC 3046).
 */
export type SubOptionFraming = "dhcp" | "plain";

/** Sub-options in order, repeated codes concatenated; undefined if a length runs past the end. */
export function decodeSubOptions(value: Uint8Array, framing: SubOptionFraming = "dhcp"): Map<number, Uint8Array> | undefined {
  const out = new Map<number, Uint8Array>();
  let at = 0;
  while (at < value.length) {
    const code = value[at]!;
    if (framing === "dhcp" && code === Opt.Pad) {
      at++;
      continue;
    }
    if (framing === "dhcp" && code === Opt.End) break;
    if (at + 1 >= value.length) return undefined;
    const next = at + 2 + value[at + 1]!;
    if (next > value.length) return undefined;
    const data = value.subarray(at + 2, next);
    const earlier = out.get(code);
    out.set(code, earlier ? concatBytes(earlier, data) : data);
    at = next;
  }
  return out;
}

/** Sub-options as TLVs, followed by END for "dhcp" framing. */
export function encodeSubOptions(
  subOptions: Iterable<readonly [number, Uint8Array]>,
  framing: SubOptionFraming = "dhcp",
): Uint8Array {
  const entries = [...subOptions];
  let size = framing === "dhcp" ? 1 : 0;
  for (const [code, data] of entries) {
    checkRange(code, 0xff, code);
    if (data.length > 255) throw new DhcpEncodeError(`sub-option ${code} is longer than 255 bytes`);
    size += 2 + data.length;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const [code, data] of entries) {
    out[at] = code;
    out[at + 1] = data.length;
    out.set(data, at + 2);
    at += 2 + data.length;
  }
  if (framing === "dhcp") out[at] = Opt.End;
  return out;
}

/** PXE 2.1 vendor sub-options carried in option 43. */
export const PxeSub = {
  MtftpIp: 1,
  MtftpClientPort: 2,
  MtftpServerPort: 3,
  MtftpTimeout: 4,
  MtftpDelay: 5,
  DiscoveryControl: 6,
  DiscoveryMulticast: 7,
  BootServers: 8,
  BootMenu: 9,
  MenuPrompt: 10,
  MulticastAllocation: 11,
  CredentialTypes: 12,
  BootItem: 71,
} as const;

/** PXE discovery control (43.6) bits. */
export const PxeDiscovery = {
  NoBroadcast: 1,
  NoMulticast: 2,
  OnlyListedServers: 4,
  /** Skip boot server discovery and boot the `file` we sent. */
  UseBootfile: 8,
} as const;

/** Option 43 telling a PXE ROM to boot `file` without boot server discovery: `06 01 08 ff`. */
export function buildPxeVendorOptions(discoveryControl: number = PxeDiscovery.UseBootfile): Uint8Array {
  return encodeSubOptions([[PxeSub.DiscoveryControl, Uint8Array.of(discoveryControl)]]);
}

/** iPXE settings carried in option 175 (iPXE's include/ipxe/dhcp.h). */
export const IpxeSub = {
  Priority: 0x01,
  KeepSan: 0x08,
  SkipSanBoot: 0x09,
  Scriptlet: 0x51,
  /** Don't wait for ProxyDHCP offers (saves iPXE 2-3 s per boot). */
  NoPxeDhcp: 0xb0,
  BusId: 0xb1,
  UseCached: 0xb2,
  Version: 0xeb,
} as const;

/** Feature markers (175 sub-options 0x10-0x4f) a client uses to announce what its build can do. */
export const IpxeFeature = {
  PxeExt: 0x10,
  Iscsi: 0x11,
  Aoe: 0x12,
  Http: 0x13,
  Https: 0x14,
  Tftp: 0x15,
  Ftp: 0x16,
  Dns: 0x17,
  BzImage: 0x18,
  Multiboot: 0x19,
  Slam: 0x1a,
  Srp: 0x1b,
  Nbi: 0x20,
  Pxe: 0x21,
  Elf: 0x22,
  Comboot: 0x23,
  Efi: 0x24,
  Fcoe: 0x25,
  Vlan: 0x26,
  Menu: 0x27,
  Sdi: 0x28,
  Nfs: 0x29,
} as const;

/** Option 175 for a reply to iPXE; `{ noPxeDhcp: true }` gives `b0 01 01 ff` (on the wire `af 04 b0 01 01 ff`). */
export function buildIpxeOptions(settings: { noPxeDhcp?: boolean }): Uint8Array {
  const subs: [number, Uint8Array][] = [];
  if (settings.noPxeDhcp) subs.push([IpxeSub.NoPxeDhcp, Uint8Array.of(1)]);
  return encodeSubOptions(subs);
}

/** Option 175 from a client, decoded; undefined if absent or malformed. */
export function getIpxeOptions(p: HasOptions): Map<number, Uint8Array> | undefined {
  const v = p.options.get(Opt.Ipxe);
  return v === undefined ? undefined : decodeSubOptions(v);
}

/** Feature markers the client set to a non-zero version. */
export function getIpxeFeatures(p: HasOptions): Set<number> {
  const features = new Set<number>();
  const subs = getIpxeOptions(p);
  if (!subs) return features;
  for (const [code, data] of subs) {
    if (code >= 0x10 && code <= 0x4f && data.length > 0 && data[0] !== 0) features.add(code);
  }
  return features;
}

/** RFC 3046 / 3527 relay agent sub-options in option 82. */
export const RelaySub = {
  CircuitId: 1,
  RemoteId: 2,
  LinkSelection: 5,
  SubscriberId: 6,
  ServerIdOverride: 11,
} as const;

export function getRelayAgentInfo(p: HasOptions): Map<number, Uint8Array> | undefined {
  const v = p.options.get(Opt.RelayAgentInfo);
  return v === undefined ? undefined : decodeSubOptions(v, "plain");
}

function decodeText(bytes: Uint8Array): string {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return utf8Decoder.decode(bytes.subarray(0, end));
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function checkRange(value: number, max: number, code: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new DhcpEncodeError(`option ${code}: ${value} is not an integer 0-${max}`);
  }
}
