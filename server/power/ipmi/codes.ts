// Human-readable names for the numbers a BMC answers with: IPMI completion codes (IPMI 2.0 table 5-2)
// and RMCP+ status codes (table 13-15), so errors say what went wrong instead of "0xcc".

const COMPLETION_CODES: Readonly<Record<number, string>> = {
  0xc0: "node busy",
  0xc1: "invalid command",
  0xc2: "command invalid for this LUN",
  0xc3: "timeout while processing the command",
  0xc4: "out of space",
  0xc5: "reservation cancelled",
  0xc6: "request data truncated",
  0xc7: "request data length invalid",
  0xc8: "request data field length limit exceeded",
  0xc9: "parameter out of range",
  0xca: "cannot return the number of requested data bytes",
  0xcb: "requested sensor, data or record not present",
  0xcc: "invalid data field in request",
  0xcd: "command illegal for this sensor or record type",
  0xce: "command response could not be provided",
  0xcf: "duplicated request",
  0xd0: "SDR repository in update mode",
  0xd1: "device in firmware update mode",
  0xd2: "BMC initialization in progress",
  0xd3: "destination unavailable",
  0xd4: "insufficient privilege level",
  0xd5: "command not supported in the present state",
  0xd6: "sub-function disabled or unavailable",
  0xff: "unspecified error",
};

/** Completion codes 0x80–0xBE mean something different for each command; the caller may name them. */
export function completionCodeText(code: number, commandSpecific?: Readonly<Record<number, string>>): string {
  const name = commandSpecific?.[code] ?? COMPLETION_CODES[code];
  const hex = `0x${code.toString(16).padStart(2, "0").toUpperCase()}`;
  if (name !== undefined) return `${hex} ${name}`;
  return code >= 0x80 && code <= 0xbe ? `${hex} (command-specific error)` : `${hex} (unknown completion code)`;
}

const RMCP_STATUS: Readonly<Record<number, string>> = {
  0x01: "insufficient resources to create a session",
  0x02: "invalid session ID",
  0x03: "invalid payload type",
  0x04: "invalid authentication algorithm",
  0x05: "invalid integrity algorithm",
  0x06: "no matching authentication payload",
  0x07: "no matching integrity payload",
  0x08: "inactive session ID",
  0x09: "invalid role",
  0x0a: "unauthorized role or privilege level requested",
  0x0b: "insufficient resources to create a session at the requested role",
  0x0c: "invalid name length",
  0x0d: "unauthorized name",
  0x0e: "unauthorized GUID",
  0x0f: "invalid integrity check value",
  0x10: "invalid confidentiality algorithm",
  0x11: "no cipher suite match with proposed security algorithms",
  0x12: "illegal or unrecognized parameter",
};

export function rmcpStatusText(status: number): string {
  const hex = `0x${status.toString(16).padStart(2, "0").toUpperCase()}`;
  return `${hex} ${RMCP_STATUS[status] ?? "unknown RMCP+ status"}`;
}
