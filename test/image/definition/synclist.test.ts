import { chmodSync, existsSync, lstatSync, readFileSync, readlinkSync, statSync, symlinkSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { UserError } from "../../../server/core/errors.ts";
import { applySynclist, parseSynclistText, readSynclists } from "../../../server/image/definition/synclist.ts";
import { tempDir, writeTree } from "./helpers.ts";

const parse = (text: string, env?: Record<string, string>) => parseSynclistText(text, "/defs/compute/c.synclist", { env });

describe("synclist rules", () => {
  test("rule 16: src -> dst needs spaces around ->; a->b is an error with its line", () => {
    expect(parse("/etc/hosts -> /etc/hosts").entries).toEqual([
      { sources: ["/etc/hosts"], dest: "/etc/hosts", destIsDir: false, origin: "/defs/compute/c.synclist:1" },
    ]);
    expect(parse("/a\t->\t/b").entries[0]!.dest).toBe("/b");
    expect(() => parse("/x -> /y\na->b")).toThrow(UserError);
    expect(() => parse("/x -> /y\na->b")).toThrow(/c\.synclist:2: "a->b": spaces are required around ->/);
    expect(() => parse("/a ->/b")).toThrow(/spaces are required/);
    expect(() => parse("/a -> /b -> /c")).toThrow(/more than one ->/);
  });

  test("rule 17: dst is a directory if it ends in / or there are several sources; parents created", async () => {
    expect(parse("/a /b -> /d").entries[0]).toMatchObject({ sources: ["/a", "/b"], dest: "/d", destIsDir: true });
    expect(parse("/a -> /d/").entries[0]).toMatchObject({ destIsDir: true });
    expect(parse("/a -> /d").entries[0]).toMatchObject({ destIsDir: false });

    const src = writeTree(tempDir(), { a: "A", b: "B", c: "C" });
    const root = tempDir("provd-root-");
    const text = `${src}/a ${src}/b -> /d\n${src}/c -> /deep/er/named\n${src}/a -> /into/\n`;
    await applySynclist(root, parse(text).entries);
    expect(readFileSync(join(root, "d/a"), "utf8")).toBe("A");
    expect(readFileSync(join(root, "d/b"), "utf8")).toBe("B");
    expect(readFileSync(join(root, "deep/er/named"), "utf8")).toBe("C");
    expect(readFileSync(join(root, "into/a"), "utf8")).toBe("A");
  });

  test("rule 18: comments only with # in column 1", () => {
    expect(parse("#x -> /y\n\n   \n").entries).toEqual([]);
    // Not column 1: an entry whose source is "#x", relative to the synclist's folder.
    expect(parse("  #x -> /y").entries[0]!.sources).toEqual(["/defs/compute/#x"]);
  });

  test("rule 19: (noderange) entries are for node sync only, skipped for the image with a warning", () => {
    const parsed = parse("/a -> (n[1-2]) /etc/a\n/b -> /etc/b");
    expect(parsed.entries.map((e) => e.dest)).toEqual(["/etc/b"]);
    expect(parsed.warnings).toEqual(["/defs/compute/c.synclist:1: entry for nodes (n[1-2]) skipped: node-specific entries apply to node sync only"]);
    expect(() => parse("/a -> (n1 /etc/a")).toThrow(/unclosed \(noderange/);
  });

  test("rule 20: image sync stops at the first EXECUTE:/EXECUTEALWAYS:/APPEND:/MERGE: section, with a warning", () => {
    for (const section of ["EXECUTE", "EXECUTEALWAYS", "APPEND", "MERGE"]) {
      const parsed = parse(`/a -> /a\n${section}:\n/b -> /b\nnot even an entry\n`);
      expect(parsed.entries.map((e) => e.dest)).toEqual(["/a"]);
      expect(parsed.warnings).toHaveLength(1);
      expect(parsed.warnings[0]).toContain(`c.synclist:2: ${section}: section`);
    }
  });

  test("rule 21: $VAR from environvar, copied with rsync -Lprogtz semantics", async () => {
    const opt = writeTree(tempDir(), { x: "from opt", "target-file": "linked content" });
    symlinkSync(join(opt, "target-file"), join(opt, "link"));
    chmodSync(join(opt, "x"), 0o4750);
    utimesSync(join(opt, "x"), 1_000_000, 1_000_000);
    const parsed = parse("$D/x -> /x\n${D}/link -> /etc/link", { D: opt });
    expect(parsed.entries[0]!.sources).toEqual([join(opt, "x")]);
    expect(() => parse("$NOPE/x -> /x")).toThrow(/:1: \$NOPE is not set/);

    const root = tempDir("provd-root-");
    const { copied } = await applySynclist(root, parsed.entries);
    expect(copied).toBe(2);
    const st = statSync(join(root, "x"));
    expect(readFileSync(join(root, "x"), "utf8")).toBe("from opt");
    expect(st.mode & 0o7777).toBe(0o4750);
    expect(st.mtimeMs).toBe(1_000_000_000);
    // -L: the link's content is copied, not the link.
    expect(lstatSync(join(root, "etc/link")).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(root, "etc/link"), "utf8")).toBe("linked content");
  });
});

describe("applySynclist on real trees", () => {
  test("relative sources resolve against the synclist file's directory", async () => {
    const defs = writeTree(tempDir(), { "compute/c.synclist": "files/motd -> /etc/motd\n", "compute/files/motd": "hello\n" });
    const parsed = readSynclists([join(defs, "compute/c.synclist")]);
    expect(parsed.entries[0]!.sources).toEqual([join(defs, "compute/files/motd")]);
    const root = tempDir("provd-root-");
    await applySynclist(root, parsed.entries);
    expect(readFileSync(join(root, "etc/motd"), "utf8")).toBe("hello\n");
  });

  test("a directory source is copied recursively; dest/ puts it inside, a plain dest names it", async () => {
    const src = writeTree(tempDir(), { "conf/a": "a", "conf/sub/b": "b" });
    chmodSync(join(src, "conf/sub"), 0o750);
    const root = tempDir("provd-root-");
    await applySynclist(root, parse(`${src}/conf -> /etc/\n${src}/conf -> /opt/conf.d\n${src}/conf/ -> /srv/\n`).entries);
    expect(readFileSync(join(root, "etc/conf/sub/b"), "utf8")).toBe("b");
    expect(statSync(join(root, "etc/conf/sub")).mode & 0o777).toBe(0o750);
    expect(readFileSync(join(root, "opt/conf.d/a"), "utf8")).toBe("a");
    expect(readFileSync(join(root, "srv/sub/b"), "utf8")).toBe("b");
  });

  test("a missing source is a UserError naming the entry", async () => {
    const root = tempDir("provd-root-");
    await expect(applySynclist(root, parse("/nonexistent/provd-x -> /x").entries)).rejects.toThrow(
      "/defs/compute/c.synclist:1: source /nonexistent/provd-x does not exist",
    );
    const src = tempDir();
    symlinkSync(join(src, "gone"), join(src, "dangling"));
    await expect(applySynclist(root, parse(`${src}/dangling -> /x`).entries)).rejects.toThrow(UserError);
  });

  test("symlinks inside the image resolve inside the image, never onto the build host", async () => {
    const host = writeTree(tempDir(), { "hostfile": "host" });
    const src = writeTree(tempDir(), { new: "new" });
    const root = writeTree(tempDir("provd-root-"), { "usr/lib/": "" });
    symlinkSync("usr/lib", join(root, "lib")); // merged-/usr style relative link
    symlinkSync(host, join(root, "abs")); // an absolute link means <root><host>, like in a chroot
    symlinkSync(join(host, "hostfile"), join(root, "victim")); // the final component is replaced, not written through
    symlinkSync("../../..", join(root, "usr/lib/up"));
    await applySynclist(
      root,
      parse(`${src}/new -> /lib/new\n${src}/new -> /abs/hostfile\n${src}/new -> /victim\n${src}/new -> /usr/lib/up/../escaped`).entries,
    );
    expect(readFileSync(join(root, "usr/lib/new"), "utf8")).toBe("new");
    expect(readFileSync(join(root, host, "hostfile"), "utf8")).toBe("new");
    expect(readFileSync(join(host, "hostfile"), "utf8")).toBe("host");
    expect(lstatSync(join(root, "victim")).isFile()).toBe(true);
    expect(readFileSync(join(root, "escaped"), "utf8")).toBe("new");
    expect(readlinkSync(join(root, "lib"))).toBe("usr/lib");
  });

  test("a file onto an existing directory is refused; a symlink loop in a source is an error", async () => {
    const src = writeTree(tempDir(), { f: "f", "loop/x": "x" });
    symlinkSync("..", join(src, "loop/back"));
    const root = writeTree(tempDir("provd-root-"), { "etc/dir/": "" });
    await expect(applySynclist(root, parse(`${src}/f -> /etc/dir`).entries)).rejects.toThrow(/\/etc\/dir is a directory in the image/);
    await expect(applySynclist(root, parse(`${src}/loop -> /opt/`).entries)).rejects.toThrow(/symlink loop/);
  });

  test("an image root that is not a directory is an error", async () => {
    await expect(applySynclist("/nonexistent/root", [])).rejects.toThrow(UserError);
    const file = join(writeTree(tempDir(), { f: "f" }), "f");
    await expect(applySynclist(file, [])).rejects.toThrow(/is not a directory/);
  });
});

describe("synclist malformed input", () => {
  test("empty input: no entries, no warnings", () => {
    expect(parse("")).toEqual({ entries: [], warnings: [] });
  });

  test("binary content is refused", () => {
    expect(() => parse("/a -> /b\0")).toThrow(/not a text file/);
  });

  test("garbage lines name their line", () => {
    expect(() => parse("just some words")).toThrow(/:1: .*expected src \[src…\] -> dst/);
    expect(() => parse(" -> /x")).toThrow(/no source/);
    expect(() => parse("/a -> ")).toThrow(/no destination/);
    expect(() => parse("/a ->")).toThrow(/spaces are required/);
    expect(() => parse("/a -> relative")).toThrow(/must be an absolute path/);
    expect(() => parse("/a -> /b /c")).toThrow(/one destination/);
    expect(() => parse("/a\x07 -> /b")).toThrow(/control character/);
  });

  test("huge lines parse without trouble", () => {
    const many = Array.from({ length: 20_000 }, (_, i) => `/s${i}`).join(" ");
    expect(parse(`${many} -> /d`).entries[0]!.sources).toHaveLength(20_000);
    expect(() => parse("x".repeat(1_000_000))).toThrow(UserError);
  });

  test("a missing synclist file is an error", () => {
    expect(() => readSynclists(["/nonexistent/provd.synclist"])).toThrow(/Unable to open the following synclist files/);
    expect(existsSync("/nonexistent")).toBe(false);
  });
});
