import { existsSync, lstatSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { UserError } from "../../../server/core/errors.ts";
import { applyExlist, globToRegExp, parseExlistText, readExlists } from "../../../server/image/definition/exlist.ts";
import { compileGlob } from "../../../server/image/definition/glob.ts";
import { tempDir, writeTree } from "./helpers.ts";

const parse = (text: string, file = "/defs/c.exlist") => parseExlistText(text, file);

/** Every path under root as find prints it ("./a", "./a/b"), sorted. */
function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      out.push(`${rel}/${name}`);
      if (lstatSync(path).isDirectory()) walk(path, `${rel}/${name}`);
    }
  };
  walk(root, ".");
  return out.sort();
}

function imageTree(): string {
  return writeTree(tempDir("provd-exlist-"), {
    "usr/share/man/man1/ls.1.gz": "m",
    "usr/share/mandb": "x",
    "usr/share/doc/bash/README": "d",
    "usr/share/locale/C.utf8/LC_MESSAGES/x.mo": "c",
    "usr/share/locale/de/LC_MESSAGES/x.mo": "de",
    "usr/share/locale/fr/LC_MESSAGES/x.mo": "fr",
    "usr/bin/ls": "ls",
    "var/cache/apt/pkgcache.bin": "p",
    "var/cachefiles": "f",
    "var/lib/dpkg/status": "s",
    ".statelite/litefile": "l",
    ".default/x": "d",
    ".statebackup": "b",
    "etc/hostname": "h",
  });
}

describe("exlist rules", () => {
  test("rule 11: find -path globs; * also matches /; a trailing / never matches", async () => {
    const m = (glob: string, path: string) => compileGlob(glob)(path);
    expect(m("./usr/share/man*", "./usr/share/man/man1/ls.1.gz")).toBe(true);
    expect(m("./usr/share/man*", "./usr/share/mandb")).toBe(true);
    expect(m("./usr/share/man/", "./usr/share/man")).toBe(false);
    expect(m("./usr/share/man/", "./usr/share/man/")).toBe(true); // only because find never prints such a path

    const root = imageTree();
    const { removed } = await applyExlist(root, parse("./usr/share/man*\n./usr/share/doc/\n"));
    expect(existsSync(join(root, "usr/share/man"))).toBe(false);
    expect(existsSync(join(root, "usr/share/mandb"))).toBe(false);
    expect(existsSync(join(root, "usr/share/doc/bash/README"))).toBe(true);
    // man, man1, ls.1.gz, mandb, and the always-excluded .statelite, .statelite/litefile, .default, .default/x, .statebackup.
    expect(removed).toBe(4 + 5);
  });

  test("rule 12: + re-includes, a leading - is optional", async () => {
    expect(parse("-./a*\n+./a/keep*\n./b")).toEqual([
      { glob: "./a*", include: false, origin: "/defs/c.exlist:1" },
      { glob: "./a/keep*", include: true, origin: "/defs/c.exlist:2" },
      { glob: "./b", include: false, origin: "/defs/c.exlist:3" },
    ]);
    const root = imageTree();
    await applyExlist(root, parse("./usr/share/locale/*\n+./usr/share/locale/C*\n"));
    expect(listTree(join(root, "usr/share/locale"))).toEqual(["./C.utf8", "./C.utf8/LC_MESSAGES", "./C.utf8/LC_MESSAGES/x.mo"]);
  });

  test("rule 13: # starts a comment anywhere; a missing include is an error", async () => {
    expect(parse("./var/cache* # x\n  # whole line\n./a#b")).toEqual([
      { glob: "./var/cache*", include: false, origin: "/defs/c.exlist:1" },
      { glob: "./a", include: false, origin: "/defs/c.exlist:3" },
    ]);
    const root = imageTree();
    await applyExlist(root, parse("./var/cache* # x"));
    expect(existsSync(join(root, "var/cache"))).toBe(false);
    expect(existsSync(join(root, "var/cachefiles"))).toBe(false);
    expect(existsSync(join(root, "var/lib/dpkg/status"))).toBe(true);

    const dir = tempDir();
    expect(() => parseExlistText("#INCLUDE:nope#", join(dir, "c.exlist"))).toThrow(`Unable to open the following exlist files: ${join(dir, "nope")}`);
    writeTree(dir, { "common.exlist": "./usr/share/doc*\n", "top.exlist": "#INCLUDE:common.exlist# # shared rules\n./tmp/*\n" });
    expect(readExlists([join(dir, "top.exlist")]).map((r) => [r.glob, r.origin])).toEqual([
      ["./usr/share/doc*", `${dir}/common.exlist:1`],
      ["./tmp/*", `${dir}/top.exlist:2`],
    ]);
  });

  // The site.timezone half of rule 14 (always keep the zone file) needs the site table; it is left out here.
  test("rule 14: ./.statelite*, ./.default*, ./.statebackup* are always excluded", async () => {
    const root = imageTree();
    await applyExlist(root, []);
    expect(existsSync(join(root, ".statelite"))).toBe(false);
    expect(existsSync(join(root, ".default"))).toBe(false);
    expect(existsSync(join(root, ".statebackup"))).toBe(false);
    expect(existsSync(join(root, "etc/hostname"))).toBe(true);
    // Even a re-include does not bring them back.
    const again = writeTree(tempDir(), { ".statelite/x": "x" });
    await applyExlist(again, parse("+./.statelite*"));
    expect(existsSync(join(again, ".statelite"))).toBe(false);
  });
});

