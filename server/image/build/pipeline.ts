// genimage + packimage for one job: definition → root → synclist → postinstall → exlist → pack → store → validate.
// Nothing is registered until the artifacts are stored, so a failed build leaves no half image behind.
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { BlobStore } from "../../core/blob-store.ts";
import { UserError } from "../../core/errors.ts";
import { withImageMounts } from "../chroot.ts";
import type { DefinitionStore } from "../definition-store.ts";
import { applyExlist } from "../definition/exlist.ts";
import { runPostinstall } from "../definition/postinstall.ts";
import { resolveDefinition } from "../definition/resolve.ts";
import { applySynclist } from "../definition/synclist.ts";
import type { ResolvedDefinition } from "../definition/types.ts";
import { mmdebstrapArgs } from "../debian/mmdebstrap-args.ts";
import { debianPackages } from "../debian/packages.ts";
import { buildElRoot } from "../el/dnf-root.ts";
import { type InstalledPackage, type Manifest, ROOTFS_URL, versionId } from "../manifest.ts";
import { extractBootFiles } from "../pack/boot-files.ts";
import { clampMtimes, packRootfs } from "../pack/rootfs.ts";
import { runCommand } from "../run-command.ts";
import { treeStats } from "../tree-stats.ts";
import { type ImageVersion, ImageVersions, LATEST } from "../versions.ts";
import { inputHash } from "./input-hash.ts";
import { type PackedFile, publishFolder, storeArtifacts } from "./publish.ts";
import { validateRoot } from "./validate.ts";

import { SOURCE_DATE_EPOCH } from "../reproducible.ts";

export type JobState = "queued" | "building" | "packing" | "validating" | "success" | "error" | "cancelled";

export interface BuildContext {
  osimage: string;
  workDir: string;
  cacheDir: string;
  imagesDir: string;
  defs: DefinitionStore;
  versions: ImageVersions;
  blobs: BlobStore;
  log: (line: string) => void;
  /** Moves the job to a state and names the step it is on. */
  stage: (state: JobState, stage: string) => void;
  signal: AbortSignal;
  builder: Record<string, string>;
  /** Interactive customize: a shell in `root` for the attached client; resolves with its exit code. */
  shell?: (root: string) => Promise<number>;
}

export interface BuildOutcome {
  version: ImageVersion;
  /** The definition was unchanged: the existing version was returned, nothing built. */
  reused: boolean;
  promoted: boolean;
}

export async function buildImage(ctx: BuildContext, options: { force: boolean }): Promise<BuildOutcome> {
  const timer = new StageTimer();
  ctx.stage("building", "resolve");
  const defsDir = join(ctx.workDir, "definitions");
  const chain = ctx.defs.materialize(ctx.osimage, defsDir);
  ctx.log(`definition chain: ${chain.join(" → ")}`);
  const def = resolveDefinition(ctx.osimage, (name) => join(defsDir, name));
  for (const w of def.warnings) ctx.log(`warning: ${w}`);
  const hash = inputHash(def, defsDir);
  const existing = ctx.versions.findByInput(ctx.osimage, hash);
  if (existing && !options.force) {
    ctx.log(`unchanged definition: version ${existing.id} was built from the same inputs; not rebuilding (use --force to build again)`);
    return { version: existing, reused: true, promoted: false };
  }
  timer.lap("resolve");

  const root = join(ctx.workDir, "root");
  const out = join(ctx.workDir, "out");
  mkdirSync(out, { recursive: true });
  ctx.stage("building", "bootstrap");
  const packages = await bootstrap(ctx, def, root);
  timer.lap("bootstrap");

  if (def.synclist.length) {
    ctx.stage("building", "synclist");
    await applySynclist(root, def.synclist);
    ctx.log(`synclist: ${def.synclist.length} entries applied`);
    timer.lap("synclist");
  }
  if (def.postinstall.length) {
    ctx.stage("building", "postinstall");
    const kernelVersion = def.kernelPackage ? safeKernelVersion(root) : "";
    for (const step of def.postinstall) {
      ctx.log(`postinstall: ${step.origin}`);
      await runPostinstall(step, {
        root,
        osvers: def.osvers,
        arch: def.osarch,
        profile: def.profile,
        imgEnv: imgEnv(def, root, kernelVersion),
        log: ctx.log,
        signal: ctx.signal,
        wrap: (argv) => withImageMounts(root, argv),
      });
    }
    timer.lap("postinstall");
  }
  ctx.stage("building", "exlist");
  const { removed } = await applyExlist(root, def.exlist);
  ctx.log(`exlist: ${removed} paths removed`);
  timer.lap("exlist");

  ctx.stage("packing", "boot files");
  const files: PackedFile[] = [];
  let kernelVersion: string | undefined;
  if (def.kernelPackage) {
    const boot = extractBootFiles(root, out);
    kernelVersion = boot.kernelVersion;
    files.push({ type: "kernel", path: boot.kernel, file: "vmlinuz" }, { type: "initrd", path: boot.initrd, file: "initrd.img" });
    ctx.log(`kernel ${kernelVersion}`);
  }
  await clampMtimes(root, SOURCE_DATE_EPOCH, ctx);
  const rootStats = treeStats(root);
  ctx.stage("packing", def.rootfs.format);
  const rootfs = await packRootfs(root, out, def.rootfs, SOURCE_DATE_EPOCH, ctx);
  files.push({ type: "rootfs", ...rootfs });
  timer.lap("pack");

  ctx.stage("packing", "checksums");
  const artifacts = await storeArtifacts(ctx.blobs, files);
  for (const a of artifacts) ctx.log(`artifact ${a.type} ${a.file} ${a.size} bytes sha256:${a.sha256}`);
  const kernelParams = kernelParamsFor(def);
  const id = versionId(artifacts, kernelParams);
  timer.lap("checksums");

  ctx.stage("validating", "tests");
  const validation = await validateRoot(root, def.tests, { PROVD_IMAGE_ID: id, PROVD_OSIMAGE: ctx.osimage }, ctx);
  timer.lap("validate");

  const manifest: Manifest = {
    schema: 1,
    osimage: ctx.osimage,
    id,
    inputHash: hash,
    distro: def.distro,
    osvers: def.osvers,
    osarch: def.osarch,
    profile: def.profile,
    release: def.release,
    kernelVersion,
    kernelParams,
    artifacts,
    packages,
    rootfs: rootStats,
    timings: timer.timings,
    builtAt: new Date().toISOString(),
    builder: ctx.builder,
    warnings: def.warnings,
  };
  return register(ctx, manifest, { origin: "build", validation, promote: validation.state !== "failed" });
}

