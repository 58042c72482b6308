// Read-only TFTP server: takes requests on one port and runs each transfer on its own port.
import type { TftpResolver } from "./file-source.ts";
import { netasciiSource } from "./netascii.ts";
import { clampLimits, negotiateReadOptions } from "./options.ts";
import { ErrorCode, TftpDecodeError, decodePacket, encodeError, encodeOack, type TftpRequest } from "./packet.ts";
import { TftpRequestError } from "./request-error.ts";
import type { TftpSource } from "./source.ts";
import { neverThrowing, quietLogger, type TftpLogger } from "./logger.ts";
import { newStats, recordOutcome, type TftpStats } from "./stats.ts";
import { ReadTransfer } from "./transfer.ts";
import { openUdp, type UdpEndpoint, type UdpPeer } from "./udp.ts";

export { fileSourceUnder, type TftpResolver } from "./file-source.ts";
export { memorySource, type TftpSource } from "./source.ts";
export { TftpRequestError } from "./request-error.ts";
export type { TftpLogFn, TftpLogger } from "./logger.ts";
export type { TftpStats } from "./stats.ts";

export type TftpServerOptions = {
  address: string;
  /** 0 picks a free port; see the returned `port`. */
  port: number;
  resolve: TftpResolver;
  /** Largest blksize granted; default 1468 so a block fits a 1500-byte MTU. Clamped to 8..65464. */
  maxBlksize?: number;
  /** Largest RFC 7440 windowsize granted; default 64. */
  maxWindowsize?: number;
  /** First retransmit interval when the client sent no `timeout` option; default 1000 ms. */
  retransmitMs?: number;
  /** Backoff ceiling; default 8000 ms. */
  maxRetransmitMs?: number;
  /** Consecutive timeouts before a transfer is dropped; default 5. */
  maxRetries?: number;
  /** Longest a single transfer may run; default 300 s. */
  deadlineMs?: number;
  /** Concurrent transfers; requests beyond get ERROR 0 "server busy". Default 2000. */
  maxTransfers?: number;
  log?: TftpLogger;
};

export type TftpServer = {
  readonly port: number;
  /** Live counters. */
  readonly stats: Readonly<TftpStats>;
  close(): Promise<void>;
};

