// Shared fixtures for the TFTP tests: a temporary root with files of chosen sizes, a server on
// 127.0.0.1 port 0, and polling.
import { randomFillSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileSourceUnder, startTftpServer, type TftpServer, type TftpServerOptions } from "../../server/tftp/server.ts";
import { sha256 } from "./client.ts";

export type TestRoot = {
  dir: string;
  /** Writes random bytes (or the given ones) to `name` under the root and returns their sha256. */
  file(name: string, contents: number | Uint8Array): string;
  remove(): void;
};

export function makeRoot(): TestRoot {
  const dir = mkdtempSync(join(tmpdir(), "provd-tftp-"));
  return {
    dir,
    file(name, contents) {
      const bytes = typeof contents === "number" ? randomFillSync(new Uint8Array(contents)) : contents;
      const path = join(dir, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, bytes);
      return sha256(bytes);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A server over `root` with fast retransmits so loss tests finish quickly. */
export function startTestServer(root: string, overrides: Partial<TftpServerOptions> = {}): Promise<TftpServer> {
  return startTftpServer({
    address: "127.0.0.1",
    port: 0,
    resolve: fileSourceUnder(root),
    retransmitMs: 100,
    maxRetransmitMs: 400,
    maxRetries: 5,
    ...overrides,
  });
}

export async function waitFor(condition: () => boolean, timeoutMs = 3000, what = "condition"): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
