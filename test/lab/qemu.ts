// Boots one QEMU VM from the network on a lab segment and watches its serial console for a pattern.
import { copyFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type LabProcess, type Segment, scratchDir } from "./netns.ts";

export type Firmware = "bios" | "uefi";

export interface BootVmOptions {
  segment: Segment;
  firmware: Firmware;
  /** A tap device of the segment, e.g. `segment.taps[0]`. */
  tap: string;
  mac: string;
  uuid: string;
  timeoutMs: number;
  /** Matched against the serial console text, escape sequences and CRs removed. */
  until: RegExp;
  memoryMb?: number;
  /** Called for every complete serial line as it arrives (e.g. to stream it to a log). */
  onLine?: (line: SerialLine) => void;
}

export interface SerialLine {
  /** Milliseconds since QEMU was started. */
  ms: number;
  text: string;
}

export interface BootResult {
  /** The whole serial console text, escape sequences and CRs removed. */
  serial: string;
  lines: SerialLine[];
  matched: RegExpExecArray;
  /** QEMU start → match. */
  elapsedMs: number;
  /** `Date.now()` when QEMU was started, to line serial lines up with server logs. */
  startedAt: number;
}

export class BootError extends Error {
  constructor(
    message: string,
    readonly serial: string,
    readonly lines: SerialLine[],
  ) {
    super(message);
    this.name = "BootError";
  }
}

export const OVMF_CODE = "/usr/share/OVMF/OVMF_CODE.fd";
export const OVMF_VARS = "/usr/share/OVMF/OVMF_VARS.fd";
const QEMU = "qemu-system-x86_64";
// QEMU loads these by name for `-machine pc` and `virtio-net-pci` (Debian's firmware path includes their dirs).
const SEABIOS = "/usr/share/seabios/bios-256k.bin";
const VIRTIO_ROM = "/usr/lib/ipxe/qemu/efi-virtio.rom";

export function firmwareUnavailable(firmware?: Firmware): string | undefined {
  if (!Bun.which(QEMU)) return `${QEMU} is not installed (qemu-system-x86)`;
  const needed: [string, string, Firmware | undefined][] = [
    [SEABIOS, "seabios", "bios"],
    [VIRTIO_ROM, "ipxe-qemu", "bios"],
    [OVMF_CODE, "ovmf", "uefi"],
    [OVMF_VARS, "ovmf", "uefi"],
  ];
  for (const [path, pkg, fw] of needed) {
    if ((firmware === undefined || firmware === fw) && !existsSync(path)) return `${path} is missing (${pkg})`;
  }
  return undefined;
}

/** The QEMU command line for a VM; `varsFile` is the per-VM copy of OVMF_VARS.fd for UEFI. */
export function qemuArgv(options: Pick<BootVmOptions, "firmware" | "tap" | "mac" | "uuid" | "memoryMb">, varsFile?: string): string[] {
  const argv = [
    QEMU,
    "-name", `provd-lab-${options.firmware}-${options.mac}`,
    // graphics=off: SeaBIOS and the iPXE ROM print to the serial port only then (else to VGA, which we don't see).
    "-machine", "pc,graphics=off",
    // TCG always: /dev/kvm here is a paravirtual device without vmx/svm, and iPXE/OVMF die under it.
    "-accel", "tcg",
    "-m", String(options.memoryMb ?? 512),
    "-smp", "1",
    // -nodefaults drops the IDE CD-ROM OVMF would try first; the serial port then has to be given explicitly.
    "-nodefaults", "-display", "none", "-no-reboot", "-boot", "n", "-serial", "stdio",
    "-uuid", options.uuid,
  ];
  let nic = `virtio-net-pci,netdev=n0,mac=${options.mac}`;
  if (options.firmware === "uefi") {
    if (!varsFile) throw new Error("a UEFI VM needs its own copy of OVMF_VARS.fd");
    argv.push(
      "-drive", `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`,
      "-drive", `if=pflash,format=raw,unit=1,file=${varsFile}`,
    );
    // Without the NIC's iPXE option ROM, EDK2's own PXE client runs and has to fetch snponly.efi over TFTP.
    nic += ",romfile=";
  }
  argv.push("-netdev", `tap,id=n0,ifname=${options.tap},script=no,downscript=no`, "-device", nic);
  return argv;
}

