// Command-line flags of the standalone test BMC.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { isQuirk, QUIRKS, type IfMatchMode, type Quirk, type RedfishBmcOptions } from "./options.ts";

export const USAGE = `usage: bun test/bmc/redfish-bmc.ts [flags]
  --port N               listen port (default 0: any free port; the URL is printed)
  --host ADDR            listen address (default 127.0.0.1)
  --user NAME            account (default admin)
  --password PW          its password (default password)
  --quirks a,b           vendor quirks: ${Object.keys(QUIRKS).join(", ")}
  --on-power CMD         shell command run on every power state change, with REDFISH_POWER_FROM,
                         REDFISH_POWER_TO, REDFISH_RESET_TYPE, REDFISH_SYSTEM_ID in its environment
  --power On|Off         initial power state (default On)
  --transition-ms N      how long PoweringOn/PoweringOff last (default 500)
  --reset-types a,b      advertised ResetType values (default the mockup's)
  --reset-response CODE  200, 204 (default) or 202 (task monitor)
  --task-ms N            202: how long a task runs (default 1000)
  --retry-after S        202: Retry-After seconds (default 1)
  --if-match MODE        none (default), require (428 without), strict (412 without)
  --max-sessions N       session slots (default 16)
  --system-id ID         rename the system (default the mockup's 437XR1138R2)
  --manufacturer NAME    ComputerSystem.Manufacturer (e.g. Supermicro)
  --tls-cert F --tls-key F   serve HTTPS with these PEM files
  --mockup DIR           DMTF mockup directory (default ../shared/redfish/public-rackmount1)`;

export function parseCli(argv: string[]): RedfishBmcOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      user: { type: "string" },
      password: { type: "string" },
      quirks: { type: "string" },
      "on-power": { type: "string" },
      power: { type: "string" },
      "transition-ms": { type: "string" },
      "reset-types": { type: "string" },
      "reset-response": { type: "string" },
      "task-ms": { type: "string" },
      "retry-after": { type: "string" },
      "if-match": { type: "string" },
      "max-sessions": { type: "string" },
      "system-id": { type: "string" },
      manufacturer: { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      mockup: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const options: RedfishBmcOptions = {
    host: values.host,
    port: integer("port", values.port),
    username: values.user,
    password: values.password,
    quirks: list(values.quirks).map(quirk),
    onPowerCommand: values["on-power"],
    powerState: oneOf("power", values.power, ["On", "Off"] as const),
    transitionMs: integer("transition-ms", values["transition-ms"]),
    resetTypes: values["reset-types"] === undefined ? undefined : list(values["reset-types"]),
    resetResponse: oneOf("reset-response", integer("reset-response", values["reset-response"]), [200, 204, 202] as const),
    taskMs: integer("task-ms", values["task-ms"]),
    retryAfterSeconds: integer("retry-after", values["retry-after"]),
    ifMatch: oneOf<IfMatchMode>("if-match", values["if-match"], ["none", "require", "strict"]),
    maxSessions: integer("max-sessions", values["max-sessions"]),
    systemId: values["system-id"],
    manufacturer: values.manufacturer,
    mockupDir: values.mockup,
  };
  if (values["tls-cert"] || values["tls-key"]) {
    if (!values["tls-cert"] || !values["tls-key"]) throw new Error("--tls-cert and --tls-key go together");
    options.tls = { cert: readFileSync(values["tls-cert"], "utf8"), key: readFileSync(values["tls-key"], "utf8") };
  }
  return options;
}

function list(value: string | undefined): string[] {
  return (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

function quirk(name: string): Quirk {
  if (!isQuirk(name)) throw new Error(`unknown quirk ${name}; known: ${Object.keys(QUIRKS).join(", ")}`);
  return name;
}

function integer(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`--${flag} wants a non-negative integer, not ${value}`);
  return Number(value);
}

function oneOf<T extends string | number>(flag: string, value: string | number | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  const found = allowed.find((a) => a === value);
  if (found === undefined) throw new Error(`--${flag} wants one of ${allowed.join(", ")}, not ${value}`);
  return found;
}
