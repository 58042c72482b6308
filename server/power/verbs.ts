// rpower and rsetboot requests as xCAT spells them, and what each prints.
import { UserError } from "../core/errors.ts";
import type { BootDevice, BootOverride } from "./driver.ts";

export const RPOWER_VERBS = ["on", "off", "softoff", "reset", "cycle", "boot", "nmi", "stat", "state", "status"] as const;
export type RpowerVerb = (typeof RPOWER_VERBS)[number];

export type PowerRequest =
  | { kind: "rpower"; verb: RpowerVerb }
  | { kind: "rsetboot"; device: BootDevice | "default" | "stat"; persistent: boolean; uefi: boolean };

export function parseRpower(verb: string | undefined): PowerRequest {
  if (!verb) throw new UserError("Please enter an action (eg: boot,off,on, etc)");
  if (!(RPOWER_VERBS as readonly string[]).includes(verb)) {
    throw new UserError(`Unsupported command: rpower ${verb} (expected one of ${RPOWER_VERBS.join(", ")})`);
  }
  return { kind: "rpower", verb: verb as RpowerVerb };
}

const DEVICES: Record<string, BootDevice | "default" | "stat"> = {
  net: "net",
  hd: "hd",
  cd: "cd",
  floppy: "floppy",
  setup: "setup",
  def: "default",
  default: "default",
  stat: "stat",
};

export function parseRsetboot(device: string | undefined, persistent: boolean, uefi: boolean): PowerRequest {
  const parsed = DEVICES[device ?? "stat"];
  if (!parsed) throw new UserError(`Unsupported boot device '${device}' (expected net, hd, cd, floppy, setup, def or stat)`);
  return { kind: "rsetboot", device: parsed, persistent, uefi };
}

export function describeRequest(request: PowerRequest): string {
  if (request.kind === "rpower") return `rpower ${request.verb}`;
  return `rsetboot ${request.device}${request.persistent ? " -p" : ""}${request.uefi ? " -u" : ""}`;
}

const BOOT_LABELS: Record<BootOverride["device"], string> = {
  net: "Network",
  hd: "Hard Drive",
  cd: "CD/DVD",
  setup: "BIOS Setup",
  floppy: "Floppy",
  none: "boot override inactive",
};

/** xCAT's rsetboot output for a boot override read back from the BMC. */
export function bootLabel(override: BootOverride): string {
  return BOOT_LABELS[override.device];
}
