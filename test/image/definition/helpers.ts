import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { testTempDir } from "../../temp-dir.ts";

/** A fresh temp directory, removed after the current test. */
export const tempDir = (prefix = "provd-def-"): string => testTempDir(prefix);

/** Writes files (paths relative to `dir`; a trailing "/" makes a directory); "#!" contents become executable. */
export function writeTree(dir: string, files: Record<string, string>): string {
  for (const [rel, content] of Object.entries(files)) {
    const path = join(dir, rel);
    if (rel.endsWith("/")) {
      mkdirSync(path, { recursive: true });
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    if (content.startsWith("#!")) chmodSync(path, 0o755);
  }
  return dir;
}
