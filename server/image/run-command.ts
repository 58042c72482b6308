// Runs a build tool, streaming its output lines to the job log; a failure carries the tool's last lines.
import { UserError } from "../core/errors.ts";
import { forEachLine } from "./output-lines.ts";

export interface RunOptions {
  log: (line: string) => void;
  signal?: AbortSignal;
  env?: Record<string, string>;
  cwd?: string;
  /** Written to the tool's stdin, then closed. */
  stdin?: string;
  /** What failed, for the error message, e.g. "mmdebstrap". */
  what?: string;
}

const TAIL_LINES = 15;

export async function runCommand(argv: string[], options: RunOptions): Promise<void> {
  options.signal?.throwIfAborted();
  const proc = Bun.spawn(argv, {
    cwd: options.cwd,
    env: { ...process.env, LC_ALL: "C.UTF-8", ...options.env },
    stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const kill = () => proc.kill("SIGTERM");
  options.signal?.addEventListener("abort", kill, { once: true });
  const tail: string[] = [];
  const onLine = (line: string) => {
    options.log(line);
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
  };
  try {
    await Promise.all([forEachLine(proc.stdout, onLine), forEachLine(proc.stderr, onLine)]);
    const code = await proc.exited;
    options.signal?.throwIfAborted();
    if (code !== 0) {
      const what = options.what ?? argv[0];
      throw new UserError(`${what} failed (exit ${code}):\n${tail.join("\n")}`, 422);
    }
  } finally {
    options.signal?.removeEventListener("abort", kill);
  }
}

/** Output of a short command, as text; throws with stderr on failure. */
export async function commandOutput(argv: string[], env?: Record<string, string>): Promise<string> {
  const proc = Bun.spawn(argv, { env: { ...process.env, LC_ALL: "C.UTF-8", ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")} failed (exit ${code}): ${err.trim()}`);
  return out;
}
