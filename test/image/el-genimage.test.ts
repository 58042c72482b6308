// The EL path through the whole product: `provctl genimage DIR` on a kernel-less el definition whose mirror is a
// local repository of tiny RPMs built here (dnf --installroot → postinstall → exlist → squashfs → checksums →
// validation → version), the unchanged-definition shortcut, and a pkglist naming a package no repository has,
// which must fail without registering anything.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chmod, cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildFixtureRpms, runTool } from "./fixtures/el-repo.ts";
import { type HostProvd, startHostProvd } from "./host-provd.ts";

const NAME = "el9-tiny";
const TOOLS = ["dnf", "rpm", "rpmbuild", "createrepo_c", "mksquashfs", "unsquashfs", "unshare", "chroot"];

function whyNot(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (rpm chroots into the image for scriptlets, validation runs in a chroot)";
  const missing = TOOLS.filter((t) => !Bun.which(t));
  // busybox-sh.spec copies the host's static busybox: the image's /bin/sh for scriptlets, postinstall and tests.
  if (!existsSync("/bin/busybox")) missing.push("/bin/busybox (busybox-static)");
  if (missing.length) return `missing ${missing.join(", ")} (apt-get install dnf rpm createrepo-c squashfs-tools busybox-static)`;
  return undefined;
}

const skipReason = whyNot();
if (skipReason && process.env.CI) throw new Error(`CI must run the EL genimage test, but: ${skipReason}`);

let tmp = "";
let dataDir = "";
let definition = ""; // tmp/defs/el9-tiny: the folder name is the osimage name
let host: HostProvd | undefined;
let id = "";

const sh = (argv: string[]) => runTool(tmp, argv);

/** Writes an osimage definition folder named NAME under `parent`. */
async function writeDefinition(parent: string, repo: string, pkglist: string[]): Promise<string> {
  const dir = join(parent, NAME);
  await mkdir(join(dir, "scripts"), { recursive: true });
  const toml = [
    `distro = "el"`,
    `osvers = "rhels9"`,
    `osarch = "x86_64"`,
    `release = "9"`,
    `mirrors = [${JSON.stringify(pathToFileURL(repo).href)}]`,
    `kernel = ""`,
    `pkglist = "${NAME}.pkglist"`,
    `exlist = "${NAME}.exlist"`,
    `postinstall = "scripts/mark.sh"`,
    `tests = "scripts/check-mark.sh"`,
  ];
  await writeFile(join(dir, "osimage.toml"), `${toml.join("\n")}\n`);
  await writeFile(join(dir, `${NAME}.pkglist`), `# app pulls in libfoo; busybox-sh is /bin/sh for the scriptlets.\n${pkglist.join("\n")}\n`);
  await writeFile(join(dir, `${NAME}.exlist`), "# junk is installed, then left out of the packed rootfs.\n./usr/share/junk*\n");
  const mark = `#!/bin/sh
# postinstall: $1 = image root, $2 = osvers, $3 = arch, $4 = profile
set -eu
echo "built for $2/$3 as $IMG_NAME" > "$1/etc/provd-el-marker"
# Validation runs /usr/bin/env inside the image; these fixture packages have no coreutils.
mkdir -p "$1/usr/bin"
ln -s /bin/busybox "$1/usr/bin/env"
`;
  const check = `#!/bin/sh
# Runs inside the image.
set -eu
[ -f /etc/provd-el-marker ] || { echo "FAIL: no /etc/provd-el-marker"; exit 1; }
[ -f /usr/share/libfoo/data ] || { echo "FAIL: libfoo is not installed"; exit 1; }
echo "ok: marker and libfoo present (image \${PROVD_IMAGE_ID:-?})"
`;
  await writeFile(join(dir, "scripts/mark.sh"), mark);
  await writeFile(join(dir, "scripts/check-mark.sh"), check);
  await chmod(join(dir, "scripts/mark.sh"), 0o755);
  await chmod(join(dir, "scripts/check-mark.sh"), 0o755);
  return dir;
}

