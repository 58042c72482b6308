// Small pieces every bench uses.
import type { Subprocess } from "bun";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { descendants, killQuietly } from "../test/process-tree.ts";

/** Reads a child's output as it comes (keeping pipes from filling up), handing text to `sink`. */
export async function drain(stream: ReadableStream<Uint8Array> | undefined | null | number, sink: (s: string) => void): Promise<void> {
  if (!stream || typeof stream === "number") return;
  const decoder = new TextDecoder();
  for await (const chunk of stream) sink(decoder.decode(chunk, { stream: true }));
}

/** This process's environment without variables a developer may have exported for the servers under test. */
export function envWithout(...prefixes: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !prefixes.some((p) => k.startsWith(p)))) as Record<string, string>;
}

/** The command line, one argument at a time; `value()` takes the next argument as this flag's value. */
export function* commandLine(argv: readonly string[]): Generator<{ flag: string; value(): string }> {
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    yield {
      flag,
      value: () => {
        const v = argv[++i];
        if (v === undefined) throw new Error(`${flag} needs a value`);
        return v;
      },
    };
  }
}

/** Throws, naming the flag, unless each value is a whole number ≥ 1. */
export function requirePositiveIntegers(values: Record<string, number>): void {
  for (const [flag, v] of Object.entries(values)) if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} must be a positive integer`);
}

export const pad = (s: string, n: number) => s.padEnd(n);
export const lpad = (s: string, n: number) => s.padStart(n);

/**
 * Every process a bench starts, stopped by PID at the end (also on Ctrl-C or failure), then the bench's own
 * steps (namespaces, temporary directories) in the order they were added.
 */
export class BenchCleanup {
  private readonly children = new Set<Subprocess>();
  private readonly steps: Array<() => void | Promise<void>> = [];
  private running: Promise<void> | undefined;

  /** `tree`: signal each process's descendants as well (xargs and the ipmitools it runs). */
  constructor(private readonly options: { tree?: boolean } = {}) {}

  /** True once cleaning up has begun: work still running is being interrupted. */
  get started(): boolean {
    return this.running !== undefined;
  }

  track<T extends Subprocess>(proc: T): T {
    // Started while cleaning up (main() still running after Ctrl-C): stop it at once.
    if (this.running) {
      this.signal(proc.pid, "SIGKILL");
      return proc;
    }
    this.children.add(proc);
    void proc.exited.then(() => this.children.delete(proc));
    return proc;
  }

  async stop(proc: Subprocess, signal: NodeJS.Signals = "SIGTERM", graceMs = 5000): Promise<void> {
    if (proc.exitCode === null && proc.signalCode === null) {
      const tree = this.options.tree ? descendants(proc.pid) : [];
      this.signal(proc.pid, signal);
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
      for (const pid of tree) killQuietly(pid, "SIGKILL");
      if (!exited) {
        proc.kill("SIGKILL");
        await proc.exited;
      }
    }
    this.children.delete(proc);
  }

  add(step: () => void | Promise<void>): void {
    this.steps.push(step);
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      await Promise.all([...this.children].map((p) => this.stop(p)));
      for (const step of this.steps) await step();
    })();
    return this.running;
  }

  private signal(pid: number, signal: NodeJS.Signals): void {
    for (const p of this.options.tree ? [...descendants(pid), pid] : [pid]) killQuietly(p, signal);
  }
}

/** Runs a bench's main with cleanup on exit and on SIGINT/SIGTERM/SIGHUP (`interrupted` is said then, if given). */
export async function runBench(name: string, cleanup: BenchCleanup, interrupted: string | undefined, main: () => Promise<void>): Promise<never> {
  for (const [signal, number] of [["SIGINT", 2], ["SIGTERM", 15], ["SIGHUP", 1]] as const) {
    process.on(signal, () => {
      if (interrupted) console.error(`\n${signal}: ${interrupted}`);
      void cleanup.run().finally(() => process.exit(128 + number));
    });
  }
  let failed = false;
  try {
    await main();
  } catch (e) {
    failed = true;
    // After Ctrl-C, the errors of interrupted steps are expected; say nothing more.
    if (!cleanup.started) console.error(`\n${name}: ${(e as Error).message}`);
  } finally {
    await cleanup.run();
  }
  // A bench, not a test: missed targets still exit 0; only a bench that could not run exits 1.
  process.exit(failed ? 1 : 0);
}

/** Removes a temporary directory, or says where it is when the user asked to keep it. */
export function removeDir(dir: string | undefined, keep = false): void {
  if (!dir) return;
  if (keep) console.error(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
