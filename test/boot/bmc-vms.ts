// QEMU machines behind BMC emulators: each VM is a directory that its BMC's power hook (vm-power.sh) starts and stops
// it from, so provd powers real firmware through IPMI (ipmi_sim) or Redfish (our test BMC). The BMCs run inside the
// lab segment on 127.0.0.1, the VMs on its taps.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Firmware, type LabProcess, OVMF_VARS, type Segment, cleanSerial, qemuArgv, waitForListening } from "../lab/index.ts";
import { lanConf } from "../power/ipmi/ipmi-sim.ts";

const HOOK = join(import.meta.dirname, "vm-power.sh");
const REDFISH_BMC = join(import.meta.dirname, "../bmc/redfish-bmc.ts");
export const BMC_USER = "admin";
export const BMC_PASSWORD = "password";

export function ipmiSimUnavailable(): string | undefined {
  return Bun.which("ipmi_sim") ? undefined : "ipmi_sim is not installed (openipmi)";
}

export interface VmSpec {
  node: string;
  firmware: Firmware;
  /** A tap of the segment the BMC runs in. */
  tap: string;
  mac: string;
  uuid: string;
  /** Hard cap on the VM's life (coreutils `timeout`), in case nobody is left to power it off. */
  lifetimeMs: number;
}

export interface SerialMatch {
  matched: RegExpExecArray;
  /** From the call to the match. */
  elapsedMs: number;
}

export class HookedVm {
  readonly dir: string;
  private readonly serialFile: string;

  constructor(
    readonly spec: VmSpec,
    parent: string,
  ) {
    this.dir = join(parent, spec.node);
    mkdirSync(this.dir);
    this.serialFile = join(this.dir, "serial.log");
    let varsFile: string | undefined;
    if (spec.firmware === "uefi") {
      varsFile = join(this.dir, "OVMF_VARS.fd");
      copyFileSync(OVMF_VARS, varsFile);
    }
    const argv = qemuArgv(spec, varsFile);
    const serial = argv.indexOf("-serial");
    if (serial < 0 || argv[serial + 1] !== "stdio") throw new Error(`qemuArgv changed: no -serial stdio in ${argv.join(" ")}`);
    // Nobody reads a started-and-forgotten QEMU's stdout, so the console goes to a file.
    argv[serial + 1] = `file:${this.serialFile}`;
    // The guest powers itself off right after its marker. -no-shutdown keeps QEMU, the machine's "power", running, so
    // the BMC still reports on and `rpower off` has a VM to stop, as with a real machine that halted without ACPI off.
    argv.push("-pidfile", join(this.dir, "qemu.pid"), "-no-shutdown");
    const lifetime = Math.ceil(spec.lifetimeMs / 1000);
    writeFileSync(join(this.dir, "qemu.sh"), `exec timeout --kill-after=5 ${lifetime} ${argv.map(shellQuote).join(" ")}\n`);
  }

  /** The shell command a BMC runs as its power hook, followed by the BMC's own arguments. */
  hookCommand(...args: string[]): string {
    return ["sh", HOOK, this.dir, ...args].map(shellQuote).join(" ");
  }

  /** Every hook call, oldest first: `get power`, `set boot pxe`, `redfish Off->PoweringOn On`, … */
  calls(): string[] {
    return readLines(join(this.dir, "calls.log"));
  }

  /** The `timeout` wrapper the hook started (the VM's power) and QEMU itself, as their pid files say. */
  pids(): { wrapper?: number; qemu?: number } {
    return { wrapper: readPid(join(this.dir, "vm.pid")), qemu: readPid(join(this.dir, "qemu.pid")) };
  }

  /** Whether this VM's wrapper or QEMU still runs (a zombie does not count). */
  running(): boolean {
    return Object.values(this.pids()).some((pid) => pid !== undefined && this.owns(pid));
  }

  serial(): string {
    return existsSync(this.serialFile) ? cleanSerial(readFileSync(this.serialFile, "latin1")) : "";
  }

  /** QEMU's stderr and the hook's, e.g. "could not open tap0". */
  log(): string {
    return readLines(join(this.dir, "qemu.log")).join("\n");
  }

