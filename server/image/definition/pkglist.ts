// pkglist / otherpkglist files → ordered install passes (xCAT imgutils::get_package_names, rules 1–10).
import { UserError } from "../../core/errors.ts";
import { expandIncludes, type Labeler, type SourceLine } from "./files.ts";
import type { InstallPass } from "./types.ts";

export type PkglistKind = "pkglist" | "otherpkglist";

/** A `-pkg` entry: removes `pkg` from the install lists inherited from parent osimages. */
export interface PkgRemoval {
  pkg: string;
  /** 0-based pass the entry was written in. */
  pass: number;
  origin: string;
}

export interface ParsedPkglist {
  /** Index i is pass i+1 as written (`#NEW_INSTALL_LIST#` count), so files and parents merge pass by pass. */
  passes: InstallPass[];
  removals: PkgRemoval[];
}

export interface PkglistOptions {
  kind: PkglistKind;
  /** For `$VAR` in `#INCLUDE:` paths. */
  env?: Record<string, string>;
  label?: Labeler;
}

// No package or group name is this long; a longer "entry" is a pasted blob.
const MAX_ENTRY = 4096;
const ENV_ITEM = /^[A-Za-z_][A-Za-z0-9_]*=/;

export function emptyPass(): InstallPass {
  return { env: {}, install: [], eraseBefore: [], eraseAfter: [], repoOf: {} };
}

/** Parses `text` as if it were the file `file` (includes resolve against its directory). */
export function parsePkglistText(text: string, file: string, opts: PkglistOptions): ParsedPkglist {
  const [lines] = expandIncludes([{ file, text }], { kind: opts.kind, env: opts.env, label: opts.label });
  return mergeParsed([parseLines(lines!, opts.kind)]);
}

/** Reads a comma list's worth of files and merges them pass by pass (rule 10). */
export function readPkglists(files: string[], opts: PkglistOptions & { origin?: string }): ParsedPkglist {
  const all = expandIncludes(
    files.map((file) => ({ file, origin: opts.origin })),
    { kind: opts.kind, env: opts.env, label: opts.label },
  );
  return mergeParsed(all.map((lines) => parseLines(lines, opts.kind)));
}

export function mergeParsed(parts: ParsedPkglist[]): ParsedPkglist {
  const passes: InstallPass[] = [];
  for (const p of parts) mergePassesInto(passes, p.passes);
  return { passes: trimTrailingEmpty(passes.map(dedupePass)), removals: parts.flatMap((p) => p.removals) };
}

/** Appends `more` pass by pass to `into`: entries of earlier lists first, later `#ENV:` values win. */
export function mergePassesInto(into: InstallPass[], more: InstallPass[]): void {
  more.forEach((pass, i) => {
    const target = (into[i] ??= emptyPass());
    Object.assign(target.env, pass.env);
    target.install.push(...pass.install);
    target.eraseBefore.push(...pass.eraseBefore);
    target.eraseAfter.push(...pass.eraseAfter);
    for (const [pkg, dir] of Object.entries(pass.repoOf)) if (!(pkg in target.repoOf)) target.repoOf[pkg] = dir;
  });
}

/** Duplicates go, first occurrence kept (a package listed by base and compute installs once). */
export function dedupePass(pass: InstallPass): InstallPass {
  return {
    env: pass.env,
    install: [...new Set(pass.install)],
    eraseBefore: [...new Set(pass.eraseBefore)],
    eraseAfter: [...new Set(pass.eraseAfter)],
    repoOf: Object.fromEntries(Object.entries(pass.repoOf).filter(([pkg]) => pass.install.includes(pkg))),
  };
}

export function isEmptyPass(p: InstallPass): boolean {
  return p.install.length === 0 && p.eraseBefore.length === 0 && p.eraseAfter.length === 0;
}

function trimTrailingEmpty(passes: InstallPass[]): InstallPass[] {
  let n = passes.length;
  while (n > 0 && isEmptyPass(passes[n - 1]!)) n--;
  return passes.slice(0, n);
}

