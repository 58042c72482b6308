// Copying synclist entries into a root image with `rsync -Lprogtz` semantics: sources' symlinks followed, mode,
// owner, group and mtime kept, directories copied recursively.
import { constants } from "node:fs";
import { chmod, chown, copyFile, lstat, mkdir, readdir, readlink, realpath, stat, unlink, utimes } from "node:fs/promises";
import type { Stats } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { UserError } from "../../core/errors.ts";
import type { SyncEntry } from "./types.ts";

const MAX_SYMLINK_HOPS = 40;

/**
 * Copies each entry into the image under `root`. A `dest` without a trailing `/` and a single source names the copy
 * itself (a directory source's contents land in `dest`); otherwise each source lands inside `dest` as its basename.
 * Paths in the image resolve like inside a chroot: an absolute symlink in the image points into the image, never at
 * the build host's files.
 */
export async function applySynclist(root: string, entries: SyncEntry[]): Promise<{ copied: number }> {
  let top: string;
  try {
    top = await realpath(root);
    if (!(await stat(top)).isDirectory()) throw new Error("not a directory");
  } catch {
    throw new UserError(`synclist: image root ${root} is not a directory`);
  }
  const copier = new Copier(top);
  for (const entry of entries) {
    const sources: Array<{ path: string; st: Stats }> = [];
    for (const path of entry.sources) {
      const st = await stat(path).catch(() => undefined);
      if (!st) throw new UserError(`${entry.origin}: source ${path} does not exist`);
      sources.push({ path, st });
    }
    if (entry.destIsDir) {
      const dir = await resolveInRoot(top, entry.dest, true, entry.origin);
      await copier.ensureDir(dir, entry.origin);
      for (const { path, st } of sources) {
        // rsync's "src/" means the directory's contents.
        if (path.endsWith("/") && st.isDirectory()) await copier.copyContents(path, dir, entry.origin, []);
        else await copier.copy(path, join(dir, basename(path)), entry.origin, []);
      }
    } else {
      const target = await resolveInRoot(top, entry.dest, false, entry.origin);
      if (target === top) throw new UserError(`${entry.origin}: destination ${entry.dest} is the image root; end it with / to copy into it`);
      await copier.ensureDir(dirname(target), entry.origin);
      await copier.copy(sources[0]!.path, target, entry.origin, []);
    }
  }
  return { copied: copier.copied };
}

/** The host path of `path` inside the image, following the image's symlinks as a chroot would (but not the last component unless asked). */
async function resolveInRoot(top: string, path: string, followLast: boolean, origin: string): Promise<string> {
  const pending = path.split("/").filter((c) => c !== "");
  const parts: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const comp = pending.shift()!;
    if (comp === ".") continue;
    if (comp === "..") {
      parts.pop();
      continue;
    }
    const host = join(top, ...parts, comp);
    if (pending.length > 0 || followLast) {
      const st = await lstat(host).catch(() => undefined);
      if (st?.isSymbolicLink()) {
        if (++hops > MAX_SYMLINK_HOPS) throw new UserError(`${origin}: too many levels of symbolic links in ${path} inside the image`);
        const target = await readlink(host);
        if (target.startsWith("/")) parts.length = 0;
        pending.unshift(...target.split("/").filter((c) => c !== ""));
        continue;
      }
    }
    parts.push(comp);
  }
  return join(top, ...parts);
}

class Copier {
  copied = 0;
  private readonly asRoot = process.getuid?.() === 0;

  constructor(private readonly top: string) {}

  private inImage(host: string): string {
    return `/${relative(this.top, host)}`;
  }

  async ensureDir(dir: string, origin: string): Promise<void> {
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw new UserError(`${origin}: cannot create directory ${this.inImage(dir)} in the image: ${(err as Error).message}`);
    }
    if (!(await stat(dir)).isDirectory()) throw new UserError(`${origin}: ${this.inImage(dir)} in the image is not a directory`);
  }

  /** Copies `src` (symlinks followed) to exactly `target`; `stack` holds the source directories being copied, to stop symlink loops. */
  async copy(src: string, target: string, origin: string, stack: string[]): Promise<void> {
    let st: Stats;
    try {
      st = await stat(src);
    } catch {
      throw new UserError(`${origin}: ${src} does not exist or is a dangling symlink`);
    }
    const existing = await lstat(target).catch(() => undefined);
    if (st.isDirectory()) {
      const key = `${st.dev}:${st.ino}`;
      if (stack.includes(key)) throw new UserError(`${origin}: symlink loop under the source at ${src}`);
      if (existing && !existing.isDirectory()) await unlink(target);
      if (!existing || !existing.isDirectory()) await mkdir(target);
      await this.copyContents(src, target, origin, [...stack, key]);
      await this.keepAttributes(target, st);
    } else if (st.isFile()) {
      if (existing?.isDirectory()) {
        throw new UserError(`${origin}: ${this.inImage(target)} is a directory in the image; end the destination with / to copy into it`);
      }
      // Unlink first so a symlink already at the target is replaced, not written through.
      if (existing) await unlink(target);
      await copyFile(src, target, constants.COPYFILE_EXCL);
      await this.keepAttributes(target, st);
      this.copied++;
    }
    // Devices, FIFOs and sockets: rsync without -D skips them too.
  }

  async copyContents(srcDir: string, targetDir: string, origin: string, stack: string[]): Promise<void> {
    const st = await stat(srcDir);
    const key = `${st.dev}:${st.ino}`;
    const inner = stack.includes(key) ? stack : [...stack, key];
    for (const name of await readdir(srcDir)) await this.copy(join(srcDir, name), join(targetDir, name), origin, inner);
  }

  private async keepAttributes(target: string, st: Stats): Promise<void> {
    // chown first: it clears setuid/setgid bits that chmod then restores.
    if (this.asRoot) await chown(target, st.uid, st.gid);
    await chmod(target, st.mode & 0o7777);
    await utimes(target, st.atime, st.mtime);
  }
}
