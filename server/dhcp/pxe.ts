import { describeArch, type ArchName, type Firmware } from "./arch.ts";
import {
  Opt,
  getClientArchs,
  getClientId,
  getClientUuid,
  getIpxeFeatures,
  getUserClass,
  getVendorClass,
} from "./options.ts";
import { HTYPE_ETHERNET, formatHardwareAddress, hardwareAddress, type DhcpPacket } from "./packet.ts";

export type { ArchName, Firmware } from "./arch.ts";

/** Option 60 prefixes of network-boot clients; dnsmasq's --dhcp-pxe-vendor shows others exist. */
export const DEFAULT_VENDOR_PREFIXES: readonly string[] = ["PXEClient", "HTTPClient"];

/** The user class the embedded script of provd's own iPXE builds sets. */
export const PROVD_USER_CLASS = "provd";

const IPXE_USER_CLASS = "iPXE";

export interface ClientClass {
  /** Looks like PXE or UEFI HTTP boot firmware (checklist D3). */
  netboot: boolean;
  arch: ArchName;
  /** First option 93 code, or the Arch field of option 60 when 93 is missing. */
  archCode: number | undefined;
  firmware: Firmware;
  httpBoot: boolean;
  /** Already running iPXE: must get a script URL, never another iPXE binary. */
  ipxe: boolean;
  /** One of provd's own iPXE builds (user class `provd`). */
  provdIpxe: boolean;
  /** iPXE feature markers from option 175 (see IpxeFeature), e.g. whether it can do HTTPS. */
  ipxeFeatures: ReadonlySet<number>;
  uuid?: string;
  vendorClass?: string;
  userClass?: string[];
}

export interface ClassifyOptions {
  vendorPrefixes?: readonly string[];
}

/** Reads what kind of boot client sent `p`. Pure; never throws on anything decodePacket returns. */
export function classifyClient(p: DhcpPacket, opts: ClassifyOptions = {}): ClientClass {
  const vendorClass = getVendorClass(p);
  const userClass = getUserClass(p);
  const archCode = getClientArchs(p)?.[0] ?? archFromVendorClass(vendorClass);
  const { arch, firmware, httpBoot } = describeArch(archCode);
  const uuid = getClientUuid(p);
  const ipxe = userClass?.includes(IPXE_USER_CLASS) === true || p.options.has(Opt.Ipxe);

  const result: ClientClass = {
    netboot: isNetbootClient(p, vendorClass, archCode, opts.vendorPrefixes ?? DEFAULT_VENDOR_PREFIXES),
    arch,
    archCode,
    firmware,
    httpBoot: httpBoot || vendorClass?.startsWith("HTTPClient") === true,
    ipxe,
    provdIpxe: userClass?.includes(PROVD_USER_CLASS) === true,
    ipxeFeatures: ipxe ? getIpxeFeatures(p) : EMPTY_SET,
  };
  if (uuid) result.uuid = uuid.text;
  if (vendorClass !== undefined) result.vendorClass = vendorClass;
  if (userClass !== undefined) result.userClass = userClass;
  return result;
}

const EMPTY_SET: ReadonlySet<number> = new Set();

/**
 * smee's IsNetbootClient (60 prefix, 93, 94, valid 97) with two deliberate relaxations:
 * - 94 may be missing. RFC 4578 requires it, but ROMs skip mandatory PXE options (Intel cards
 *   without 97, danderson/pixiecore#21) and nothing provd decides depends on 94's content.
 * - 93 may be missing if option 60 carries the architecture (`PXEClient:Arch:00007:...`),
 *   which is the same information in the PXE 2.1 spec's older place.
 * A 97 that is present but not 17 bytes of type 0 still disqualifies: that is a broken or foreign client.
 * Raspberry Pi 4 REQUESTs carry no option 60 at all (raspberrypi/rpi-eeprom#82); the server must
 * remember the DISCOVER's verdict for the transaction rather than re-deciding on the REQUEST.
 */
function isNetbootClient(
  p: DhcpPacket,
  vendorClass: string | undefined,
  archCode: number | undefined,
  prefixes: readonly string[],
): boolean {
  if (vendorClass === undefined || !prefixes.some((prefix) => vendorClass.startsWith(prefix))) return false;
  if (archCode === undefined) return false;
  const uuid = p.options.get(Opt.ClientUuid);
  return uuid === undefined || (uuid.length === 17 && uuid[0] === 0);
}

const VENDOR_ARCH = /^[A-Za-z]+Client:Arch:(\d{5})(?::|$)/;

function archFromVendorClass(vendorClass: string | undefined): number | undefined {
  const digits = vendorClass === undefined ? undefined : VENDOR_ARCH.exec(vendorClass)?.[1];
  return digits === undefined ? undefined : Number(digits);
}

/**
 * Who is asking, for keying transactions and leases together with xid (checklist D12): the client
 * identifier (61) when present, else the hardware address. A 61 that is a hardware type plus that
 * type's address (iPXE sends `01`+MAC) collapses to the address, so EDK2 (no 61) and the iPXE it
 * chains to share one key and one lease. Ethernet keys are the plain MAC (`52:54:00:77:00:01`),
 * other hardware types `hw<type>:<address>`, opaque identifiers `id:<hex>`; empty when the client
 * gives neither (hlen 0 and no 61), which the caller must not use as a key.
 */
export function clientKey(p: DhcpPacket): string {
  const id = getClientId(p);
  if (id === undefined) return hardwareKey(p.htype, hardwareAddress(p));
  const type = id[0]!;
  const isEthernetId = type === HTYPE_ETHERNET && id.length === 7;
  const isOwnHardwareId = type !== 0 && type === p.htype && id.length - 1 === p.hlen;
  if (isEthernetId || isOwnHardwareId) return hardwareKey(type, id.subarray(1));
  return `id:${formatHardwareAddress(id)}`;
}

function hardwareKey(htype: number, address: Uint8Array): string {
  const text = formatHardwareAddress(address);
  return htype === HTYPE_ETHERNET ? text : `hw${htype}:${text}`;
}
