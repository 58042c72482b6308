// The mmdebstrap command line for a resolved Debian definition: one run installs everything apt installs.
import type { InstallPass, ResolvedDefinition } from "../definition/types.ts";
import { shellQuote } from "../shell.ts";

/** Packages a netboot root needs beside the definition's own: the initrd's network-root support. */
const NETROOT_PACKAGES: Record<ResolvedDefinition["netrootTool"], string[]> = {
  "live-boot": ["live-boot", "zstd"],
  dracut: ["dracut", "dracut-live", "dracut-network", "curl", "isc-dhcp-client", "zstd"],
};

/** Smaller initrds (netboot drivers only, zstd); initramfs-tools reads this, dracut its own file. */
const INITRAMFS_CONF = "MODULES=netboot\nCOMPRESS=zstd\n";
const DRACUT_CONF = 'hostonly="no"\nadd_dracutmodules+=" dmsquash-live livenet network-legacy "\nomit_dracutmodules+=" systemd-networkd ifcfg "\ncompress="zstd"\n';

export interface MmdebstrapPlan {
  argv: string[];
  /** The apt work, in the order the hooks run it, for the build log. */
  steps: string[];
}

export function mmdebstrapArgs(def: ResolvedDefinition, root: string, cacheDir: string, sourcesFile: string): MmdebstrapPlan {
  const [first, ...laterPasses] = def.pkglist;
  const bootable = def.kernelPackage !== "";
  // The first pass goes to --include (one apt solve, fastest); passes with their own env run as hooks.
  const includeFirst = first && !Object.keys(first.env).length;
  const include = [...(includeFirst ? first.install : []), ...(bootable ? NETROOT_PACKAGES[def.netrootTool] : [])];
  const hookPasses = includeFirst ? laterPasses : def.pkglist;
  const steps: string[] = [];
  const customize: string[] = [];
  for (const pass of hookPasses) customize.push(...passCommands(pass, steps));
  for (const pass of def.otherpkglist) customize.push(...passCommands(pass, steps));
  if (bootable) {
    // Installed last and alone, update-initramfs runs once (with the netroot hooks already in place).
    steps.push(`install kernel ${def.kernelPackage}`);
    customize.push(chrootApt(["install", def.kernelPackage]));
  }
  const argv = [
    "mmdebstrap",
    "--mode=root",
    "--format=directory",
    `--variant=${def.variant}`,
    `--architectures=${debianArch(def.osarch)}`,
    "--skip=essential/unlink",
    ...(include.length ? [`--include=${unique(include).join(",")}`] : []),
    // Downloaded .debs are shared across builds; the image itself still ends without them.
    `--setup-hook=mkdir -p "$1"/var/cache/apt/archives/`,
    `--setup-hook=sync-in ${shellQuote(cacheDir)} /var/cache/apt/archives/`,
    `--essential-hook=${writeFile("/etc/initramfs-tools/conf.d/zz-provd-netboot", INITRAMFS_CONF)}`,
    ...(def.netrootTool === "dracut" ? [`--essential-hook=${writeFile("/etc/dracut.conf.d/90-provd-netboot.conf", DRACUT_CONF)}`] : []),
    ...customize.map((c) => `--customize-hook=${c}`),
    `--customize-hook=sync-out /var/cache/apt/archives ${shellQuote(cacheDir)}`,
    def.release,
    root,
    ...(def.mirrors.length ? def.mirrors : [sourcesFile]),
  ];
  return { argv, steps };
}

function passCommands(pass: InstallPass, steps: string[]): string[] {
  const commands: string[] = [];
  if (pass.eraseBefore.length) {
    steps.push(`purge ${pass.eraseBefore.join(" ")}`);
    commands.push(chrootApt(["purge", ...pass.eraseBefore], pass.env));
  }
  if (pass.install.length) {
    steps.push(`install ${pass.install.join(" ")}`);
    commands.push(chrootApt(["install", ...pass.install], pass.env));
  }
  if (pass.eraseAfter.length) {
    steps.push(`purge ${pass.eraseAfter.join(" ")}`);
    commands.push(chrootApt(["purge", ...pass.eraseAfter], pass.env));
  }
  return commands;
}

function chrootApt(args: string[], env: Record<string, string> = {}): string {
  const assignments = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`);
  const words = ["chroot", '"$1"', "env", "DEBIAN_FRONTEND=noninteractive", ...assignments, "apt-get", "-y", "--no-install-recommends", ...args.map(shellQuote)];
  return words.join(" ");
}

function writeFile(path: string, content: string): string {
  return `mkdir -p "$1"${shellQuote(path.slice(0, path.lastIndexOf("/")))} && printf %s ${shellQuote(content)} > "$1"${shellQuote(path)}`;
}

export function debianArch(osarch: string): string {
  const map: Record<string, string> = { x86_64: "amd64", amd64: "amd64", aarch64: "arm64", arm64: "arm64", ppc64le: "ppc64el", i386: "i386" };
  return map[osarch] ?? osarch;
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}