// CSI sequences (colours, cursor moves from OVMF), charset selections and other two-byte escapes.
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]/g;

export function cleanSerial(text: string): string {
  return text.replace(ESCAPES, "");
}

/**
 * Starts a VM inside the segment and resolves when its serial console matches `until`; rejects with a BootError
 * carrying the serial text on timeout or if QEMU exits first. QEMU is stopped by PID either way.
 */
export async function bootVm(options: BootVmOptions): Promise<BootResult> {
  if (!options.segment.taps.includes(options.tap)) throw new Error(`${options.tap} is not a tap of ${options.segment.name}`);
  const until = new RegExp(options.until.source, options.until.flags.replace(/[gy]/g, ""));
  const scratch = scratchDir("vm");
  let varsFile: string | undefined;
  if (options.firmware === "uefi") {
    varsFile = join(scratch, "OVMF_VARS.fd");
    copyFileSync(OVMF_VARS, varsFile);
  }

  const lines: SerialLine[] = [];
  let done = "";
  let partial = "";
  // An object, not `let`s: TypeScript does not see the closures below assign to it.
  const state: { matched: RegExpExecArray | null; matchedMs: number; onMatch: () => void } = {
    matched: null,
    matchedMs: 0,
    onMatch: () => {},
  };
  const startedAt = Date.now();
  const t0 = performance.now();

  // Only complete lines are matched: a chunk can end mid-line, and `PROVD-MARKER … platform=e` would match /\S+/.
  const addLines = (pieces: string[], ms: number) => {
    for (const piece of pieces) {
      const line = { ms, text: cleanSerial(piece) };
      lines.push(line);
      done += `${line.text}\n`;
      options.onLine?.(line);
    }
    if (state.matched || pieces.length === 0) return;
    state.matched = until.exec(done);
    if (state.matched) {
      state.matchedMs = ms;
      state.onMatch();
    }
  };
  const feed = (chunk: string) => {
    const pieces = (partial + chunk).split("\n");
    partial = pieces.pop() ?? "";
    addLines(pieces, performance.now() - t0);
  };
  const flush = () => {
    if (partial) addLines([partial], performance.now() - t0);
    partial = "";
  };

  let qemu: LabProcess | undefined;
  try {
    qemu = options.segment.spawn(qemuArgv(options, varsFile), {
      onStdout: feed,
      // A VM never needs to outlive its test by much; the cap also bounds it if the test process is SIGKILLed.
      lifetimeMs: options.timeoutMs + 60_000,
    });
    const vm = qemu;
    const outcome = await new Promise<"matched" | "timeout" | "exited">((resolve) => {
      state.onMatch = () => resolve("matched");
      if (state.matched) resolve("matched");
      const timer = setTimeout(() => resolve("timeout"), options.timeoutMs);
      void vm.exited.then(() => {
        flush();
        resolve(state.matched ? "matched" : "exited");
      });
      void vm.exited.finally(() => clearTimeout(timer));
    });
    if (outcome === "matched" && state.matched) {
      return { serial: done + cleanSerial(partial), lines, matched: state.matched, elapsedMs: state.matchedMs, startedAt };
    }
    if (outcome === "timeout") await vm.stop(2_000);
    const code = await vm.exited;
    const serial = done;
    const why =
      outcome === "timeout"
        ? `no ${until} on the serial console within ${options.timeoutMs} ms`
        : `QEMU exited (${code}) before ${until} appeared${vm.stderr().trim() ? `: ${vm.stderr().trim()}` : ""}`;
    throw new BootError(`${options.firmware} VM ${options.mac}: ${why}\n--- serial tail ---\n${tail(serial, 40)}`, serial, lines);
  } finally {
    await qemu?.stop(2_000);
    rmSync(scratch, { recursive: true, force: true });
  }
}

function tail(text: string, count: number): string {
  return text.trimEnd().split("\n").slice(-count).join("\n");
}
