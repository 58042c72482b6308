// Images as the API sees them: definitions, build and customize jobs, versions, aliases, pins and pruning.
import { join } from "node:path";
import type { BlobStore } from "../core/blob-store.ts";
import type { Db } from "../db/open.ts";
import { UserError } from "../core/errors.ts";
import type { Inventory } from "../core/inventory.ts";
import type { OsimageArtifacts } from "../core/osimage-artifacts.ts";
import { VERSION } from "../version.ts";
import { customizeImage } from "./build/customize.ts";
import { type PackRequest, packPlan, repackImage } from "./build/repack.ts";
import { BuildJobs, type JobContext, type JobRequest } from "./build/jobs.ts";
import { type BuildContext, type BuildOutcome, buildImage } from "./build/pipeline.ts";
import { DefinitionStore } from "./definition-store.ts";
import { ShellSessions } from "./build/shell-sessions.ts";
import { type ImageVersion, ImageVersions, LATEST, parseImageRef } from "./versions.ts";

export interface ImageServiceOptions {
  dataDir: string;
  cacheDir: string;
  onError?: (error: unknown) => void;
}

export class ImageService {
  readonly definitions: DefinitionStore;
  readonly versions: ImageVersions;
  readonly jobs: BuildJobs;
  readonly shells = new ShellSessions();

  constructor(
    db: Db,
    private readonly inventory: Inventory,
    private readonly blobs: BlobStore,
    private readonly artifacts: OsimageArtifacts,
    private readonly options: ImageServiceOptions,
  ) {
    this.definitions = new DefinitionStore(db, inventory.store);
    this.versions = new ImageVersions(db, inventory.store);
    this.jobs = new BuildJobs(db, join(options.dataDir, "jobs"), (ctx) => this.runJob(ctx), options.onError);
  }

  genimage(osimage: string, force = false): ReturnType<BuildJobs["submit"]> {
    this.definitions.chain(osimage);
    return this.jobs.submit({ osimage, kind: "build", force });
  }

  customize(ref: string, command: string[], promote = false, interactive = false): ReturnType<BuildJobs["submit"]> {
    const { osimage, version } = parseImageRef(ref);
    const base = this.versions.resolve(osimage, version);
    if (!command.length && !interactive) {
      throw new UserError("customize needs a command to run inside the image, e.g. provctl customize compute@latest -- apt-get install -y htop, or --shell");
    }
    if (command.length && interactive) throw new UserError("customize takes a command or --shell, not both");
    return this.jobs.submit({ osimage, kind: "customize", base: base.id, command, promote, interactive });
  }

  /** xCAT's packimage: the version's root packed another way, as a new version (nothing is built again). */
  packimage(ref: string, pack: Omit<PackRequest, "base" | "promote">, promote = false): ReturnType<BuildJobs["submit"]> {
    const { osimage, version } = parseImageRef(ref);
    const base = this.versions.resolve(osimage, version);
    packPlan(osimage, base, pack); // refused now rather than in the job
    return this.jobs.submit({ osimage, kind: "pack", base: base.id, pack, promote });
  }

  /** Versions with the nodes that boot each (pinned by id or alias, or following latest). */
  list(osimage?: string): (ImageVersion & { nodes: string[] })[] {
    const nodesByVersion = this.nodesByVersion();
    return this.versions.list(osimage).map((v) => ({ ...v, nodes: nodesByVersion.get(`${v.osimage}@${v.id}`) ?? [] }));
  }

  promote(ref: string, alias = LATEST): ImageVersion {
    const { osimage, version } = parseImageRef(ref);
    if (!version) throw new UserError(`say which version to promote: ${osimage}@<id>`);
    const target = this.versions.resolve(osimage, version);
    if (target.validation === "failed" && alias === LATEST) {
      throw new UserError(`${osimage}@${target.id} failed validation; fix the image or its tests (provctl images ${osimage} shows the log)`, 409);
    }
    this.versions.setAlias(osimage, alias, target.id);
    return this.versions.get(osimage, target.id)!;
  }

  /** Deletes versions nothing refers to and the stored files only they used. */
  prune(osimage: string, dryRun: boolean): { removed: string[]; freedBytes: number } {
    this.definitions.chain(osimage);
    const referenced = new Set([...this.nodesByVersion().keys()].filter((k) => k.startsWith(`${osimage}@`)).map((k) => k.slice(osimage.length + 1)));
    const removed = this.versions.prune(osimage, referenced, dryRun);
    if (dryRun || !removed.length) return { removed, freedBytes: 0 };
    const keep = new Set<string>();
    for (const v of this.versions.list()) for (const a of v.manifest.artifacts) keep.add(a.sha256);
    for (const o of this.inventory.store.list("osimage")) for (const a of this.artifacts.list(o.name)) keep.add(a.sha256);
    const swept = this.blobs.sweep(keep);
    return { removed, freedBytes: swept.bytes };
  }

  /** The version a node boots: its pin (`compute@v`), else `latest`; undefined for imported images without builds. */
  versionFor(ref: string): ImageVersion | undefined {
    const { osimage, version } = parseImageRef(ref);
    if (!version && !this.versions.aliasTarget(osimage, LATEST)) return undefined;
    return this.versions.resolve(osimage, version);
  }

  private nodesByVersion(): Map<string, string[]> {
    const map = new Map<string, string[]>();
    // Many nodes share a reference (compute, compute@latest): resolve each once, not once per node.
    const resolved = new Map<string, ImageVersion | undefined>();
    const resolve = (ref: string) => {
      if (!resolved.has(ref)) {
        try {
          resolved.set(ref, this.versionFor(ref));
        } catch {
          resolved.set(ref, undefined);
        }
      }
      return resolved.get(ref);
    };
    for (const node of this.inventory.list("node")) {
      const ref = node.attrs.osimage;
      const version = ref ? resolve(ref) : undefined;
      if (!version) continue;
      const key = `${version.osimage}@${version.id}`;
      map.set(key, [...(map.get(key) ?? []), node.name]);
    }
    return map;
  }

  private async runJob(job: JobContext): Promise<{ version: string; summary: string }> {
    const request: JobRequest = job.job.request;
    const ctx: BuildContext = {
      osimage: request.osimage,
      workDir: job.workDir,
      cacheDir: this.options.cacheDir,
      imagesDir: join(this.options.dataDir, "images"),
      defs: this.definitions,
      versions: this.versions,
      blobs: this.blobs,
      log: job.log,
      stage: job.stage,
      signal: job.signal,
      builder: { provd: VERSION },
      shell: (root) => this.shells.run(job.job.id, root, job.log, job.signal),
    };
    const outcome: BuildOutcome =
      request.kind === "customize"
        ? await customizeImage(ctx, { base: request.base!, command: request.command ?? [], promote: request.promote ?? false, interactive: request.interactive })
        : request.kind === "pack"
          ? await repackImage(ctx, { base: request.base!, ...request.pack, promote: request.promote ?? false })
          : await buildImage(ctx, { force: request.force ?? false });
    const v = outcome.version;
    const what = outcome.reused ? "unchanged, reused" : { build: "built", customize: `customized from ${v.parent}`, pack: `repacked from ${v.parent}` }[request.kind];
    const latest = outcome.promoted ? "; latest now points to it" : "";
    return { version: v.id, summary: `${v.osimage}@${v.id} ${what}${latest}` };
  }
}
