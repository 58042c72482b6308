// Starts throw-away provd servers and runs provctl against them, as a user would.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "../..");
export const SOURCE_CLI = ["bun", join(ROOT, "server/main.ts")];

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestServer {
  url: string;
  dataDir: string;
  token?: string;
  /** What the server printed on stdout (the first-start token notice). */
  stdout(): string;
  run(args: string[], options?: { stdin?: string; env?: Record<string, string> }): RunResult;
  stop(): Promise<void>;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `provd-${prefix}-`));
}

/** Starts `provctl serve` on a free loopback port. `token` undefined lets the server generate one. */
export async function startServer(options: { dataDir?: string; token?: string; cli?: string[]; cwd?: string } = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir("data");
  const cli = options.cli ?? SOURCE_CLI;
  const env: Record<string, string> = { ...cleanEnv(), PROVCTL_DATA_DIR: dataDir, PROVCTL_LISTEN: "127.0.0.1:0", PROVCTL_LOG_LEVEL: "info" };
  if (options.token) env.PROVCTL_TOKEN = options.token;
  const proc = Bun.spawn([...cli, "serve"], { env, cwd: options.cwd, stdout: "pipe", stderr: "pipe" });
  let out = "";
  let err = "";
  void collect(proc.stdout, (s) => (out += s));
  void collect(proc.stderr, (s) => (err += s));
  const url = await waitFor(() => /"url":"(http:\/\/[^"]+)"/.exec(err)?.[1], () => `server did not start:\n${err}${out}`);
  const server: TestServer = {
    url,
    dataDir,
    token: options.token,
    stdout: () => out,
    run(args, runOptions = {}) {
      const runEnv: Record<string, string> = { ...cleanEnv(), PROVCTL_URL: url, PROVCTL_CLIENT_CONFIG: join(dataDir, "no-client-config.json"), ...runOptions.env };
      if (server.token && !runOptions.env?.PROVCTL_TOKEN) runEnv.PROVCTL_TOKEN = server.token;
      const result = Bun.spawnSync([...cli, ...args], {
        env: runEnv,
        cwd: options.cwd,
        stdin: runOptions.stdin === undefined ? "ignore" : new TextEncoder().encode(runOptions.stdin),
      });
      return { code: result.exitCode ?? -1, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
    },
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
  return server;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** The environment without any PROVCTL_* a developer may have exported. */
function cleanEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter(([k, v]) => !k.startsWith("PROVCTL_") && v !== undefined)) as Record<string, string>;
}

async function collect(stream: ReadableStream<Uint8Array>, sink: (s: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) sink(decoder.decode(chunk, { stream: true }));
}

async function waitFor<T>(probe: () => T | undefined, describe: () => string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(describe());
    await Bun.sleep(25);
  }
}
