import type { udp } from "bun";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { TftpServer } from "../../server/tftp/server.ts";
import { TestClient, type GetOptions } from "./client.ts";
import { mutate, randomDatagram, seededRandom } from "./fuzz.ts";
import { makeRoot, startTestServer, waitFor, type TestRoot } from "./helpers.ts";

let root: TestRoot;
let server: TftpServer;
const hashes = new Map<string, string>();

beforeAll(async () => {
  root = makeRoot();
  for (let i = 0; i < 10; i++) {
    const name = `node-${i}.bin`;
    hashes.set(name, root.file(name, 50_000 + i * 37_001));
  }
  hashes.set("file.bin", root.file("file.bin", 20_000));
  server = await startTestServer(root.dir, { retransmitMs: 200, maxRetransmitMs: 800 });
});

afterAll(async () => {
  await server.close();
  root.remove();
});

const optionMixes: ReadonlyArray<GetOptions["options"]> = [
  {},
  { blksize: 1468, windowsize: 4 },
  { tsize: 0, blksize: 1432 },
  { blksize: 512, windowsize: 16 },
  { blksize: 1468, windowsize: 64, tsize: 0 },
];

describe("load", () => {
  test("100 concurrent transfers all complete with the right bytes", async () => {
    const before = { ...server.stats };
    const clients = await Promise.all(Array.from({ length: 100 }, () => TestClient.open(server.port)));
    try {
      const results = await Promise.all(
        clients.map((client, i) => {
          const filename = `node-${i % 10}.bin`;
          return client
            .get({ filename, options: optionMixes[i % optionMixes.length], timeoutMs: 300 })
            .then((result) => ({ filename, result }));
        }),
      );
      for (const { filename, result } of results) {
        expect(result.error, filename).toBeUndefined();
        expect(result.sha256, filename).toBe(hashes.get(filename));
      }
    } finally {
      for (const client of clients) client.close();
    }
    await waitFor(() => server.stats.activeTransfers === 0, 5000, "all transfers to end");
    expect(server.stats.completed - before.completed).toBe(100);
    expect(server.stats.failed - before.failed).toBe(0);
  });

  test("100,000 random and mutated datagrams to the server port; it still serves afterwards", async () => {
    const before = { ...server.stats };
    const random = seededRandom(0xc0ffee);
    // Replies (errors, DATA for lucky RRQs) go to this socket and are ignored.
    const fuzzer: udp.Socket<"buffer"> = await Bun.udpSocket({ hostname: "127.0.0.1", socket: { data() {} } });
    const seen = () => {
      const s = server.stats;
      return s.malformedDropped + s.requests + s.ignored - (before.malformedDropped + before.requests + before.ignored);
    };
    try {
      const total = 100_000;
      const batch = 200;
      const packets: Array<Uint8Array | number | string> = [];
      for (let sent = 0; sent < total; sent += batch) {
        packets.length = 0;
        for (let i = 0; i < batch; i++) packets.push(random() < 0.5 ? randomDatagram(random) : mutate(random), server.port, "127.0.0.1");
        fuzzer.sendMany(packets);
        // Let the server drain its socket before the next batch; a little loss is fine, a flood is not the point.
        const target = sent + batch - 400;
        const until = performance.now() + 50;
        while (seen() < target && performance.now() < until) await new Promise((r) => setImmediate(r));
      }
      await waitFor(() => seen() >= total * 0.95, 5000, "the server to read the fuzz datagrams");
    } finally {
      fuzzer.close();
    }
    expect(server.stats.malformedDropped - before.malformedDropped).toBeGreaterThan(10_000);
    expect(server.stats.ignored - before.ignored).toBeGreaterThan(1_000);

    const client = await TestClient.open(server.port);
    try {
      const result = await client.get({ filename: "node-3.bin", options: { blksize: 1468, windowsize: 8 } });
      expect(result.sha256).toBe(hashes.get("node-3.bin"));
    } finally {
      client.close();
    }
  }, 20_000);
});
