// Which boot file a client gets (dhcp-tftp-http.md §2 and §3). Pure.
import type { BootUrls, DhcpHost } from "./backend.ts";
import type { ClientClass } from "./pxe.ts";

/** TFTP names of the iPXE builds served to firmware PXE clients, by what they run on. */
export interface BootFiles {
  /** x86 BIOS (93 = 0). */
  bios: string;
  /** x64 UEFI (93 = 7 and 9). */
  efi64: string;
  /** IA32 UEFI (93 = 6): refused unless set. */
  efi32?: string;
  /** ARM64 UEFI (93 = 11): refused unless set. */
  arm64?: string;
}

export const DEFAULT_BOOT_FILES: BootFiles = { bios: "undionly.kpxe", efi64: "snponly.efi" };

/** What a refused netboot client is told to boot, so it fails fast instead of waiting for another offer (D17). */
export const NETBOOT_NOT_ALLOWED = "/netboot-not-allowed";

export type BootVendorClass = "PXEClient" | "HTTPClient";

export interface BootChoice {
  /** A TFTP path or an absolute URL, for `file` and/or option 67. */
  file: string;
  /** Option 60 to answer with. */
  vendorClass: BootVendorClass;
  /** The client runs iPXE: it gets the script and 175.176 = 1. */
  ipxe: boolean;
  /** A firmware PXE client (not iPXE, not HTTP boot): may get 43 = `06 01 08 ff` (boot `file`, no discovery). */
  pxeRom: boolean;
  /** The firmware is BIOS: proxy offers carry 43 for BIOS only, so EFI asks port 4011. */
  bios: boolean;
  refused: boolean;
  /** Why it was refused, with the real option 93 code (danderson/netboot#132). */
  refusal?: string;
}

/**
 * The boot file for `client`, or undefined for a client that is not network booting. iPXE always gets
 * the script URL, never another iPXE binary (D6); firmware gets the build for its architecture, a
 * node's `bootfile` overriding it; HTTP boot firmware gets an absolute URL (D10).
 */
export function chooseBootFile(
  client: ClientClass,
  host: DhcpHost | undefined,
  serverIp: string,
  mac: string,
  urls: BootUrls,
  files: BootFiles,
): BootChoice | undefined {
  if (!client.ipxe && !client.netboot) return undefined;
  const vendorClass: BootVendorClass = client.httpBoot && !client.ipxe ? "HTTPClient" : "PXEClient";
  const pxeRom = !client.httpBoot && !client.ipxe;
  const bios = client.firmware === "bios";
  const refuse = (refusal: string): BootChoice => ({ file: NETBOOT_NOT_ALLOWED, vendorClass, ipxe: client.ipxe, pxeRom, bios, refused: true, refusal });

  if (host?.netbootDenied) return refuse(`node ${host.node} may not netboot`);
  if (client.ipxe) return { file: urls.ipxeScript(serverIp, mac), vendorClass, ipxe: true, pxeRom, bios, refused: false };

  const binary = host?.bootfile ?? binaryForArch(client.archCode, files);
  if (binary === undefined) return refuse(`no boot file for architecture ${client.archCode ?? "unknown"} (${client.arch})`);
  const file = client.httpBoot && !isAbsoluteUrl(binary) ? urls.httpBootBinary(serverIp, binary) : binary;
  return { file, vendorClass, ipxe: false, pxeRom, bios, refused: false };
}

function binaryForArch(code: number | undefined, files: BootFiles): string | undefined {
  switch (code) {
    case 0: // BIOS
    case 20: // BIOS HTTP
      return files.bios;
    case 7:
    case 9: // EFI BC in the registry, x64 firmware in practice
    case 16: // x64 HTTP
      return files.efi64;
    case 6:
    case 15: // IA32 HTTP
      return files.efi32;
    case 11:
    case 19: // ARM64 HTTP
      return files.arm64;
    default:
      return undefined;
  }
}

function isAbsoluteUrl(file: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(file);
}
