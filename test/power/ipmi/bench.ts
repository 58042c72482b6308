// Timings of the native IPMI client against ipmitool -C 3 (bmc.md §5), on loopback emulators:
//   bun test/power/ipmi/bench.ts [max BMCs, default 100]
// Not part of the test suite. Prints medians of a few runs per measurement.
import { createIpmiProtocol } from "../../../server/power/ipmi/index.ts";
import type { BmcTarget } from "../../../server/power/driver.ts";
import { startIpmiSims } from "./ipmi-sim.ts";
import { startPyghmi } from "./pyghmi-bmc.ts";

const maxBmcs = Number(process.argv[2] ?? 100);
const ipmi = createIpmiProtocol();

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function time(runs: number, work: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await work();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

async function stat(target: BmcTarget): Promise<void> {
  const driver = await ipmi.open(target, AbortSignal.timeout(20_000));
  try {
    await driver.powerState();
  } finally {
    await driver.close();
  }
}

async function ipmitool(ports: readonly number[]): Promise<void> {
  const list = ports.join("\n");
  const run = Bun.spawn(
    ["sh", "-c", `xargs -P ${ports.length} -I{} ipmitool -I lanplus -H 127.0.0.1 -p {} -U admin -E -C 3 chassis power status > /dev/null`],
    { stdin: new TextEncoder().encode(list), env: { ...process.env, IPMI_PASSWORD: "password" }, stdout: "ignore", stderr: "inherit" },
  );
  if ((await run.exited) !== 0) throw new Error("ipmitool failed");
}

const row = (label: string, ms: number): void => console.log(`${label.padEnd(62)} ${ms.toFixed(1).padStart(8)} ms`);

let failures = 0;
/** One operation per BMC, all at once; failures are counted, not fatal (see pyghmi's note below). */
async function fanOut(targets: readonly BmcTarget[]): Promise<void> {
  const results = await Promise.allSettled(targets.map((target) => stat(target)));
  for (const result of results) {
    if (result.status === "rejected") {
      failures++;
      console.error(`  failed: ${String(result.reason)}`);
    }
  }
}

const sims = await startIpmiSims(maxBmcs);
const pyghmi = await startPyghmi(Math.min(maxBmcs, 100));
try {
  const sim = sims.bmcs[0];
  const fake = pyghmi.bmcs[0];
  if (sim === undefined || fake === undefined) throw new Error("no BMCs");
  await stat(sim.target); // warm up the JIT and the emulator
  row("ipmi_sim: open + Get Chassis Status + close (median of 20)", await time(20, () => stat(sim.target)));
  row("pyghmi:   open + Get Chassis Status + close (median of 20)", await time(20, () => stat(fake.target)));
  row("ipmi_sim: ipmitool -C 3 chassis power status (median of 10)", await time(10, () => ipmitool([sim.port])));
  for (const count of [10, 50, 100, 200].filter((n) => n <= maxBmcs)) {
    const targets = sims.bmcs.slice(0, count);
    row(`ipmi_sim: ${count} BMCs in parallel, native (median of 5)`, await time(5, () => fanOut(targets.map((b) => b.target))));
    row(`ipmi_sim: ${count} BMCs, ipmitool -C 3 via xargs -P ${count} (median of 3)`, await time(3, () => ipmitool(targets.map((b) => b.port))));
  }
  for (const count of [10, 50, 100].filter((n) => n <= pyghmi.bmcs.length)) {
    const targets = pyghmi.bmcs.slice(0, count);
    // pyghmi keys sessions by client address and port and never forgets one: a new session that the
    // kernel happens to give a source port used before against the same BMC port gets stale state.
    row(`pyghmi:   ${count} BMCs in parallel, native (median of 5)`, await time(5, () => fanOut(targets.map((b) => b.target))));
  }
  const hole = await Bun.udpSocket({ hostname: "127.0.0.1", socket: { data() {}, error() {} } });
  const dead = { host: "127.0.0.1", port: hole.port, username: "admin", password: "password" };
  row("200 silent BMCs in parallel, default retries (one run)", await time(1, () => Promise.all(Array.from({ length: 200 }, () => stat(dead).catch(() => undefined)))));
  hole.close();
  console.log(`failed operations: ${failures}`);
} finally {
  await pyghmi.stop();
  await sims.stop();
}
