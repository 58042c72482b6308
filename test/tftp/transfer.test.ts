import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { encodeAck, encodeError, encodeRequest } from "../../server/tftp/packet.ts";
import type { TftpServer } from "../../server/tftp/server.ts";
import { TestClient } from "./client.ts";
import { makeRoot, startTestServer, waitFor, type TestRoot } from "./helpers.ts";

let root: TestRoot;
let server: TftpServer;
const hashes: Record<string, string> = {};

beforeAll(async () => {
  root = makeRoot();
  hashes.small = root.file("small.bin", 3000);
  hashes.medium = root.file("medium.bin", 300_000);
  hashes.multiple = root.file("multiple.bin", 4096);
  hashes.empty = root.file("empty.bin", 0);
  hashes.rollover = root.file("rollover.bin", 600_000);
  // Recovery in these tests is client-driven (gap ACKs, 50 ms client timeouts); a slow server timer
  // keeps event-loop stalls in this shared process from causing spurious go-back resends.
  server = await startTestServer(root.dir, { retransmitMs: 1000, maxRetransmitMs: 4000 });
});

afterAll(async () => {
  await server.close();
  root.remove();
});

async function withClient<T>(run: (client: TestClient) => Promise<T>, target: TftpServer = server): Promise<T> {
  const client = await TestClient.open(target.port);
  try {
    return await run(client);
  } finally {
    client.close();
  }
}

const blocksOf = (size: number, blksize: number) => Math.floor(size / blksize) + 1;

describe("RFC 1350 transfers", () => {
  test("no options: DATA 1 straight away, 512-byte blocks, lock-step", async () => {
    await withClient(async (client) => {
      client.sendRequest("small.bin");
      const first = await client.receive();
      expect(first?.packet).toMatchObject({ op: "DATA", block: 1 });
      expect(first?.packet.op === "DATA" && first.packet.data.length).toBe(512);
      expect(first?.from.port).not.toBe(server.port);
      // Nothing more until block 1 is ACKed.
      expect(await client.receive(50)).toBeUndefined();
      client.send(encodeError(0, "enough"), first?.from);
    });
    const result = await withClient((client) => client.get({ filename: "small.bin" }));
    expect(result.oack).toBeUndefined();
    expect(result.sha256).toBe(hashes.small);
    expect(result.dataPackets).toBe(blocksOf(3000, 512));
  });

  test("a size that is a multiple of blksize ends with an empty block", async () => {
    const result = await withClient((client) => client.get({ filename: "multiple.bin" }));
    expect(result.sha256).toBe(hashes.multiple);
    expect(result.dataPackets).toBe(9);
  });

  test("an empty file is one empty block", async () => {
    const result = await withClient((client) => client.get({ filename: "empty.bin", options: { tsize: 0 } }));
    expect(result.oack?.get("tsize")).toBe("0");
    expect(result.data.length).toBe(0);
    expect(result.dataPackets).toBe(1);
  });

  test("netascii converts line ends; other modes are refused", async () => {
    root.file("text.txt", new TextEncoder().encode("a\nb\rc\r\n"));
    const text = await withClient((client) => client.get({ filename: "text.txt", mode: "NetASCII", options: { tsize: 0 } }));
    expect(Array.from(text.data)).toEqual([0x61, 0x0d, 0x0a, 0x62, 0x0d, 0x00, 0x63, 0x0d, 0x00, 0x0d, 0x0a]);
    expect(text.oack?.get("tsize")).toBe("11");
    const mail = await withClient((client) => client.get({ filename: "text.txt", mode: "mail" }));
    expect(mail.error?.code).toBe(4);
  });

  test("a retransmitted RRQ does not start a second transfer", async () => {
    await waitFor(() => server.stats.activeTransfers === 0);
    const before = { ...server.stats };
    await withClient(async (client) => {
      const request = encodeRequest("RRQ", "small.bin", "octet");
      client.send(request);
      client.send(request);
      const result = await client.get({ filename: "small.bin" });
      expect(result.sha256).toBe(hashes.small);
      await waitFor(() => server.stats.activeTransfers === 0);
    });
    expect(server.stats.duplicateRequests - before.duplicateRequests).toBeGreaterThanOrEqual(1);
  });
});

