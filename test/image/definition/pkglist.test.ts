import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { UserError } from "../../../server/core/errors.ts";
import { parsePkglistText, readPkglists, type PkglistKind } from "../../../server/image/definition/pkglist.ts";
import { tempDir, writeTree } from "./helpers.ts";

const parse = (text: string, kind: PkglistKind = "pkglist", file = "/nonexistent/x.pkglist", env?: Record<string, string>) =>
  parsePkglistText(text, file, { kind, env });
const installs = (text: string, kind: PkglistKind = "pkglist") => parse(text, kind).passes.map((p) => p.install);

describe("pkglist rules", () => {
  test("rule 1: trailing whitespace trimmed, blank lines skipped", () => {
    expect(installs("vim  \n\n")).toEqual([["vim"]]);
    expect(installs("  bash\t\r\n\n\n  \ncurl \n")).toEqual([["bash", "curl"]]);
  });

  test("rule 2: # lines are comments; inline # is an error naming file and line", () => {
    expect(installs("  # c\nbash")).toEqual([["bash"]]);
    expect(() => parse("bash\nvim # ed", "pkglist", "/defs/c.pkglist")).toThrow(UserError);
    expect(() => parse("bash\nvim # ed", "pkglist", "/defs/c.pkglist")).toThrow(/\/defs\/c\.pkglist:2: "#" inside an entry/);
    expect(() => parse("vim#ed")).toThrow(/:1:/);
  });

  test("rule 3: commas separate entries", () => {
    expect(installs("a,b")).toEqual([["a", "b"]]);
    expect(installs("a, b ,,c,\nd")).toEqual([["a", "b", "c", "d"]]);
  });

  test("rule 4: #INCLUDE recurses relative to the top-level file's directory, with $VAR", () => {
    const dir = writeTree(tempDir(), {
      "top.pkglist": "a\n#INCLUDE:sub/one.pkglist#\nz\n",
      // Nested include: relative to the top-level file's directory, not sub/.
      "sub/one.pkglist": "b\n#INCLUDE:two.pkglist#\n",
      "two.pkglist": "c\n",
      "sub/two.pkglist": "WRONG\n",
      "vars/v.pkglist": "v\n",
    });
    const top = join(dir, "top.pkglist");
    expect(readPkglists([top], { kind: "pkglist" }).passes.map((p) => p.install)).toEqual([["a", "b", "c", "z"]]);
    const withVar = parsePkglistText("#INCLUDE:$D/v.pkglist#\n#INCLUDE:${D}/v.pkglist#", top, { kind: "pkglist", env: { D: join(dir, "vars") } });
    expect(withVar.passes[0]!.install).toEqual(["v"]);
    expect(() => parsePkglistText("#INCLUDE:$NOPE/v#", top, { kind: "pkglist" })).toThrow(/\$NOPE is not set/);
  });

  test("rule 4: a missing #INCLUDE aborts", () => {
    const dir = tempDir();
    const top = join(dir, "top.pkglist");
    expect(() => parse("a\n#INCLUDE:nope#\n#INCLUDE:/also/nope#", "pkglist", top)).toThrow(
      `Unable to open the following pkglist files: ${join(dir, "nope")} (included from ${top}:2), /also/nope (included from ${top}:3)`,
    );
    expect(() => readPkglists([join(dir, "missing.pkglist")], { kind: "pkglist" })).toThrow(/Unable to open the following pkglist files: .*missing\.pkglist/);
  });

  test("rule 4: an include cycle is an error, not endless recursion", () => {
    const dir = writeTree(tempDir(), { "a.pkglist": "a\n#INCLUDE:b.pkglist#\n", "b.pkglist": "b\n#INCLUDE:a.pkglist#\n", "self.pkglist": "#INCLUDE:self.pkglist#\n" });
    expect(() => readPkglists([join(dir, "a.pkglist")], { kind: "pkglist" })).toThrow(/#INCLUDE cycle: .*a\.pkglist → .*b\.pkglist → .*a\.pkglist/);
    expect(() => readPkglists([join(dir, "self.pkglist")], { kind: "pkglist" })).toThrow(/cycle/);
    // The same file twice, not nested, is fine (and deduplicated).
    writeTree(dir, { "twice.pkglist": "#INCLUDE:b2.pkglist#\n#INCLUDE:b2.pkglist#\n", "b2.pkglist": "x\n" });
    expect(readPkglists([join(dir, "twice.pkglist")], { kind: "pkglist" }).passes[0]!.install).toEqual(["x"]);
  });

  test("rule 5: #NEW_INSTALL_LIST# starts a new ordered pass", () => {
    expect(installs("a\n#NEW_INSTALL_LIST#\nb")).toEqual([["a"], ["b"]]);
    expect(installs("a\n  #NEW_INSTALL_LIST#  \nb\n#NEW_INSTALL_LIST#\nc,d")).toEqual([["a"], ["b"], ["c", "d"]]);
    expect(() => parse("a\n#NEW_INSTALL_LIST\nb")).toThrow(/:2: malformed directive/);
  });

  test("rule 6: #ENV: applies to its pass only", () => {
    const { passes } = parse("#ENV:K=V K2=a=b#\na\n#NEW_INSTALL_LIST#\nb");
    expect(passes[0]!.env).toEqual({ K: "V", K2: "a=b" });
    expect(passes[1]!.env).toEqual({});
    expect(() => parse("#ENV:novalue#\na")).toThrow(/:1: #ENV: expects K=V/);
  });

  test("rule 7: @group entries are kept whole", () => {
    expect(installs("@Development Tools\n@core,vim")).toEqual([["@Development Tools", "@core", "vim"]]);
    expect(parse("-@Development  Tools", "otherpkglist").passes[0]!.eraseBefore).toEqual(["@Development Tools"]);
  });

  test("rule 8: otherpkglist -p erased before, --p after; in a pkglist -p removes an inherited package", () => {
    const other = parse("-a\n--b\nc", "otherpkglist");
    expect(other.passes).toEqual([{ env: {}, install: ["c"], eraseBefore: ["a"], eraseAfter: ["b"], repoOf: {} }]);
    expect(other.removals.map((r) => r.pkg)).toEqual(["a"]);
    const pkg = parse("-a\nc", "pkglist");
    expect(pkg.passes).toEqual([{ env: {}, install: ["c"], eraseBefore: [], eraseAfter: [], repoOf: {} }]);
    expect(pkg.removals).toEqual([{ pkg: "a", pass: 0, origin: "/nonexistent/x.pkglist:1" }]);
    expect(() => parse("--b", "pkglist")).toThrow(/--pkg .* only means something in an otherpkglist/);
    expect(() => parse("-", "otherpkglist")).toThrow(/package name missing/);
  });

  test("rule 9: otherpkglist dir/p comes from repository otherpkgdir/dir", () => {
    const { passes } = parse("rsct/src\nxcat/deps/foo\nplain", "otherpkglist");
    expect(passes[0]!.install).toEqual(["src", "foo", "plain"]);
    expect(passes[0]!.repoOf).toEqual({ src: "rsct", foo: "xcat/deps" });
    expect(() => parse("rsct/src", "pkglist")).toThrow(/belong in an otherpkglist/);
    expect(() => parse("../up/x", "otherpkglist")).toThrow(/relative to otherpkgdir/);
    expect(() => parse("-rsct/src", "otherpkglist")).toThrow(/not dir\/pkg/);
  });

  test("rule 10: several files merge pass by pass", () => {
    const dir = writeTree(tempDir(), {
      "f1": "a\n#NEW_INSTALL_LIST#\n#ENV:X=1#\nc\n",
      "f2": "b\n#NEW_INSTALL_LIST#\n#ENV:Y=2#\nd\n#NEW_INSTALL_LIST#\ne\n",
    });
    const { passes } = readPkglists([join(dir, "f1"), join(dir, "f2")], { kind: "pkglist" });
    expect(passes.map((p) => p.install)).toEqual([["a", "b"], ["c", "d"], ["e"]]);
    expect(passes[1]!.env).toEqual({ X: "1", Y: "2" });
  });
});

describe("pkglist malformed input", () => {
  test("empty input gives no passes", () => {
    expect(parse("").passes).toEqual([]);
    expect(parse("\n\n  \n# only a comment\n").passes).toEqual([]);
  });

  test("binary content is refused", () => {
    expect(() => parse("vim\0\x01\x02")).toThrow(/not a text file/);
    const dir = tempDir();
    writeFileSync(join(dir, "bin.pkglist"), new Uint8Array([0x76, 0x69, 0xff, 0xfe, 0x0a]));
    expect(() => readPkglists([join(dir, "bin.pkglist")], { kind: "pkglist" })).toThrow(/invalid UTF-8/);
  });

  test("garbage lines fail cleanly or parse as names, never crash", () => {
    expect(() => parse("#INCLUDE:#")).toThrow(/malformed include/);
    expect(() => parse("#INCLUDE:a# trailing")).toThrow(/malformed include/);
    expect(() => parse("a\x1bb")).toThrow(/control character/);
    expect(installs("$%^&*()\n:::")).toEqual([["$%^&*()", ":::"]]);
    expect(() => parse("#ENV:=#")).toThrow(UserError);
  });

  test("huge lines: a long entry is refused, many entries are fine", () => {
    expect(() => parse("x".repeat(1_000_000))).toThrow(/longer than 4096/);
    const many = Array.from({ length: 50_000 }, (_, i) => `p${i}`).join(",");
    expect(parse(many).passes[0]!.install).toHaveLength(50_000);
  });
});