describe("globToRegExp and compileGlob agree on find -path semantics", () => {
  const cases: Array<[string, string, boolean]> = [
    ["./a/*", "./a/b/c", true],
    ["./a/?", "./a/b", true],
    ["./a?b", "./a/b", true], // ? matches / too
    ["*.pyc", "./usr/lib/x.pyc", true],
    ["*", "./.hidden", true],
    ["./[ab]x", "./bx", true],
    ["./[!ab]x", "./cx", true],
    ["./[!ab]x", "./ax", false],
    ["./[^ab]x", "./ax", false],
    ["./[a-c]", "./b", true],
    ["./[c-a]", "./b", false], // reversed range matches nothing
    ["./[]]", "./]", true],
    ["./[!]]", "./a", true],
    ["./[[:digit:]]*", "./7z", true],
    ["./[[:digit:]]*", "./z7", false],
    ["./[a-]", "./-", true],
    ["./[", "./[", true], // unterminated bracket is literal
    ["./\\*", "./*", true],
    ["./\\*", "./x", false],
    ["./a.b", "./aXb", false], // . is literal
    ["./(x)+", "./(x)+", true],
    ["./é*", "./été", true],
    ["./tmp/", "./tmp", false],
    ["./a*b*c", "./axxbyyc", true],
    ["./a*b*c", "./axxbyy", false],
  ];
  test.each(cases)("%s vs %s → %s", (glob, path, expected) => {
    expect(globToRegExp(glob).test(path)).toBe(expected);
    expect(compileGlob(glob)(path)).toBe(expected);
  });

  test("unknown character class is a UserError with origin", () => {
    expect(() => parse("./[[:nope:]]")).toThrow(/c\.exlist:1: .*unknown character class \[:nope:\]/);
  });
});

describe("applyExlist on real trees", () => {
  test("an excluded directory stays while something under it is re-included; its parents stay too", async () => {
    const root = imageTree();
    await applyExlist(root, parse("./usr/share*\n+./usr/share/doc/bash/README\n"));
    expect(listTree(join(root, "usr"))).toEqual(["./bin", "./bin/ls", "./share", "./share/doc", "./share/doc/bash", "./share/doc/bash/README"]);
  });

  test("an exclusion without * removes the entry only, like find without -prune", async () => {
    const root = imageTree();
    await applyExlist(root, parse("./var/lib/dpkg\n./etc/hostname\n"));
    expect(existsSync(join(root, "var/lib/dpkg/status"))).toBe(true);
    expect(existsSync(join(root, "etc/hostname"))).toBe(false);
    expect(existsSync(join(root, "etc"))).toBe(true);
  });

  test("symlinks are removed, never followed; root itself never deleted", async () => {
    const outside = writeTree(tempDir(), { "precious/file": "keep me" });
    const root = writeTree(tempDir(), { "a/file": "x" });
    symlinkSync(join(outside, "precious"), join(root, "a/link"));
    symlinkSync("/", join(root, "rootlink"));
    const { removed } = await applyExlist(root, parse("*\n"));
    expect(readdirSync(root)).toEqual([]);
    expect(existsSync(root)).toBe(true);
    expect(existsSync(join(outside, "precious/file"))).toBe(true);
    expect(removed).toBe(4);
    expect(existsSync("/etc")).toBe(true);
  });

  test("a root given through a symlink is resolved, and a missing root is an error", async () => {
    const real = writeTree(tempDir(), { "tmp/x": "x" });
    const linkDir = tempDir();
    symlinkSync(real, join(linkDir, "root"));
    await applyExlist(join(linkDir, "root"), parse("./tmp/*"));
    expect(existsSync(join(real, "tmp"))).toBe(true);
    expect(existsSync(join(real, "tmp/x"))).toBe(false);
    await expect(applyExlist(join(linkDir, "nope"), [])).rejects.toThrow(UserError);
  });

  test("many files in one go", async () => {
    const root = tempDir();
    for (let d = 0; d < 20; d++) {
      mkdirSync(join(root, `d${d}`));
      for (let f = 0; f < 50; f++) writeFileSync(join(root, `d${d}`, `f${f}.pyc`), "");
      writeFileSync(join(root, `d${d}`, "keep.py"), "");
    }
    const { removed } = await applyExlist(root, parse("*.pyc"));
    expect(removed).toBe(1000);
    expect(listTree(root)).toHaveLength(40);
  });
});

describe("exlist malformed input", () => {
  test("empty input gives no rules", () => {
    expect(parse("")).toEqual([]);
    expect(parse("\n  \n# c\n+  # only comment\n".replace("+  # only comment", ""))).toEqual([]);
  });

  test("binary content is refused", () => {
    expect(() => parse("./a\0./b")).toThrow(/not a text file/);
  });

  test("garbage is refused with its line", () => {
    expect(() => parse("./ok\n/usr/share/man*")).toThrow(/c\.exlist:2: .*can never match.*start with \.\//);
    expect(() => parse("usr/share")).toThrow(/can never match/);
    expect(() => parse("+")).toThrow(/has no path/);
    expect(() => parse("./a ./b")).toThrow(/one path per line/);
    expect(() => parse("#INCLUDE:x")).toThrow(/malformed include/);
    expect(parse(".*")).toHaveLength(1);
  });

  test("huge and pathological lines stay fast", () => {
    const long = `./${"a".repeat(200_000)}*`;
    expect(parse(long)).toHaveLength(1);
    // Many stars and a near miss: exponential for a backtracking regex, linear for the matcher.
    const m = compileGlob(`./${"*a".repeat(40)}b`);
    const started = performance.now();
    expect(m(`./${"a".repeat(5000)}`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
