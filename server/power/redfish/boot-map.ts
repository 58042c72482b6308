// provd boot devices ⇄ Redfish BootSourceOverrideTarget (xcat.md §3: net→Pxe, hd→Hdd, cd→Cd, setup→BiosSetup).
import { BmcError, type BootDevice, type BootOverride } from "../driver.ts";
import { asObject, asString, asStringArray, type JsonObject } from "./json.ts";

const TARGETS: Record<BootDevice, string> = { net: "Pxe", hd: "Hdd", cd: "Cd", setup: "BiosSetup", floppy: "Floppy" };

const DEVICES: Record<string, BootDevice> = {
  Pxe: "net",
  UefiHttp: "net",
  Hdd: "hd",
  Cd: "cd",
  // Supermicro presents virtual media as UsbCd (Ironic story 2008547).
  UsbCd: "cd",
  BiosSetup: "setup",
  Floppy: "floppy",
};

/** The Redfish target for a device; "cd" becomes UsbCd where only that is advertised (Supermicro). */
export function redfishTarget(device: BootDevice, allowed: readonly string[] | undefined): string {
  const target = TARGETS[device];
  if (device === "cd" && allowed && !allowed.includes("Cd") && allowed.includes("UsbCd")) return "UsbCd";
  if (allowed && !allowed.includes(target)) {
    throw new BmcError("unsupported", `boot device ${device} (${target}) is not offered; the BMC offers ${allowed.join(", ")}`);
  }
  return target;
}

export function bootOf(system: JsonObject): JsonObject {
  return asObject(system.Boot) ?? {};
}

export function allowedTargets(boot: JsonObject): string[] | undefined {
  return asStringArray(boot["BootSourceOverrideTarget@Redfish.AllowableValues"]);
}

export function readBootOverride(system: JsonObject, systemPath: string): BootOverride {
  const boot = bootOf(system);
  const enabled = asString(boot.BootSourceOverrideEnabled);
  const target = asString(boot.BootSourceOverrideTarget);
  const uefi = asString(boot.BootSourceOverrideMode) === "UEFI";
  if (enabled === undefined || enabled === "Disabled" || target === undefined || target === "None") {
    return { device: "none", persistent: false, uefi };
  }
  const device = DEVICES[target];
  if (device === undefined) {
    throw new BmcError("unsupported", `${systemPath}: boot override target ${target} has no provd equivalent`);
  }
  return { device, persistent: enabled === "Continuous", uefi };
}
