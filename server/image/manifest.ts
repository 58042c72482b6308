// manifest.json of an image version (Shasta IMS's manifest, with sha256), and the id derived from its contents.
import { createHash } from "node:crypto";

export type ArtifactType = "kernel" | "initrd" | "rootfs";

export interface ManifestArtifact {
  type: ArtifactType;
  /** The name it is served under and saved as (vmlinuz, initrd.img, rootfs.squashfs…). */
  file: string;
  sha256: string;
  size: number;
  /** rootfs only: squashfs or cpio, and its compression. */
  format?: string;
  compression?: string;
}

export interface InstalledPackage {
  name: string;
  version: string;
  arch: string;
}

export interface Manifest {
  schema: 1;
  osimage: string;
  id: string;
  inputHash: string;
  distro: string;
  osvers: string;
  osarch: string;
  profile: string;
  release: string;
  kernelVersion?: string;
  /** Kernel parameters the image needs; `{rootfs_url}` is replaced by the rootfs URL when a node boots. */
  kernelParams: string;
  artifacts: ManifestArtifact[];
  packages: InstalledPackage[];
  rootfs: { bytes: number; files: number };
  /** Milliseconds per stage, in order. */
  timings: Record<string, number>;
  builtAt: string;
  builder: Record<string, string>;
  warnings: string[];
}

export const ROOTFS_URL = "{rootfs_url}";

/** A version is named by what it boots: its artifacts and kernel parameters, nothing about when it was built. */
export function versionId(artifacts: readonly ManifestArtifact[], kernelParams: string): string {
  const canonical = JSON.stringify({
    artifacts: [...artifacts].sort((a, b) => a.type.localeCompare(b.type)).map((a) => [a.type, a.sha256, a.size]),
    kernelParams,
  });
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}
