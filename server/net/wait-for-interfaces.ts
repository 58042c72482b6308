// Waits until each interface has an IPv4 address: at boot, the server may start before the network does.
import { UserError } from "../core/errors.ts";
import { interfaceIpv4 } from "./interface-ipv4.ts";

export async function waitForInterfaces(
  names: readonly string[],
  options: { timeoutMs?: number; onWait?: (missing: string[]) => void } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let told = false;
  for (;;) {
    const missing = names.filter((n) => interfaceIpv4(n) === undefined);
    if (!missing.length) return;
    if (Date.now() > deadline) {
      throw new UserError(`interface(s) ${missing.join(", ")} do not exist or have no IPv4 address: check --dhcp-interfaces and 'ip addr'`);
    }
    if (!told) options.onWait?.(missing);
    told = true;
    await Bun.sleep(200);
  }
}
