import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { ImageVersions, LATEST, parseImageRef } from "../../../server/image/versions.ts";
import { defineOsimages, fakeVersion, freshDb, type TestDb, userError } from "./helpers.ts";

describe("ImageVersions", () => {
  let t: TestDb;
  let versions: ImageVersions;
  let now: number;

  beforeEach(() => {
    // createdAt orders versions; a controlled clock makes "newest" unambiguous.
    now = 1_700_000_000_000;
    vi.spyOn(Date, "now").mockImplementation(() => now);
    t = freshDb();
    defineOsimages(t.store, "compute", "other");
    versions = new ImageVersions(t.db, t.store);
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** Adds versions one second apart, in the order given. */
  function addAll(osimage: string, ...ids: string[]): void {
    for (const id of ids) {
      now += 1000;
      versions.add(fakeVersion(osimage, id));
    }
  }

  test("add stores a version and returns it with no aliases", () => {
    const v = versions.add(fakeVersion("compute", "aaaaaaaaaaaa0001"));
    expect(v).toMatchObject({ osimage: "compute", id: "aaaaaaaaaaaa0001", origin: "build", validation: "passed", aliases: [], createdAt: now });
    expect(v.parent).toBeUndefined();
    expect(v.manifest.artifacts).toHaveLength(3);
    expect(versions.get("compute", "aaaaaaaaaaaa0001")).toEqual(v);
  });

  test("add is idempotent on the same id: the first stored version is kept as it was", () => {
    const first = versions.add(fakeVersion("compute", "aaaaaaaaaaaa0001", { validation: "passed" }));
    now += 5000;
    const again = versions.add(fakeVersion("compute", "aaaaaaaaaaaa0001", { validation: "failed", inputHash: "other" }));
    expect(again).toEqual(first);
    expect(versions.list("compute")).toHaveLength(1);
  });

  test("add bumps the object store generation (boot caches notice)", () => {
    const before = t.store.generation;
    versions.add(fakeVersion("compute", "aaaaaaaaaaaa0001"));
    expect(t.store.generation).toBeGreaterThan(before);
  });

  test("a customized version keeps its parent", () => {
    addAll("compute", "aaaaaaaaaaaa0001");
    now += 1000;
    const child = versions.add(fakeVersion("compute", "bbbbbbbbbbbb0002", { parent: "aaaaaaaaaaaa0001" }));
    expect(child).toMatchObject({ origin: "customize", parent: "aaaaaaaaaaaa0001" });
  });

  test("list is oldest first, per osimage or for all", () => {
    addAll("compute", "cccccccccccc0003", "aaaaaaaaaaaa0001");
    addAll("other", "ffffffffffff0001");
    addAll("compute", "bbbbbbbbbbbb0002");
    expect(versions.list("compute").map((v) => v.id)).toEqual(["cccccccccccc0003", "aaaaaaaaaaaa0001", "bbbbbbbbbbbb0002"]);
    expect(versions.list("other").map((v) => v.id)).toEqual(["ffffffffffff0001"]);
    expect(versions.list().map((v) => `${v.osimage}@${v.id}`)).toEqual([
      "compute@cccccccccccc0003",
      "compute@aaaaaaaaaaaa0001",
      "other@ffffffffffff0001",
      "compute@bbbbbbbbbbbb0002",
    ]);
    expect(versions.list("nosuch")).toEqual([]);
  });

  test("list shows each version's aliases, sorted, and only its own osimage's", () => {
    addAll("compute", "aaaaaaaaaaaa0001", "bbbbbbbbbbbb0002");
    addAll("other", "aaaaaaaaaaaa0001");
    versions.setAlias("compute", LATEST, "bbbbbbbbbbbb0002");
    versions.setAlias("compute", "stable", "bbbbbbbbbbbb0002");
    versions.setAlias("compute", "old", "aaaaaaaaaaaa0001");
    expect(versions.list("compute").map((v) => [v.id, v.aliases])).toEqual([
      ["aaaaaaaaaaaa0001", ["old"]],
      ["bbbbbbbbbbbb0002", [LATEST, "stable"]],
    ]);
    expect(versions.get("other", "aaaaaaaaaaaa0001")!.aliases).toEqual([]);
  });

  test("versions stored within the same millisecond keep the order they were added in", () => {
    // Ids sort differently from insertion order: the newest must still be the last added (prune keeps it).
    for (const id of ["ffffffffffff0001", "aaaaaaaaaaaa0002", "cccccccccccc0003", "bbbbbbbbbbbb0004"]) versions.add(fakeVersion("compute", id));
    expect(versions.list("compute").map((v) => v.id)).toEqual(["ffffffffffff0001", "aaaaaaaaaaaa0002", "cccccccccccc0003", "bbbbbbbbbbbb0004"]);
    expect(versions.prune("compute", new Set(), true)).toEqual(["ffffffffffff0001", "aaaaaaaaaaaa0002", "cccccccccccc0003"]);
  });

  test("findByInput returns the newest version built from those inputs", () => {
    now += 1000;
    versions.add(fakeVersion("compute", "aaaaaaaaaaaa0001", { inputHash: "h1" }));
    now += 1000;
    versions.add(fakeVersion("compute", "bbbbbbbbbbbb0002", { inputHash: "h2" }));
    now += 1000;
    versions.add(fakeVersion("compute", "cccccccccccc0003", { inputHash: "h1" }));
    expect(versions.findByInput("compute", "h1")?.id).toBe("cccccccccccc0003");
    expect(versions.findByInput("compute", "h2")?.id).toBe("bbbbbbbbbbbb0002");
    expect(versions.findByInput("compute", "h3")).toBeUndefined();
    expect(versions.findByInput("other", "h1")).toBeUndefined();
  });

  describe("resolve", () => {
    beforeEach(() => {
      addAll("compute", "abcdef0000000001", "abcdef0000000002", "123456789abcdef0");
      versions.setAlias("compute", LATEST, "abcdef0000000002");
      versions.setAlias("compute", "release-1", "123456789abcdef0");
    });

    test("by alias, latest by default", () => {
      expect(versions.resolve("compute").id).toBe("abcdef0000000002");
      expect(versions.resolve("compute", LATEST).id).toBe("abcdef0000000002");
      expect(versions.resolve("compute", "release-1").id).toBe("123456789abcdef0");
    });

    test("by full id", () => {
      expect(versions.resolve("compute", "abcdef0000000001").id).toBe("abcdef0000000001");
    });

    test("by a unique prefix of 6 or more characters", () => {
      expect(versions.resolve("compute", "123456").id).toBe("123456789abcdef0");
      expect(versions.resolve("compute", "123456789abcde").id).toBe("123456789abcdef0");
    });

    test("a prefix shorter than 6 characters is not an id", () => {
      const e = userError(() => versions.resolve("compute", "12345"));
      expect(e.status).toBe(404);
      expect(e.message).toBe("osimage compute has no version or alias '12345' (provctl images compute lists them)");
    });

    test("an ambiguous prefix names the candidates", () => {
      const e = userError(() => versions.resolve("compute", "abcdef"));
      expect(e.status).toBe(400);
      expect(e.message).toBe("compute@abcdef is ambiguous: abcdef0000000001, abcdef0000000002");
    });

    test("an unknown alias says how to list versions", () => {
      const e = userError(() => versions.resolve("compute", "nightly"));
      expect(e.status).toBe(404);
      expect(e.message).toMatch(/^osimage compute has no version or alias 'nightly'/);
      expect(e.message).toContain("provctl images compute");
    });

    test("versions of another osimage are not found", () => {
      expect(() => versions.resolve("other", "123456789abcdef0")).toThrow("osimage other has no built versions yet: provctl genimage other");
    });
  });

  test("no versions at all: says to build one", () => {
    const e = userError(() => versions.resolve("compute"));
    expect(e.status).toBe(404);
    expect(e.message).toBe("osimage compute has no built versions yet: provctl genimage compute");
  });

  test("versions but no latest alias: says no build passed validation", () => {
    addAll("compute", "aaaaaaaaaaaa0001");
    const e = userError(() => versions.resolve("compute"));
    expect(e.status).toBe(404);
    expect(e.message).toBe("osimage compute has no 'latest' version (no build passed validation): provctl images compute");
  });

  test("setAlias validates the alias name", () => {
    addAll("compute", "aaaaaaaaaaaa0001");
    for (const good of ["latest", "r", "release-1.2_b", `a${"x".repeat(63)}`, "Stable"]) {
      expect(() => versions.setAlias("compute", good, "aaaaaaaaaaaa0001")).not.toThrow();
    }
    for (const bad of ["", "1abc", "-x", ".x", "_x", "a b", "a/b", "a@b", "a:b", `a${"x".repeat(64)}`, "ré"]) {
      const e = userError(() => versions.setAlias("compute", bad, "aaaaaaaaaaaa0001"));
      expect(e.status).toBe(400);
      expect(e.message).toBe(`'${bad}' is not a valid alias name (letters, digits, '.', '_', '-'; starting with a letter)`);
    }
    expect(versions.get("compute", "aaaaaaaaaaaa0001")!.aliases).toEqual(["Stable", `a${"x".repeat(63)}`, "latest", "r", "release-1.2_b"].sort());
  });

  test("setAlias to a version that does not exist is a 404 and changes nothing", () => {
    addAll("compute", "aaaaaaaaaaaa0001");
    versions.setAlias("compute", LATEST, "aaaaaaaaaaaa0001");
    const e = userError(() => versions.setAlias("compute", LATEST, "ffffffffffffffff"));
    expect(e.status).toBe(404);
    expect(e.message).toBe("osimage compute has no version ffffffffffffffff");
    expect(versions.aliasTarget("compute", LATEST)).toBe("aaaaaaaaaaaa0001");
  });

  test("setAlias moves an alias; aliasTarget follows", () => {
    addAll("compute", "aaaaaaaaaaaa0001", "bbbbbbbbbbbb0002");
    expect(versions.aliasTarget("compute", LATEST)).toBeUndefined();
    versions.setAlias("compute", LATEST, "aaaaaaaaaaaa0001");
    versions.setAlias("compute", LATEST, "bbbbbbbbbbbb0002");
    expect(versions.aliasTarget("compute", LATEST)).toBe("bbbbbbbbbbbb0002");
    expect(versions.get("compute", "aaaaaaaaaaaa0001")!.aliases).toEqual([]);
  });

  describe("rollback", () => {
    test("steps back through the alias's history, twice", () => {
      addAll("compute", "aaaaaaaaaaaa0001", "bbbbbbbbbbbb0002", "cccccccccccc0003");
      versions.setAlias("compute", LATEST, "aaaaaaaaaaaa0001");
      versions.setAlias("compute", LATEST, "bbbbbbbbbbbb0002");
      versions.setAlias("compute", LATEST, "cccccccccccc0003");
      expect(versions.rollback("compute")).toEqual({ from: "cccccccccccc0003", to: "bbbbbbbbbbbb0002" });
      expect(versions.resolve("compute").id).toBe("bbbbbbbbbbbb0002");
      expect(versions.rollback("compute", LATEST)).toEqual({ from: "bbbbbbbbbbbb0002", to: "aaaaaaaaaaaa0001" });
      expect(versions.resolve("compute").id).toBe("aaaaaaaaaaaa0001");
      const e = userError(() => versions.rollback("compute"));
      expect(e.status).toBe(409);
    });

    test("re-promoting after a rollback, then rolling back, returns to the version before", () => {
      addAll("compute", "aaaaaaaaaaaa0001", "bbbbbbbbbbbb0002", "cccccccccccc0003");
      versions.setAlias("compute", LATEST, "aaaaaaaaaaaa0001");
      versions.setAlias("compute", LATEST, "bbbbbbbbbbbb0002");
      versions.rollback("compute");
      versions.setAlias("compute", LATEST, "cccccccccccc0003");
      expect(versions.rollback("compute")).toEqual({ from: "cccccccccccc0003", to: "aaaaaaaaaaaa0001" });
    });

    test("works on any alias, independently of latest", () => {
      addAll("compute", "aaaaaaaaaaaa0001", "bbbbbbbbbbbb0002");
      versions.setAlias("compute", LATEST, "bbbbbbbbbbbb0002");
      versions.setAlias("compute", "stable", "aaaaaaaaaaaa0001");
      versions.setAlias("compute", "stable", "bbbbbbbbbbbb0002");
      expect(versions.rollback("compute", "stable")).toEqual({ from: "bbbbbbbbbbbb0002", to: "aaaaaaaaaaaa0001" });
      expect(versions.aliasTarget("compute", LATEST)).toBe("bbbbbbbbbbbb0002");
    });

    test("with only one move there is nothing to roll back to (409)", () => {
      addAll("compute", "aaaaaaaaaaaa0001");
      versions.setAlias("compute", LATEST, "aaaaaaaaaaaa0001");
      const e = userError(() => versions.rollback("compute"));
      expect(e.status).toBe(409);
      expect(e.message).toBe("compute@latest has never pointed at another existing version; nothing to roll back to");
      expect(versions.aliasTarget("compute", LATEST)).toBe("aaaaaaaaaaaa0001");
    });

    test("a previous version that was pruned is skipped", () => {
      addAll("compute", "aaaaaaaaaaaa0001", "bbbbbbbbbbbb0002", "cccccccccccc0003");
      versions.setAlias("compute", LATEST, "aaaaaaaaaaaa0001");
      versions.setAlias("compute", LATEST, "bbbbbbbbbbbb0002");
      versions.setAlias("compute", LATEST, "cccccccccccc0003");
      // b has no alias any more and is not the newest: prune takes it.
      expect(versions.prune("compute", new Set(["aaaaaaaaaaaa0001"]), false)).toEqual(["bbbbbbbbbbbb0002"]);
      expect(versions.rollback("compute")).toEqual({ from: "cccccccccccc0003", to: "aaaaaaaaaaaa0001" });
    });

    test("an alias that was never set is a 404", () => {
      addAll("compute", "aaaaaaaaaaaa0001");
      const e = userError(() => versions.rollback("compute", "stable"));
      expect(e.status).toBe(404);
      expect(e.message).toBe("osimage compute has no alias 'stable' to roll back");
    });
  });

  test("removeAlias removes a release alias but refuses latest", () => {
    addAll("compute", "aaaaaaaaaaaa0001");
    versions.setAlias("compute", LATEST, "aaaaaaaaaaaa0001");
    versions.setAlias("compute", "stable", "aaaaaaaaaaaa0001");
    versions.removeAlias("compute", "stable");
    expect(versions.aliasTarget("compute", "stable")).toBeUndefined();
    const e = userError(() => versions.removeAlias("compute", LATEST));
    expect(e.message).toBe("'latest' cannot be removed; promote another version or roll back");
    expect(versions.aliasTarget("compute", LATEST)).toBe("aaaaaaaaaaaa0001");
  });

  describe("prune", () => {
    beforeEach(() => {
      addAll("compute", "aaaaaaaaaaaa0001", "bbbbbbbbbbbb0002", "cccccccccccc0003", "dddddddddddd0004", "eeeeeeeeeeee0005");
      addAll("other", "aaaaaaaaaaaa0001");
      versions.setAlias("compute", LATEST, "bbbbbbbbbbbb0002");
      versions.setAlias("compute", "stable", "aaaaaaaaaaaa0001");
    });

    test("keeps the newest, aliased and referenced versions", () => {
      const removed = versions.prune("compute", new Set(["cccccccccccc0003"]), false);
      expect(removed).toEqual(["dddddddddddd0004"]);
      expect(versions.list("compute").map((v) => v.id)).toEqual(["aaaaaaaaaaaa0001", "bbbbbbbbbbbb0002", "cccccccccccc0003", "eeeeeeeeeeee0005"]);
      // Another osimage's version with the same id is untouched.
      expect(versions.list("other").map((v) => v.id)).toEqual(["aaaaaaaaaaaa0001"]);
    });

    test("a dry run says what would go and deletes nothing", () => {
      const generation = t.store.generation;
      expect(versions.prune("compute", new Set(), true)).toEqual(["cccccccccccc0003", "dddddddddddd0004"]);
      expect(versions.list("compute")).toHaveLength(5);
      expect(t.store.generation).toBe(generation);
      expect(versions.prune("compute", new Set(), false)).toEqual(["cccccccccccc0003", "dddddddddddd0004"]);
      expect(versions.list("compute")).toHaveLength(3);
      expect(versions.prune("compute", new Set(), false)).toEqual([]);
    });

    test("an osimage without versions has nothing to prune", () => {
      defineOsimages(t.store, "empty");
      expect(versions.prune("empty", new Set(), false)).toEqual([]);
    });
  });
});

describe("parseImageRef", () => {
  test("a name alone, or name@version", () => {
    expect(parseImageRef("compute")).toEqual({ osimage: "compute" });
    expect(parseImageRef("compute@latest")).toEqual({ osimage: "compute", version: "latest" });
    expect(parseImageRef("compute@3f9a12")).toEqual({ osimage: "compute", version: "3f9a12" });
  });

  test.each(["@latest", "compute@", "@"])("'%s' is refused", (ref) => {
    expect(() => parseImageRef(ref)).toThrow(`'${ref}' is not an image reference`);
  });
});
