// The power protocols this build speaks.
import type { PowerProtocol } from "./driver.ts";
import type { Protocol } from "./targets.ts";

export function powerProtocols(): Partial<Record<Protocol, PowerProtocol>> {
  return {};
}
