// Loopback throughput of the TFTP server: `bun test/tftp/throughput.ts [sizeMiB] [runs]`.
// The server runs here, the client (test/tftp/client.ts) in a child process so they do not share
// an event loop. Prints the median MB/s per option set.
import { fileSourceUnder, startTftpServer } from "../../server/tftp/server.ts";
import { TestClient } from "./client.ts";
import { makeRoot } from "./helpers.ts";

const optionSets: Record<string, Record<string, number>> = {
  "blksize 1468": { blksize: 1468 },
  "blksize 1468, windowsize 4": { blksize: 1468, windowsize: 4 },
  "blksize 1468, windowsize 16": { blksize: 1468, windowsize: 16 },
  "blksize 1468, windowsize 64": { blksize: 1468, windowsize: 64 },
};

async function runClient(port: number, name: string, runs: number): Promise<void> {
  const options = optionSets[name] ?? {};
  const client = await TestClient.open(port);
  const rates: number[] = [];
  for (let i = 0; i < runs; i++) {
    const result = await client.get({ filename: "big.bin", options });
    if (result.error) throw new Error(`transfer failed: ${result.error.message}`);
    rates.push(result.data.length / 1e6 / (result.elapsedMs / 1000));
  }
  client.close();
  rates.sort((a, b) => a - b);
  const median = rates[rates.length >> 1] ?? 0;
  console.log(`${name.padEnd(28)} median ${median.toFixed(0)} MB/s (runs: ${rates.map((r) => r.toFixed(0)).join(" ")})`);
}

async function main(): Promise<void> {
  if (process.argv[2] === "--client") {
    await runClient(Number(process.argv[3]), process.argv[4] ?? "", Number(process.argv[5]));
    return;
  }
  const sizeMiB = Number(process.argv[2] ?? 16);
  const runs = Number(process.argv[3] ?? 5);
  const root = makeRoot();
  root.file("big.bin", sizeMiB * 1024 * 1024);
  const server = await startTftpServer({ address: "127.0.0.1", port: 0, resolve: fileSourceUnder(root.dir) });
  console.log(`${sizeMiB} MiB file, ${runs} runs each`);
  try {
    for (const name of Object.keys(optionSets)) {
      const child = Bun.spawn(["bun", import.meta.path, "--client", String(server.port), name, String(runs)], {
        stdout: "inherit",
        stderr: "inherit",
      });
      await child.exited;
    }
    console.log(`server: ${server.stats.retransmits} retransmits, ${server.stats.failed} failed`);
  } finally {
    await server.close();
    root.remove();
  }
}

await main();
