// Server-wide counters and how a finished transfer is counted and logged.
import type { TftpLogger } from "./logger.ts";
import type { TransferCounters, TransferOutcome } from "./transfer.ts";

export type TftpStats = TransferCounters & {
  /** Well-formed RRQs and WRQs, duplicates included. */
  requests: number;
  /** Retransmitted RRQs ignored because their transfer is already running. */
  duplicateRequests: number;
  completed: number;
  /** All data sent, final ACK never seen: usually just a lost ACK, so not a failure. */
  unconfirmed: number;
  failed: number;
  /** Client sent ERROR (EDK2's tsize probe ends this way) or restarted with a new request. */
  abortedByClient: number;
  /** Answered "file not found". */
  notFound: number;
  /** Answered with any other error instead of a transfer: WRQ, access violation, bad mode, busy. */
  refused: number;
  activeTransfers: number;
};

export function newStats(): TftpStats {
  return {
    requests: 0,
    duplicateRequests: 0,
    completed: 0,
    unconfirmed: 0,
    failed: 0,
    abortedByClient: 0,
    notFound: 0,
    refused: 0,
    activeTransfers: 0,
    bytesSent: 0,
    dataPackets: 0,
    retransmits: 0,
    wrongTid: 0,
    malformedDropped: 0,
    ignored: 0,
  };
}

export function recordOutcome(
  stats: TftpStats,
  log: TftpLogger,
  outcome: TransferOutcome,
  detail: string,
  fields: Record<string, unknown>,
): void {
  switch (outcome) {
    case "completed":
      stats.completed++;
      log.info(fields, "tftp: transfer completed");
      break;
    case "unconfirmed":
      stats.unconfirmed++;
      log.debug({ ...fields, detail }, "tftp: transfer sent, final ACK not seen");
      break;
    case "aborted":
      // EDK2 aborts every first request after reading tsize: routine, so debug.
      stats.abortedByClient++;
      log.debug({ ...fields, detail }, "tftp: transfer ended by the client");
      break;
    case "failed":
      stats.failed++;
      log.warn({ ...fields, detail }, "tftp: transfer failed");
      break;
    case "cancelled":
      log.debug({ ...fields, detail }, "tftp: transfer cancelled");
      break;
  }
}
