// What a node's osimage reference boots: a built version (pinned, or `latest`), or an imported image's files.
import type { BlobStore } from "../core/blob-store.ts";
import type { Artifact, ArtifactKind, OsimageArtifacts } from "../core/osimage-artifacts.ts";
import type { ImageService } from "./service.ts";
import { parseImageRef } from "./versions.ts";

export interface BootImage {
  osimage: string;
  /** The version id, for built images. */
  version?: string;
  /** Path segment the files are served under: `compute@<id>` for versions (immutable URLs), else the name. */
  urlName: string;
  files: Partial<Record<ArtifactKind, Artifact>>;
  /** Parameters the image needs, `{rootfs_url}` still to be replaced. */
  kernelParams: string;
  /** A cpio rootfs is the whole root as an initramfs: it replaces the initrd. */
  rootfsIsInitrd: boolean;
}

export class BootImages {
  constructor(
    private readonly artifacts: OsimageArtifacts,
    private readonly images: ImageService | undefined,
    private readonly blobs: BlobStore,
  ) {}

  /** Throws a UserError for a pin that names no version; undefined when there is nothing to boot. */
  resolve(ref: string): BootImage | undefined {
    const { osimage } = parseImageRef(ref);
    const version = this.images?.versionFor(ref);
    if (version) {
      const files: BootImage["files"] = {};
      for (const a of version.manifest.artifacts) {
        files[a.type] = { kind: a.type, fileName: a.file, sha256: a.sha256, size: a.size, path: this.blobs.path(a.sha256) };
      }
      const rootfsIsInitrd = version.manifest.artifacts.some((a) => a.type === "rootfs" && a.format === "cpio");
      return { osimage, version: version.id, urlName: `${osimage}@${version.id}`, files, kernelParams: version.manifest.kernelParams, rootfsIsInitrd };
    }
    const imported = this.artifacts.list(osimage);
    if (!imported.length) return undefined;
    return { osimage, urlName: osimage, files: Object.fromEntries(imported.map((a) => [a.kind, a])), kernelParams: "", rootfsIsInitrd: false };
  }
}
