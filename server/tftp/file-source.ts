// Maps a TFTP filename to a file inside one directory, refusing anything that could leave it.
import { constants, promises as fs } from "node:fs";
import { resolve as resolvePath, sep } from "node:path";
import { accessViolation } from "./request-error.ts";
import type { TftpSource } from "./source.ts";

export type TftpResolver = (
  path: string,
  client: { address: string; port: number },
) => Promise<TftpSource | undefined>;

/**
 * Splits a request path into safe segments, or throws an access violation.
 * Backslashes become slashes first (iPXE and Windows clients send `\`), so `..\x` is caught too;
 * a leading `/` means the root, never the host's filesystem root.
 */
export function safeSegments(requestPath: string): string[] {
  if (requestPath.includes("\0")) throw accessViolation("NUL in filename");
  const segments: string[] = [];
  for (const segment of requestPath.replaceAll("\\", "/").split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") throw accessViolation("'..' in filename");
    segments.push(segment);
  }
  return segments;
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

const NOT_FOUND_CODES = new Set(["ENOENT", "ENOTDIR", "ELOOP", "ENAMETOOLONG"]);

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(sep) ? root : root + sep);
}

export function fileSourceUnder(root: string): TftpResolver {
  let realRoot: Promise<string> | undefined;

  return async (requestPath) => {
    const segments = safeSegments(requestPath);
    if (segments.length === 0) return undefined;
    // Cached once found; a root that does not exist yet is looked up again next time.
    realRoot ??= fs.realpath(resolvePath(root)).catch((error: unknown) => {
      realRoot = undefined;
      throw error;
    });
    const base = await realRoot;

    let real: string;
    try {
      real = await fs.realpath(resolvePath(base, ...segments));
    } catch (error) {
      if (NOT_FOUND_CODES.has(errorCode(error) ?? "")) return undefined;
      if (errorCode(error) === "EACCES") throw accessViolation("permission denied");
      throw error;
    }
    // A symlink may point anywhere; only its target decides.
    if (!isInside(base, real)) throw accessViolation("path leaves the TFTP root");

    let handle: fs.FileHandle;
    try {
      // O_NOFOLLOW: the final component cannot have been swapped for a symlink since realpath.
      handle = await fs.open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      if (NOT_FOUND_CODES.has(errorCode(error) ?? "")) return undefined;
      if (errorCode(error) === "EACCES") throw accessViolation("permission denied");
      throw error;
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) {
        await handle.close();
        return undefined;
      }
      return fileHandleSource(handle, stat.size);
    } catch (error) {
      await handle.close();
      throw error;
    }
  };
}

/**
 * Reads with one chunk of read-ahead: a transfer asks for consecutive chunks, so the next one is
 * usually in memory by the time it is needed and `read` can return it without waiting.
 */
function fileHandleSource(handle: fs.FileHandle, size: number): TftpSource {
  type ReadAhead = { offset: number; length: number; promise: Promise<Uint8Array>; bytes?: Uint8Array };
  let ahead: ReadAhead | undefined;

  const readAt = async (offset: number, length: number): Promise<Uint8Array> => {
    const buffer = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === length ? buffer : buffer.subarray(0, filled);
  };

  const startReadAhead = (offset: number, length: number): void => {
    const next: ReadAhead = { offset, length, promise: readAt(offset, length) };
    next.promise.then(
      (bytes) => {
        next.bytes = bytes;
      },
      () => {}, // whoever asks for this chunk gets the rejection through `promise`
    );
    ahead = next;
  };

  return {
    size,
    read(offset, length) {
      const want = Math.max(0, Math.min(length, size - offset));
      const hit = ahead && ahead.offset === offset && ahead.length === want ? ahead : undefined;
      const result = hit ? (hit.bytes ?? hit.promise) : readAt(offset, want);
      ahead = undefined;
      const nextOffset = offset + want;
      if (want > 0 && nextOffset < size) startReadAhead(nextOffset, Math.min(want, size - nextOffset));
      return result;
    },
    close: async () => {
      // Let an outstanding read-ahead finish before the descriptor goes away.
      await ahead?.promise.catch(() => {});
      await handle.close();
    },
  };
}
