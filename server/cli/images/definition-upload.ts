// Reads an osimage folder (osimage.toml and its files) and sends it to the server; parents found beside it go first.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { UserError } from "../../core/errors.ts";
import type { CommandIO } from "../command.ts";
import { printWarnings } from "../common.ts";

const MAX_FILES = 2000;

/** True when the argument names a definition folder rather than an osimage in the database. */
export function isDefinitionFolder(arg: string): boolean {
  return arg.includes("/") || (existsSync(arg) && statSync(arg).isDirectory());
}

/** Uploads `folder` and, first, the parents it names that sit in sibling folders. Returns the osimage names sent. */
export async function uploadDefinition(io: CommandIO, folder: string, seen = new Set<string>()): Promise<string[]> {
  const dir = resolve(folder);
  const name = basename(dir);
  if (seen.has(name)) throw new UserError(`${folder}: the parent chain loops back to ${name}`);
  seen.add(name);
  const descriptor = join(dir, "osimage.toml");
  if (!existsSync(descriptor)) throw new UserError(`${folder}: not an osimage definition folder (no osimage.toml)`);
  const sent: string[] = [];
  const parent = parentOf(descriptor);
  if (parent && existsSync(join(dirname(dir), parent, "osimage.toml"))) sent.push(...(await uploadDefinition(io, join(dirname(dir), parent), seen)));
  const files = readFolder(dir);
  const result = await io.client().request<{ created: boolean; warnings?: string[] }>("PUT", `/api/v1/osimages/${encodeURIComponent(name)}/definition`, { files });
  printWarnings(io, result.warnings);
  io.err(`${name}: definition ${result.created ? "imported" : "updated"} (${files.length} files)`);
  return [...sent, name];
}

function parentOf(descriptor: string): string | undefined {
  try {
    const parsed = Bun.TOML.parse(readFileSync(descriptor, "utf8")) as { parent?: unknown };
    return typeof parsed.parent === "string" ? parsed.parent : undefined;
  } catch (e) {
    throw new UserError(`${descriptor}: ${(e as Error).message}`);
  }
}

function readFolder(dir: string): Array<{ path: string; content: string; mode: number }> {
  const files: Array<{ path: string; content: string; mode: number }> = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(current, entry.name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else if (st.isFile()) {
        if (files.length >= MAX_FILES) throw new UserError(`${dir}: more than ${MAX_FILES} files in one definition`);
        files.push({ path: relative(dir, path), content: readFileSync(path).toString("base64"), mode: st.mode & 0o7777 });
      }
    }
  };
  walk(dir);
  return files;
}
