import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ErrorCode } from "../../server/tftp/packet.ts";
import type { TftpLogger } from "../../server/tftp/server.ts";
import { TestClient } from "./client.ts";
import { makeRoot, startTestServer, waitFor, type TestRoot } from "./helpers.ts";

let root: TestRoot;
let hash = "";

beforeAll(() => {
  root = makeRoot();
  hash = root.file("nbp.efi", 200_000);
});

afterAll(() => root.remove());

function recordingLogger(): TftpLogger & { lines: Array<{ level: string; message: string }> } {
  const lines: Array<{ level: string; message: string }> = [];
  const at = (level: string) => (_fields: Record<string, unknown>, message: string) => void lines.push({ level, message });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn") };
}

describe("server lifecycle", () => {
  test("EDK2's probe-and-abort is logged at debug, never as a warning", async () => {
    const log = recordingLogger();
    const server = await startTestServer(root.dir, { log });
    const client = await TestClient.open(server.port);
    try {
      await client.get({ filename: "nbp.efi", options: { tsize: 0, blksize: 1468, windowsize: 4 }, abortAfterOack: true });
      const result = await client.get({ filename: "nbp.efi", options: { blksize: 1468, windowsize: 4 } });
      expect(result.sha256).toBe(hash);
      await waitFor(() => server.stats.completed === 1);
    } finally {
      client.close();
      await server.close();
    }
    expect(log.lines.filter((line) => line.level === "warn")).toEqual([]);
    expect(log.lines).toContainEqual({ level: "debug", message: "tftp: transfer ended by the client" });
    expect(log.lines).toContainEqual({ level: "info", message: "tftp: transfer completed" });
  });

  test("beyond maxTransfers a request gets ERROR 0 'server busy'", async () => {
    const server = await startTestServer(root.dir, { maxTransfers: 1 });
    const first = await TestClient.open(server.port);
    const second = await TestClient.open(server.port);
    try {
      first.sendRequest("nbp.efi");
      expect((await first.receive())?.packet).toMatchObject({ op: "DATA", block: 1 });
      const refused = await second.get({ filename: "nbp.efi" });
      expect(refused.error).toEqual({ code: ErrorCode.NOT_DEFINED, message: "server busy" });
    } finally {
      first.close();
      second.close();
      await server.close();
    }
  });

  test("close() ends running transfers with ERROR 0 and frees them", async () => {
    const server = await startTestServer(root.dir);
    const client = await TestClient.open(server.port);
    try {
      client.sendRequest("nbp.efi");
      expect((await client.receive())?.packet).toMatchObject({ op: "DATA", block: 1 });
      expect(server.stats.activeTransfers).toBe(1);
      await server.close();
      expect((await client.receive())?.packet).toEqual({ op: "ERROR", code: 0, message: "server shutting down" });
      expect(server.stats.activeTransfers).toBe(0);
    } finally {
      client.close();
    }
  });

  test("a logger that throws cannot break request handling", async () => {
    const boom = () => {
      throw new Error("logger exploded");
    };
    const server = await startTestServer(root.dir, { log: { debug: boom, info: boom, warn: boom } });
    const client = await TestClient.open(server.port);
    try {
      expect((await client.get({ filename: "missing" })).error?.code).toBe(ErrorCode.FILE_NOT_FOUND);
      expect((await client.get({ filename: "nbp.efi" })).sha256).toBe(hash);
      await waitFor(() => server.stats.completed === 1);
    } finally {
      client.close();
      await server.close();
    }
  });
});
