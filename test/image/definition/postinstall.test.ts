import { chmodSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { UserError } from "../../../server/core/errors.ts";
import { parsePostinstall, runPostinstall, type PostinstallContext } from "../../../server/image/definition/postinstall.ts";
import { tempDir, writeTree } from "./helpers.ts";

function context(root: string, extra: Partial<PostinstallContext> = {}): PostinstallContext & { lines: string[] } {
  const lines: string[] = [];
  return { root, osvers: "debian12", arch: "x86_64", profile: "compute", imgEnv: {}, log: (l) => lines.push(l), lines, ...extra };
}

describe("postinstall", () => {
  test("rule 15: script runs as `script <root> <osvers> <arch> <profile> [args]` with IMG_* env; non-zero exit aborts", async () => {
    const dir = writeTree(tempDir(), {
      "p.sh": '#!/bin/sh\necho "1=$1 2=$2 3=$3 4=$4 5=$5 6=$6 #=$#"\necho "img=$IMG_NAME $IMG_ROOTIMGDIR k=[$IMG_KERNELVERSION]" >&2\n',
      "fail.sh": "#!/bin/sh\necho before\nexit 3\n",
    });
    const steps = parsePostinstall("p.sh foo bar, fail.sh", dir, "compute/osimage.toml: postinstall");
    const root = tempDir("provd-root-");
    const ctx = context(root, { imgEnv: { IMG_NAME: "compute", IMG_ROOTIMGDIR: root } });
    await runPostinstall(steps[0]!, ctx);
    expect(ctx.lines).toContain(`1=${root} 2=debian12 3=x86_64 4=compute 5=foo 6=bar #=6`);
    expect(ctx.lines).toContain(`img=compute ${root} k=[]`);

    const failing = context(root);
    const run = runPostinstall(steps[1]!, failing);
    await expect(run).rejects.toThrow(UserError);
    await expect(run).rejects.toThrow(`postinstall ${join(dir, "fail.sh")} (compute/osimage.toml: postinstall): exited with code 3`);
    expect(failing.lines).toEqual(["before"]);
  });

  test("parse: comma list, relative scripts against the folder, absolute kept, blanks skipped", () => {
    expect(parsePostinstall(" a.sh x  y ,, /opt/b.sh ,", "/defs/compute", "o")).toEqual([
      { script: "/defs/compute/a.sh", args: ["x", "y"], origin: "o" },
      { script: "/opt/b.sh", args: [], origin: "o" },
    ]);
    expect(parsePostinstall("", "/d", "o")).toEqual([]);
    expect(() => parsePostinstall("a.sh\0", "/d", "o")).toThrow(/control character/);
    expect(parsePostinstall(`${"x".repeat(100_000)},b`, "/d", "o")).toHaveLength(2);
  });

  test("a non-executable script says chmod +x; a missing one says so", async () => {
    const dir = writeTree(tempDir(), { "p.sh": "#!/bin/sh\ntrue\n" });
    chmodSync(join(dir, "p.sh"), 0o644);
    const [step] = parsePostinstall("p.sh", dir, "o");
    await expect(runPostinstall(step!, context(dir))).rejects.toThrow(`not executable (chmod +x ${join(dir, "p.sh")})`);
    const [missing] = parsePostinstall("nope.sh", dir, "o");
    await expect(runPostinstall(missing!, context(dir))).rejects.toThrow(/nope\.sh \(o\): no such file/);
    await expect(runPostinstall({ script: dir, args: [], origin: "o" }, context(dir))).rejects.toThrow(/not a regular file/);
  });

  test("an executable without a #! line fails cleanly", async () => {
    const dir = writeTree(tempDir(), { "bin.sh": "\x7fELF garbage" });
    chmodSync(join(dir, "bin.sh"), 0o755);
    await expect(runPostinstall({ script: join(dir, "bin.sh"), args: [], origin: "o" }, context(dir))).rejects.toThrow(UserError);
  });

  test("stdout and stderr stream line by line; a final line without newline is kept", async () => {
    const dir = writeTree(tempDir(), { "p.sh": "#!/bin/sh\nprintf 'a\\r\\nb\\n'\nprintf 'err\\n' >&2\nprintf tail\n" });
    const ctx = context(dir);
    await runPostinstall({ script: join(dir, "p.sh"), args: [], origin: "o" }, ctx);
    expect([...ctx.lines].sort()).toEqual(["a", "b", "err", "tail"]);
  });

  test("abort kills the script and its children", async () => {
    const dir = writeTree(tempDir(), { "slow.sh": "#!/bin/sh\necho started\nsleep 30 &\nwait\n" });
    const controller = new AbortController();
    const ctx = context(dir, { signal: controller.signal });
    const started = performance.now();
    const run = runPostinstall({ script: join(dir, "slow.sh"), args: [], origin: "o" }, ctx);
    setTimeout(() => controller.abort(), 200);
    await expect(run).rejects.toThrow(/aborted/);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  test("a background process left running does not hang the build", async () => {
    const dir = writeTree(tempDir(), { "daemon.sh": "#!/bin/sh\n(sleep 30; touch \"$1/late\") &\necho done\n" });
    const started = performance.now();
    await runPostinstall({ script: join(dir, "daemon.sh"), args: [], origin: "o" }, context(dir));
    expect(performance.now() - started).toBeLessThan(5000);
    expect(existsSync(join(dir, "late"))).toBe(false);
  });

  test("wrap rewrites the argv (the builder adds mounts); the env holds only PATH, IMG_* and imgEnv", async () => {
    const dir = writeTree(tempDir(), { "env.sh": "#!/bin/sh\nenv | sort > \"$1/env.txt\"\n" });
    const ctx = context(dir, {
      imgEnv: { IMG_NAME: "n", EXTRA: "x" },
      wrap: (argv) => ["/bin/sh", "-c", 'exec "$@"', "sh", ...argv],
    });
    await runPostinstall({ script: join(dir, "env.sh"), args: [], origin: "o" }, ctx);
    const env = readFileSync(join(dir, "env.txt"), "utf8");
    expect(env).toContain("IMG_NAME=n\n");
    expect(env).toContain("IMG_PKGLIST=\n");
    expect(env).toContain("EXTRA=x\n");
    expect(env).not.toMatch(/^VITEST/m);
  });
});
