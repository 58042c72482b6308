// Reading definition text files and the pieces pkglist, exlist and synclist share: `$VAR` expansion and
// `#INCLUDE:p#` expansion with per-line origins for error messages.
import { readFileSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { UserError } from "../../core/errors.ts";

/** How a file is named in messages ("compute/compute.pkglist"); the default is the path itself. */
export type Labeler = (path: string) => string;

export interface SourceLine {
  /** The line, untrimmed. */
  text: string;
  /** "compute/compute.pkglist:3". */
  origin: string;
}

// A definition file is a few KiB; anything this big is a mistake (a tarball named in the wrong attribute).
const MAX_FILE_BYTES = 16 << 20;

/** The text of a definition file, or undefined when it does not exist. Binary or non-UTF-8 content is an error. */
export function readDefinitionFile(path: string, label: string): string | undefined {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    if (code === "EISDIR") throw new UserError(`${label}: is a directory, not a file`);
    throw new UserError(`${label}: cannot read: ${(err as Error).message}`);
  }
  if (bytes.length > MAX_FILE_BYTES) throw new UserError(`${label}: larger than ${MAX_FILE_BYTES >> 20} MiB, not a definition file`);
  return checkText(bytes, label);
}

/** Decodes bytes as a definition text; NUL bytes or invalid UTF-8 mean binary content. */
export function checkText(input: Uint8Array | string, label: string): string {
  let text: string;
  if (typeof input === "string") text = input;
  else {
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(input);
    } catch {
      throw new UserError(`${label}: not a text file (invalid UTF-8)`);
    }
  }
  if (text.includes("\0")) throw new UserError(`${label}: not a text file (contains NUL bytes)`);
  return text;
}

export function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** `$NAME` and `${NAME}` from env; an unset name is an error (xCAT would silently substitute ""). */
export function expandVars(text: string, env: Record<string, string>, where: string): string {
  return text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_m, braced?: string, bare?: string) => {
    const name = (braced ?? bare)!;
    const value = env[name];
    if (value === undefined) throw new UserError(`${where}: $${name} is not set (osimage environvar)`);
    return value;
  });
}

export interface IncludeOptions {
  /** "pkglist" or "exlist": names the file kind in messages. */
  kind: string;
  env?: Record<string, string>;
  label?: Labeler;
  /** exlist lines may carry a `# comment` after the directive; pkglist lines may not. */
  trailingComment?: boolean;
}

const INCLUDE_START = /^\s*#INCLUDE:/;
const INCLUDE = /^\s*#INCLUDE:([^#]+)#(.*)$/;

/**
 * The lines of top-level files with every `#INCLUDE:p#` line replaced by the lines of p, recursively. Relative
 * include paths resolve against the directory of the top-level file, even inside nested includes (xCAT's imgutils).
 * All missing files are reported at once; an include cycle is an error.
 */
export function expandIncludes(tops: Array<{ file: string; text?: string; origin?: string }>, opts: IncludeOptions): SourceLine[][] {
  const label = opts.label ?? ((p: string) => p);
  const env = opts.env ?? {};
  const missing: string[] = [];

  const load = (file: string, topDir: string, stack: string[], from: string | undefined, given?: string, top = false): SourceLine[] => {
    const name = label(file);
    const text = given !== undefined ? checkText(given, name) : readDefinitionFile(file, name);
    if (text === undefined) {
      missing.push(from ? `${file} (${top ? "" : "included from "}${from})` : file);
      return [];
    }
    const id = realPath(file);
    if (stack.includes(id)) {
      const cycle = [...stack.slice(stack.indexOf(id)), id].map(label).join(" → ");
      throw new UserError(`${from}: #INCLUDE cycle: ${cycle}`);
    }
    const out: SourceLine[] = [];
    splitLines(text).forEach((line, i) => {
      const origin = `${name}:${i + 1}`;
      if (!INCLUDE_START.test(line)) {
        out.push({ text: line, origin });
        return;
      }
      const m = INCLUDE.exec(line);
      const rest = m?.[2]?.trim() ?? "";
      if (!m || (rest !== "" && !(opts.trailingComment && rest.startsWith("#")))) {
        throw new UserError(`${origin}: malformed include ${JSON.stringify(line.trim())}: expected #INCLUDE:path#`);
      }
      const target = expandVars(m[1]!.trim(), env, origin);
      const path = isAbsolute(target) ? target : resolve(topDir, target);
      out.push(...load(path, topDir, [...stack, id], origin));
    });
    return out;
  };

  const result = tops.map((t) => load(t.file, dirname(t.file), [], t.origin, t.text, true));
  if (missing.length > 0) throw new UserError(`Unable to open the following ${opts.kind} files: ${missing.join(", ")}`);
  return result;
}

function realPath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return resolve(file);
  }
}
