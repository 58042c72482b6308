// Size and file count of a root tree, for the manifest.
import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";

export function treeStats(root: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  const rootDev = lstatSync(root).dev;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const st = lstatSync(path);
      if (st.dev !== rootDev) continue;
      files++;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) bytes += st.size;
    }
  };
  walk(root);
  return { bytes, files };
}
