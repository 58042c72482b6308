// Customize: unpack an image version, run a command inside it, pack the result as a new version.
// The original version is never touched (its blobs are immutable); the new one records it as its parent.
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../../core/errors.ts";
import { insideImage } from "../chroot.ts";
import { debianPackages } from "../debian/packages.ts";
import { resolveDefinition } from "../definition/resolve.ts";
import type { Manifest } from "../manifest.ts";
import { versionId } from "../manifest.ts";
import { clampMtimes, packRootfs } from "../pack/rootfs.ts";
import { runCommand } from "../run-command.ts";
import { treeStats } from "../tree-stats.ts";
import { SOURCE_DATE_EPOCH } from "../reproducible.ts";
import { type BuildContext, type BuildOutcome, register } from "./pipeline.ts";
import { storeArtifacts } from "./publish.ts";
import { validateRoot } from "./validate.ts";

export async function customizeImage(ctx: BuildContext, request: { base: string; command: string[]; promote: boolean; interactive?: boolean }): Promise<BuildOutcome> {
  if (!request.command.length && !request.interactive) throw new UserError("customize needs a command to run inside the image, or --shell");
  const base = ctx.versions.resolve(ctx.osimage, request.base);
  const rootfsArtifact = base.manifest.artifacts.find((a) => a.type === "rootfs");
  if (!rootfsArtifact) throw new UserError(`${ctx.osimage}@${base.id} has no rootfs to customize`, 422);
  const started = performance.now();
  const root = join(ctx.workDir, "root");
  const out = join(ctx.workDir, "out");
  mkdirSync(out, { recursive: true });

  ctx.stage("building", "unpack");
  ctx.log(`unpacking ${ctx.osimage}@${base.id} (${rootfsArtifact.file})`);
  const source = ctx.blobs.path(rootfsArtifact.sha256);
  if (rootfsArtifact.format === "squashfs") {
    await runCommand(["unsquashfs", "-no-progress", "-quiet", "-d", root, source], { ...ctx, what: "unsquashfs" });
  } else {
    mkdirSync(root);
    const decompress = { zstd: "zstd -dc", gzip: "gzip -dc", xz: "xz -dc" }[rootfsArtifact.compression as "zstd" | "gzip" | "xz"] ?? "zstd -dc";
    await runCommand(["sh", "-c", `${decompress} "$1" | (cd "$2" && cpio -idm --quiet --no-absolute-filenames)`, "sh", source, root], { ...ctx, what: "cpio unpack" });
  }

  ctx.stage("building", "command");
  if (request.interactive) {
    if (!ctx.shell) throw new UserError("interactive customize is not available here");
    const code = await ctx.shell(root);
    ctx.log(`the shell exited with ${code}`);
    if (code !== 0) throw new UserError(`the shell exited with ${code}; nothing was stored (leave it with 'exit 0' to keep the changes)`);
  } else {
    ctx.log(`running in the image: ${request.command.join(" ")}`);
    await runCommand(insideImage(root, request.command), { ...ctx, what: `the customize command (${request.command[0]})` });
  }

  ctx.stage("packing", rootfsArtifact.format ?? "squashfs");
  await clampMtimes(root, SOURCE_DATE_EPOCH, ctx);
  const rootStats = treeStats(root);
  const spec = { format: (rootfsArtifact.format ?? "squashfs") as "squashfs" | "cpio", compression: (rootfsArtifact.compression ?? "zstd") as "zstd" | "xz" | "gzip" };
  const rootfs = await packRootfs(root, out, spec, SOURCE_DATE_EPOCH, ctx);
  ctx.stage("packing", "checksums");
  const [rootfsStored] = await storeArtifacts(ctx.blobs, [{ type: "rootfs", ...rootfs }]);
  // Kernel and initrd are not in the rootfs: the new version boots with the base's.
  const artifacts = [...base.manifest.artifacts.filter((a) => a.type !== "rootfs"), rootfsStored!];
  const id = versionId(artifacts, base.manifest.kernelParams);

  ctx.stage("validating", "tests");
  const defsDir = join(ctx.workDir, "definitions");
  ctx.defs.materialize(ctx.osimage, defsDir);
  const def = resolveDefinition(ctx.osimage, (name) => join(defsDir, name));
  const validation = await validateRoot(root, def.tests, { PROVD_IMAGE_ID: id, PROVD_OSIMAGE: ctx.osimage }, ctx);

  const manifest: Manifest = {
    ...base.manifest,
    id,
    // An interactive session is never "the same input" twice.
    inputHash: createHash("sha256").update(JSON.stringify([base.id, request.interactive ? `shell ${Date.now()}` : request.command])).digest("hex"),
    artifacts,
    packages: base.manifest.distro === "debian" ? await debianPackages(root) : base.manifest.packages,
    rootfs: rootStats,
    timings: { customize: Math.round(performance.now() - started) },
    builtAt: new Date().toISOString(),
    builder: { ...ctx.builder, customizedFrom: base.id, command: request.interactive ? "(interactive shell)" : request.command.join(" ") },
  };
  return register(ctx, manifest, { origin: "customize", parent: base.id, validation, promote: request.promote });
}
