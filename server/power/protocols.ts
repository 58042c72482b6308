// The power protocols this build speaks.
import type { PowerProtocol } from "./driver.ts";
import { redfishProtocol } from "./redfish/index.ts";
import type { Protocol } from "./targets.ts";

export function powerProtocols(): Partial<Record<Protocol, PowerProtocol>> {
  return { redfish: redfishProtocol };
}
