// Turns packed files into a stored version: blobs by sha256, the manifest, and a browsable folder
// DATA_DIR/images/<osimage>/<id>/ of hard links (what an admin copies elsewhere or inspects).
import { existsSync, linkSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BlobStore } from "../../core/blob-store.ts";
import type { ArtifactType, ManifestArtifact, Manifest } from "../manifest.ts";

export interface PackedFile {
  type: ArtifactType;
  path: string;
  file: string;
  format?: string;
  compression?: string;
}

export async function storeArtifacts(blobs: BlobStore, files: readonly PackedFile[]): Promise<ManifestArtifact[]> {
  const artifacts: ManifestArtifact[] = [];
  for (const f of files) {
    const blob = await blobs.adopt(f.path);
    artifacts.push({ type: f.type, file: f.file, sha256: blob.sha256, size: blob.size, ...(f.format ? { format: f.format, compression: f.compression } : {}) });
  }
  return artifacts;
}

export function publishFolder(imagesDir: string, blobs: BlobStore, manifest: Manifest): string {
  const folder = join(imagesDir, manifest.osimage, manifest.id);
  mkdirSync(folder, { recursive: true });
  for (const a of manifest.artifacts) {
    const target = join(folder, a.file);
    if (existsSync(target)) rmSync(target);
    linkSync(blobs.path(a.sha256), target);
  }
  writeFileSync(join(folder, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return folder;
}
