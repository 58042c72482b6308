// The definitions shipped in osimages/ resolve (base → compute → gpu) and name only packages Debian's mirror has.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { resolveDefinition } from "../../server/image/definition/resolve.ts";

const OSIMAGES = join(import.meta.dirname, "../../osimages");
const folderOf = (name: string) => join(OSIMAGES, name);
const installs = (name: string) => resolveDefinition(name, folderOf).pkglist.flatMap((p) => p.install);

describe("shipped osimage definitions", () => {
  test("gpu inherits compute and base: lists merged parent first, its -rsync removes compute's rsync", () => {
    const gpu = resolveDefinition("gpu", folderOf);
    expect(gpu.chain).toEqual(["base", "compute", "gpu"]);
    expect(gpu).toMatchObject({ distro: "debian", release: "bookworm", osvers: "debian12", profile: "gpu", kernelPackage: "linux-image-amd64", netrootTool: "live-boot" });
    const packages = installs("gpu");
    expect(packages.slice(0, 3)).toEqual(["systemd-sysv", "iproute2", "procps"]);
    expect(packages).toContain("openssh-server");
    expect(packages).toContain("clinfo");
    expect(installs("compute")).toContain("rsync");
    expect(packages).not.toContain("rsync");
    expect(gpu.postinstall.map((s) => s.script.slice(OSIMAGES.length + 1))).toEqual(["base/postinstall/enable-provd-ready.sh", "compute/postinstall/ssh-host-keys-at-boot.sh"]);
    expect(gpu.tests.map((s) => s.script.slice(OSIMAGES.length + 1))).toEqual(["base/tests/boot-essentials.sh", "compute/tests/compute-tools.sh"]);
    expect(gpu.otherpkglist.flatMap((p) => p.install)).toEqual(["ethtool", "pciutils"]);
    expect(gpu.exlist.some((r) => r.include && r.glob === "./usr/share/doc/*/copyright")).toBe(true);
    // base drops GPU kernel modules; gpu takes them back.
    expect(gpu.exlist.some((r) => !r.include && r.glob === "./usr/lib/modules/*/kernel/drivers/gpu*")).toBe(true);
    expect(gpu.exlist.some((r) => r.include && r.glob === "./usr/lib/modules/*/kernel/drivers/gpu*")).toBe(true);
    expect(gpu.synclist.map((e) => e.dest)).toEqual(["/etc/systemd/system/provd-ready.service", "/usr/local/sbin/provd-ready"]);
  });

  const aptLists = spawnSync("sh", ["-c", "ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1"]).status === 0;
  test.skipIf(!aptLists && !process.env.CI)("every package the definitions name exists in the host's mirror (apt-cache)", () => {
    for (const name of ["base", "compute", "gpu"]) {
      const def = resolveDefinition(name, folderOf);
      const wanted = [...def.pkglist, ...def.otherpkglist].flatMap((p) => p.install);
      const missing = wanted.filter((pkg) => !/^\s*Candidate: (?!\(none\))/m.test(spawnSync("apt-cache", ["policy", pkg], { encoding: "utf8" }).stdout));
      expect(missing, `${name} names packages the mirror does not have`).toEqual([]);
    }
  });
});
