import { ErrorCode } from "./packet.ts";

/** Thrown by a resolver to refuse a request with a specific TFTP error instead of "file not found". */
export class TftpRequestError extends Error {
  override name = "TftpRequestError";
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export function accessViolation(message: string): TftpRequestError {
  return new TftpRequestError(ErrorCode.ACCESS_VIOLATION, message);
}
