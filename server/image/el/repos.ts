// Repositories handed to dnf: where they are, whether their packages are signature-checked, whether they are indexed.
import { access } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { UserError } from "../../core/errors.ts";

export interface DnfRepo {
  /** dnf repository id; also names its metadata in the shared cache, so it stays stable across builds. */
  id: string;
  url: string;
}

/** A mirror or otherpkgdir as written (URL or plain directory path) → the URL dnf gets (percent-encoded: dnf fails on a raw space). */
export function repoUrl(location: string): string {
  if (isUrl(location)) return location;
  return pathToFileURL(isAbsolute(location) ? location : resolve(location)).href;
}

function isUrl(location: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(location);
}

/** Local repositories are the operator's own files: nothing on the way to trust or distrust. */
export function isLocal(url: string): boolean {
  return url.startsWith("file:");
}

/** `otherpkgdir` + `dir`, for a directory or a URL. */
export function subRepoUrl(base: string, dir: string): string {
  if (!isUrl(base)) return repoUrl(join(base, dir));
  const segments = dir.split("/").filter((s) => s !== "").map(encodeURIComponent);
  return `${base.replace(/\/+$/, "")}/${segments.join("/")}`;
}

/** dnf repository ids allow only these characters. */
export function repoId(prefix: string, name: string): string {
  return `${prefix}${name.replace(/[^A-Za-z0-9_.:-]/g, "_")}`;
}

/** Fails before anything is installed if a local repository was never indexed: dnf would only say "Cannot download repomd.xml". */
export async function checkLocalRepo(repo: DnfRepo, usedBy: string): Promise<void> {
  // `$releasever`/`$basearch` are dnf's to expand.
  if (!isLocal(repo.url) || repo.url.includes("$")) return;
  const dir = fileURLToPath(repo.url);
  try {
    await access(join(dir, "repodata", "repomd.xml"));
  } catch {
    throw new UserError(`${usedBy}: ${dir} is not a package repository (no repodata/repomd.xml); index it with createrepo_c`);
  }
}
