// Content-addressed files under DATA_DIR/blobs: written once under their sha256, never changed.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "./errors.ts";

export interface Blob {
  sha256: string;
  size: number;
  path: string;
}

const SHA256 = /^[0-9a-f]{64}$/;

export class BlobStore {
  constructor(private readonly dir: string) {
    mkdirSync(join(dir, "tmp"), { recursive: true });
  }

  path(sha256: string): string {
    if (!SHA256.test(sha256)) throw new UserError(`'${sha256}' is not a sha256 digest`);
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  get(sha256: string): Blob | undefined {
    const path = this.path(sha256);
    return existsSync(path) ? { sha256, size: statSync(path).size, path } : undefined;
  }

  /** Streams `body` to disk while hashing; `expected` (sha256) is checked before the file is kept. */
  async put(body: ReadableStream<Uint8Array>, expected?: string): Promise<Blob> {
    const tmp = join(this.dir, "tmp", randomBytes(8).toString("hex"));
    const hash = createHash("sha256");
    const writer = Bun.file(tmp).writer();
    let size = 0;
    try {
      for await (const chunk of body) {
        hash.update(chunk);
        size += chunk.length;
        writer.write(chunk);
      }
      await writer.end();
      const sha256 = hash.digest("hex");
      if (expected && expected !== sha256) throw new UserError(`upload damaged: sha256 is ${sha256}, the client expected ${expected}`, 422);
      const path = this.path(sha256);
      mkdirSync(join(path, ".."), { recursive: true });
      renameSync(tmp, path);
      return { sha256, size, path };
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  /** Moves a finished file (same filesystem) into the store under its sha256; a copy already stored is kept. */
  async adopt(file: string): Promise<Blob> {
    const hash = createHash("sha256");
    for await (const chunk of Bun.file(file).stream()) hash.update(chunk);
    const sha256 = hash.digest("hex");
    const path = this.path(sha256);
    mkdirSync(join(path, ".."), { recursive: true });
    if (existsSync(path)) rmSync(file);
    else renameSync(file, path);
    return { sha256, size: statSync(path).size, path };
  }

  /** Deletes stored files whose digest is not in `keep`; returns how many bytes were freed. */
  sweep(keep: ReadonlySet<string>): { files: number; bytes: number } {
    let files = 0;
    let bytes = 0;
    for (const prefix of readdirSync(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      for (const name of readdirSync(join(this.dir, prefix))) {
        if (!SHA256.test(name) || keep.has(name)) continue;
        const path = join(this.dir, prefix, name);
        bytes += statSync(path).size;
        rmSync(path);
        files++;
      }
    }
    return { files, bytes };
  }
}
