/** CPU family a boot binary must be built for. */
export type ArchName =
  | "x86" // BIOS (real mode; undionly.kpxe runs on any x86 PC)
  | "ia32"
  | "x64"
  | "ia64"
  | "ebc"
  | "xscale"
  | "arm32"
  | "arm64"
  | "ppc"
  | "ppc64"
  | "riscv32"
  | "riscv64"
  | "riscv128"
  | "s390"
  | "mips32"
  | "mips64"
  | "sunway32"
  | "sunway64"
  | "loongarch32"
  | "loongarch64"
  | "pc98"
  | "alpha"
  | "unknown";

export type Firmware = "bios" | "uefi" | "uboot" | "openfirmware" | "rpiboot" | "other" | "unknown";

export interface ArchInfo {
  arch: ArchName;
  firmware: Firmware;
  /** Firmware that fetches its boot file by HTTP URL (UEFI HTTP boot and kin), not TFTP. */
  httpBoot: boolean;
}

function entry(arch: ArchName, firmware: Firmware, httpBoot = false): ArchInfo {
  return { arch, firmware, httpBoot };
}

/**
 * Option 93 codes, IANA "Processor Architecture Types" (RFC 4578 as updated). Codes 7 and 9 swapped
 * meaning between RFC 4578 and the registry; x64 firmware sends both, so both mean x64 here.
 */
const ARCH_BY_CODE: ReadonlyMap<number, ArchInfo> = new Map([
  [0, entry("x86", "bios")],
  [1, entry("pc98", "bios")],
  [2, entry("ia64", "uefi")],
  [3, entry("alpha", "other")],
  [4, entry("x86", "other")], // Arc x86
  [5, entry("x86", "other")], // Intel Lean Client
  [6, entry("ia32", "uefi")],
  [7, entry("x64", "uefi")],
  [8, entry("xscale", "uefi")],
  [9, entry("x64", "uefi")], // EFI BC in the registry, sent by x64 firmware in practice
  [10, entry("arm32", "uefi")],
  [11, entry("arm64", "uefi")],
  [12, entry("ppc", "openfirmware")],
  [13, entry("ppc", "other")], // ePAPR
  [14, entry("ppc64", "other")], // POWER OPAL v3
  [15, entry("ia32", "uefi", true)],
  [16, entry("x64", "uefi", true)],
  [17, entry("ebc", "uefi", true)],
  [18, entry("arm32", "uefi", true)],
  [19, entry("arm64", "uefi", true)],
  [20, entry("x86", "bios", true)],
  [21, entry("arm32", "uboot")],
  [22, entry("arm64", "uboot")],
  [23, entry("arm32", "uboot", true)],
  [24, entry("arm64", "uboot", true)],
  [25, entry("riscv32", "uefi")],
  [26, entry("riscv32", "uefi", true)],
  [27, entry("riscv64", "uefi")],
  [28, entry("riscv64", "uefi", true)],
  [29, entry("riscv128", "uefi")],
  [30, entry("riscv128", "uefi", true)],
  [31, entry("s390", "other")], // s390 Basic
  [32, entry("s390", "other")], // s390 Extended
  [33, entry("mips32", "uefi")],
  [34, entry("mips64", "uefi")],
  [35, entry("sunway32", "uefi")],
  [36, entry("sunway64", "uefi")],
  [37, entry("loongarch32", "uefi")],
  [38, entry("loongarch32", "uefi", true)],
  [39, entry("loongarch64", "uefi")],
  [40, entry("loongarch64", "uefi", true)],
  [41, entry("arm64", "rpiboot")],
]);

const UNKNOWN_ARCH = entry("unknown", "unknown");

/** What an option 93 code says about the client; unknown or absent codes give "unknown". */
export function describeArch(code: number | undefined): ArchInfo {
  return (code === undefined ? undefined : ARCH_BY_CODE.get(code)) ?? UNKNOWN_ARCH;
}
