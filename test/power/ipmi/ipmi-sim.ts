// Starts and stops real ipmi_sim BMCs (Debian openipmi) on 127.0.0.1, configured as bmc.md §4 says:
// one process, lan.conf and state directory per BMC, the chassis_control hook logging to calls.log; or, for
// benches, power kept by ipmi_sim itself (startcmd), so that a status read forks nothing.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BmcTarget } from "../../../server/power/driver.ts";
import { descendants, killQuietly } from "../../process-tree.ts";
import { freeUdpPorts, hookLog, waitForBmcs } from "./bmc-probe.ts";

const HOOK = join(import.meta.dirname, "fixtures", "chassisctl.sh");
const POWERED = join(import.meta.dirname, "fixtures", "powered.sh");

/** Why ipmi_sim tests cannot run here, or undefined. */
export function ipmiSimUnavailable(): string | undefined {
  return Bun.which("ipmi_sim") === null ? "ipmi_sim is not installed (apt-get install openipmi)" : undefined;
}

export interface SimBmc {
  readonly name: string;
  readonly port: number;
  readonly target: BmcTarget;
  /** Lines the chassis_control hook logged, oldest first. */
  calls(): string[];
  clearCalls(): void;
  /** Sets what the hook answers for `get ITEM` (power: 1 or 0). */
  setState(item: string, value: string): void;
  pid(): number;
  kill(signal?: NodeJS.Signals): void;
  /** Starts ipmi_sim again on the same port (after kill). */
  restart(): Promise<void>;
}

export interface SimOptions {
  /**
   * "hook" (the default): power lives in state files the chassis_control hook reads and writes, and every call is
   * logged for tests to assert on; ipmi_sim forks the hook for every status read (about 2.5 ms of CPU here).
   * "process": power on = a child process alive (startcmd, fixtures/powered.sh), answered from ipmi_sim's memory
   * as a real BMC answers; no hook, no call log, setState() is not available. `on(index)` picks who starts on.
   * Without a VM on the serial port ipmi_sim refuses Chassis Control here (0xCC): for status reads.
   */
  power?: "hook" | "process";
  on?: (index: number) => boolean;
}

export interface SimFleet {
  readonly bmcs: readonly SimBmc[];
  stop(): Promise<void>;
}

/** How a simulated BMC keeps its power state: a hook command, or a process it starts (and starts at once if on). */
export type SimPower = { chassisControl: string } | { startcmd: string; on: boolean };

/** ipmi_sim's lan.conf: one LAN channel on 127.0.0.1:port, one admin user, and how power is kept. */
export function lanConf(name: string, port: number, power: SimPower, user = "admin", password = "password"): string {
  const powerLines =
    "chassisControl" in power
      ? `  chassis_control "${power.chassisControl}"`
      : // No serial VM connection: power off is a SIGTERM at once (poweroff_wait 0 skips the graceful request).
        `  startcmd "${power.startcmd}"\n  startnow ${power.on}\n  poweroff_wait 0\n  kill_wait 2`;
  return `name "${name}"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 ${port}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
${powerLines}
  user 2 true "${user}" "${password}" admin 10 none md2 md5 straight
`;
}

const SIM_EMU = `mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02
mc_enable 0x20
`;

export async function startIpmiSims(count: number, options: SimOptions = {}): Promise<SimFleet> {
  const root = mkdtempSync(join(tmpdir(), "provd-ipmi-sim-"));
  const ports = await freeUdpPorts(count);
  const processes = new Map<string, Bun.Subprocess>();

  const spawn = (name: string, dir: string): void => {
    processes.set(
      name,
      Bun.spawn(["ipmi_sim", "-c", join(dir, "lan.conf"), "-f", join(dir, "sim.emu"), "-s", join(dir, "state"), "-n"], {
        stdin: "ignore",
        stdout: "ignore",
        stderr: "ignore",
      }),
    );
  };

  const makeBmc = (port: number, index: number): SimBmc => {
    const name = `bmc${index + 1}`;
    const dir = join(root, name);
    const hookDir = join(dir, "chassis");
    mkdirSync(join(dir, "state"), { recursive: true });
    mkdirSync(hookDir, { recursive: true });
    const power: SimPower = options.power === "process" ? { startcmd: POWERED, on: options.on?.(index) ?? false } : { chassisControl: `${HOOK} ${hookDir}` };
    writeFileSync(join(dir, "lan.conf"), lanConf(name, port, power));
    writeFileSync(join(dir, "sim.emu"), SIM_EMU);
    spawn(name, dir);
    const log = join(hookDir, "calls.log");
    const current = (): Bun.Subprocess => processes.get(name) as Bun.Subprocess;
    return {
      name,
      port,
      target: { host: "127.0.0.1", port, username: "admin", password: "password" },
      ...hookLog(log),
      setState(item, value) {
        if (options.power === "process") throw new Error(`${name} keeps power as a process: choose its state with startIpmiSims(…, { on })`);
        writeFileSync(join(hookDir, item), `${value}\n`);
      },
      pid: () => current().pid,
      kill(signal = "SIGKILL") {
        current().kill(signal);
      },
      async restart() {
        await current().exited;
        spawn(name, dir);
        await waitForBmcs([port]);
      },
    };
  };

  // A failure while starting them (a spawn that throws, a BMC that never answers) stops the ones already started.
  let bmcs: SimBmc[];
  try {
    bmcs = ports.map(makeBmc);
    await waitForBmcs(ports);
  } catch (error) {
    await stopAll(processes, root);
    throw error;
  }
  return { bmcs, stop: () => stopAll(processes, root) };
}

async function stopAll(processes: Map<string, Bun.Subprocess>, root: string): Promise<void> {
  for (const child of processes.values()) {
    // A "process" BMC's power process ends on its own within a second of ipmi_sim; end it now, by PID.
    for (const pid of descendants(child.pid)) killQuietly(pid, "SIGTERM");
    try {
      process.kill(child.pid, "SIGCONT"); // a test may have stopped it
      process.kill(child.pid, "SIGTERM");
    } catch {
      // Already gone.
    }
  }
  await Promise.all([...processes.values()].map((child) => child.exited));
  rmSync(root, { recursive: true, force: true });
}
