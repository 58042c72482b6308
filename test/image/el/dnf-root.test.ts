// buildElRoot against tiny RPMs built here: dependencies, scriptlets in the root, pass order, removals, errors, GPG, cache, abort.
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { UserError } from "../../../server/core/errors.ts";
import type { ResolvedDefinition } from "../../../server/image/definition/types.ts";
import { buildElRoot, type ElRootOptions } from "../../../server/image/el/dnf-root.ts";
import { elDefinition, pass } from "../fixtures/definition.ts";
import { buildFixtureRpms, runTool } from "../fixtures/el-repo.ts";

const TOOLS = ["dnf", "rpm", "rpmbuild", "rpmsign", "createrepo_c", "gpg", "gpgconf", "unshare"];

function whyNot(): string | undefined {
  const missing = TOOLS.filter((t) => !Bun.which(t));
  if (!existsSync("/bin/busybox")) missing.push("/bin/busybox (busybox-static)");
  if (missing.length > 0) return `missing ${missing.join(", ")}`;
  if (process.getuid?.() !== 0) return "needs root (rpm chroots into the image for scriptlets)";
  return undefined;
}

const skipReason = whyNot();
if (skipReason && process.env.CI) throw new Error(`EL root tests cannot run in CI: ${skipReason}`);

let tmp = "";
let repo = ""; // unsigned, local: every fixture package
let otherpkgdir = ""; // otherpkgdir/sub holds tool
let signedRepo = ""; // libfoo, app, busybox-sh signed, served over http
let keyFile = "";
let gnupg = "";

const sh = (argv: string[]) => runTool(tmp, argv);
const def = (more: Partial<ResolvedDefinition>) => elDefinition({ mirrors: [pathToFileURL(repo).href], ...more });

let builds = 0;
async function build(d: ResolvedDefinition, more: Partial<ElRootOptions> = {}) {
  const root = join(tmp, `root${++builds}`);
  const log: string[] = [];
  const result = await buildElRoot({ root, def: d, cacheDir: join(tmp, "cache"), log: (l) => log.push(l), ...more });
  return { root, log, ...result };
}

/** Mount points below the test's temp dir, as this process sees them. */
async function mountsUnderTmp(): Promise<string[]> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  return info
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((p) => p.startsWith(tmp));
}

/** Order of rpm's "Installing : name-v-r.arch" and "Erasing : …" progress lines in the log. */
function events(log: string[]): string[] {
  return log.flatMap((l) => {
    const m = l.match(/^\s+(Installing|Erasing)\s+: (.+)-[^-]+-[^-]+\s+\d+\/\d+\s*$/);
    return m ? [`${m[1]} ${m[2]}`] : [];
  });
}

