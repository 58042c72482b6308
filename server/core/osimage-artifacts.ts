// The boot files of an osimage (kernel, initrd, optional rootfs), registered from blobs with their sha256.
import { eq } from "drizzle-orm";
import { type Db, atomically } from "../db/open.ts";
import { osimageArtifacts } from "../db/schema.ts";
import type { Blob, BlobStore } from "./blob-store.ts";
import { UserError } from "./errors.ts";
import type { ObjectStore } from "./objects.ts";

export const ARTIFACT_KINDS = ["kernel", "initrd", "rootfs"] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export interface Artifact extends Blob {
  kind: ArtifactKind;
  fileName: string;
}

export class OsimageArtifacts {
  constructor(
    private readonly db: Db,
    private readonly store: ObjectStore,
    private readonly blobs: BlobStore,
  ) {}

  /** Registers (replacing) the given artifacts of an osimage, creating the osimage if needed. One transaction. */
  register(osimage: string, files: Partial<Record<ArtifactKind, { sha256: string; fileName?: string }>>, attrs: Record<string, string> = {}): Artifact[] {
    const blobs = Object.entries(files).map(([kind, f]) => {
      const blob = this.blobs.get(f.sha256);
      if (!blob) throw new UserError(`${kind}: no uploaded file has sha256 ${f.sha256}; upload it first`, 404);
      return { kind: kind as ArtifactKind, fileName: f.fileName ?? kind, ...blob };
    });
    const exists = this.store.list("osimage").some((o) => o.name === osimage);
    if (!exists && (!files.kernel || !files.initrd)) {
      throw new UserError(`a new osimage needs at least a kernel and an initrd`);
    }
    atomically(this.db, () => {
      if (exists) {
        if (Object.keys(attrs).length) this.store.change([{ type: "osimage", name: osimage, attrs }], "set");
      } else {
        this.store.create([{ type: "osimage", name: osimage, attrs: { provmethod: "netboot", ...attrs } }]);
      }
      const now = Date.now();
      for (const b of blobs) {
        this.db
          .insert(osimageArtifacts)
          .values({ osimage, kind: b.kind, sha256: b.sha256, size: b.size, fileName: b.fileName, createdAt: now })
          .onConflictDoUpdate({ target: [osimageArtifacts.osimage, osimageArtifacts.kind], set: { sha256: b.sha256, size: b.size, fileName: b.fileName, createdAt: now } })
          .run();
      }
    });
    this.store.generation++;
    return this.list(osimage);
  }

  list(osimage: string): Artifact[] {
    const rows = this.db.select().from(osimageArtifacts).where(eq(osimageArtifacts.osimage, osimage)).all();
    return rows.map((r) => ({ kind: r.kind as ArtifactKind, fileName: r.fileName, sha256: r.sha256, size: r.size, path: this.blobs.path(r.sha256) }));
  }

  get(osimage: string, kind: ArtifactKind): Artifact | undefined {
    return this.list(osimage).find((a) => a.kind === kind);
  }
}