describe.skipIf(skipReason !== undefined)(`EL genimage end to end${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "provd-el-genimage-"));
    const names = ["libfoo", "app", "busybox-sh", "junk"];
    const rpms = await buildFixtureRpms(tmp, names);
    const repo = await rpms.repo(join(tmp, "repo"), names);

    definition = await writeDefinition(join(tmp, "defs"), repo, ["busybox-sh", "app", "junk"]);
    // The same osimage, later re-imported with a package no repository has.
    await writeDefinition(join(tmp, "broken"), repo, ["busybox-sh", "app", "nosuch-package"]);

    dataDir = join(tmp, "data");
    host = await startHostProvd({ dataDir, imageCacheDir: join(tmp, "image-cache"), port: 19000 + (process.pid % 1000) });
  }, 60_000);

  afterAll(async () => {
    await host?.stop();
    if (tmp && !process.env.KEEPTMP) await rm(tmp, { recursive: true, force: true });
  }, 30_000);

  test("genimage DIR builds, validates and registers a kernel-less EL version", async () => {
    const { provctlResult, provctl } = host!;
    const t0 = performance.now();
    const r = await provctlResult("genimage", definition, "--verbose");
    const ms = performance.now() - t0;
    if (r.code !== 0) throw new Error(`genimage failed (exit ${r.code}):\n${r.stderr.split("\n").slice(-60).join("\n")}`);
    id = new RegExp(`^${NAME}@([0-9a-f]{16})$`, "m").exec(r.stdout)?.[1] ?? "";
    expect(r.stdout).toBe(`${NAME}@${id}\n`);
    console.log(`[el-genimage] first build ${(ms / 1000).toFixed(1)} s → ${NAME}@${id}`);
    // --verbose streams the build log: dnf's transaction, the postinstall, the exlist and the validation.
    expect(r.stderr).toMatch(/Installing\s+: libfoo-1\.0-1\.noarch/);
    expect(r.stderr).toContain("postinstall: ");
    expect(r.stderr).toMatch(/exlist: [1-9]\d* paths removed/);
    expect(r.stderr).toContain("ok: marker and libfoo present (image ");

    const versions = JSON.parse(await provctl("images", NAME, "-o", "json"));
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({ osimage: NAME, id, origin: "build", validation: "passed", aliases: ["latest"], packages: 4 });
    expect(versions[0].kernelVersion).toBeUndefined();
    expect(versions[0].artifacts.map((a: { type: string; file: string }) => `${a.type}:${a.file}`)).toEqual(["rootfs:rootfs.squashfs"]);

    const folder = join(dataDir, "images", NAME, id);
    expect(readdirSync(folder).sort()).toEqual(["manifest.json", "rootfs.squashfs"]);
    const manifest = JSON.parse(readFileSync(join(folder, "manifest.json"), "utf8"));
    expect(manifest).toMatchObject({ osimage: NAME, id, distro: "el", release: "9", kernelParams: "" });
    expect(manifest.packages.map((p: { name: string; version: string }) => `${p.name}-${p.version}`)).toEqual([
      "app-2.0-3",
      "busybox-sh-1.0-1",
      "junk-1-1", // installed (rpm says so), its files exlisted
      "libfoo-1.0-1",
    ]);

    const listing = sh(["unsquashfs", "-l", "-d", "", join(folder, "rootfs.squashfs")]).split("\n");
    const has = (p: string) => listing.includes(p);
    for (const p of ["/etc/provd-el-marker", "/bin/busybox", "/bin/sh", "/usr/share/libfoo/data", "/var/lib/app/post", "/var/lib/rpm/rpmdb.sqlite"]) {
      expect(has(p), `${p} in the rootfs`).toBe(true);
    }
    expect(listing.filter((l) => l.startsWith("/usr/share/junk"))).toEqual([]);
    // Nothing of the build itself (validation scripts, dnf's cache or logs) was packed.
    expect(listing.filter((l) => /^\/(tmp\/provd-validate|var\/cache\/dnf|var\/log\/dnf)/.test(l))).toEqual([]);
    expect(ms).toBeLessThan(60_000);
  }, 120_000);

  test("an unchanged definition gives the same version without building", async () => {
    const { provctlResult, provctl } = host!;
    expect(id).not.toBe("");
    const t0 = performance.now();
    const r = await provctlResult("genimage", definition, "--verbose");
    const ms = performance.now() - t0;
    console.log(`[el-genimage] unchanged rebuild ${(ms / 1000).toFixed(2)} s`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${NAME}@${id}\n`);
    expect(r.stderr).toContain(`unchanged definition: version ${id}`);
    expect(r.stderr).not.toMatch(/Installing\s+:/);
    expect(JSON.parse(await provctl("images", NAME, "-o", "json"))).toHaveLength(1);
  }, 60_000);

  test("rootfs = cpio packs a sorted, reproducible gzip cpio: a forced rebuild gives the same version", async () => {
    const { provctl } = host!;
    const cpioDir = join(tmp, "cpio", "el9-cpio");
    await cp(definition, cpioDir, { recursive: true });
    const toml = (await readFile(join(cpioDir, "osimage.toml"), "utf8")).replaceAll(`${NAME}.`, "el9-cpio.");
    await writeFile(join(cpioDir, "osimage.toml"), `${toml}rootfs = "cpio"\ncompression = "gzip"\n`);
    for (const ext of ["pkglist", "exlist"]) await rename(join(cpioDir, `${NAME}.${ext}`), join(cpioDir, `el9-cpio.${ext}`));
    const first = /^el9-cpio@([0-9a-f]{16})$/m.exec(await provctl("genimage", cpioDir))![1]!;
    const again = /^el9-cpio@([0-9a-f]{16})$/m.exec(await provctl("genimage", "el9-cpio", "--force"))![1]!;
    expect(again).toBe(first);
    const [version] = JSON.parse(await provctl("images", "el9-cpio", "-o", "json"));
    expect(version.artifacts.map((a: { file: string; format: string; compression: string }) => `${a.file} ${a.format} ${a.compression}`)).toEqual(["rootfs.cpio.gz cpio gzip"]);
    const names = sh(["sh", "-c", `gzip -dc ${join(dataDir, "images/el9-cpio", first, "rootfs.cpio.gz")} | cpio -t --quiet`]).split("\n").filter(Boolean);
    expect(names).toContain("etc/provd-el-marker");
    expect(names.some((n) => n.startsWith("usr/share/junk"))).toBe(false);
    expect(names).toEqual([...names].sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : Buffer.from(a) > Buffer.from(b) ? 1 : 0)));
  }, 60_000);

  test("packimage packs a version's root another way as a new version; packing it back gives the original", async () => {
    const { provctl, provctlResult } = host!;
    const [cpioVersion] = JSON.parse(await provctl("images", "el9-cpio", "-o", "json")) as Array<{ id: string }>;
    const cpioId = cpioVersion!.id;
    const squashId = /^el9-cpio@([0-9a-f]{16})$/m.exec(await provctl("packimage", "el9-cpio", "-m", "squashfs", "-c", "zstd", "--level", "5"))![1]!;
    expect(squashId).not.toBe(cpioId);
    const versions = JSON.parse(await provctl("images", "el9-cpio", "-o", "json")) as Array<{ id: string; origin: string; parent?: string; aliases: string[]; artifacts: Array<{ file: string; format: string; compression: string }> }>;
    const repacked = versions.find((v) => v.id === squashId)!;
    expect(repacked).toMatchObject({ origin: "pack", parent: cpioId, aliases: [] }); // latest moves only with --promote
    expect(repacked.artifacts.map((a) => `${a.file} ${a.format} ${a.compression}`)).toEqual(["rootfs.squashfs squashfs zstd"]);
    const files = sh(["unsquashfs", "-l", "-d", "", join(dataDir, "images/el9-cpio", squashId, "rootfs.squashfs")]);
    expect(files).toContain("/etc/provd-el-marker");
    expect(await provctl("images", "el9-cpio")).toContain(`repacked from ${cpioId} as squashfs zstd`);
    const manifest = JSON.parse(await provctl("images", "el9-cpio", "-o", "json")).find((v: { id: string }) => v.id === squashId);
    expect(manifest.timings).toHaveProperty("pack");

    // The same tree packed as the same cpio again is the same version: packing is a function of the root alone.
    const back = /^el9-cpio@([0-9a-f]{16})$/m.exec(await provctl("packimage", `el9-cpio@${squashId}`, "-m", "cpio", "-c", "pigz", "--promote"))![1]!;
    expect(back).toBe(cpioId);

    const bad = async (args: string[], message: string | RegExp) => {
      const r = await provctlResult("packimage", ...args);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(message);
    };
    await bad(["el9-cpio", "-m", "tar"], "unknown method 'tar' (expected squashfs or cpio)");
    await bad(["el9-cpio", "-c", "zstd", "--level", "25"], "zstd levels go from 1 to 19, not 25");
    await bad(["el9-cpio"], "say how to pack it");
    await bad(["el9-cpio", "-m", "squashfs", "-c", "xz", "--level", "5"], "mksquashfs takes no level for xz");
    await bad(["el9-cpio@ffffffffffffffff", "-m", "cpio"], /no version|ffffffffffffffff/);
  }, 60_000);

  test("a pkglist naming a missing package fails, naming it, and registers nothing", async () => {
    const { provctlResult, provctl } = host!;
    expect(id).not.toBe("");
    const r = await provctlResult("genimage", join(tmp, "broken", NAME));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe("");
    const reason = r.stderr.trim().split("\n").at(-1)!;
    console.log(`[el-genimage] missing package: ${reason}`);
    expect(reason).toMatch(/^el9-tiny: Error: job \d+ error: pkglist pass 1: not found in the repositories \(mirror0 = file:\/\/\S+\/repo\): nosuch-package \(log: /);

    const versions = JSON.parse(await provctl("images", NAME, "-o", "json")) as Array<{ id: string; aliases: string[] }>;
    expect(versions.map((v) => v.id)).toEqual([id]);
    expect(versions[0]!.aliases).toEqual(["latest"]);
    expect(readdirSync(join(dataDir, "images", NAME))).toEqual([id]);
  }, 60_000);
});
