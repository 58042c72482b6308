// One osimage folder's `osimage.toml`, checked and with its paths made absolute; inheritance is resolve.ts's job.
import { isAbsolute, join, relative, resolve } from "node:path";
import { UserError } from "../../core/errors.ts";
import { readDefinitionFile } from "./files.ts";
import { parsePostinstall } from "./postinstall.ts";
import type { PostinstallStep } from "./types.ts";

export const DESCRIPTOR_FILE = "osimage.toml";

export type Distro = "debian" | "el";
export type NetrootTool = "live-boot" | "dracut";
export type RootfsFormat = "squashfs" | "cpio";
export type Compression = "zstd" | "xz" | "gzip";

/** What one folder says; unset keys are left undefined so children can tell "not set" from "set to the default". */
export interface Descriptor {
  name: string;
  folder: string;
  /** Absolute path of osimage.toml. */
  file: string;
  parent?: string;
  distro?: Distro;
  osvers?: string;
  osarch?: string;
  profile?: string;
  release?: string;
  mirrors?: string[];
  variant?: string;
  kernel?: string;
  netroot?: NetrootTool;
  rootfs?: RootfsFormat;
  compression?: Compression;
  level?: number;
  kernelArgs: string[];
  /** Absolute paths. */
  pkglist: string[];
  otherpkglist: string[];
  otherpkgdir?: string;
  exlist: string[];
  synclists: string[];
  /** EL: keys that signed the remote repositories' packages (URLs, or files in the folder). */
  gpgKeys: string[];
  postinstall: PostinstallStep[];
  tests: PostinstallStep[];
  environ: Record<string, string>;
}

const STRING_KEYS = ["parent", "osvers", "osarch", "profile", "release", "variant", "kernel", "addkcmdline", "environvar"] as const;
const ENUM_KEYS = {
  distro: ["debian", "el"],
  netroot: ["live-boot", "dracut"],
  rootfs: ["squashfs", "cpio"],
  compression: ["zstd", "xz", "gzip"],
} as const;
const FILE_LIST_KEYS = ["pkglist", "otherpkglist", "exlist", "synclists", "gpgkeys"] as const;
const SCRIPT_KEYS = ["postinstall", "tests"] as const;
export const DESCRIPTOR_KEYS: ReadonlySet<string> = new Set<string>([...STRING_KEYS, ...Object.keys(ENUM_KEYS), ...FILE_LIST_KEYS, ...SCRIPT_KEYS, "otherpkgdir", "mirrors", "level"]);

/** "compute/compute.pkglist" for files inside the osimage folder, the absolute path otherwise. */
export function labelFor(name: string, folder: string): (path: string) => string {
  return (path) => {
    const rel = relative(folder, path);
    return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? `${name}/${rel}` : path;
  };
}

/** Reads `<folder>/osimage.toml`; undefined when the folder has none. */
export function loadDescriptor(name: string, folder: string): Descriptor | undefined {
  const file = join(resolve(folder), DESCRIPTOR_FILE);
  const text = readDefinitionFile(file, `${name}/${DESCRIPTOR_FILE}`);
  return text === undefined ? undefined : parseDescriptor(text, name, resolve(folder));
}

export function parseDescriptor(text: string, name: string, folder: string): Descriptor {
  const where = `${name}/${DESCRIPTOR_FILE}`;
  let doc: Record<string, unknown>;
  try {
    doc = Bun.TOML.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new UserError(`${where}: ${(err as Error).message}`);
  }
  for (const key of Object.keys(doc)) {
    if (!DESCRIPTOR_KEYS.has(key)) throw new UserError(`${where}: unknown key "${key.length > 80 ? `${key.slice(0, 77)}...` : key}"${suggest(key)}`);
  }

  const str = (key: string): string | undefined => {
    const v = doc[key];
    if (v === undefined) return undefined;
    if (typeof v !== "string") throw new UserError(`${where}: ${key} must be a string, got ${describe(v)}`);
    return v;
  };
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(folder, p));
  const fileList = (key: string): string[] => commaList(str(key) ?? "").map(abs);
  const oneOf = <T extends string>(key: keyof typeof ENUM_KEYS): T | undefined => {
    const v = str(key);
    if (v !== undefined && !(ENUM_KEYS[key] as readonly string[]).includes(v)) {
      throw new UserError(`${where}: ${key} must be one of ${ENUM_KEYS[key].join(", ")}, got "${v}"`);
    }
    return v as T | undefined;
  };

  const d: Descriptor = {
    name,
    folder,
    file: join(folder, DESCRIPTOR_FILE),
    parent: str("parent"),
    distro: oneOf<Distro>("distro"),
    osvers: str("osvers"),
    osarch: str("osarch"),
    profile: str("profile"),
    release: str("release"),
    mirrors: mirrors(doc.mirrors, where, folder),
    variant: str("variant"),
    kernel: str("kernel"),
    netroot: oneOf<NetrootTool>("netroot"),
    rootfs: oneOf<RootfsFormat>("rootfs"),
    compression: oneOf<Compression>("compression"),
    level: level(doc.level, where),
    kernelArgs: (str("addkcmdline") ?? "").split(/\s+/).filter((a) => a !== ""),
    pkglist: fileList("pkglist"),
    otherpkglist: fileList("otherpkglist"),
    otherpkgdir: str("otherpkgdir") === undefined || str("otherpkgdir") === "" ? undefined : abs(str("otherpkgdir")!),
    exlist: fileList("exlist"),
    synclists: fileList("synclists"),
    gpgKeys: commaList(str("gpgkeys") ?? "").map((k) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(k) ? k : abs(k))),
    postinstall: parsePostinstall(str("postinstall") ?? "", folder, `${where}: postinstall`),
    tests: parsePostinstall(str("tests") ?? "", folder, `${where}: tests`),
    environ: environvar(str("environvar") ?? "", where),
  };
  if (d.parent === "") throw new UserError(`${where}: parent is empty`);
  return d;
}

export function commaList(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function mirrors(v: unknown, where: string, folder: string): string[] | undefined {
  if (v === undefined) return undefined;
  const list = typeof v === "string" ? [v] : v;
  if (!Array.isArray(list) || !list.every((m) => typeof m === "string")) {
    throw new UserError(`${where}: mirrors must be a string or an array of strings, got ${describe(v)}`);
  }
  // A deb822 sources file named relatively lives in the osimage folder; URLs and "" (the host's sources) stay.
  return list.map((m: string) => (m === "" || m.includes("://") || /\s/.test(m) || isAbsolute(m) ? m : resolve(folder, m)));
}

function level(v: unknown, where: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v)) throw new UserError(`${where}: level must be an integer, got ${describe(v)}`);
  return v;
}

/** "K=V,K2=V2" → { K: "V", K2: "V2" }. */
export function environvar(value: string, where: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of commaList(value)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(item);
    if (!m) throw new UserError(`${where}: environvar expects K=V items separated by commas, got "${item}"`);
    env[m[1]!] = m[2]!;
  }
  return env;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (v === null) return "null";
  if (typeof v === "object") return "a table";
  return `${typeof v} ${JSON.stringify(v)}`;
}

function suggest(key: string): string {
  if (key.length > 40) return "";
  let best: string | undefined;
  let bestDist = 3;
  for (const known of DESCRIPTOR_KEYS) {
    const d = distance(key.toLowerCase(), known);
    if (d < bestDist) {
      best = known;
      bestDist = d;
    }
  }
  return best ? ` (did you mean "${best}"?)` : "";
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