describe("options and OACK", () => {
  test.each<[Record<string, string | number>, Record<string, string> | undefined]>([
    [{ blksize: 1024 }, { blksize: "1024" }],
    [{ blksize: 100_000 }, { blksize: "1468" }],
    [{ blksize: 4 }, undefined],
    [{ blksize: "big" }, undefined],
    [{ tsize: 0 }, { tsize: "300000" }],
    [{ timeout: 5 }, { timeout: "5" }],
    [{ timeout: 0 }, undefined],
    [{ timeout: 256 }, undefined],
    [{ windowsize: 8 }, { windowsize: "8" }],
    [{ windowsize: 100 }, { windowsize: "64" }],
    [{ windowsize: 0 }, undefined],
    [{ BlkSize: 1432, TSIZE: 0, foo: "bar" }, { blksize: "1432", tsize: "300000" }],
    [{ foo: "bar" }, undefined],
    [
      { tsize: 0, blksize: 1468, windowsize: 4, timeout: 2 },
      { blksize: "1468", tsize: "300000", timeout: "2", windowsize: "4" },
    ],
  ])("request %j → OACK %j, data intact", async (options, expected) => {
    const result = await withClient((client) => client.get({ filename: "medium.bin", options }));
    expect(result.oack ? Object.fromEntries(result.oack) : undefined).toEqual(expected);
    expect(result.sha256).toBe(hashes.medium);
    const blksize = Number(expected?.blksize ?? 512);
    expect(result.dataPackets).toBe(blocksOf(300_000, blksize));
  });

  test("the configured maxBlksize caps blksize, and 65464-byte blocks work", async () => {
    for (const [maxBlksize, granted] of [
      [9000, 9000],
      [65464, 65464],
    ] as const) {
      const big = await startTestServer(root.dir, { maxBlksize });
      try {
        const result = await withClient((client) => client.get({ filename: "medium.bin", options: { blksize: 65464 } }), big);
        expect(result.oack?.get("blksize")).toBe(String(granted));
        expect(result.sha256).toBe(hashes.medium);
        expect(result.dataPackets).toBe(blocksOf(300_000, granted));
      } finally {
        await big.close();
      }
    }
  });

  test("the timeout option sets the server's retransmit interval", async () => {
    const quick = await startTestServer(root.dir, { retransmitMs: 100 });
    try {
      await withClient(async (client) => {
        client.sendRequest("small.bin", { timeout: 1 });
        const first = await client.receive();
        expect(first?.packet.op).toBe("OACK");
        const startedAt = performance.now();
        // The server's own default is 100 ms; the client asked for 1 s.
        expect(await client.receive(600)).toBeUndefined();
        const again = await client.receive(1500);
        expect(again?.packet.op).toBe("OACK");
        expect(performance.now() - startedAt).toBeGreaterThanOrEqual(900);
        client.send(encodeError(0, "done"), again?.from);
      }, quick);
      await waitFor(() => quick.stats.activeTransfers === 0);
    } finally {
      await quick.close();
    }
  });

  test("EDK2: tsize probe, ERROR 8, re-request without tsize", async () => {
    await waitFor(() => server.stats.activeTransfers === 0);
    const before = { ...server.stats };
    await withClient(async (client) => {
      const probe = await client.get({
        filename: "medium.bin",
        options: { tsize: 0, blksize: 1468, windowsize: 4 },
        abortAfterOack: true,
      });
      expect(Object.fromEntries(probe.oack ?? [])).toEqual({ blksize: "1468", tsize: "300000", windowsize: "4" });
      expect(probe.dataPackets).toBe(0);
      // EDK2 re-requests at once, from the same port.
      const result = await client.get({ filename: "medium.bin", options: { blksize: 1468, windowsize: 4 } });
      expect(Object.fromEntries(result.oack ?? [])).toEqual({ blksize: "1468", windowsize: "4" });
      expect(result.sha256).toBe(hashes.medium);
    });
    await waitFor(() => server.stats.activeTransfers === 0);
    expect(server.stats.abortedByClient - before.abortedByClient).toBe(1);
    expect(server.stats.completed - before.completed).toBe(1);
    expect(server.stats.failed - before.failed).toBe(0);
  });
});

describe("windows, loss and duplicates", () => {
  test("loss with windowsize 8: go-back-N from the block after the last ACK", async () => {
    const blocks = blocksOf(300_000, 1468);
    // First arrival of these is lost: mid-window, a window's last block, two in a row, the final block.
    const lost = new Set([5, 16, 30, 31, 100, blocks]);
    const result = await withClient((client) =>
      client.get({
        filename: "medium.bin",
        options: { blksize: 1468, windowsize: 8 },
        dropData: (block, arrival) => arrival === 1 && lost.has(block),
        timeoutMs: 50,
      }),
    );
    expect(result.sha256).toBe(hashes.medium);
    expect(result.dropped).toBe(lost.size);
    // Never resent anything the client had already ACKed.
    expect(result.alreadyAcked).toBe(0);
    // Go-back-N costs at most a window per loss.
    expect(result.dataPackets).toBeLessThanOrEqual(blocks + lost.size * 8);
  });

  test("random 5% loss, lock-step and windowed", async () => {
    // A lost first block of a window is only recovered by the server's timer (a repeated ACK is
    // never a resend trigger), so this server retransmits quickly.
    const quick = await startTestServer(root.dir, { retransmitMs: 40, maxRetransmitMs: 160, maxRetries: 10 });
    try {
      for (const windowsize of [1, 16]) {
        let seed = 12345 + windowsize;
        const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
        const result = await withClient(
          (client) =>
            client.get({
              filename: "medium.bin",
              options: { blksize: 1468, windowsize },
              dropData: () => random() < 0.05,
              timeoutMs: 50,
            }),
          quick,
        );
        expect(result.sha256).toBe(hashes.medium);
        expect(result.dropped).toBeGreaterThan(0);
      }
    } finally {
      await quick.close();
    }
  });

  test.each([1, 8])("duplicate ACKs never cause resends (windowsize %i)", async (windowsize) => {
    const blocks = blocksOf(300_000, 512);
    const result = await withClient((client) =>
      client.get({ filename: "medium.bin", options: { windowsize }, duplicateAcks: true }),
    );
    expect(result.sha256).toBe(hashes.medium);
    expect(result.dataPackets).toBeLessThanOrEqual(Math.floor(blocks * 1.05));
  });

  test("block numbers roll over past 65535 (75,000 blocks of 8 bytes), with loss across the wrap", async () => {
    const lost = new Set([65535, 65536, 65537, 65550]);
    const result = await withClient((client) =>
      client.get({
        filename: "rollover.bin",
        options: { blksize: 8, windowsize: 64 },
        dropData: (block, arrival) => arrival === 1 && lost.has(block),
        timeoutMs: 50,
      }),
    );
    expect(result.sha256).toBe(hashes.rollover);
    expect(result.data.length).toBe(600_000);
    expect(result.alreadyAcked).toBe(0);
  });
});

