// Redfish power control: `redfishProtocol` is the PowerProtocol for nodes with mgt=redfish.
import type { BmcTarget, PowerProtocol } from "../driver.ts";
import type { RedfishDriver } from "./driver.ts";
import { openRedfish, type RedfishOptions } from "./open.ts";

export type { RedfishDriver } from "./driver.ts";
export type { RedfishOptions } from "./open.ts";
export { toPowerState, waitForPowerState, type RedfishPowerState, type WaitOptions } from "./power-state.ts";

export interface RedfishProtocol extends PowerProtocol {
  open(target: BmcTarget, signal: AbortSignal): Promise<RedfishDriver>;
}

export function createRedfishProtocol(options: RedfishOptions = {}): RedfishProtocol {
  return { open: (target, signal) => openRedfish(target, signal, options) };
}

export const redfishProtocol: PowerProtocol = createRedfishProtocol();