type PendingRequest = {
  readonly raw: Uint8Array;
  transfer: ReadTransfer | undefined;
  cancelled: boolean;
};

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export async function startTftpServer(options: TftpServerOptions): Promise<TftpServer> {
  const log = neverThrowing(options.log ?? quietLogger);
  const limits = clampLimits({ maxBlksize: options.maxBlksize, maxWindowsize: options.maxWindowsize });
  const retransmitMs = options.retransmitMs ?? 1000;
  const maxRetransmitMs = options.maxRetransmitMs ?? 8000;
  const maxRetries = options.maxRetries ?? 5;
  const deadlineMs = options.deadlineMs ?? 300_000;
  const maxTransfers = options.maxTransfers ?? 2000;
  const stats = newStats();
  // Keyed by the client's address and port: a client's TID identifies its request.
  const requests = new Map<string, PendingRequest>();
  let closing = false;

  const socket = await openUdp(options.address, options.port, (data, from) => {
    try {
      onDatagram(data, from);
    } catch (error) {
      log.warn({ err: error, client: from }, "tftp: request handler failed");
    }
  });

  function reply(to: UdpPeer, code: number, message: string): void {
    const packet = encodeError(code, message);
    socket.send(packet, packet.length, to);
  }

  function refuse(to: UdpPeer, code: number, message: string, fields: Record<string, unknown>): void {
    if (code === ErrorCode.FILE_NOT_FOUND) stats.notFound++;
    else stats.refused++;
    reply(to, code, message);
    log.debug({ client: to, code, ...fields }, `tftp: refused: ${message}`);
  }

  function onDatagram(data: Uint8Array, from: UdpPeer): void {
    if (closing) return;
    let packet;
    try {
      packet = decodePacket(data);
    } catch (error) {
      if (!(error instanceof TftpDecodeError)) throw error;
      stats.malformedDropped++;
      return;
    }
    if (packet.op === "WRQ") {
      stats.requests++;
      refuse(from, ErrorCode.ACCESS_VIOLATION, "read-only server", { file: packet.filename });
      return;
    }
    if (packet.op !== "RRQ") {
      stats.ignored++;
      return;
    }
    stats.requests++;
    onReadRequest(packet, data, from).catch((error: unknown) => {
      log.warn({ err: error, client: from, file: packet.filename }, "tftp: read request failed");
    });
  }

  async function onReadRequest(request: TftpRequest, raw: Uint8Array, from: UdpPeer): Promise<void> {
    const key = `${from.address}|${from.port}`;
    const previous = requests.get(key);
    if (previous && !previous.cancelled) {
      // A client that heard nothing yet resends its RRQ: the running transfer answers it.
      if (sameBytes(previous.raw, raw)) {
        stats.duplicateRequests++;
        return;
      }
      // A different request from the same port: the client gave up on the old one (EDK2 re-requests this way).
      previous.cancelled = true;
      if (previous.transfer) previous.transfer.abort("superseded");
      else stats.abortedByClient++;
    }
    if (request.mode !== "octet" && request.mode !== "netascii") {
      refuse(from, ErrorCode.ILLEGAL_OPERATION, `unsupported mode "${request.mode}"`, { file: request.filename });
      return;
    }
    // Requests still resolving count too, or a burst of RRQs could pile up unbounded work.
    if (requests.size >= maxTransfers) {
      refuse(from, ErrorCode.NOT_DEFINED, "server busy", { file: request.filename });
      return;
    }

    const pending: PendingRequest = { raw: new Uint8Array(raw), transfer: undefined, cancelled: false };
    requests.set(key, pending);
    const forget = () => {
      if (requests.get(key) === pending) requests.delete(key);
    };

    let source: TftpSource | undefined;
    try {
      source = await options.resolve(request.filename, { address: from.address, port: from.port });
      if (source && request.mode === "netascii") source = await netasciiSource(source);
    } catch (error) {
      forget();
      if (pending.cancelled || closing) return;
      if (error instanceof TftpRequestError) {
        refuse(from, error.code, error.message, { file: request.filename });
      } else {
        stats.failed++;
        reply(from, ErrorCode.NOT_DEFINED, "internal error");
        log.warn({ err: error, client: from, file: request.filename }, "tftp: resolving the file failed");
      }
      return;
    }
    if (!source) {
      forget();
      if (!pending.cancelled && !closing) refuse(from, ErrorCode.FILE_NOT_FOUND, "file not found", { file: request.filename });
      return;
    }
    if (!Number.isSafeInteger(source.size) || source.size < 0) {
      forget();
      await source.close?.();
      stats.failed++;
      reply(from, ErrorCode.NOT_DEFINED, "internal error");
      log.warn({ client: from, file: request.filename, size: source.size }, "tftp: resolver returned an invalid size");
      return;
    }

    const negotiated = negotiateReadOptions(request.options, source.size, limits);
    const firstInterval = negotiated.timeoutSeconds !== undefined ? negotiated.timeoutSeconds * 1000 : retransmitMs;
    let transfer: ReadTransfer | undefined;
    let transferSocket: UdpEndpoint;
    try {
      transferSocket = await openUdp(options.address, 0, (data, peer) => {
        try {
          transfer?.handleMessage(data, peer);
        } catch (error) {
          log.warn({ err: error, client: peer }, "tftp: transfer handler failed");
        }
      });
    } catch (error) {
      // Typically EMFILE: out of descriptors under load.
      forget();
      await source.close?.();
      stats.failed++;
      reply(from, ErrorCode.NOT_DEFINED, "server busy");
      log.warn({ err: error, client: from, file: request.filename }, "tftp: cannot open a transfer socket");
      return;
    }
    if (pending.cancelled || closing) {
      forget();
      transferSocket.close();
      await source.close?.();
      return;
    }

    const startedAt = performance.now();
    const file = request.filename;
    const size = source.size;
    transfer = new ReadTransfer({
      socket: transferSocket,
      peer: { address: from.address, port: from.port },
      source,
      settings: {
        blksize: negotiated.blksize,
        windowsize: negotiated.windowsize,
        retransmitMs: firstInterval,
        maxRetransmitMs: Math.max(firstInterval, maxRetransmitMs),
        maxRetries,
        deadlineMs,
      },
      oack: negotiated.accepted.length > 0 ? encodeOack(negotiated.accepted) : undefined,
      counters: stats,
      onEnd: (outcome, detail) => {
        stats.activeTransfers--;
        forget();
        recordOutcome(stats, log, outcome, detail, { client: from, file, size, ms: Math.round(performance.now() - startedAt) });
      },
    });
    pending.transfer = transfer;
    stats.activeTransfers++;
    log.debug(
      { client: from, file, size, blksize: negotiated.blksize, windowsize: negotiated.windowsize, options: Object.fromEntries(request.options) },
      "tftp: transfer started",
    );
    transfer.start();
  }

  return {
    port: socket.port,
    stats,
    async close() {
      if (closing) return;
      closing = true;
      socket.close();
      for (const pending of requests.values()) {
        pending.cancelled = true;
        pending.transfer?.abort("shutdown");
      }
      requests.clear();
    },
  };
}
