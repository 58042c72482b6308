// The power protocols this build speaks.
import type { PowerProtocol } from "./driver.ts";
import { ipmiProtocol } from "./ipmi/index.ts";
import { redfishProtocol } from "./redfish/index.ts";
import type { Protocol } from "./targets.ts";

export function powerProtocols(): Record<Protocol, PowerProtocol> {
  return { ipmi: ipmiProtocol, redfish: redfishProtocol };
}
