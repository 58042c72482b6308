// System Boot Options parameter 5, the boot flags (IPMI 2.0 table 28-14), both ways (bmc.md §3):
//   set: 05 F D 00 00 00   F = 0x80 valid | 0x40 persistent | 0x20 EFI, D = device selector << 2; F = 0 clears
//   get: version | parameter | F | D | 00 00 00
// Pure functions; decoding throws only BmcError.
import { type BootDevice, type BootOverride, BmcError } from "../driver.ts";

export const BOOT_FLAGS_PARAMETER = 0x05;
/** Parameter 3, bit 3: keep the valid bit although no Chassis Control comes within 60 s. */
export const KEEP_VALID_BIT = Uint8Array.of(0x03, 0x08);

const VALID = 0x80;
const PERSISTENT = 0x40;
const EFI = 0x20;

const DEVICE_BYTES: Readonly<Record<BootDevice, number>> = {
  net: 0x04,
  hd: 0x08,
  cd: 0x14,
  setup: 0x18,
  floppy: 0x3c,
};

const SELECTOR_NAMES: Readonly<Record<number, string>> = {
  0x03: "hard disk in safe mode",
  0x04: "diagnostic partition",
  0x07: "remote floppy or removable media",
  0x08: "remote CD/DVD",
  0x09: "primary remote media",
  0x0b: "remote hard disk",
};

export function encodeBootFlags(override: BootOverride): Uint8Array {
  if (override.device === "none") return Uint8Array.of(BOOT_FLAGS_PARAMETER, 0, 0, 0, 0, 0);
  const flags = VALID | (override.persistent ? PERSISTENT : 0) | (override.uefi ? EFI : 0);
  return Uint8Array.of(BOOT_FLAGS_PARAMETER, flags, DEVICE_BYTES[override.device], 0, 0, 0);
}

/** The flags as the BMC reported them, before deciding what they mean. */
export interface BootFlags {
  readonly valid: boolean;
  readonly persistent: boolean;
  readonly uefi: boolean;
  /** The device selector (bits 5:2 of the device byte): 1 PXE, 2 disk, 5 CD, 6 setup, 15 floppy, 0 none. */
  readonly selector: number;
}

/** Decodes a Get System Boot Options response for parameter 5. */
export function decodeBootFlags(data: Uint8Array): BootFlags {
  if (data.length < 4) throw new BmcError("protocol", `boot flags answer too short (${data.length} bytes)`);
  if (((data[1] ?? 0) & 0x7f) !== BOOT_FLAGS_PARAMETER) {
    throw new BmcError("protocol", `asked for boot parameter 5, got parameter ${(data[1] ?? 0) & 0x7f}`);
  }
  const flags = data[2] ?? 0;
  return {
    valid: (flags & VALID) !== 0,
    persistent: (flags & PERSISTENT) !== 0,
    uefi: (flags & EFI) !== 0,
    selector: ((data[3] ?? 0) >> 2) & 0x0f,
  };
}

/** A cleared valid bit means no override, whatever device the BMC still remembers. */
export function bootOverrideOf(flags: BootFlags): BootOverride {
  if (!flags.valid || flags.selector === 0) return { device: "none", persistent: false, uefi: false };
  const device = deviceOfSelector(flags.selector);
  if (device === undefined) {
    const name = SELECTOR_NAMES[flags.selector] ?? "unknown device";
    throw new BmcError("unsupported", `boot override is set to a device provd does not know: selector ${flags.selector} (${name})`);
  }
  return { device, persistent: flags.persistent, uefi: flags.uefi };
}

export function deviceOfSelector(selector: number): BootDevice | undefined {
  for (const [device, byte] of Object.entries(DEVICE_BYTES) as Array<[BootDevice, number]>) {
    if (byte >> 2 === selector) return device;
  }
  return undefined;
}