describe.skipIf(skipReason !== undefined)(`buildElRoot${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "provd-el-test-"));
    const rpms = await buildFixtureRpms(tmp);
    repo = await rpms.repo(join(tmp, "repo"), ["libfoo", "app", "busybox-sh", "junk", "extra", "fake-kernel", "broken", "slow"], { groups: true });
    otherpkgdir = join(tmp, "other");
    await rpms.repo(join(otherpkgdir, "sub"), ["tool"]);

    gnupg = join(tmp, "gnupg");
    await mkdir(gnupg, { mode: 0o700 });
    const uid = "provd test <test@example.invalid>";
    sh(["gpg", "--homedir", gnupg, "--batch", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"]);
    keyFile = join(tmp, "RPM-GPG-KEY-provd-test");
    await writeFile(keyFile, sh(["gpg", "--homedir", gnupg, "--armor", "--export"]));
    // Debian's rpm looks for gpg2, which Debian does not ship.
    const gpg = ["--define", `_gpg_path ${gnupg}`, "--define", "_gpg_name provd test", "--define", `__gpg ${Bun.which("gpg")}`];
    signedRepo = await rpms.repo(join(tmp, "signed"), ["libfoo", "app", "busybox-sh"], {
      prepare: (files) => sh(["rpmsign", ...gpg, "--addsign", ...files]),
    });
  });

  afterAll(async () => {
    if (!tmp) return;
    if (gnupg) Bun.spawnSync(["gpgconf", "--homedir", gnupg, "--kill", "all"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    expect(await mountsUnderTmp()).toEqual([]);
    await rm(tmp, { recursive: true, force: true });
  });

  test("installs pkglist passes, otherpkglist erase/install/erase and the kernel, in that order", async () => {
    const { root, log, packages } = await build(
      def({
        otherpkgdir,
        pkglist: [pass(["busybox-sh", "junk"]), pass(["app"], { env: { PROVD_TEST_PASS: "second" } }), pass(["@Provd Extras"])],
        otherpkglist: [pass(["tool"], { eraseBefore: ["junk"], eraseAfter: ["extra"], repoOf: { tool: "sub" } })],
        kernelPackage: "fake-kernel",
      }),
    );

    expect(packages).toEqual([
      { name: "app", version: "2.0-3", arch: "noarch" },
      { name: "busybox-sh", version: "1.0-1", arch: expect.stringMatching(/^\w+$/) },
      { name: "fake-kernel", version: "6.1-1", arch: "noarch" },
      { name: "libfoo", version: "1.0-1", arch: "noarch" },
      { name: "tool", version: "2:0.5-1", arch: "noarch" },
    ]);

    const order = events(log);
    const at = (e: string) => {
      expect(order).toContain(e);
      return order.indexOf(e);
    };
    // libfoo came in as app's dependency, in app's transaction.
    expect(at("Installing busybox-sh")).toBeLessThan(at("Installing libfoo"));
    expect(at("Installing libfoo")).toBeLessThan(at("Installing app"));
    expect(at("Installing app")).toBeLessThan(at("Installing extra"));
    expect(at("Installing extra")).toBeLessThan(at("Erasing junk"));
    expect(at("Erasing junk")).toBeLessThan(at("Installing tool"));
    expect(at("Installing tool")).toBeLessThan(at("Erasing extra"));
    expect(at("Erasing extra")).toBeLessThan(at("Installing fake-kernel"));

    // %post ran chrooted in the root, with the pass's environment, /dev and /proc mounted.
    expect(await readFile(join(root, "var/lib/app/post"), "utf8")).toBe("post ran\npass=second\ndevnull=char\nproc=mounted\n");
    expect(existsSync(join(root, "boot/vmlinuz-6.1"))).toBe(true);
    expect(existsSync(join(root, "usr/share/junk"))).toBe(false);
    // The scriptlet mounts went with dnf's namespace; dnf's logs and cache stayed outside the image.
    expect(await readdir(join(root, "dev"))).toEqual([]);
    expect(await mountsUnderTmp()).toEqual([]);
    expect(existsSync(join(root, "var/log/dnf.log"))).toBe(false);
    expect(existsSync(join(root, "var/cache/dnf"))).toBe(false);
    expect(existsSync(join(root, "var/lib/rpm/rpmdb.sqlite"))).toBe(true);
  });

  test("an unknown package or group fails with a UserError naming it", async () => {
    // A mirror given as a plain directory path.
    const d = (install: string[]) => def({ mirrors: [repo], pkglist: [pass(["libfoo"]), pass(install)] });
    const err = await build(d(["libfoo", "nosuch-a", "app", "nosuch-b"])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/^pkglist pass 2: not found in the repositories \(mirror0 = file:\/\/.*\): nosuch-a, nosuch-b$/);
    await expect(build(d(["@No Such Group"]))).rejects.toThrow(/pkglist pass 2: .*: @No Such Group$/);
  });

  test("other dnf failures give dnf's last lines; an unindexed local repository fails before dnf runs", async () => {
    await expect(build(def({ pkglist: [pass(["broken"])] }))).rejects.toThrow(
      /^pkglist pass 1: dnf install failed \(exit 1\) \(mirror0 = .*\):\n[^]*nothing provides does-not-exist needed by broken/,
    );
    const started = performance.now();
    const err = await build(def({ mirrors: [otherpkgdir], pkglist: [pass(["tool"])] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(
      `pkglist pass 1: ${otherpkgdir} is not a package repository (no repodata/repomd.xml); index it with createrepo_c`,
    );
    expect(performance.now() - started).toBeLessThan(100);
    const noOtherpkgdir = def({ otherpkglist: [pass(["tool"], { repoOf: { tool: "sub" } })] });
    await expect(build(noOtherpkgdir)).rejects.toThrow(/otherpkgdir, which is not set/);
  });

  test("http mirrors are GPG-checked, and downloaded packages are reused from the cache", async () => {
    let rpmRequests = 0;
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(req) {
        const path = decodeURIComponent(new URL(req.url).pathname);
        if (path.endsWith(".rpm")) rpmRequests++;
        const file = Bun.file(join(signedRepo, path));
        return file.size > 0 && !path.includes("..") ? new Response(file) : new Response("not found", { status: 404 });
      },
    });
    try {
      const d = def({ mirrors: [`http://127.0.0.1:${server.port}/`], pkglist: [pass(["busybox-sh", "app"])] });
      await expect(build(d)).rejects.toThrow(/^pkglist pass 1: GPG check failed, no trusted key for .*\.rpm/);

      const first = await build(d, { gpgKeys: [keyFile] });
      expect(first.packages.map((p) => p.name)).toEqual(["app", "busybox-sh", "libfoo"]);
      expect(await readFile(join(first.root, "var/lib/app/post"), "utf8")).toMatch(/^post ran\n/);
      const cached = (await readdir(join(tmp, "cache"), { recursive: true }))
        .filter((f) => f.endsWith(".rpm"))
        .map((f) => f.split("/").pop())
        .sort();
      expect(cached).toEqual(["app.rpm", "busybox-sh.rpm", "libfoo.rpm"]);

      const downloads = rpmRequests;
      const second = await build(d, { gpgKeys: [keyFile] });
      expect(second.packages).toEqual(first.packages);
      expect(rpmRequests).toBe(downloads);
    } finally {
      await server.stop(true);
    }
  });

  test("aborting kills dnf and its scriptlets and leaves no mounts", async () => {
    const controller = new AbortController();
    const root = join(tmp, "aborted");
    const poll = setInterval(() => {
      if (existsSync(join(root, "var/slow-started"))) controller.abort(new Error("stop the build"));
    }, 20);
    const started = performance.now();
    try {
      const d = def({ pkglist: [pass(["busybox-sh", "slow"])] });
      await expect(buildElRoot({ root, def: d, cacheDir: join(tmp, "cache"), log: () => {}, signal: controller.signal })).rejects.toThrow(
        "stop the build",
      );
    } finally {
      clearInterval(poll);
    }
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(await mountsUnderTmp()).toEqual([]);
    // The scriptlet's `sleep 31.5` died with the namespace.
    const sleepers = (await readdir("/proc")).filter((pid) => /^\d+$/.test(pid) && readCmdline(pid).includes("31.5"));
    expect(sleepers).toEqual([]);
  });
});

function readCmdline(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}
