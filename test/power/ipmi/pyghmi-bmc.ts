// Starts and stops the pyghmi fake BMC (fixtures/fake_bmc.py, Debian python3-pyghmi): one process
// serving several ports, each logging its calls to STATE_DIR/<port>.log.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BmcTarget } from "../../../server/power/driver.ts";
import { freeUdpPorts, hookLog, waitForBmcs } from "./bmc-probe.ts";

// Debian's interpreter: the `python3` on PATH may be another one without Debian's modules.
const PYTHON = "/usr/bin/python3";
const SCRIPT = join(import.meta.dirname, "fixtures", "fake_bmc.py");

export function pyghmiUnavailable(): string | undefined {
  try {
    const probe = Bun.spawnSync([PYTHON, "-c", "import pyghmi.ipmi.bmc"], { stdout: "ignore", stderr: "ignore" });
    return probe.exitCode === 0 ? undefined : "pyghmi is not installed (apt-get install python3-pyghmi)";
  } catch {
    return `${PYTHON} is missing (apt-get install python3-pyghmi)`;
  }
}

export interface PyghmiBmc {
  readonly port: number;
  readonly target: BmcTarget;
  calls(): string[];
  clearCalls(): void;
}

export interface PyghmiFleet {
  readonly bmcs: readonly PyghmiBmc[];
  stop(): Promise<void>;
}

export async function startPyghmi(count: number): Promise<PyghmiFleet> {
  const dir = mkdtempSync(join(tmpdir(), "provd-pyghmi-"));
  const ports = await freeUdpPorts(count);
  const child = Bun.spawn([PYTHON, SCRIPT, dir, ...ports.map(String)], { stdin: "ignore", stdout: "ignore", stderr: "inherit" });
  const stop = async (): Promise<void> => {
    try {
      process.kill(child.pid, "SIGTERM");
    } catch {
      // Already gone.
    }
    await child.exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForBmcs(ports);
  } catch (error) {
    await stop();
    throw error;
  }
  const bmcs = ports.map((port): PyghmiBmc => {
    const log = join(dir, `${port}.log`);
    return {
      port,
      target: { host: "127.0.0.1", port, username: "admin", password: "password" },
      ...hookLog(log),
    };
  });
  return { bmcs, stop };
}
