// The hash of everything a build reads: the resolved definition and the bytes of every script and synced file.
// Equal hashes mean an unchanged definition, which is not built again.
import { createHash } from "node:crypto";
import { lstatSync, readFileSync, readdirSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ResolvedDefinition } from "../definition/types.ts";

/** Bump when the pipeline's output changes for the same definition (new packing flags, new defaults). */
export const BUILDER_REVISION = "1";

export function inputHash(def: ResolvedDefinition, definitionsDir: string, extra: Record<string, string> = {}): string {
  const hash = createHash("sha256");
  // Scratch paths differ per build; only the part inside the definitions folder is part of the input.
  const relative = JSON.stringify(def).replaceAll(JSON.stringify(definitionsDir).slice(1, -1), "<def>");
  hash.update(`provd-image ${BUILDER_REVISION}\n${relative}\n${JSON.stringify(extra)}\n`);
  const files = [
    ...def.postinstall.map((s) => s.script),
    ...def.tests.map((s) => s.script),
    ...def.synclist.flatMap((e) => e.sources),
  ];
  const label = (path: string) => (path.startsWith(definitionsDir) ? `<def>${path.slice(definitionsDir.length)}` : path);
  for (const path of [...new Set(files)].sort()) hashTree(hash, path, label);
  return hash.digest("hex");
}

function hashTree(hash: ReturnType<typeof createHash>, path: string, label: (path: string) => string): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    hash.update(`missing ${label(path)}\n`);
    return;
  }
  if (st.isDirectory()) {
    hash.update(`dir ${label(path)} ${st.mode & 0o7777}\n`);
    for (const name of readdirSync(path).sort()) hashTree(hash, join(path, name), label);
    return;
  }
  const link = lstatSync(path).isSymbolicLink() ? ` -> ${realpathSync(path)}` : "";
  hash.update(`file ${label(path)}${link} ${st.mode & 0o7777} ${st.size}\n`);
  hash.update(readFileSync(path));
}
