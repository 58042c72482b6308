import { describe, expect, test } from "vitest";
import { type ManifestArtifact, versionId } from "../../../server/image/manifest.ts";
import { artifacts, fakeSha } from "./helpers.ts";

const PARAMS = "boot=live fetch={rootfs_url}";

describe("versionId", () => {
  test("is 16 hex digits and deterministic", () => {
    const id = versionId(artifacts("a"), PARAMS);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(versionId(artifacts("a"), PARAMS)).toBe(id);
  });

  test("does not depend on the order of the artifacts", () => {
    const list = artifacts("a");
    const id = versionId(list, PARAMS);
    expect(versionId([...list].reverse(), PARAMS)).toBe(id);
    expect(versionId([list[1]!, list[2]!, list[0]!], PARAMS)).toBe(id);
  });

  test("does not sort the caller's array in place", () => {
    const list = [...artifacts("a")].reverse();
    const before = list.map((a) => a.type);
    versionId(list, PARAMS);
    expect(list.map((a) => a.type)).toEqual(before);
  });

  test.each(["kernel", "initrd", "rootfs"] as const)("changes when the %s's sha256 changes", (type) => {
    const list = artifacts("a");
    const changed = list.map((a) => (a.type === type ? { ...a, sha256: fakeSha("something else") } : a));
    expect(versionId(changed, PARAMS)).not.toBe(versionId(list, PARAMS));
  });

  test("changes when a single hex digit of a sha256 changes", () => {
    const list = artifacts("a");
    const sha = list[2]!.sha256;
    const flipped = `${sha.slice(0, -1)}${sha.endsWith("0") ? "1" : "0"}`;
    expect(versionId([list[0]!, list[1]!, { ...list[2]!, sha256: flipped }], PARAMS)).not.toBe(versionId(list, PARAMS));
  });

  test("changes with the kernel parameters", () => {
    const list = artifacts("a");
    const id = versionId(list, PARAMS);
    expect(versionId(list, `${PARAMS} quiet`)).not.toBe(id);
    expect(versionId(list, "")).not.toBe(id);
    expect(versionId(list, "boot=live  fetch={rootfs_url}")).not.toBe(id);
  });

  test("changes when an artifact is added or removed (a kernel-less root differs)", () => {
    const list = artifacts("a");
    const rootfsOnly: ManifestArtifact[] = [list[2]!];
    expect(versionId(rootfsOnly, PARAMS)).not.toBe(versionId(list, PARAMS));
  });

  test("ignores the file names and packing details, which do not change what boots", () => {
    const list = artifacts("a");
    const renamed = list.map((a) => ({ ...a, file: `x-${a.file}`, format: undefined, compression: undefined }));
    expect(versionId(renamed, PARAMS)).toBe(versionId(list, PARAMS));
  });
});
