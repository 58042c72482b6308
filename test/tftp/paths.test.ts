import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fileSourceUnder, safeSegments } from "../../server/tftp/file-source.ts";
import { ErrorCode } from "../../server/tftp/packet.ts";
import { TftpRequestError, memorySource, startTftpServer, type TftpServer } from "../../server/tftp/server.ts";
import { TestClient } from "./client.ts";
import { makeRoot, startTestServer, waitFor, type TestRoot } from "./helpers.ts";

let root: TestRoot;
let outside: TestRoot;
let server: TftpServer;
let bootHash = "";

beforeAll(async () => {
  root = makeRoot();
  outside = makeRoot();
  bootHash = root.file("boot/snponly.efi", 5000);
  root.file("inside-target.bin", 100);
  outside.file("secret.txt", new TextEncoder().encode("do not serve"));
  mkdirSync(join(root.dir, "empty-dir"));
  symlinkSync(outside.dir, join(root.dir, "escape-dir"));
  symlinkSync(join(outside.dir, "secret.txt"), join(root.dir, "escape-file"));
  symlinkSync("/etc", join(root.dir, "etc-link"));
  symlinkSync("inside-target.bin", join(root.dir, "inside-link"));
  server = await startTestServer(root.dir);
});

afterAll(async () => {
  await server.close();
  root.remove();
  outside.remove();
});

async function request(filename: string, target: TftpServer = server) {
  const client = await TestClient.open(target.port);
  try {
    return await client.get({ filename });
  } finally {
    client.close();
  }
}

describe("path safety", () => {
  test.each([
    "../etc/passwd",
    "../../etc/passwd",
    "/../x",
    "..\\x",
    "a/../../x",
    "boot/../../x",
    "boot\\..\\..\\etc\\passwd",
    "\\..\\..\\etc\\passwd",
    "boot/..",
    "..",
  ])("%s is an access violation", async (filename) => {
    const result = await request(filename);
    expect(result.error?.code).toBe(ErrorCode.ACCESS_VIOLATION);
    expect(result.dataPackets).toBe(0);
  });

  test.each(["escape-dir/secret.txt", "escape-file", "etc-link/passwd", "etc-link/hostname"])(
    "symlink out of the root: %s is refused",
    async (filename) => {
      const result = await request(filename);
      expect(result.error?.code).toBe(ErrorCode.ACCESS_VIOLATION);
      expect(new TextDecoder().decode(result.data)).not.toContain("do not serve");
    },
  );

  test("a symlink that stays inside the root is served", async () => {
    const result = await request("inside-link");
    expect(result.error).toBeUndefined();
    expect(result.data.length).toBe(100);
  });

  test("a NUL inside the filename never reaches the filesystem", async () => {
    // On the wire the NUL ends the filename, so the rest is read as the mode and refused.
    const client = await TestClient.open(server.port);
    try {
      client.send(new TextEncoder().encode("\0\x01boot/snponly.efi\0../../etc/passwd\0octet\0"));
      const reply = await client.receive();
      expect(reply?.packet).toMatchObject({ op: "ERROR", code: ErrorCode.ILLEGAL_OPERATION });
    } finally {
      client.close();
    }
    // A resolver called directly refuses it too.
    await expect(fileSourceUnder(root.dir)("boot/snponly.efi\0/../../etc/passwd", { address: "127.0.0.1", port: 1 })).rejects.toMatchObject({
      code: ErrorCode.ACCESS_VIOLATION,
    });
  });

  test("leading slashes and backslashes are relative to the root", async () => {
    for (const filename of ["/boot/snponly.efi", "//boot//./snponly.efi", "\\boot\\snponly.efi", "boot\\snponly.efi"]) {
      const result = await request(filename);
      expect(result.error, filename).toBeUndefined();
      expect(result.sha256).toBe(bootHash);
    }
  });

  test("safeSegments splits, normalises and refuses", () => {
    expect(safeSegments("/a//b/./c")).toEqual(["a", "b", "c"]);
    expect(safeSegments("a\\b")).toEqual(["a", "b"]);
    expect(safeSegments("..foo/bar..")).toEqual(["..foo", "bar.."]);
    expect(() => safeSegments("a/../b")).toThrow(TftpRequestError);
    expect(() => safeSegments("a\0b")).toThrow(TftpRequestError);
  });
});

describe("refusals", () => {
  test("a missing file and a directory are 'file not found', answered fast", async () => {
    for (const filename of ["autoexec.ipxe", "boot/missing.efi", "empty-dir", "boot", "", "/"]) {
      const startedAt = performance.now();
      const result = await request(filename);
      expect(result.error?.code, filename).toBe(ErrorCode.FILE_NOT_FOUND);
      expect(performance.now() - startedAt).toBeLessThan(100);
    }
  });

  test("WRQ is refused: read-only server", async () => {
    const client = await TestClient.open(server.port);
    try {
      client.sendRequest("upload.bin", { tsize: 10 }, "WRQ");
      const reply = await client.receive();
      expect(reply?.packet).toEqual({ op: "ERROR", code: ErrorCode.ACCESS_VIOLATION, message: "read-only server" });
    } finally {
      client.close();
    }
  });

  test("custom resolvers: generated content, typed refusals, and failures that do not kill the server", async () => {
    const script = new TextEncoder().encode("#!ipxe\nchain http://10.0.0.1/boot.ipxe\n");
    const custom = await startTftpServer({
      address: "127.0.0.1",
      port: 0,
      resolve: async (path, client) => {
        if (path === "autoexec.ipxe") return memorySource(script);
        if (path === "denied") throw new TftpRequestError(ErrorCode.ACCESS_VIOLATION, `not for ${client.address}`);
        if (path === "broken") throw new Error("database is down");
        return undefined;
      },
    });
    try {
      const generated = await request("autoexec.ipxe", custom);
      expect(new TextDecoder().decode(generated.data)).toBe("#!ipxe\nchain http://10.0.0.1/boot.ipxe\n");
      expect((await request("denied", custom)).error).toEqual({ code: 2, message: "not for 127.0.0.1" });
      expect((await request("broken", custom)).error).toEqual({ code: 0, message: "internal error" });
      expect((await request("autoexec.ipxe", custom)).error).toBeUndefined();
      await waitFor(() => custom.stats.activeTransfers === 0);
      expect(custom.stats.completed).toBe(2);
      expect(custom.stats.failed).toBe(1);
    } finally {
      await custom.close();
    }
  });
});
