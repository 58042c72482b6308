// AbortSignal reasons turned into BmcErrors: the caller's time budget running out is a timeout, and so,
// for lack of a better kind, is any other abort (the message says which).
import { BmcError } from "../driver.ts";

export function abortError(signal: AbortSignal, doing: string): BmcError {
  const reason: unknown = signal.reason;
  if (reason instanceof BmcError) return reason;
  if (reason instanceof Error && reason.name === "TimeoutError") {
    return new BmcError("timeout", `time budget ran out while ${doing}`);
  }
  const why = reason instanceof Error ? reason.message : reason === undefined ? "" : String(reason);
  return new BmcError("timeout", `aborted while ${doing}${why ? ` (${why})` : ""}`);
}
