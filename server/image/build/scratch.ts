// Removing a build's scratch tree, but never through a mount: a root with the host's /dev bound in it
// would take the host's device nodes along.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";

export function mountsUnder(dir: string): string[] {
  const prefix = `${resolve(dir)}/`;
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4]?.replace(/\\040/g, " "))
    .filter((mountPoint): mountPoint is string => !!mountPoint && mountPoint.startsWith(prefix));
}

export function removeTree(dir: string, log: (line: string) => void = () => {}): void {
  if (!existsSync(dir)) return;
  for (const mountPoint of mountsUnder(dir).sort().reverse()) {
    Bun.spawnSync(["umount", "-l", mountPoint]);
  }
  const left = mountsUnder(dir);
  if (left.length) {
    log(`scratch ${dir} kept: still mounted at ${left.join(", ")}; unmount them and delete it by hand`);
    return;
  }
  rmSync(dir, { recursive: true, force: true });
}
