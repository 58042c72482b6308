// What rpower/rsetboot need from a BMC, whatever the protocol. Verb semantics (boot = on or reset, "already on"
// sends nothing) live in the power service; a driver only does what it is told, once, and says clearly why not.

export type PowerState = "on" | "off";

/** Raw chassis actions (IPMI Chassis Control codes / Redfish ResetType choices). */
export type PowerAction = "on" | "off" | "softoff" | "reset" | "cycle" | "nmi";

export type BootDevice = "net" | "hd" | "cd" | "setup" | "floppy";

export interface BootOverride {
  /** "none": no override is active (the BIOS default order applies). */
  device: BootDevice | "none";
  persistent: boolean;
  uefi: boolean;
}

export interface BmcTarget {
  host: string;
  /** Default 623 (IPMI) or 443 (Redfish). */
  port?: number;
  username: string;
  /** Plain text, in memory only: never logged, never in argv. */
  password: string;
  /** Redfish: https (default) or http (test BMCs). */
  scheme?: "https" | "http";
  /** Redfish TLS: verify against the system CAs (default), a pinned CA (PEM), or no verification. */
  tls?: { mode: "verify" } | { mode: "pinned"; caPem: string } | { mode: "insecure" };
  /** Redfish: Basic on every request, or a session (X-Auth-Token) deleted at the end. Default session. */
  auth?: "basic" | "session";
}

export type BmcErrorKind =
  | "timeout" // no answer within the budget
  | "unreachable" // refused, no route, DNS
  | "auth" // wrong user or password
  | "unsupported" // the BMC does not offer this action or device
  | "refused" // the BMC answered with an error (completion code, HTTP 4xx/5xx)
  | "protocol"; // the answer made no sense

export class BmcError extends Error {
  constructor(
    readonly kind: BmcErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "BmcError";
  }
}

/** One logged-in conversation with one BMC. Every method honours the AbortSignal given to open(). */
export interface PowerDriver {
  powerState(): Promise<PowerState>;
  /** Sends the action; does not wait for the state to change. */
  powerAction(action: PowerAction): Promise<void>;
  /** Boot override for the next boot (or every boot when persistent); device "none" clears it. */
  setBootOverride(override: BootOverride): Promise<void>;
  getBootOverride(): Promise<BootOverride>;
  /** Ends the session (IPMI Close Session, Redfish DELETE session); never throws. */
  close(): Promise<void>;
}

export interface PowerProtocol {
  open(target: BmcTarget, signal: AbortSignal): Promise<PowerDriver>;
}
