// synclist files (rules 16–21): the `src -> dst` entries xCAT's packimage/genimage copies into the root image.
import { dirname, isAbsolute, resolve } from "node:path";
import { UserError } from "../../core/errors.ts";
import { checkText, readDefinitionFile, splitLines, expandVars, type Labeler } from "./files.ts";
import type { SyncEntry } from "./types.ts";

export { applySynclist } from "./sync-copy.ts";

export interface SynclistOptions {
  /** osimage.environvar, for `$VAR` (rule 21). */
  env?: Record<string, string>;
  label?: Labeler;
}

export interface ParsedSynclist {
  entries: SyncEntry[];
  warnings: string[];
}

const SECTION = /^\s*(EXECUTEALWAYS|EXECUTE|APPEND|MERGE):/;
const ARROW = /\s->\s/g;

/** Parses `text` as if it were the file `file`: relative sources resolve against its directory. */
export function parseSynclistText(text: string, file: string, opts: SynclistOptions = {}): ParsedSynclist {
  const label = (opts.label ?? ((p: string) => p))(file);
  const env = opts.env ?? {};
  const entries: SyncEntry[] = [];
  const warnings: string[] = [];
  const lines = splitLines(checkText(text, label));
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const origin = `${label}:${i + 1}`;
    // Only column 1 starts a comment: " #x -> /y" is an entry whose source is "#x" (rule 18).
    if (line.startsWith("#") || line.trim() === "") continue;
    const section = SECTION.exec(line);
    if (section) {
      // The lines below a section header mean something else (scripts to run, files to append to); image sync stops.
      warnings.push(`${origin}: ${section[1]}: section and everything after it is for node sync (updatenode) only; not applied to the image`);
      break;
    }
    const arrows = [...line.matchAll(ARROW)];
    if (arrows.length === 0) {
      const hint = line.includes("->") ? "spaces are required around ->" : "expected src [src…] -> dst";
      throw new UserError(`${origin}: ${JSON.stringify(shorten(line))}: ${hint}`);
    }
    if (arrows.length > 1) throw new UserError(`${origin}: more than one -> in ${JSON.stringify(shorten(line))}`);
    const at = arrows[0]!.index;
    const sources = expandVars(line.slice(0, at), env, origin).trim().split(/\s+/).filter((s) => s !== "");
    let dest = expandVars(line.slice(at + 4), env, origin).trim();
    if (sources.length === 0) throw new UserError(`${origin}: no source before ->`);
    if (dest === "") throw new UserError(`${origin}: no destination after ->`);
    if (dest.startsWith("(")) {
      const close = dest.indexOf(")");
      if (close < 0) throw new UserError(`${origin}: unclosed (noderange in ${JSON.stringify(shorten(dest))}`);
      warnings.push(`${origin}: entry for nodes ${dest.slice(0, close + 1)} skipped: node-specific entries apply to node sync only`);
      continue;
    }
    if (/\s/.test(dest)) throw new UserError(`${origin}: one destination per entry, got ${JSON.stringify(shorten(dest))}`);
    if (!dest.startsWith("/")) throw new UserError(`${origin}: destination ${JSON.stringify(shorten(dest))} must be an absolute path in the image`);
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(line)) throw new UserError(`${origin}: control character in entry`);
    entries.push({
      sources: sources.map((s) => (isAbsolute(s) ? s : resolve(dirname(file), s))),
      dest,
      destIsDir: dest.endsWith("/") || sources.length > 1,
      origin,
    });
  }
  return { entries, warnings };
}

export function readSynclists(files: string[], opts: SynclistOptions & { origin?: string } = {}): ParsedSynclist {
  const label = opts.label ?? ((p: string) => p);
  const texts = files.map((f) => readDefinitionFile(f, label(f)));
  const missing = files.filter((_f, i) => texts[i] === undefined);
  if (missing.length > 0) {
    throw new UserError(`Unable to open the following synclist files: ${missing.join(", ")}${opts.origin ? ` (${opts.origin})` : ""}`);
  }
  const parsed = files.map((f, i) => parseSynclistText(texts[i]!, f, opts));
  return { entries: parsed.flatMap((p) => p.entries), warnings: parsed.flatMap((p) => p.warnings) };
}

function shorten(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
