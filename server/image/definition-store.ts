// Osimage definitions kept in the database: attributes on the osimage object (so lsdef/chdef work on them)
// and the definition's files (pkglists, scripts, synced files). A build writes them out to a scratch folder.
import { eq } from "drizzle-orm";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { type Db, atomically } from "../db/open.ts";
import { osimageFiles } from "../db/schema.ts";
import { UserError } from "../core/errors.ts";
import type { ObjectStore } from "../core/objects.ts";
import { DESCRIPTOR_KEYS } from "./definition/descriptor.ts";

export const DESCRIPTOR = "osimage.toml";
const MAX_FILES = 2000;
const MAX_BYTES = 64 * 1024 * 1024;

export interface DefinitionFile {
  path: string;
  content: Uint8Array;
  mode: number;
}

/** osimage.toml keys that are numbers or lists; everything else is a string attribute. */
const NUMERIC = new Set(["level"]);
const LISTS = new Set(["mirrors"]);
/**
 * `kernel = ""` (a kernel-less root) cannot be an attribute: an empty value deletes it, and the build would fall back
 * to the distro's kernel. It is kept as this value and written back as `kernel = ""`.
 */
export const NO_KERNEL = "none";

export class DefinitionStore {
  constructor(
    private readonly db: Db,
    private readonly store: ObjectStore,
  ) {}

  /** Creates or replaces an osimage from its folder's files; osimage.toml becomes the object's attributes. */
  import(name: string, files: DefinitionFile[]): { created: boolean; warnings: string[] } {
    if (files.length > MAX_FILES) throw new UserError(`a definition may hold at most ${MAX_FILES} files`, 413);
    if (files.reduce((n, f) => n + f.content.length, 0) > MAX_BYTES) throw new UserError(`a definition may hold at most 64 MiB`, 413);
    for (const f of files) checkPath(f.path);
    const descriptor = files.find((f) => f.path === DESCRIPTOR);
    if (!descriptor) throw new UserError(`${name}: no ${DESCRIPTOR} in the definition folder`);
    const attrs = descriptorAttrs(name, new TextDecoder().decode(descriptor.content));
    const previous = this.store.list("osimage").find((o) => o.name === name);
    let warnings: string[] = [];
    atomically(this.db, () => {
      const wanted = { provmethod: "netboot", ...attrs };
      if (previous) {
        // Keys dropped from osimage.toml must not survive from the previous import.
        const cleared = Object.fromEntries(Object.keys(previous.attrs).filter((k) => !(k in wanted)).map((k) => [k, ""]));
        warnings = this.store.change([{ type: "osimage", name, attrs: { ...cleared, ...wanted } }], "set").warnings;
      } else {
        warnings = this.store.create([{ type: "osimage", name, attrs: wanted }]).warnings;
      }
      this.db.delete(osimageFiles).where(eq(osimageFiles.osimage, name)).run();
      for (const f of files) {
        if (f.path === DESCRIPTOR) continue;
        this.db.insert(osimageFiles).values({ osimage: name, path: f.path, content: Buffer.from(f.content), mode: f.mode & 0o777 }).run();
      }
    });
    return { created: !previous, warnings };
  }

  files(name: string): DefinitionFile[] {
    return this.db
      .select()
      .from(osimageFiles)
      .where(eq(osimageFiles.osimage, name))
      .all()
      .map((r) => ({ path: r.path, content: new Uint8Array(r.content), mode: r.mode }));
  }

  /** The chain from the root definition to `name` (base → compute → gpu), by the `parent` attributes. */
  chain(name: string): string[] {
    const images = new Map(this.store.list("osimage").map((o) => [o.name, o.attrs]));
    const chain: string[] = [];
    for (let current: string | undefined = name; current; current = images.get(current)?.parent) {
      if (chain.includes(current)) throw new UserError(`osimage ${name}: the parent chain loops (${[...chain, current].join(" → ")})`);
      if (!images.has(current)) {
        throw new UserError(chain.length ? `osimage ${chain.at(-1)} names parent ${current}, which is not defined` : `osimage ${current} is not defined`, 404);
      }
      chain.push(current);
    }
    return chain.reverse();
  }

  /** Writes the definitions of the chain to `dir/<name>/`, osimage.toml regenerated from the current attributes. */
  materialize(name: string, dir: string): string[] {
    const chain = this.chain(name);
    const images = new Map(this.store.list("osimage").map((o) => [o.name, o.attrs]));
    for (const osimage of chain) {
      const folder = join(dir, osimage);
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, DESCRIPTOR), descriptorText(images.get(osimage)!));
      for (const f of this.files(osimage)) {
        const path = join(folder, f.path);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, f.content);
        chmodSync(path, f.mode);
      }
    }
    return chain;
  }
}

function checkPath(path: string): void {
  const clean = normalize(path);
  if (!path || path.startsWith("/") || clean.startsWith("..") || clean !== path || path.includes("\0")) {
    throw new UserError(`definition file '${path}': expected a plain relative path inside the folder`);
  }
}

function descriptorAttrs(name: string, text: string): Record<string, string> {
  let parsed: Record<string, unknown>;
  try {
    parsed = Bun.TOML.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`${name}/${DESCRIPTOR}: ${(e as Error).message}`);
  }
  const attrs: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (key === "kernel" && value === "") attrs[key] = NO_KERNEL;
    else if (Array.isArray(value)) attrs[key] = value.map(String).join(",");
    else if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") attrs[key] = String(value);
    else throw new UserError(`${name}/${DESCRIPTOR}: ${key} must be a string, number or list`);
  }
  return attrs;
}

function descriptorText(attrs: Record<string, string>): string {
  const lines = ["# Written by provd from the osimage's attributes (lsdef -t osimage -l NAME)."];
  for (const [key, value] of Object.entries(attrs).sort(([a], [b]) => a.localeCompare(b))) {
    // Attributes set with chdef that osimage.toml has no key for (rootimgdir, notes…) are not part of the build.
    if (!DESCRIPTOR_KEYS.has(key)) continue;
    if (key === "kernel" && value === NO_KERNEL) lines.push(`${key} = ""`);
    else if (NUMERIC.has(key) && /^\d+$/.test(value)) lines.push(`${key} = ${value}`);
    else if (LISTS.has(key)) lines.push(`${key} = [${value.split(",").filter(Boolean).map((v) => JSON.stringify(v.trim())).join(", ")}]`);
    else lines.push(`${key} = ${JSON.stringify(value)}`);
  }
  return `${lines.join("\n")}\n`;
}
