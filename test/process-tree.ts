// Processes by PID, for tests and benches that must leave nothing behind: a process's descendants, and a signal
// that does not mind the process having gone already.
import { readFileSync } from "node:fs";

/** The PIDs of a process's descendants, children first, from /proc. */
export function descendants(pid: number): number[] {
  let direct: number[] = [];
  try {
    direct = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // gone, or no /proc
  }
  return direct.flatMap((child) => [child, ...descendants(child)]);
}

export function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
