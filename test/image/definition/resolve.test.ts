import { readFileSync, writeFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { describe, expect, test } from "vitest";
import { UserError } from "../../../server/core/errors.ts";
import { parseDescriptor } from "../../../server/image/definition/descriptor.ts";
import { resolveDefinition } from "../../../server/image/definition/resolve.ts";
import { tempDir, writeTree } from "./helpers.ts";

/** base → compute → gpu, each in its own folder under one definitions directory. */
function chainDefs(overrides: Record<string, string> = {}): { defs: string; folderOf: (name: string) => string } {
  const defs = writeTree(tempDir("provd-defs-"), {
    "base/osimage.toml": [
      'distro = "debian"',
      'osvers = "debian12"',
      'release = "bookworm"',
      'mirrors = "http://deb.debian.org/debian"',
      'addkcmdline = "console=ttyS0 quiet"',
      'pkglist = "base.pkglist"',
      'otherpkglist = "base.otherpkglist"',
      'otherpkgdir = "repo"',
      'exlist = "base.exlist"',
      'synclists = "base.synclist"',
      'postinstall = "base.sh"',
      'tests = "t-base.sh"',
      'environvar = "A=1,B=base"',
    ].join("\n"),
    "base/base.pkglist": "systemd-sysv\nvim\nopenssh-server\n#NEW_INSTALL_LIST#\nlater\n",
    "base/base.otherpkglist": "tools/htop\nnano\n",
    "base/base.exlist": "./usr/share/man*\n",
    "base/base.synclist": "files/motd -> /etc/motd\n$B.conf -> /etc/$B.conf\n",
    "base/files/motd": "hi\n",
    "base/base.conf": "b\n",
    "base/base.sh": "#!/bin/sh\n",
    "base/t-base.sh": "#!/bin/sh\n",
    "compute/osimage.toml": [
      'parent = "base"',
      'addkcmdline = "quiet nomodeset"',
      'pkglist = "compute.pkglist,extra.pkglist"',
      'exlist = "compute.exlist"',
      'postinstall = "compute.sh x y"',
      'tests = "t-compute.sh"',
      'environvar = "B=compute,C=3"',
      'compression = "xz"',
      "level = 6",
    ].join("\n"),
    "compute/compute.pkglist": "slurmd\nvim\n",
    "compute/extra.pkglist": "#NEW_INSTALL_LIST#\nmunge\n",
    "compute/compute.exlist": "./usr/share/doc*\n+./usr/share/doc/slurm*\n./usr/share/man*\n",
    "compute/compute.sh": "#!/bin/sh\n",
    "compute/t-compute.sh": "#!/bin/sh\n",
    "gpu/osimage.toml": [
      'parent = "compute"',
      'osarch = "aarch64"',
      'pkglist = "gpu.pkglist"',
      'otherpkglist = "gpu.otherpkglist"',
      'postinstall = "gpu.sh, /opt/site/common.sh --fast"',
      'synclists = "gpu.synclist"',
    ].join("\n"),
    "gpu/gpu.pkglist": "nvidia-driver\n# no editor on GPU nodes\n-vim\n",
    "gpu/gpu.otherpkglist": "-nano\ncuda/cuda-toolkit\n",
    "gpu/gpu.synclist": "/etc/hosts -> /etc/hosts\nAPPEND:\n/x -> /y\n",
    "gpu/gpu.sh": "#!/bin/sh\n",
    ...overrides,
  });
  return { defs, folderOf: (name) => join(defs, name) };
}

describe("inheritance base → compute → gpu", () => {
  test("the chain, merge order and removals", () => {
    const { defs, folderOf } = chainDefs();
    const def = resolveDefinition("gpu", folderOf);
    expect(def.name).toBe("gpu");
    expect(def.chain).toEqual(["base", "compute", "gpu"]);
    // Parent's entries first, pass by pass; duplicates (vim) dropped; gpu's -vim removes it everywhere.
    expect(def.pkglist.map((p) => p.install)).toEqual([
      ["systemd-sysv", "openssh-server", "slurmd", "nvidia-driver"],
      ["later", "munge"],
    ]);
    // otherpkglist -nano: erased before gpu's pass and no longer installed by base's.
    expect(def.otherpkglist).toEqual([{ env: {}, install: ["htop", "cuda-toolkit"], eraseBefore: ["nano"], eraseAfter: [], repoOf: { htop: "tools", "cuda-toolkit": "cuda" } }]);
    expect(def.otherpkgdir).toBe(join(defs, "base/repo"));
    expect(def.kernelArgs).toEqual(["console=ttyS0", "quiet", "nomodeset"]);
    expect(def.exlist.map((r) => `${r.include ? "+" : ""}${r.glob}@${r.origin}`)).toEqual([
      "./usr/share/man*@base/base.exlist:1",
      "./usr/share/doc*@compute/compute.exlist:1",
      "+./usr/share/doc/slurm*@compute/compute.exlist:2",
    ]);
  });

  test("scripts run parent first, with their folders' paths", () => {
    const { defs, folderOf } = chainDefs();
    const def = resolveDefinition("gpu", folderOf);
    expect(def.postinstall.map((s) => [s.script, s.args])).toEqual([
      [join(defs, "base/base.sh"), []],
      [join(defs, "compute/compute.sh"), ["x", "y"]],
      [join(defs, "gpu/gpu.sh"), []],
      ["/opt/site/common.sh", ["--fast"]],
    ]);
    expect(def.tests.map((s) => s.script)).toEqual([join(defs, "base/t-base.sh"), join(defs, "compute/t-compute.sh")]);
  });

  test("scalars: child overrides, defaults fill the rest; environ merged per key", () => {
    const { folderOf } = chainDefs();
    const def = resolveDefinition("gpu", folderOf);
    expect(def).toMatchObject({
      distro: "debian",
      osvers: "debian12",
      osarch: "aarch64",
      profile: "gpu",
      release: "bookworm",
      mirrors: ["http://deb.debian.org/debian"],
      variant: "minbase",
      kernelPackage: "linux-image-amd64",
      netrootTool: "live-boot",
      rootfs: { format: "squashfs", compression: "xz", level: 6 },
      environ: { A: "1", B: "compute", C: "3" },
    });
    const base = resolveDefinition("base", folderOf);
    expect(base.osarch).toBe("x86_64");
    expect(base.profile).toBe("base");
    expect(base.rootfs).toEqual({ format: "squashfs", compression: "zstd", level: 3 });
  });

  test("synclists: $VAR from the merged environvar, absolute sources, warnings kept", () => {
    const { defs, folderOf } = chainDefs();
    const def = resolveDefinition("gpu", folderOf);
    expect(def.synclist.map((e) => [e.sources, e.dest])).toEqual([
      [[join(defs, "base/files/motd")], "/etc/motd"],
      [[join(defs, "base/compute.conf")], "/etc/compute.conf"],
      [["/etc/hosts"], "/etc/hosts"],
    ]);
    expect(def.warnings).toEqual(["gpu/gpu.synclist:2: APPEND: section and everything after it is for node sync (updatenode) only; not applied to the image"]);
  });

  test("gpgkeys: URLs kept, files made absolute against the folder, inherited parent first", () => {
    const { defs, folderOf } = chainDefs();
    writeFileSync(join(defs, "base/osimage.toml"), `${readFileSync(join(defs, "base/osimage.toml"), "utf8")}\ngpgkeys = "https://mirror.example/RPM-GPG-KEY, keys/site.asc"\n`);
    expect(resolveDefinition("gpu", folderOf).gpgKeys).toEqual(["https://mirror.example/RPM-GPG-KEY", join(defs, "base/keys/site.asc")]);
  });

  test("every path in the result is absolute", () => {
    const { folderOf } = chainDefs();
    const def = resolveDefinition("gpu", folderOf);
    const paths = [
      ...def.synclist.flatMap((e) => e.sources),
      ...def.postinstall.map((s) => s.script),
      ...def.tests.map((s) => s.script),
      def.otherpkgdir!,
    ];
    for (const p of paths) expect(isAbsolute(p), p).toBe(true);
  });

  test("-pkg that removes nothing inherited is an error naming file and line", () => {
    const { folderOf } = chainDefs({ "gpu/gpu.pkglist": "nvidia-driver\n# c\n-foo\n" });
    expect(() => resolveDefinition("gpu", folderOf)).toThrow("gpu/gpu.pkglist:3: -foo removes nothing inherited");
    // At the root of the chain nothing is inherited.
    const { folderOf: f2 } = chainDefs({ "base/base.pkglist": "-vim\n" });
    expect(() => resolveDefinition("base", f2)).toThrow(/base\/base\.pkglist:1: -vim removes nothing inherited/);
  });

  test("otherpkglist -pkg with nothing inherited is only an erase", () => {
    const { folderOf } = chainDefs({ "gpu/gpu.otherpkglist": "-emacs\n" });
    const def = resolveDefinition("gpu", folderOf);
    expect(def.otherpkglist.map((p) => [p.install, p.eraseBefore])).toEqual([[["htop", "nano"], ["emacs"]]]);
  });

  test("a missing parent names both osimages", () => {
    const { folderOf } = chainDefs({ "compute/osimage.toml": 'parent = "bsae"\n' });
    expect(() => resolveDefinition("gpu", folderOf)).toThrow(/osimage compute: parent bsae not found/);
    expect(() => resolveDefinition("nothere", folderOf)).toThrow(/osimage nothere: no .*nothere\/osimage\.toml/);
  });

  test("a parent cycle is an error naming the cycle", () => {
    const { folderOf } = chainDefs({ "base/osimage.toml": 'parent = "gpu"\ndistro = "debian"\n' });
    expect(() => resolveDefinition("gpu", folderOf)).toThrow("osimage gpu: parent cycle: gpu → compute → base → gpu");
    const { folderOf: self } = chainDefs({ "base/osimage.toml": 'parent = "base"\n' });
    expect(() => resolveDefinition("base", self)).toThrow(/parent cycle: base → base/);
  });

  test("an unknown key names the key and the file, with a suggestion", () => {
    const { folderOf } = chainDefs({ "compute/osimage.toml": 'parent = "base"\npkglst = "x"\n' });
    expect(() => resolveDefinition("gpu", folderOf)).toThrow('compute/osimage.toml: unknown key "pkglst" (did you mean "pkglist"?)');
  });

  test("wrong types and values are UserErrors", () => {
    const bad = (toml: string) => () => parseDescriptor(toml, "x", "/defs/x");
    expect(bad("osvers = 12")).toThrow('x/osimage.toml: osvers must be a string, got number 12');
    expect(bad('distro = "suse"')).toThrow(/distro must be one of debian, el/);
    expect(bad('level = "3"')).toThrow(/level must be an integer/);
    expect(bad("level = 3.5")).toThrow(/level must be an integer/);
    expect(bad("mirrors = [1]")).toThrow(/mirrors must be a string or an array of strings/);
    expect(bad("pkglist = [\"a\"]")).toThrow(/pkglist must be a string, got an array/);
    expect(bad("[osarch]\nx = 1")).toThrow(/osarch must be a string, got a table/);
    expect(bad('environvar = "A=1,oops"')).toThrow(/environvar expects K=V/);
    expect(bad('parent = ""')).toThrow(/parent is empty/);
    const { folderOf } = chainDefs({ "compute/osimage.toml": 'parent = "base"\ncompression = "gzip"\nlevel = 12\n' });
    expect(() => resolveDefinition("compute", folderOf)).toThrow(/level 12 is out of range for gzip \(1–9\)/);
  });

  test("distro is required somewhere in the chain; el defaults differ", () => {
    const { folderOf } = chainDefs({ "base/osimage.toml": 'osvers = "x"\n' });
    expect(() => resolveDefinition("gpu", folderOf)).toThrow(/osimage gpu: no distro \(debian or el\) set in base\/osimage\.toml or compute\/osimage\.toml or gpu\/osimage\.toml/);
    const defs = writeTree(tempDir(), { "rocky/osimage.toml": 'distro = "el"\nrelease = "9"\nmirrors = ["file:///repo", "sources.list"]\n' });
    const el = resolveDefinition("rocky", (n) => join(defs, n));
    expect(el).toMatchObject({ kernelPackage: "kernel", netrootTool: "dracut", release: "9", pkglist: [], exlist: [], postinstall: [], warnings: [] });
    expect(el.mirrors).toEqual(["file:///repo", join(defs, "rocky/sources.list")]);
    writeFileSync(join(defs, "rocky/osimage.toml"), 'distro = "debian"\nkernel = ""\nnetroot = "dracut"\nrootfs = "cpio"\ncompression = "gzip"\n');
    expect(resolveDefinition("rocky", (n) => join(defs, n))).toMatchObject({ kernelPackage: "", netrootTool: "dracut", rootfs: { format: "cpio", compression: "gzip" } });
  });

  test("a missing file named by a key is an error", () => {
    const { folderOf } = chainDefs({ "compute/osimage.toml": 'parent = "base"\nexlist = "nope.exlist"\n' });
    expect(() => resolveDefinition("compute", folderOf)).toThrow(/Unable to open the following exlist files: .*compute\/nope\.exlist \(compute\/osimage\.toml exlist\)/);
  });
});

describe("osimage.toml malformed input", () => {
  test("empty file: valid, but distro is missing", () => {
    const defs = writeTree(tempDir(), { "e/osimage.toml": "" });
    expect(() => resolveDefinition("e", (n) => join(defs, n))).toThrow(/no distro/);
  });

  test("garbage TOML names the file", () => {
    expect(() => parseDescriptor("distro = ", "x", "/d")).toThrow(UserError);
    expect(() => parseDescriptor("distro = ", "x", "/d")).toThrow(/^x\/osimage\.toml: /);
    expect(() => parseDescriptor("}}}{{{", "x", "/d")).toThrow(UserError);
  });

  test("binary content is refused", () => {
    const defs = tempDir();
    writeTree(defs, { "b/": "" });
    writeFileSync(join(defs, "b/osimage.toml"), new Uint8Array([0, 1, 2, 0xff]));
    expect(() => resolveDefinition("b", (n) => join(defs, n))).toThrow(/b\/osimage\.toml: not a text file/);
  });

  test("a huge value is accepted or refused cleanly", () => {
    const long = "x".repeat(1_000_000);
    expect(parseDescriptor(`osvers = "${long}"`, "x", "/d").osvers).toHaveLength(1_000_000);
    expect(() => parseDescriptor(`${long} = 1`, "x", "/d")).toThrow(/unknown key/);
  });
});
