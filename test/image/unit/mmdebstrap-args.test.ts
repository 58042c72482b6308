import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { debianArch, mmdebstrapArgs } from "../../../server/image/debian/mmdebstrap-args.ts";
import type { ResolvedDefinition } from "../../../server/image/definition/types.ts";
import { shellQuote } from "../../../server/image/shell.ts";
import { pass, resolvedDefinition } from "../fixtures/definition.ts";
import { tempDir } from "./helpers.ts";

const ROOT = "/scratch/job-1/root";
const CACHE = "/var/cache/provd/apt archives";
const SOURCES = "/etc/apt/sources.list.d/debian.sources";

/** Debian defaults, with a first pass to --include. */
const def = (overrides: Partial<ResolvedDefinition> = {}) => resolvedDefinition({ pkglist: [pass(["systemd-sysv", "openssh-server"])], ...overrides });

const hooks = (argv: string[], kind: string) => argv.filter((a) => a.startsWith(`--${kind}-hook=`)).map((a) => a.slice(`--${kind}-hook=`.length));
const include = (argv: string[]) => argv.find((a) => a.startsWith("--include="))?.slice("--include=".length).split(",");
const APT = `chroot "$1" env DEBIAN_FRONTEND=noninteractive`;

describe("mmdebstrapArgs", () => {
  test("the fixed part: mode, format, variant, architecture, suite, root, then the sources file", () => {
    const { argv } = mmdebstrapArgs(def(), ROOT, CACHE, SOURCES);
    expect(argv.slice(0, 6)).toEqual(["mmdebstrap", "--mode=root", "--format=directory", "--variant=minbase", "--architectures=amd64", "--skip=essential/unlink"]);
    expect(argv.slice(-3)).toEqual(["bookworm", ROOT, SOURCES]);
  });

  test("mirrors are used instead of the sources file when given", () => {
    const { argv } = mmdebstrapArgs(def({ mirrors: ["http://deb.debian.org/debian", "http://security.debian.org/debian-security"] }), ROOT, CACHE, SOURCES);
    expect(argv.slice(-4)).toEqual(["bookworm", ROOT, "http://deb.debian.org/debian", "http://security.debian.org/debian-security"]);
    expect(argv).not.toContain(SOURCES);
  });

  test("variant and architecture come from the definition", () => {
    const { argv } = mmdebstrapArgs(def({ variant: "apt", osarch: "aarch64" }), ROOT, CACHE, SOURCES);
    expect(argv).toContain("--variant=apt");
    expect(argv).toContain("--architectures=arm64");
  });

  test("the first env-less pass goes to --include with the netroot packages; a second pass is a customize hook", () => {
    const plan = mmdebstrapArgs(def({ pkglist: [pass(["systemd-sysv", "vim"]), pass(["slurmd", "munge"])] }), ROOT, CACHE, SOURCES);
    expect(include(plan.argv)).toEqual(["systemd-sysv", "vim", "live-boot", "zstd"]);
    const customize = hooks(plan.argv, "customize");
    expect(customize[0]).toBe(`${APT} apt-get -y --no-install-recommends install slurmd munge`);
    expect(plan.steps).toEqual(["install slurmd munge", "install kernel linux-image-amd64"]);
  });

  test("a first pass with its own env runs as a hook, with the env set for it only", () => {
    const plan = mmdebstrapArgs(
      def({ pkglist: [pass(["tzdata"], { env: { TZ: "Europe/Paris", NOTE: "a b" } }), pass(["vim"])] }),
      ROOT,
      CACHE,
      SOURCES,
    );
    expect(include(plan.argv)).toEqual(["live-boot", "zstd"]);
    const customize = hooks(plan.argv, "customize");
    expect(customize[0]).toBe(`${APT} TZ=Europe/Paris NOTE='a b' apt-get -y --no-install-recommends install tzdata`);
    expect(customize[1]).toBe(`${APT} apt-get -y --no-install-recommends install vim`);
    expect(plan.steps.slice(0, 2)).toEqual(["install tzdata", "install vim"]);
  });

  test("otherpkglist passes erase before, install, then erase after, after the pkglist passes", () => {
    const plan = mmdebstrapArgs(
      def({
        pkglist: [pass(["systemd-sysv"]), pass(["vim"])],
        otherpkglist: [pass(["htop"], { eraseBefore: ["nano"], eraseAfter: ["build-essential", "gcc"] }), pass(["cuda-toolkit"])],
      }),
      ROOT,
      CACHE,
      SOURCES,
    );
    expect(plan.steps).toEqual(["install vim", "purge nano", "install htop", "purge build-essential gcc", "install cuda-toolkit", "install kernel linux-image-amd64"]);
    const customize = hooks(plan.argv, "customize");
    expect(customize.slice(0, 5)).toEqual([
      `${APT} apt-get -y --no-install-recommends install vim`,
      `${APT} apt-get -y --no-install-recommends purge nano`,
      `${APT} apt-get -y --no-install-recommends install htop`,
      `${APT} apt-get -y --no-install-recommends purge build-essential gcc`,
      `${APT} apt-get -y --no-install-recommends install cuda-toolkit`,
    ]);
  });

  test("a pass that only erases installs nothing", () => {
    const plan = mmdebstrapArgs(def({ otherpkglist: [pass([], { eraseBefore: ["nano"] })] }), ROOT, CACHE, SOURCES);
    expect(plan.steps).toEqual(["purge nano", "install kernel linux-image-amd64"]);
  });

  test("the kernel is installed last and alone, after the sync-in of the cache and before the sync-out", () => {
    const plan = mmdebstrapArgs(def({ pkglist: [pass(["a"]), pass(["b"])], otherpkglist: [pass(["c"])] }), ROOT, CACHE, SOURCES);
    const customize = hooks(plan.argv, "customize");
    expect(customize.at(-2)).toBe(`${APT} apt-get -y --no-install-recommends install linux-image-amd64`);
    expect(plan.steps.at(-1)).toBe("install kernel linux-image-amd64");
    expect(include(plan.argv)).not.toContain("linux-image-amd64");
    expect(customize.filter((c) => c.includes("linux-image-amd64"))).toHaveLength(1);
  });

  test("a kernel package name is shell-quoted in its hook", () => {
    const plan = mmdebstrapArgs(def({ kernelPackage: "linux-image-6.1.0-18-amd64" }), ROOT, CACHE, SOURCES);
    expect(hooks(plan.argv, "customize")).toContain(`${APT} apt-get -y --no-install-recommends install linux-image-6.1.0-18-amd64`);
  });

  test("live-boot: initramfs-tools conf only, no dracut conf", () => {
    const { argv } = mmdebstrapArgs(def(), ROOT, CACHE, SOURCES);
    const essential = hooks(argv, "essential");
    expect(essential).toHaveLength(1);
    expect(essential[0]).toContain(`"$1"/etc/initramfs-tools/conf.d/zz-provd-netboot`);
    expect(essential[0]).toContain("MODULES=netboot");
    expect(argv.join(" ")).not.toContain("dracut");
  });

  test("dracut netroot adds its packages and the dracut conf hook", () => {
    const { argv } = mmdebstrapArgs(def({ netrootTool: "dracut" }), ROOT, CACHE, SOURCES);
    expect(include(argv)).toEqual(["systemd-sysv", "openssh-server", "dracut", "dracut-live", "dracut-network", "curl", "isc-dhcp-client", "zstd"]);
    const essential = hooks(argv, "essential");
    expect(essential).toHaveLength(2);
    expect(essential[1]).toMatch(/^mkdir -p "\$1"\/etc\/dracut\.conf\.d && printf %s '/);
    expect(essential[1]).toContain(`> "$1"/etc/dracut.conf.d/90-provd-netboot.conf`);
    expect(essential[1]).toContain('add_dracutmodules+=" dmsquash-live livenet network-legacy "');
  });

  test("the essential hooks write the conf files through the shell intact", () => {
    const { argv } = mmdebstrapArgs(def({ netrootTool: "dracut" }), ROOT, CACHE, SOURCES);
    const dir = tempDir("provd-hook-");
    for (const hook of hooks(argv, "essential")) {
      const r = Bun.spawnSync(["sh", "-c", hook, "sh", dir]);
      expect(r.exitCode).toBe(0);
    }
    expect(readFileSync(join(dir, "etc/initramfs-tools/conf.d/zz-provd-netboot"), "utf8")).toBe("MODULES=netboot\nCOMPRESS=zstd\n");
    expect(readFileSync(join(dir, "etc/dracut.conf.d/90-provd-netboot.conf"), "utf8")).toBe(
      'hostonly="no"\nadd_dracutmodules+=" dmsquash-live livenet network-legacy "\nomit_dracutmodules+=" systemd-networkd ifcfg "\ncompress="zstd"\n',
    );
  });

  test('kernel "" builds a kernel-less root: no netroot packages, no kernel step', () => {
    for (const netrootTool of ["live-boot", "dracut"] as const) {
      const plan = mmdebstrapArgs(def({ kernelPackage: "", netrootTool }), ROOT, CACHE, SOURCES);
      expect(include(plan.argv)).toEqual(["systemd-sysv", "openssh-server"]);
      expect(plan.steps).toEqual([]);
      expect(plan.argv.join(" ")).not.toMatch(/live-boot|dracut-live|linux-image/);
    }
  });

  test("no --include at all when there is nothing to include", () => {
    const plan = mmdebstrapArgs(def({ kernelPackage: "", pkglist: [] }), ROOT, CACHE, SOURCES);
    expect(include(plan.argv)).toBeUndefined();
  });

  test("packages listed twice are included once", () => {
    const plan = mmdebstrapArgs(def({ pkglist: [pass(["zstd", "vim"])] }), ROOT, CACHE, SOURCES);
    expect(include(plan.argv)).toEqual(["zstd", "vim", "live-boot"]);
  });

  test("the apt cache is synced in at setup and out at the end, quoted", () => {
    const { argv } = mmdebstrapArgs(def({ pkglist: [pass(["a"]), pass(["b"])] }), ROOT, CACHE, SOURCES);
    expect(hooks(argv, "setup")).toEqual([`mkdir -p "$1"/var/cache/apt/archives/`, `sync-in '${CACHE}' /var/cache/apt/archives/`]);
    const customize = hooks(argv, "customize");
    expect(customize.at(-1)).toBe(`sync-out /var/cache/apt/archives '${CACHE}'`);
    // Hooks come before the positional arguments.
    const lastHook = argv.findLastIndex((a) => a.startsWith("--"));
    expect(argv.indexOf("bookworm")).toBe(lastHook + 1);
  });

  test("@group entries and odd names are quoted for the shell", () => {
    const plan = mmdebstrapArgs(def({ pkglist: [pass(["a"]), pass(["pkg;rm -rf /"])] }), ROOT, CACHE, SOURCES);
    expect(hooks(plan.argv, "customize")[0]).toBe(`${APT} apt-get -y --no-install-recommends install 'pkg;rm -rf /'`);
  });
});

describe("debianArch", () => {
  test.each([
    ["x86_64", "amd64"],
    ["amd64", "amd64"],
    ["aarch64", "arm64"],
    ["ppc64le", "ppc64el"],
    ["i386", "i386"],
    ["riscv64", "riscv64"],
  ])("%s → %s", (osarch, arch) => {
    expect(debianArch(osarch)).toBe(arch);
  });
});

describe("shellQuote", () => {
  test.each([
    ["plain", "plain"],
    ["a/b.c-d_e@f%g+h=i:j,k", "a/b.c-d_e@f%g+h=i:j,k"],
    ["", "''"],
    ["two words", "'two words'"],
    ["it's", `'it'\\''s'`],
    ["'", `''\\'''`],
    ["$HOME", "'$HOME'"],
    ["a\nb", "'a\nb'"],
    ['say "hi"', `'say "hi"'`],
    ["*", "'*'"],
  ])("%j → %s", (word, quoted) => {
    expect(shellQuote(word)).toBe(quoted);
  });

  test.each(["", "two words", "it's", "''", "a'b'c", "$(id) `id` \\ ; & | > <", "tab\there", "new\nline", "ünïcode"])(
    "the shell reads %j back unchanged",
    (word) => {
      const r = Bun.spawnSync(["sh", "-c", `printf %s ${shellQuote(word)}`]);
      expect(r.stdout.toString()).toBe(word);
    },
  );
});
