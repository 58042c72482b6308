// exlist files (rules 11–14): what packimage leaves out of the root image, and deleting it from a real tree.
import { lstat, readdir, realpath, rm, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { UserError } from "../../core/errors.ts";
import { expandIncludes, type Labeler, type SourceLine } from "./files.ts";
import { compileGlob, literalPrefix, type GlobMatcher } from "./glob.ts";
import type { ExlistRule } from "./types.ts";

export { globToRegExp } from "./glob.ts";

export interface ExlistOptions {
  env?: Record<string, string>;
  label?: Labeler;
}

/** Node state files xCAT's packimage never packs, whatever the exlist says. */
export const ALWAYS_EXCLUDED = ["./.statelite*", "./.default*", "./.statebackup*"];

export function parseExlistText(text: string, file: string, opts: ExlistOptions = {}): ExlistRule[] {
  const [lines] = expandIncludes([{ file, text }], { kind: "exlist", env: opts.env, label: opts.label, trailingComment: true });
  return parseLines(lines!);
}

export function readExlists(files: string[], opts: ExlistOptions & { origin?: string } = {}): ExlistRule[] {
  const all = expandIncludes(
    files.map((file) => ({ file, origin: opts.origin })),
    { kind: "exlist", env: opts.env, label: opts.label, trailingComment: true },
  );
  return all.flatMap(parseLines);
}

function parseLines(lines: SourceLine[]): ExlistRule[] {
  const rules: ExlistRule[] = [];
  for (const { text, origin } of lines) {
    const line = text.replace(/#.*$/s, "").trim();
    if (line === "") continue;
    const include = line.startsWith("+");
    const glob = include ? line.slice(1).trim() : line.replace(/^-/, "").trim();
    if (glob === "") throw new UserError(`${origin}: ${JSON.stringify(line)} has no path`);
    if (/\s/.test(glob)) throw new UserError(`${origin}: ${JSON.stringify(shorten(glob))}: one path per line`);
    if (/\p{Cc}/u.test(glob)) throw new UserError(`${origin}: control character in ${JSON.stringify(shorten(glob))}`);
    try {
      compileGlob(glob);
    } catch (err) {
      throw err instanceof UserError ? new UserError(`${origin}: ${err.message}`) : err;
    }
    // find prints "./usr/…": a glob that cannot start that way never matches, and xCAT would say nothing.
    const prefix = literalPrefix(glob);
    if (!(prefix.startsWith("./") || "./".startsWith(prefix))) {
      throw new UserError(`${origin}: ${JSON.stringify(shorten(glob))} can never match: exlist paths are relative to the image root and start with ./ (e.g. ./usr/share/man*)`);
    }
    rules.push({ glob, include, origin });
  }
  return rules;
}

/**
 * Deletes what the rules exclude from the tree under `root`, in one post-order walk. Exclusions test each path on
 * its own, like `find -path` without -prune, so an excluded directory stays when something under it stays; a
 * re-include keeps the matched path and everything below it (xCAT runs `find` on it). Symlinks are never followed,
 * other filesystems mounted inside the root are left alone, and `root` itself is never removed.
 */
export async function applyExlist(root: string, rules: ExlistRule[]): Promise<{ removed: number }> {
  let top: string;
  try {
    top = await realpath(root);
  } catch {
    throw new UserError(`exlist: image root ${root} does not exist`);
  }
  const topStat = await lstat(top);
  if (!topStat.isDirectory()) throw new UserError(`exlist: image root ${root} is not a directory`);

  const always = ALWAYS_EXCLUDED.map(compileGlob);
  const excludes: GlobMatcher[] = rules.filter((r) => !r.include).map((r) => compileGlob(r.glob));
  const includes: GlobMatcher[] = rules.filter((r) => r.include).map((r) => compileGlob(r.glob));
  let removed = 0;
  const io = limiter(64);

  // Returns true when `dir` must stay because something under it stays.
  const walk = async (dir: string, rel: string, included: boolean): Promise<boolean> => {
    const entries = await io(() => readdir(dir, { withFileTypes: true }));
    // Siblings in parallel: one await per entry in sequence is several times slower on a big root.
    const kept = await Promise.all(
      entries.map(async (entry) => {
        const path = join(dir, entry.name);
        const relPath = `${rel}/${entry.name}`;
        const forced = always.some((m) => m(relPath));
        const inc = !forced && (included || includes.some((m) => m(relPath)));
        const exclude = forced || (!inc && excludes.some((m) => m(relPath)));
        if (entry.isDirectory()) {
          // Another filesystem mounted inside the root (find -xdev): not ours to touch.
          if ((await io(() => lstat(path))).dev !== topStat.dev) return true;
          const keepChild = await walk(path, relPath, inc);
          if (!exclude || keepChild) return true;
          await io(() => rmdir(path));
        } else {
          if (!exclude) return true;
          await io(() => rm(path, { force: true }));
        }
        removed++;
        return false;
      }),
    );
    return kept.includes(true);
  };

  await walk(top, ".", false);
  return { removed };
}

/** Runs at most `n` of the given operations at once (a wide tree would otherwise open a descriptor per directory). */
function limiter(n: number): <T>(op: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (op) => {
    // A finishing operation hands its slot straight to the next waiter, so `running` never exceeds n.
    if (running >= n) await new Promise<void>((go) => waiting.push(go));
    else running++;
    try {
      return await op();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

function shorten(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
