// Where a BMC's Redfish service lives, and resolving the paths it hands out against it.
import type { BmcTarget } from "../driver.ts";

export function serviceOrigin(target: BmcTarget): URL {
  const scheme = target.scheme ?? "https";
  const host = target.host.includes(":") && !target.host.startsWith("[") ? `[${target.host}]` : target.host;
  const url = new URL(`${scheme}://${host}`);
  if (target.port !== undefined) url.port = String(target.port);
  return url;
}

/**
 * A link from the BMC (a Location header, an `@odata.id`) as a path on our origin. Only the path is kept: BMCs
 * behind NAT or proxies put their internal address in absolute links, and credentials must never leave the origin.
 */
export function linkPath(pathOrUrl: string): string | undefined {
  try {
    const url = new URL(pathOrUrl, "http://bmc.invalid");
    return url.pathname + url.search;
  } catch {
    return undefined;
  }
}
