import { join } from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import { inputHash } from "../../../server/image/build/input-hash.ts";
import { DefinitionStore } from "../../../server/image/definition-store.ts";
import { resolveDefinition } from "../../../server/image/definition/resolve.ts";
import { defFiles, freshDb, tempDir, type TestDb } from "./helpers.ts";

const TOML = [
  'distro = "debian"',
  'release = "bookworm"',
  'pkglist = "base.pkglist"',
  'synclists = "base.synclist"',
  'postinstall = "scripts/setup.sh"',
  'tests = "tests/check.sh"',
].join("\n");

const FILES = {
  "osimage.toml": TOML,
  "base.pkglist": "systemd-sysv\n",
  "base.synclist": "files/motd -> /etc/motd\nfiles/conf.d/ -> /etc/site/\n",
  "files/motd": "welcome\n",
  "files/conf.d/a.conf": "a=1\n",
  "scripts/setup.sh": "#!/bin/sh\necho setup\n",
  "tests/check.sh": "#!/bin/sh\ntrue\n",
} satisfies Record<string, string | [string, number]>;

describe("inputHash", () => {
  let t: TestDb;
  let defs: DefinitionStore;

  beforeEach(() => {
    t = freshDb();
    defs = new DefinitionStore(t.db, t.store);
  });

  /** Materializes `name` into a fresh scratch dir, as a build does, and hashes it. */
  function hashOf(name: string, extra?: Record<string, string>, under = "job-1"): string {
    const dir = join(tempDir("provd-scratch-"), under, "definitions");
    defs.materialize(name, dir);
    const def = resolveDefinition(name, (n) => join(dir, n));
    return inputHash(def, dir, extra);
  }

  const importWith = (changes: Record<string, string | [string, number]> = {}) => defs.import("base", defFiles({ ...FILES, ...changes }));

  test("is a sha256 hex digest", () => {
    importWith();
    expect(hashOf("base")).toMatch(/^[0-9a-f]{64}$/);
  });

  test("the same definition materialized into two different scratch dirs hashes the same", () => {
    importWith();
    const a = hashOf("base");
    const b = hashOf("base");
    expect(b).toBe(a);
    expect(hashOf("base", undefined, "work/job-12345/deeper")).toBe(a);
  });

  test("re-importing identical files changes nothing", () => {
    importWith();
    const before = hashOf("base");
    importWith();
    expect(hashOf("base")).toBe(before);
  });

  test("changing a postinstall script's bytes changes it", () => {
    importWith();
    const before = hashOf("base");
    importWith({ "scripts/setup.sh": "#!/bin/sh\necho setup!\n" });
    expect(hashOf("base")).not.toBe(before);
  });

  test("changing a validation test script changes it", () => {
    importWith();
    const before = hashOf("base");
    importWith({ "tests/check.sh": "#!/bin/sh\nfalse\n" });
    expect(hashOf("base")).not.toBe(before);
  });

  test("changing a synced file's bytes changes it, also one inside a synced directory", () => {
    importWith();
    const before = hashOf("base");
    importWith({ "files/motd": "welcome!\n" });
    const motd = hashOf("base");
    expect(motd).not.toBe(before);
    importWith({ "files/conf.d/a.conf": "a=2\n" });
    expect(hashOf("base")).not.toBe(before);
    expect(hashOf("base")).not.toBe(motd);
  });

  test("adding a file to a synced directory changes it", () => {
    importWith();
    const before = hashOf("base");
    importWith({ "files/conf.d/b.conf": "b=1\n" });
    expect(hashOf("base")).not.toBe(before);
  });

  test("changing a synced file's mode changes it", () => {
    importWith();
    const before = hashOf("base");
    importWith({ "files/motd": ["welcome\n", 0o600] });
    expect(hashOf("base")).not.toBe(before);
  });

  test("changing the package list or an attribute changes it", () => {
    importWith();
    const before = hashOf("base");
    importWith({ "base.pkglist": "systemd-sysv\nvim\n" });
    const pkglist = hashOf("base");
    expect(pkglist).not.toBe(before);
    t.store.change([{ type: "osimage", name: "base", attrs: { addkcmdline: "quiet" } }], "set");
    expect(hashOf("base")).not.toBe(pkglist);
  });

  test("a file the definition does not use does not change it", () => {
    importWith();
    const before = hashOf("base");
    importWith({ "README.md": "notes\n" });
    expect(hashOf("base")).toBe(before);
  });

  test("extra inputs are part of it", () => {
    importWith();
    expect(hashOf("base", { base: "abc" })).not.toBe(hashOf("base"));
    expect(hashOf("base", { base: "abc" })).toBe(hashOf("base", { base: "abc" }));
  });

  test("a parent's change changes the child's hash", () => {
    importWith();
    defs.import("compute", defFiles({ "osimage.toml": 'parent = "base"' }));
    const before = hashOf("compute");
    importWith({ "scripts/setup.sh": "#!/bin/sh\necho changed\n" });
    expect(hashOf("compute")).not.toBe(before);
  });

  test("an osimage named differently with the same files hashes differently (the name is an input)", () => {
    importWith();
    defs.import("copy", defFiles({ ...FILES }));
    expect(hashOf("copy")).not.toBe(hashOf("base"));
  });
});
