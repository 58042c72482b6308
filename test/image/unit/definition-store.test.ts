import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import { DefinitionStore } from "../../../server/image/definition-store.ts";
import { resolveDefinition } from "../../../server/image/definition/resolve.ts";
import { defFiles, freshDb, tempDir, type TestDb, userError } from "./helpers.ts";

const BASE_TOML = [
  'distro = "debian"',
  'osvers = "debian12"',
  'release = "bookworm"',
  'mirrors = ["http://deb.debian.org/debian"]',
  'pkglist = "base.pkglist"',
  'synclists = "base.synclist"',
  'postinstall = "scripts/setup.sh"',
  'addkcmdline = "console=ttyS0"',
  'compression = "zstd"',
  "level = 5",
].join("\n");

const baseFiles = (toml = BASE_TOML) =>
  defFiles({
    "osimage.toml": toml,
    "base.pkglist": "systemd-sysv\nopenssh-server\n",
    "base.synclist": "files/motd -> /etc/motd\n",
    "files/motd": ["welcome\n", 0o600],
    "scripts/setup.sh": "#!/bin/sh\necho setup\n",
  });

describe("DefinitionStore", () => {
  let t: TestDb;
  let defs: DefinitionStore;
  const attrsOf = (name: string) => t.inventory.list("osimage", [name])[0]!.attrs;
  const paths = (name: string) => defs.files(name).map((f) => f.path).sort();

  beforeEach(() => {
    t = freshDb();
    defs = new DefinitionStore(t.db, t.store);
  });

  describe("import", () => {
    test("creates the osimage with provmethod=netboot and the osimage.toml keys as attributes", () => {
      expect(defs.import("base", baseFiles())).toEqual({ created: true, warnings: [] });
      expect(attrsOf("base")).toEqual({
        provmethod: "netboot",
        distro: "debian",
        osvers: "debian12",
        release: "bookworm",
        mirrors: "http://deb.debian.org/debian",
        pkglist: "base.pkglist",
        synclists: "base.synclist",
        postinstall: "scripts/setup.sh",
        addkcmdline: "console=ttyS0",
        compression: "zstd",
        level: "5",
      });
      expect(t.store.list("osimage").map((o) => o.name)).toEqual(["base"]);
    });

    test("keeps the other files (not osimage.toml) with their modes", () => {
      defs.import("base", defFiles({ "osimage.toml": 'distro = "debian"', "a.pkglist": "vim\n", "s/x.sh": ["#!/bin/sh\n", 0o4755], "k": ["k", 0o600] }));
      const files = new Map(defs.files("base").map((f) => [f.path, f]));
      expect([...files.keys()].sort()).toEqual(["a.pkglist", "k", "s/x.sh"]);
      expect(new TextDecoder().decode(files.get("a.pkglist")!.content)).toBe("vim\n");
      // Only permission bits are kept: no setuid from an uploaded definition.
      expect(files.get("s/x.sh")!.mode).toBe(0o755);
      expect(files.get("k")!.mode).toBe(0o600);
    });

    test("lists become comma-separated attributes; numbers and booleans become strings", () => {
      defs.import("img", defFiles({ "osimage.toml": 'distro = "debian"\nmirrors = ["http://a/debian", "http://b/debian"]\nlevel = 19\nx_flag = true' }));
      expect(attrsOf("img")).toMatchObject({ mirrors: "http://a/debian,http://b/debian", level: "19", x_flag: "true" });
    });

    test("keys provd does not model are kept, with a warning", () => {
      const result = defs.import("img", defFiles({ "osimage.toml": 'distro = "debian"\ncolour = "blue"' }));
      expect(result.warnings).toEqual(["img: 'colour' is not an attribute provd models; it is kept as a free-form attribute"]);
      expect(attrsOf("img").colour).toBe("blue");
    });

    test("re-import replaces attributes and files; keys dropped from osimage.toml are removed", () => {
      defs.import("base", baseFiles());
      // A chdef-style change that osimage.toml does not carry goes too: the folder is the truth on import.
      t.store.change([{ type: "osimage", name: "base", attrs: { profile: "site" } }], "set");
      const toml = ['distro = "debian"', 'osvers = "debian13"', 'release = "trixie"', 'pkglist = "new.pkglist"'].join("\n");
      const result = defs.import("base", defFiles({ "osimage.toml": toml, "new.pkglist": "vim\n" }));
      expect(result).toEqual({ created: false, warnings: [] });
      expect(attrsOf("base")).toEqual({ provmethod: "netboot", distro: "debian", osvers: "debian13", release: "trixie", pkglist: "new.pkglist" });
      expect(paths("base")).toEqual(["new.pkglist"]);
    });

    test("re-import makes it a netboot image again; osimage.toml may set provmethod itself", () => {
      defs.import("base", baseFiles());
      t.store.change([{ type: "osimage", name: "base", attrs: { provmethod: "statelite" } }], "set");
      defs.import("base", baseFiles());
      expect(attrsOf("base").provmethod).toBe("netboot");
      defs.import("base", baseFiles(`${BASE_TOML}\nprovmethod = "statelite"`));
      expect(attrsOf("base").provmethod).toBe("statelite");
    });

    test("importing over an osimage made with mkdef turns it into a netboot definition", () => {
      t.store.create([{ type: "osimage", name: "img", attrs: { osvers: "rhels9", profile: "old" } }]);
      expect(defs.import("img", defFiles({ "osimage.toml": 'distro = "debian"\nosvers = "debian12"' })).created).toBe(false);
      expect(attrsOf("img")).toEqual({ provmethod: "netboot", distro: "debian", osvers: "debian12" });
    });

    test.each(["../x", "/etc/passwd", "a/../../b", "a/../b", "./a", "a//b", "a/./b", "..", "", "a\0b"])("rejects the path %j", (path) => {
      const e = userError(() => defs.import("base", [...baseFiles(), ...defFiles({ [path]: "x" })]));
      expect(e.status).toBe(400);
      expect(e.message).toBe(`definition file '${path}': expected a plain relative path inside the folder`);
      expect(t.store.list("osimage")).toEqual([]);
    });

    test("accepts nested plain relative paths", () => {
      defs.import("base", [...baseFiles(), ...defFiles({ "deep/er/file.conf": "x", ".hidden": "y" })]);
      expect(paths("base")).toContain("deep/er/file.conf");
      expect(paths("base")).toContain(".hidden");
    });

    test("needs an osimage.toml at the top of the folder", () => {
      expect(() => defs.import("base", defFiles({ "base.pkglist": "vim\n" }))).toThrow("base: no osimage.toml in the definition folder");
      expect(() => defs.import("base", defFiles({ "sub/osimage.toml": 'distro = "debian"' }))).toThrow("base: no osimage.toml in the definition folder");
      expect(t.store.list("osimage")).toEqual([]);
    });

    test("bad TOML is refused with a message naming the file", () => {
      const e = userError(() => defs.import("compute", defFiles({ "osimage.toml": 'distro = "debian"\nosvers = \n' })));
      expect(e.status).toBe(400);
      expect(e.message).toMatch(/^compute\/osimage\.toml: /);
      expect(t.store.list("osimage")).toEqual([]);
    });

    test("a table in osimage.toml is refused", () => {
      expect(() => defs.import("compute", defFiles({ "osimage.toml": 'distro = "debian"\n[extra]\nx = 1\n' }))).toThrow(
        "compute/osimage.toml: extra must be a string, number or list",
      );
    });

    test("an invalid attribute value fails the whole import and leaves the previous definition", () => {
      defs.import("base", baseFiles());
      const before = { attrs: attrsOf("base"), files: paths("base") };
      expect(() => defs.import("base", defFiles({ "osimage.toml": 'distro = "ubuntu"', "other.pkglist": "x" }))).toThrow(/distro/);
      expect(attrsOf("base")).toEqual(before.attrs);
      expect(paths("base")).toEqual(before.files);
    });

    test("at most 2000 files", () => {
      const many = Array.from({ length: 2000 }, (_, i) => defFiles({ [`f${i}`]: "x" })[0]!);
      const e = userError(() => defs.import("base", [...baseFiles().slice(0, 1), ...many]));
      expect(e.status).toBe(413);
      expect(e.message).toBe("a definition may hold at most 2000 files");
    });

    test("at most 64 MiB in all", () => {
      const big = { path: "big.bin", content: new Uint8Array(64 * 1024 * 1024), mode: 0o644 };
      const e = userError(() => defs.import("base", [...baseFiles(), big]));
      expect(e.status).toBe(413);
      expect(e.message).toBe("a definition may hold at most 64 MiB");
    });
  });

  describe("chain", () => {
    test("root first, by the parent attributes", () => {
      defs.import("base", baseFiles());
      defs.import("compute", defFiles({ "osimage.toml": 'parent = "base"' }));
      defs.import("gpu", defFiles({ "osimage.toml": 'parent = "compute"' }));
      expect(defs.chain("gpu")).toEqual(["base", "compute", "gpu"]);
      expect(defs.chain("base")).toEqual(["base"]);
    });

    test("an undefined osimage is a 404", () => {
      const e = userError(() => defs.chain("ghost"));
      expect(e.status).toBe(404);
      expect(e.message).toBe("osimage ghost is not defined");
    });

    test("a missing parent names the osimage that names it", () => {
      defs.import("compute", defFiles({ "osimage.toml": 'parent = "base"' }));
      defs.import("gpu", defFiles({ "osimage.toml": 'parent = "compute"' }));
      const e = userError(() => defs.chain("gpu"));
      expect(e.status).toBe(404);
      expect(e.message).toBe("osimage compute names parent base, which is not defined");
    });

    test("a loop is an error that shows it", () => {
      defs.import("a", defFiles({ "osimage.toml": 'parent = "b"' }));
      defs.import("b", defFiles({ "osimage.toml": 'parent = "c"' }));
      defs.import("c", defFiles({ "osimage.toml": 'parent = "a"' }));
      expect(() => defs.chain("a")).toThrow("osimage a: the parent chain loops (a → b → c → a)");
      defs.import("self", defFiles({ "osimage.toml": 'parent = "self"' }));
      expect(() => defs.chain("self")).toThrow("osimage self: the parent chain loops (self → self)");
    });

    test("a loop further up the chain is found too", () => {
      defs.import("a", defFiles({ "osimage.toml": 'parent = "b"' }));
      defs.import("b", defFiles({ "osimage.toml": 'parent = "a"' }));
      defs.import("leaf", defFiles({ "osimage.toml": 'parent = "a"' }));
      expect(() => defs.chain("leaf")).toThrow("osimage leaf: the parent chain loops (leaf → a → b → a)");
    });
  });

  describe("materialize", () => {
    test("writes each osimage of the chain to its own folder, with file modes", () => {
      defs.import("base", baseFiles());
      defs.import("compute", defFiles({ "osimage.toml": 'parent = "base"\npkglist = "compute.pkglist"', "compute.pkglist": "slurmd\n" }));
      const dir = tempDir();
      expect(defs.materialize("compute", dir)).toEqual(["base", "compute"]);
      expect(readdirSync(dir).sort()).toEqual(["base", "compute"]);
      expect(readFileSync(join(dir, "base/base.pkglist"), "utf8")).toBe("systemd-sysv\nopenssh-server\n");
      expect(readFileSync(join(dir, "base/files/motd"), "utf8")).toBe("welcome\n");
      expect(statSync(join(dir, "base/files/motd")).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, "base/scripts/setup.sh")).mode & 0o777).toBe(0o755);
      expect(statSync(join(dir, "base/base.pkglist")).mode & 0o777).toBe(0o644);
      expect(readFileSync(join(dir, "compute/compute.pkglist"), "utf8")).toBe("slurmd\n");
      expect(existsSync(join(dir, "base/osimage.toml"))).toBe(true);
      expect(existsSync(join(dir, "compute/osimage.toml"))).toBe(true);
    });

    test("only the chain is written, not unrelated osimages", () => {
      defs.import("base", baseFiles());
      defs.import("other", defFiles({ "osimage.toml": 'distro = "el"' }));
      const dir = tempDir();
      defs.materialize("base", dir);
      expect(readdirSync(dir)).toEqual(["base"]);
    });

    test("osimage.toml is regenerated from the current attributes, without provmethod", () => {
      defs.import("base", baseFiles());
      const dir = tempDir();
      defs.materialize("base", dir);
      const text = readFileSync(join(dir, "base/osimage.toml"), "utf8");
      expect(text).not.toContain("provmethod");
      expect(text).toContain('mirrors = ["http://deb.debian.org/debian"]');
      expect(text).toContain("level = 5\n");
      expect(text).toContain('osvers = "debian12"');
      const parsed = Bun.TOML.parse(text) as Record<string, unknown>;
      expect(parsed).toEqual({
        addkcmdline: "console=ttyS0",
        compression: "zstd",
        distro: "debian",
        level: 5,
        mirrors: ["http://deb.debian.org/debian"],
        osvers: "debian12",
        pkglist: "base.pkglist",
        postinstall: "scripts/setup.sh",
        release: "bookworm",
        synclists: "base.synclist",
      });
    });

    test("a chdef-style change shows in the regenerated osimage.toml, which resolveDefinition reads", () => {
      defs.import("base", baseFiles());
      defs.import("compute", defFiles({ "osimage.toml": 'parent = "base"\npkglist = "compute.pkglist"', "compute.pkglist": "slurmd\n" }));
      t.store.change([{ type: "osimage", name: "base", attrs: { osvers: "debian13", release: "trixie", addkcmdline: 'console=ttyS0 quiet "x"' } }], "set");
      t.store.change([{ type: "osimage", name: "base", attrs: { mirrors: "http://mirror.example/debian" } }], "add");
      t.store.change([{ type: "osimage", name: "compute", attrs: { environvar: "SITE=lab,ROLE=compute", compression: "xz", level: "6" } }], "set");
      const dir = tempDir();
      defs.materialize("compute", dir);
      const def = resolveDefinition("compute", (name) => join(dir, name));
      expect(def).toMatchObject({
        name: "compute",
        chain: ["base", "compute"],
        distro: "debian",
        osvers: "debian13",
        release: "trixie",
        mirrors: ["http://deb.debian.org/debian", "http://mirror.example/debian"],
        kernelArgs: ["console=ttyS0", "quiet", '"x"'],
        environ: { SITE: "lab", ROLE: "compute" },
        rootfs: { format: "squashfs", compression: "xz", level: 6 },
      });
      expect(def.pkglist).toEqual([{ env: {}, install: ["systemd-sysv", "openssh-server", "slurmd"], eraseBefore: [], eraseAfter: [], repoOf: {} }]);
      expect(def.postinstall.map((s) => s.script)).toEqual([join(dir, "base/scripts/setup.sh")]);
      expect(def.synclist).toEqual([{ sources: [join(dir, "base/files/motd")], dest: "/etc/motd", destIsDir: false, origin: expect.any(String) }]);
    });

    test("a minimal debian definition round-trips through materialize and resolveDefinition", () => {
      defs.import("mini", defFiles({ "osimage.toml": 'distro = "debian"\npkglist = "mini.pkglist"', "mini.pkglist": "busybox\n" }));
      const dir = tempDir();
      defs.materialize("mini", dir);
      const def = resolveDefinition("mini", (name) => join(dir, name));
      expect(def).toMatchObject({ distro: "debian", kernelPackage: "linux-image-amd64", netrootTool: "live-boot", variant: "minbase", mirrors: [] });
      expect(def.pkglist[0]!.install).toEqual(["busybox"]);
    });

    test("a removed attribute is gone from the regenerated osimage.toml", () => {
      defs.import("base", baseFiles());
      t.store.change([{ type: "osimage", name: "base", attrs: { addkcmdline: "" } }], "set");
      const dir = tempDir();
      defs.materialize("base", dir);
      expect(readFileSync(join(dir, "base/osimage.toml"), "utf8")).not.toContain("addkcmdline");
      expect(resolveDefinition("base", (name) => join(dir, name)).kernelArgs).toEqual([]);
    });

    test("values with quotes, backslashes and newlines survive the TOML round trip", () => {
      defs.import("base", baseFiles());
      const tricky = 'a "b" \\c';
      t.store.change([{ type: "osimage", name: "base", attrs: { profile: tricky } }], "set");
      const dir = tempDir();
      defs.materialize("base", dir);
      expect(resolveDefinition("base", (name) => join(dir, name)).profile).toBe(tricky);
    });

    test("a missing parent stops materialize before anything is written", () => {
      defs.import("compute", defFiles({ "osimage.toml": 'parent = "base"' }));
      const dir = tempDir();
      expect(() => defs.materialize("compute", dir)).toThrow("osimage compute names parent base, which is not defined");
      expect(readdirSync(dir)).toEqual([]);
    });
  });
});
