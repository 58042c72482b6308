// Finding the one ComputerSystem (never by a hard-coded id: iDRAC System.Embedded.1, OpenBMC "system") and reading
// what it offers for Reset.
import { BmcError } from "../driver.ts";
import type { RedfishClient } from "./client.ts";
import { asObject, asString, asStringArray, linkOf, pick, type JsonObject } from "./json.ts";
import { linkPath } from "./url.ts";

export interface ResetAction {
  target: string;
  /** Advertised ResetType values; undefined when the BMC does not say (then every choice is tried in order). */
  allowed: string[] | undefined;
}

export async function findSystemPath(client: RedfishClient, systemsPath: string): Promise<string> {
  const { doc } = await client.get(systemsPath);
  const members = doc.Members;
  if (!Array.isArray(members)) throw new BmcError("protocol", `GET ${systemsPath}: no Members array`);
  const first = linkOf(members[0]);
  const path = first === undefined ? undefined : linkPath(first);
  if (path === undefined) throw new BmcError("protocol", `GET ${systemsPath}: the BMC lists no computer system`);
  return path;
}

/** The system's canonical path: its `@odata.id`, else where the (possibly redirected) GET ended. */
export function canonicalPath(doc: JsonObject, answeredAt: string): string {
  const id = asString(doc["@odata.id"]);
  return (id && linkPath(id)) ?? answeredAt;
}

export async function readResetAction(client: RedfishClient, system: JsonObject, systemPath: string): Promise<ResetAction> {
  const action = asObject(pick(system, "Actions", "#ComputerSystem.Reset"));
  const target = asString(action?.target);
  const targetPath = target === undefined ? undefined : linkPath(target);
  if (!action || targetPath === undefined) {
    throw new BmcError("unsupported", `${systemPath} offers no #ComputerSystem.Reset action`);
  }
  const listed = asStringArray(action["ResetType@Redfish.AllowableValues"]);
  if (listed) return { target: targetPath, allowed: listed };
  const info = asString(action["@Redfish.ActionInfo"]);
  const infoPath = info === undefined ? undefined : linkPath(info);
  return { target: targetPath, allowed: infoPath === undefined ? undefined : await readActionInfo(client, infoPath) };
}

// OpenBMC lists ResetType in an ActionInfo resource; DMTF Redfish-Tacklebox get_system_reset_info reads both forms.
async function readActionInfo(client: RedfishClient, path: string): Promise<string[] | undefined> {
  let doc: JsonObject;
  try {
    ({ doc } = await client.get(path));
  } catch (error) {
    // An unreadable ActionInfo only costs the preselection; the POST itself tells what is allowed.
    if (error instanceof BmcError && error.kind === "refused") return undefined;
    throw error;
  }
  const parameters = Array.isArray(doc.Parameters) ? doc.Parameters : [];
  const resetType = parameters.map(asObject).find((p) => p?.Name === "ResetType");
  return asStringArray(resetType?.AllowableValues);
}