function parseLines(lines: SourceLine[], kind: PkglistKind): ParsedPkglist {
  const passes: InstallPass[] = [emptyPass()];
  const removals: PkgRemoval[] = [];
  for (const { text, origin } of lines) {
    const line = text.trim();
    if (line === "") continue;
    const pass = passes.at(-1)!;
    if (line.startsWith("#")) {
      if (line.startsWith("#NEW_INSTALL_LIST")) {
        if (line !== "#NEW_INSTALL_LIST#") throw new UserError(`${origin}: malformed directive ${JSON.stringify(line)}: expected #NEW_INSTALL_LIST#`);
        passes.push(emptyPass());
      } else if (line.startsWith("#ENV:")) {
        Object.assign(pass.env, parseEnvDirective(line, origin));
      }
      continue; // any other line starting with # is a comment
    }
    // xCAT hands "vim # editor" to dnf as three package names; say so instead.
    if (line.includes("#")) {
      throw new UserError(`${origin}: "#" inside an entry (${JSON.stringify(shorten(line))}): comments must start the line`);
    }
    for (const raw of line.split(",")) {
      const entry = raw.trim();
      if (entry === "") continue;
      if (entry.length > MAX_ENTRY) throw new UserError(`${origin}: entry longer than ${MAX_ENTRY} characters`);
      if (/[\p{Cc}]/u.test(entry.replace(/\t/g, " "))) throw new UserError(`${origin}: control character in ${JSON.stringify(shorten(entry))}`);
      addEntry(entry, pass, passes.length - 1, origin, kind, removals);
    }
  }
  return { passes: trimTrailingEmpty(passes), removals };
}

function addEntry(entry: string, pass: InstallPass, passIndex: number, origin: string, kind: PkglistKind, removals: PkgRemoval[]): void {
  if (entry.startsWith("@")) {
    // A group name has spaces ("@Development Tools"): keep it whole; builders quote it.
    pass.install.push(entry.replace(/\s+/g, " "));
    return;
  }
  if (entry.startsWith("--")) {
    if (kind === "pkglist") {
      throw new UserError(`${origin}: "${entry}": --pkg (erase after install) only means something in an otherpkglist`);
    }
    pass.eraseAfter.push(...names(entry.slice(2), entry, origin));
    return;
  }
  if (entry.startsWith("-")) {
    for (const pkg of names(entry.slice(1), entry, origin)) {
      removals.push({ pkg, pass: passIndex, origin });
      if (kind === "otherpkglist") pass.eraseBefore.push(pkg);
    }
    return;
  }
  for (const name of entry.split(/\s+/)) {
    if (!name.includes("/")) {
      pass.install.push(name);
      continue;
    }
    if (kind === "pkglist") throw new UserError(`${origin}: "${name}": dir/pkg entries (a package from otherpkgdir/dir) belong in an otherpkglist`);
    const slash = name.lastIndexOf("/");
    const dir = name.slice(0, slash);
    const pkg = name.slice(slash + 1);
    if (dir === "" || pkg === "" || dir.startsWith("/") || dir.split("/").includes("..")) {
      throw new UserError(`${origin}: "${name}": expected dir/pkg with dir relative to otherpkgdir`);
    }
    pass.install.push(pkg);
    if (!(pkg in pass.repoOf)) pass.repoOf[pkg] = dir;
  }
}

function names(rest: string, entry: string, origin: string): string[] {
  if (rest.trim().startsWith("@")) return [rest.trim().replace(/\s+/g, " ")];
  const list = rest.trim().split(/\s+/).filter((n) => n !== "");
  if (list.length === 0) throw new UserError(`${origin}: "${entry}": package name missing`);
  for (const n of list) {
    if (n.includes("/")) throw new UserError(`${origin}: "${entry}": erase entries take a package name, not dir/pkg`);
  }
  return list;
}

function parseEnvDirective(line: string, origin: string): Record<string, string> {
  const m = /^#ENV:([^#]+)#$/.exec(line);
  if (!m) throw new UserError(`${origin}: malformed directive ${JSON.stringify(shorten(line))}: expected #ENV:K=V K2=V2#`);
  const env: Record<string, string> = {};
  for (const item of m[1]!.trim().split(/\s+/)) {
    if (!ENV_ITEM.test(item)) throw new UserError(`${origin}: #ENV: expects K=V items, got ${JSON.stringify(shorten(item))}`);
    const eq = item.indexOf("=");
    env[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return env;
}

function shorten(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