  /**
   * Polls the serial file until a complete line matches; rejects on timeout or when the VM, once seen running,
   * stops before the match. The BMC starts the VM, so it may not be running yet when this is called.
   */
  async waitForSerial(pattern: RegExp, timeoutMs: number): Promise<SerialMatch> {
    const started = performance.now();
    let seenRunning = false;
    for (;;) {
      const running = this.running();
      seenRunning ||= running;
      const text = this.serial();
      // Only complete lines, unless QEMU is gone: a read can end mid-line (`platform=e`).
      const complete = running ? text.slice(0, text.lastIndexOf("\n") + 1) : text;
      const matched = pattern.exec(complete);
      if (matched) return { matched, elapsedMs: performance.now() - started };
      const why =
        seenRunning && !running
          ? "the VM stopped"
          : performance.now() - started > timeoutMs
            ? `no ${pattern} within ${timeoutMs} ms${seenRunning ? "" : " (the VM never started)"}`
            : undefined;
      if (why) throw new Error(`${this.spec.node} (${this.spec.firmware}): ${why}\n${this.describe()}`);
      await Bun.sleep(250);
    }
  }

  /** What to append to a failure: the hook calls, QEMU's log and the serial tail. */
  describe(): string {
    const tail = this.serial().trimEnd().split("\n").slice(-30).join("\n");
    return [
      `--- ${this.spec.node} power hook calls ---\n${this.calls().join("\n")}`,
      `--- ${this.spec.node} qemu.log ---\n${this.log()}`,
      `--- ${this.spec.node} serial tail ---\n${tail}`,
    ].join("\n");
  }

  /** SIGKILL to the wrapper and QEMU by pid, if these pids are still this VM's (not reused by another process). */
  kill(): void {
    for (const pid of Object.values(this.pids())) {
      if (pid === undefined || !this.owns(pid)) continue;
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone in between.
      }
    }
  }

  /** Alive, not a zombie, and its command line names this VM's directory. */
  private owns(pid: number): boolean {
    return processAlive(pid) && readProc(pid, "cmdline").includes(this.dir);
  }
}

/** False once `pid` has exited, even if it lingers as a zombie that nobody reaps. */
export function processAlive(pid: number): boolean {
  const stat = readProc(pid, "stat");
  // `pid (comm) S …`: the state follows the last parenthesis, since comm may contain spaces and parentheses.
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return stat !== "" && state !== "Z";
}

export interface BmcOptions {
  segment: Segment;
  vm: HookedVm;
  port: number;
  /** Where the BMC's configuration and state go. */
  dir: string;
}

/** ipmi_sim on 127.0.0.1:port (UDP), admin/password, with the VM's hook as chassis_control (bmc.md §4). */
export async function startIpmiSim({ segment, vm, port, dir }: BmcOptions): Promise<LabProcess> {
  mkdirSync(join(dir, "state"), { recursive: true });
  const lan = join(dir, "lan.conf");
  const emu = join(dir, "sim.emu");
  writeFileSync(lan, lanConf(`${vm.spec.node}-bmc`, port, { chassisControl: vm.hookCommand() }, BMC_USER, BMC_PASSWORD));
  writeFileSync(emu, "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02\nmc_enable 0x20\n");
  const sim = segment.spawn(["ipmi_sim", "-c", lan, "-f", emu, "-s", join(dir, "state"), "-n"]);
  await waitForListening(segment, [{ proto: "udp", port, address: "127.0.0.1" }], { processes: [sim] });
  return sim;
}

/** Our Redfish test BMC on http://127.0.0.1:port, powered off, with the VM's hook as --on-power. */
export async function startRedfishBmc({ segment, vm, port }: Omit<BmcOptions, "dir">): Promise<LabProcess> {
  const bmc = segment.spawn([
    "bun", REDFISH_BMC, "--port", String(port), "--user", BMC_USER, "--password", BMC_PASSWORD, "--power", "Off",
    "--on-power", vm.hookCommand("redfish"),
  ]);
  await waitForListening(segment, [{ proto: "tcp", port, address: "127.0.0.1" }], { processes: [bmc] });
  return bmc;
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function readLines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").filter((line) => line !== "") : [];
}

function readPid(path: string): number | undefined {
  const text = existsSync(path) ? readFileSync(path, "utf8").trim() : "";
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

function readProc(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "latin1");
  } catch {
    return "";
  }
}
