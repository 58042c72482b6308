// From a node's resolved attributes to the BMC to talk to, or the xCAT-style reason it cannot be reached.
import { readFileSync } from "node:fs";
import type { ListedObject } from "../core/inventory.ts";
import type { BmcTarget } from "./driver.ts";

export type Protocol = "redfish" | "ipmi";

export interface NodeTarget {
  node: string;
  protocol: Protocol;
  target: BmcTarget;
  /** Jobs with the same key never run at the same time. */
  key: string;
}

/** Returns the target, or an error message for this node. */
export function nodeTarget(node: ListedObject, reveal: (sealed: string) => string): NodeTarget | string {
  const a = node.attrs;
  const protocol = a.mgt;
  if (!protocol) return "Unable to get attribute mgt (set mgt=ipmi or mgt=redfish on the node or a group)";
  if (protocol !== "ipmi" && protocol !== "redfish") return `mgt=${protocol} is not supported (ipmi, redfish)`;
  if (!a.bmc) return "Unable to get attribute bmc";
  if (!a.bmcusername) return "Unable to get attribute bmcusername";
  if (!a.bmcpassword) return "Unable to get attribute bmcpassword";
  let password: string;
  try {
    password = reveal(a.bmcpassword);
  } catch (e) {
    return (e as Error).message;
  }
  const target: BmcTarget = {
    host: a.bmc,
    port: a.bmcport ? Number(a.bmcport) : undefined,
    username: a.bmcusername,
    password,
  };
  if (protocol === "redfish") {
    target.scheme = a.bmcscheme === "http" ? "http" : "https";
    target.auth = a.bmcauth === "basic" ? "basic" : "session";
    if (a.bmctls === "insecure") target.tls = { mode: "insecure" };
    else if (a.bmctls === "pinned") {
      if (!a.bmcca) return "bmctls=pinned needs bmcca=<PEM file on the server>";
      try {
        target.tls = { mode: "pinned", caPem: readFileSync(a.bmcca, "utf8") };
      } catch (e) {
        return `cannot read bmcca ${a.bmcca}: ${(e as Error).message}`;
      }
    }
  }
  return { node: node.name, protocol, target, key: `${protocol}://${target.host}:${target.port ?? "default"}` };
}
