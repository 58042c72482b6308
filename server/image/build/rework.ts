// What customize and packimage share: a stored version unpacked into a tree, and a tree packed back into a
// new version whose parent is the old one. The old version is never touched (its blobs are immutable).
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../../core/errors.ts";
import { debianPackages } from "../debian/packages.ts";
import { resolveDefinition } from "../definition/resolve.ts";
import type { ResolvedDefinition } from "../definition/types.ts";
import type { Manifest, ManifestArtifact } from "../manifest.ts";
import { versionId } from "../manifest.ts";
import { clampMtimes, packRootfs } from "../pack/rootfs.ts";
import { SOURCE_DATE_EPOCH } from "../reproducible.ts";
import { runCommand } from "../run-command.ts";
import { treeStats } from "../tree-stats.ts";
import type { ImageVersion } from "../versions.ts";
import { type BuildContext, type BuildOutcome, register } from "./pipeline.ts";
import { storeArtifacts } from "./publish.ts";
import { validateRoot } from "./validate.ts";

export type RootfsSpec = ResolvedDefinition["rootfs"];

/** The version's rootfs artifact, or a UserError naming what cannot be reworked. */
export function rootfsOf(osimage: string, base: ImageVersion, what: string): ManifestArtifact {
  const rootfs = base.manifest.artifacts.find((a) => a.type === "rootfs");
  if (!rootfs) throw new UserError(`${osimage}@${base.id} has no rootfs to ${what}`, 422);
  return rootfs;
}

/** The rootfs format and compression a version was packed with. */
export function specOf(rootfs: ManifestArtifact): RootfsSpec {
  return { format: (rootfs.format ?? "squashfs") as RootfsSpec["format"], compression: (rootfs.compression ?? "zstd") as RootfsSpec["compression"] };
}

/** Unpacks the version's rootfs into `<workDir>/root` and returns that path. */
export async function unpackVersion(ctx: BuildContext, base: ImageVersion, rootfs: ManifestArtifact): Promise<string> {
  const root = join(ctx.workDir, "root");
  mkdirSync(ctx.workDir, { recursive: true });
  ctx.stage("building", "unpack");
  ctx.log(`unpacking ${ctx.osimage}@${base.id} (${rootfs.file})`);
  const source = ctx.blobs.path(rootfs.sha256);
  if (rootfs.format === "squashfs") {
    await runCommand(["unsquashfs", "-no-progress", "-quiet", "-d", root, source], { ...ctx, what: "unsquashfs" });
  } else {
    mkdirSync(root);
    const decompress = { zstd: "zstd -dc", gzip: "gzip -dc", xz: "xz -dc" }[rootfs.compression as RootfsSpec["compression"]] ?? "zstd -dc";
    await runCommand(["sh", "-c", `${decompress} "$1" | (cd "$2" && cpio -idm --quiet --no-absolute-filenames)`, "sh", source, root], { ...ctx, what: "cpio unpack" });
  }
  return root;
}

export interface Rework {
  origin: "customize" | "pack";
  spec: RootfsSpec;
  kernelParams: string;
  /** What makes this rework what it is, for the version's input hash. */
  input: unknown;
  /** Recorded in the manifest's builder section. */
  builder: Record<string, string>;
  promote: boolean;
  started: number;
}

/** Packs `root` as a new version of the base: kernel and initrd are the base's, the rootfs is new. */
export async function storeReworked(ctx: BuildContext, base: ImageVersion, root: string, rework: Rework): Promise<BuildOutcome> {
  const out = join(ctx.workDir, "out");
  mkdirSync(out, { recursive: true });
  ctx.stage("packing", rework.spec.format);
  await clampMtimes(root, SOURCE_DATE_EPOCH, ctx);
  const rootStats = treeStats(root);
  const rootfs = await packRootfs(root, out, rework.spec, SOURCE_DATE_EPOCH, ctx);
  ctx.stage("packing", "checksums");
  const [rootfsStored] = await storeArtifacts(ctx.blobs, [{ type: "rootfs", ...rootfs }]);
  const artifacts = [...base.manifest.artifacts.filter((a) => a.type !== "rootfs"), rootfsStored!];
  const id = versionId(artifacts, rework.kernelParams);

  ctx.stage("validating", "tests");
  const defsDir = join(ctx.workDir, "definitions");
  ctx.defs.materialize(ctx.osimage, defsDir);
  const def = resolveDefinition(ctx.osimage, (name) => join(defsDir, name));
  const validation = await validateRoot(root, def.tests, { PROVD_IMAGE_ID: id, PROVD_OSIMAGE: ctx.osimage }, ctx);

  const manifest: Manifest = {
    ...base.manifest,
    id,
    inputHash: createHash("sha256").update(JSON.stringify([base.id, rework.origin, rework.input])).digest("hex"),
    kernelParams: rework.kernelParams,
    artifacts,
    packages: base.manifest.distro === "debian" ? await debianPackages(root) : base.manifest.packages,
    rootfs: rootStats,
    timings: { [rework.origin]: Math.round(performance.now() - rework.started) },
    builtAt: new Date().toISOString(),
    builder: { ...ctx.builder, ...rework.builder },
  };
  return register(ctx, manifest, { origin: rework.origin, parent: base.id, validation, promote: rework.promote });
}
