// Shared fixtures for the image unit tests: temp dirs, UserError checks, a migrated database with its object store, fake manifests.
import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import { UserError } from "../../../server/core/errors.ts";
import { Inventory } from "../../../server/core/inventory.ts";
import { ObjectStore } from "../../../server/core/objects.ts";
import { secretBox } from "../../../server/core/secret-box.ts";
import { type Db, openDatabase } from "../../../server/db/open.ts";
import type { DefinitionFile } from "../../../server/image/definition-store.ts";
import type { Manifest, ManifestArtifact } from "../../../server/image/manifest.ts";
import { testTempDir } from "../../temp-dir.ts";

/** A fresh temp directory, removed after the current test. */
export const tempDir = (prefix = "provd-image-unit-"): string => testTempDir(prefix);

/** The error thrown by `fn`, checked to be a UserError. */
export function userError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error("expected a UserError, nothing was thrown");
}

export interface TestDb {
  db: Db;
  store: ObjectStore;
  inventory: Inventory;
}

/** An in-memory database with every migration applied, and the object store over it. */
export function freshDb(): TestDb {
  const db = openDatabase(":memory:");
  const store = new ObjectStore(db, secretBox(randomBytes(32)));
  return { db, store, inventory: new Inventory(store) };
}

/** Creates bare osimage objects (image versions reference them). */
export function defineOsimages(store: ObjectStore, ...names: string[]): void {
  store.create(names.map((name) => ({ type: "osimage" as const, name, attrs: { provmethod: "netboot" } })));
}

/** A fake sha256: 64 hex digits derived from `seed`. */
export function fakeSha(seed: string): string {
  let hex = "";
  for (let i = 0; hex.length < 64; i++) hex += Bun.hash(`${seed}#${i}`).toString(16).padStart(16, "0");
  return hex.slice(0, 64);
}

export function artifacts(seed: string): ManifestArtifact[] {
  return [
    { type: "kernel", file: "vmlinuz", sha256: fakeSha(`${seed}-kernel`), size: 100 },
    { type: "initrd", file: "initrd.img", sha256: fakeSha(`${seed}-initrd`), size: 200 },
    { type: "rootfs", file: "rootfs.squashfs", sha256: fakeSha(`${seed}-rootfs`), size: 300, format: "squashfs", compression: "zstd" },
  ];
}

export function fakeManifest(osimage: string, id: string, overrides: Partial<Manifest> = {}): Manifest {
  return {
    schema: 1,
    osimage,
    id,
    inputHash: `input-${id}`,
    distro: "debian",
    osvers: "debian12",
    osarch: "x86_64",
    profile: osimage,
    release: "bookworm",
    kernelVersion: "6.1.0-test-amd64",
    kernelParams: "boot=live fetch={rootfs_url}",
    artifacts: artifacts(id),
    packages: [{ name: "bash", version: "5.2", arch: "amd64" }],
    rootfs: { bytes: 1234, files: 56 },
    timings: { resolve: 1 },
    builtAt: "2024-01-01T00:00:00Z",
    builder: { provd: "test" },
    warnings: [],
    ...overrides,
  };
}

/** What ImageVersions.add takes, for a fake build of `osimage` with id `id`. */
export function fakeVersion(osimage: string, id: string, extra: { inputHash?: string; validation?: "passed" | "failed" | "untested"; parent?: string } = {}) {
  const inputHash = extra.inputHash ?? `input-${id}`;
  return {
    osimage,
    id,
    inputHash,
    origin: extra.parent ? ("customize" as const) : ("build" as const),
    ...(extra.parent ? { parent: extra.parent } : {}),
    manifest: fakeManifest(osimage, id, { inputHash }),
    validation: extra.validation ?? ("passed" as const),
    validationLog: "ok\n",
  };
}

/** Definition files from text (mode 0644, or 0755 for "#!" scripts), or [content, mode] pairs. */
export function defFiles(files: Record<string, string | [string, number]>): DefinitionFile[] {
  return Object.entries(files).map(([path, spec]) => {
    const [text, mode] = typeof spec === "string" ? [spec, spec.startsWith("#!") ? 0o755 : 0o644] : spec;
    return { path, content: new TextEncoder().encode(text), mode };
  });
}
