// What a test BMC can be told to be: its accounts, timings, answers and the vendor quirks of bmc.md §2.

export const QUIRKS = {
  "already-on-409": "iDRAC: On/ForceOn while on → 409 PSU501",
  "reset-off-400": "iLO: a restart or PowerCycle while off → 400 InvalidOperationForSystemState",
  "powercycle-501": "sushy-tools: PowerCycle is advertised but answers 501",
  "alias-307": "sushy-tools: Systems lists an alias that answers 307 to the real system",
  "action-info": "OpenBMC: ResetType values in @Redfish.ActionInfo instead of AllowableValues",
  "mode-readonly": "iLO: BootSourceOverrideMode is not writable → 400",
  "session-no-location": "POST Sessions answers without Location (body @odata.id only)",
  "session-204": "POST Sessions answers 204 with headers only",
  "etag-strong-only": "ETags are served weak but only their strong form matches If-Match",
  "etag-broken": "every If-Match fails with 412",
  "etag-empty": "ETag is empty (\"\") and If-Match: \"\" fails with 412",
  "no-etag": "no ETag header and no @odata.etag",
  "once-reads-continuous": "sushy-tools: a Once override reads back as Continuous",
  "full-boot-object": "Supermicro/AMI: a Boot PATCH without Enabled, or with a Target but no Mode, → 400",
} as const;

export type Quirk = keyof typeof QUIRKS;

export function isQuirk(name: string): name is Quirk {
  return Object.hasOwn(QUIRKS, name);
}

export type RedfishPowerState = "On" | "Off" | "PoweringOn" | "PoweringOff";

/** Answers to PATCH without a matching If-Match: ignore it, 428 when missing (AMI), or 412 when missing (Huawei). */
export type IfMatchMode = "none" | "require" | "strict";

export interface PowerEvent {
  from: RedfishPowerState;
  to: RedfishPowerState;
  /** The ResetType that caused it. */
  resetType: string;
  systemId: string;
}

export interface RedfishBmcOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  username?: string;
  password?: string;
  /** DMTF public-rackmount1; default ../shared/redfish/public-rackmount1 beside the repository. */
  mockupDir?: string;
  /** Renames the mockup's system (default 437XR1138R2), e.g. "System.Embedded.1". */
  systemId?: string;
  /** ComputerSystem.Manufacturer (default the mockup's "Contoso"); "Supermicro" triggers full boot objects. */
  manufacturer?: string;
  /** Initial PowerState, On (default) or Off. */
  powerState?: "On" | "Off";
  /** How long PoweringOn/PoweringOff last. Default 500 ms. */
  transitionMs?: number;
  /** ResetType@Redfish.AllowableValues; default the mockup's list. */
  resetTypes?: string[];
  /** How a Reset is accepted: 200 with a message, 204, or 202 with a task monitor. Default 204. */
  resetResponse?: 200 | 204 | 202;
  /** 202 mode: how long the task runs, and the Retry-After (seconds) of its answers. Defaults 1000 ms, 1 s. */
  taskMs?: number;
  retryAfterSeconds?: number;
  /** 202 mode: how the task ends. Default Completed. */
  taskOutcome?: "Completed" | "Exception";
  ifMatch?: IfMatchMode;
  /** Open sessions allowed at once; beyond it POST Sessions gets 503 SessionLimitExceeded. Default 16. */
  maxSessions?: number;
  quirks?: readonly Quirk[];
  /** Serve HTTPS with this PEM certificate and key. */
  tls?: { cert: string; key: string };
  /** Runs on every PowerState change. */
  onPower?: (event: PowerEvent) => void | Promise<void>;
  /** A shell command run on every PowerState change, with REDFISH_POWER_FROM/_TO, REDFISH_RESET_TYPE, REDFISH_SYSTEM_ID. */
  onPowerCommand?: string;
}
