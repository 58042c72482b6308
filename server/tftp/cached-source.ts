// Boot binaries are read once and shared in memory by every transfer (a boot storm reads the same few files).
import type { TftpResolver } from "./file-source.ts";
import { memorySource, type TftpSource } from "./source.ts";

/** Files up to this size are cached whole; larger ones are read from disk per transfer. */
const CACHE_MAX_FILE = 32 * 1024 * 1024;

export function cachedSources(resolve: TftpResolver): TftpResolver {
  const cache = new Map<string, Uint8Array>();
  return async (path, client) => {
    const hit = cache.get(path);
    if (hit) return memorySource(hit);
    const source = await resolve(path, client);
    if (!source || source.size > CACHE_MAX_FILE) return source;
    try {
      const bytes = new Uint8Array(source.size);
      for (let offset = 0; offset < source.size; ) {
        const chunk = await source.read(offset, source.size - offset);
        if (!chunk.length) break;
        bytes.set(chunk, offset);
        offset += chunk.length;
      }
      cache.set(path, bytes);
      return memorySource(bytes);
    } finally {
      await source.close?.();
    }
  };
}
