// Starts and stops real ipmi_sim BMCs (Debian openipmi) on 127.0.0.1, configured as bmc.md §4 says:
// one process, lan.conf and state directory per BMC, the chassis_control hook logging to calls.log.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BmcTarget } from "../../../server/power/driver.ts";
import { freeUdpPorts, hookLog, waitForBmcs } from "./bmc-probe.ts";

const HOOK = join(import.meta.dirname, "fixtures", "chassisctl.sh");

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

export interface SimFleet {
  readonly bmcs: readonly SimBmc[];
  stop(): Promise<void>;
}

/** ipmi_sim's lan.conf: one LAN channel on 127.0.0.1:port, one admin user, `chassisControl` as the power hook. */
export function lanConf(name: string, port: number, chassisControl: string, user = "admin", password = "password"): string {
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
  chassis_control "${chassisControl}"
  user 2 true "${user}" "${password}" admin 10 none md2 md5 straight
`;
}

const SIM_EMU = `mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02
mc_enable 0x20
`;

export async function startIpmiSims(count: number): Promise<SimFleet> {
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
    writeFileSync(join(dir, "lan.conf"), lanConf(name, port, `${HOOK} ${hookDir}`));
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
