// The unauthenticated service root: where the systems and sessions live, and who made the BMC (quirk switches).
import { expectObject } from "./errors.ts";
import { asObject, asString, linkOf, pick } from "./json.ts";
import type { Transport } from "./transport.ts";
import { linkPath } from "./url.ts";

export const SERVICE_ROOT = "/redfish/v1/";
// python-redfish-library rest/v1.py falls back to these when the root does not name them.
const DEFAULT_SYSTEMS = "/redfish/v1/Systems";
const DEFAULT_SESSIONS = "/redfish/v1/SessionService/Sessions";

export interface ServiceRoot {
  systemsPath: string;
  sessionsPath: string;
  /** `Vendor` (Redfish 1.5+), else the first Oem key ("Hpe", "Dell", "Supermicro"). */
  vendor: string | undefined;
}

export async function readServiceRoot(transport: Transport): Promise<ServiceRoot> {
  const answer = await transport.send({ method: "GET", path: SERVICE_ROOT });
  // A few BMCs want credentials even here; the well-known paths work on those.
  if (answer.status === 401) return { systemsPath: DEFAULT_SYSTEMS, sessionsPath: DEFAULT_SESSIONS, vendor: undefined };
  const root = expectObject(`GET ${SERVICE_ROOT}`, answer);
  const systems = linkOf(root.Systems);
  const sessions = linkOf(pick(root, "Links", "Sessions"));
  const oem = Object.keys(asObject(root.Oem) ?? {});
  return {
    systemsPath: (systems && linkPath(systems)) ?? DEFAULT_SYSTEMS,
    sessionsPath: (sessions && linkPath(sessions)) ?? DEFAULT_SESSIONS,
    vendor: asString(root.Vendor) ?? oem[0],
  };
}