/** Stores the version and moves `latest` when asked and allowed; a failed validation never moves it. */
export function register(
  ctx: Pick<BuildContext, "versions" | "blobs" | "imagesDir" | "log" | "osimage">,
  manifest: Manifest,
  opts: { origin: ImageVersion["origin"]; parent?: string; validation: { state: "passed" | "failed" | "untested"; log: string }; promote: boolean },
): BuildOutcome {
  const version = ctx.versions.add({
    osimage: ctx.osimage,
    id: manifest.id,
    inputHash: manifest.inputHash,
    origin: opts.origin,
    parent: opts.parent,
    manifest,
    validation: opts.validation.state,
    validationLog: opts.validation.log,
  });
  const folder = publishFolder(ctx.imagesDir, ctx.blobs, manifest);
  ctx.log(`version ${manifest.id} stored in ${folder}`);
  if (opts.validation.state === "failed") {
    throw new UserError(`validation failed: version ${manifest.id} is stored but 'latest' stays where it was (provctl images ${ctx.osimage})`, 422);
  }
  const promoted = opts.promote && ctx.versions.aliasTarget(ctx.osimage, LATEST) !== manifest.id;
  if (opts.promote) ctx.versions.setAlias(ctx.osimage, LATEST, manifest.id);
  return { version: ctx.versions.get(ctx.osimage, manifest.id)!, reused: false, promoted };
}

async function bootstrap(ctx: BuildContext, def: ResolvedDefinition, root: string): Promise<InstalledPackage[]> {
  const env = { SOURCE_DATE_EPOCH: String(SOURCE_DATE_EPOCH) };
  if (def.distro === "el") {
    mkdirSync(root, { recursive: true });
    const { packages } = await buildElRoot({ root, def, cacheDir: join(ctx.cacheDir, "dnf"), log: ctx.log, signal: ctx.signal, gpgKeys: def.gpgKeys });
    return packages;
  }
  const aptCache = join(ctx.cacheDir, "apt");
  mkdirSync(aptCache, { recursive: true });
  const plan = mmdebstrapArgs(def, root, aptCache, hostAptSources());
  for (const step of plan.steps) ctx.log(`plan: ${step}`);
  // A private mount namespace: whatever mmdebstrap mounts in the root goes away with it, even if it is killed.
  await runCommand(["unshare", "--mount", "--propagation", "private", "--", ...plan.argv], { log: ctx.log, signal: ctx.signal, env, what: "mmdebstrap" });
  return debianPackages(root);
}

/** Parameters the image's initrd needs to find its root over the network. */
export function kernelParamsFor(def: Pick<ResolvedDefinition, "kernelPackage" | "rootfs" | "netrootTool">): string {
  if (!def.kernelPackage) return "";
  if (def.rootfs.format === "cpio") return "rdinit=/sbin/init";
  if (def.netrootTool === "dracut") return `root=live:${ROOTFS_URL} rd.live.overlay.overlayfs=1 ip=dhcp rd.neednet=1`;
  return `boot=live fetch=${ROOTFS_URL}`;
}

function imgEnv(def: ResolvedDefinition, root: string, kernelVersion: string): Record<string, string> {
  return {
    IMG_NAME: def.name,
    IMG_ARCH: def.osarch,
    IMG_OSVER: def.osvers,
    IMG_KERNELVERSION: kernelVersion,
    IMG_PROFILE: def.profile,
    IMG_PKGLIST: def.pkglist.flatMap((p) => p.install).join(","),
    IMG_PKGDIR: def.mirrors.join(","),
    IMG_OTHERPKGLIST: def.otherpkglist.flatMap((p) => p.install).join(","),
    IMG_OTHERPKGDIR: def.otherpkgdir ?? "",
    IMG_ROOTIMGDIR: root,
    ...def.environ,
  };
}

/** The newest kernel's module directory name, for IMG_KERNELVERSION. */
function safeKernelVersion(root: string): string {
  const modules = join(root, "lib/modules");
  if (!existsSync(modules)) return "";
  return readdirSync(modules).sort((a, b) => a.localeCompare(b, "en", { numeric: true })).at(-1) ?? "";
}

/** The host's apt sources, so images use the same mirror (and updates/security suites) as the build host. */
export function hostAptSources(): string {
  for (const file of ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"]) {
    if (existsSync(file) && /^\s*(deb|Types:)/m.test(readFileSync(file, "utf8"))) return file;
  }
  return "http://deb.debian.org/debian";
}

class StageTimer {
  readonly timings: Record<string, number> = {};
  private last = performance.now();
  lap(stage: string): void {
    const now = performance.now();
    this.timings[stage] = Math.round(now - this.last);
    this.last = now;
  }
}