describe("misbehaving peers and timeouts", () => {
  test("an ACK from a wrong TID gets ERROR 5 and the transfer carries on", async () => {
    const before = server.stats.wrongTid;
    const result = await withClient((client) =>
      client.get({ filename: "medium.bin", options: { blksize: 512 }, strangerAckAtBlock: 3 }),
    );
    expect(result.strangerReply).toMatchObject({ op: "ERROR", code: 5 });
    expect(result.error).toBeUndefined();
    expect(result.sha256).toBe(hashes.medium);
    expect(server.stats.wrongTid).toBeGreaterThan(before);
  });

  test("junk on a transfer port is dropped and the transfer carries on", async () => {
    const before = server.stats.malformedDropped;
    await withClient(async (client) => {
      client.sendRequest("small.bin");
      const first = await client.receive();
      expect(first?.packet).toMatchObject({ op: "DATA", block: 1 });
      const tid = first?.from;
      for (const junk of [[], [0], [0, 4, 0], [0, 9, 0, 0], [0, 5, 0, 0, 0xff]]) client.send(new Uint8Array(junk), tid);
      client.send(encodeAck(1), tid);
      const second = await client.receive();
      expect(second?.packet).toMatchObject({ op: "DATA", block: 2 });
      client.send(encodeError(0, "enough"), tid);
    });
    await waitFor(() => server.stats.activeTransfers === 0);
    expect(server.stats.malformedDropped - before).toBe(5);
  });

  test("a silent client: backoff, give up, ERROR 0, transfer freed", async () => {
    const quick = await startTestServer(root.dir, { retransmitMs: 50, maxRetransmitMs: 200, maxRetries: 3 });
    try {
      await withClient(async (client) => {
        client.sendRequest("small.bin");
        const arrivals: number[] = [];
        let last;
        while ((last = await client.receive(1000)) && last.packet.op === "DATA") arrivals.push(performance.now());
        expect(last?.packet).toMatchObject({ op: "ERROR", code: 0 });
        expect(arrivals.length).toBe(4);
        const gaps = arrivals.slice(1).map((t, i) => t - (arrivals[i] ?? 0));
        // 50, 100, 200 ms: each wait at least as long as the one before.
        expect(gaps[0]).toBeGreaterThanOrEqual(40);
        expect(gaps[2]).toBeGreaterThan(gaps[0] ?? 0);
      }, quick);
      await waitFor(() => quick.stats.activeTransfers === 0);
      expect(quick.stats.failed).toBe(1);
    } finally {
      await quick.close();
    }
  });

  test("a lost final ACK ends the transfer quietly, not as a failure", async () => {
    const quick = await startTestServer(root.dir, { retransmitMs: 30, maxRetransmitMs: 60, maxRetries: 2 });
    try {
      const result = await withClient(
        (client) => client.get({ filename: "small.bin", goSilentAfterBlock: blocksOf(3000, 512) }),
        quick,
      );
      expect(result.sha256).toBe(hashes.small);
      await waitFor(() => quick.stats.activeTransfers === 0);
      expect(quick.stats.unconfirmed).toBe(1);
      expect(quick.stats.failed).toBe(0);
    } finally {
      await quick.close();
    }
  });

  test("the per-transfer deadline stops a crawling client", async () => {
    const quick = await startTestServer(root.dir, { deadlineMs: 300 });
    try {
      const result = await withClient((client) => client.get({ filename: "medium.bin", ackDelayMs: 20 }), quick);
      expect(result.error).toMatchObject({ code: 0, message: "transfer deadline exceeded" });
      await waitFor(() => quick.stats.activeTransfers === 0);
      expect(quick.stats.failed).toBe(1);
    } finally {
      await quick.close();
    }
  });
});
