// One read transfer: sends a source to one client from its own UDP port (the RFC 1350 TID).
//
// Blocks are numbered absolutely (1, 2, … past 65535) and only the wire carries them mod 2^16,
// so rollover is a non-event. Sending follows RFC 7440: a window of `windowsize` blocks after
// the last ACKed block, then wait. An ACK that moves forward slides the window to start right
// after it (a short ACK means the client lost the block after it: go-back-N). An ACK that does
// not move forward is ignored, which is what prevents the Sorcerer's Apprentice storm; only the
// retransmit timer resends, with exponential backoff. The price: when the first block of a window
// is lost, the client's repeated ACK is ignored too and the timer does the recovery.
import { ErrorCode, Opcode, TftpDecodeError, decodePacket, encodeError, writeDataHeader } from "./packet.ts";
import type { TftpSource } from "./source.ts";
import type { UdpEndpoint, UdpPeer } from "./udp.ts";

export type TransferSettings = {
  blksize: number;
  windowsize: number;
  /** First retransmit interval; doubles on each consecutive timeout up to `maxRetransmitMs`. */
  retransmitMs: number;
  maxRetransmitMs: number;
  /** Consecutive timeouts tolerated before giving up. */
  maxRetries: number;
  /** Hard limit on the whole transfer, however much progress it makes. */
  deadlineMs: number;
};

/**
 * - completed: the client ACKed the last block.
 * - unconfirmed: every block was sent but the final ACK never came (often just lost); not a failure.
 * - aborted: the client sent an ERROR (EDK2 does this after its tsize probe) or was superseded.
 * - failed: timeouts, deadline or read errors.
 * - cancelled: the server shut down.
 */
export type TransferOutcome = "completed" | "unconfirmed" | "aborted" | "failed" | "cancelled";

/** Server-wide counters the transfer adds to. */
export type TransferCounters = {
  /** DATA payload bytes put on the wire, retransmissions included. */
  bytesSent: number;
  dataPackets: number;
  /** Retransmit timer expiries that resent something. */
  retransmits: number;
  /** Datagrams from a stranger to a transfer port (answered with ERROR 5). */
  wrongTid: number;
  malformedDropped: number;
  /** Well-formed datagrams that mean nothing where they arrived. */
  ignored: number;
};

export type ReadTransferParams = {
  socket: UdpEndpoint;
  peer: UdpPeer;
  source: TftpSource;
  settings: TransferSettings;
  /** Encoded OACK to send first; undefined starts with DATA 1. */
  oack: Uint8Array | undefined;
  counters: TransferCounters;
  onEnd: (outcome: TransferOutcome, detail: string) => void;
};

/** The source is read in chunks of about this size (whole blocks), not block by block. */
const READ_CHUNK_BYTES = 256 * 1024;
/** Bytes of DATA handed to the kernel per sendmmsg call (and kept per transfer to do it). */
const MAX_BATCH_BYTES = 128 * 1024;

export class ReadTransfer {
  private readonly socket: UdpEndpoint;
  private readonly peer: UdpPeer;
  private readonly source: TftpSource;
  private readonly settings: TransferSettings;
  private readonly oack: Uint8Array | undefined;
  private readonly counters: TransferCounters;
  private readonly onEnd: ReadTransferParams["onEnd"];

  private readonly size: number;
  private readonly totalBlocks: number;
  private readonly chunkBytes: number;
  /** Reused DATA buffers (4 + blksize each), filled per window and sent in batches. */
  private readonly slots: Uint8Array[];
  private readonly outgoing: Uint8Array[];
  private queued = 0;

  private phase: "oack" | "data" | "ended" = "data";
  private lastAcked = 0;
  private lastSent = 0;
  private nextToSend = 1;
  private windowEnd = 0;
  private retries = 0;
  private lastSendAt = 0;

  private chunk: Uint8Array = new Uint8Array(0);
  private chunkOffset = 0;
  private loading = false;

  private retransmitTimer: ReturnType<typeof setTimeout> | undefined;
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(params: ReadTransferParams) {
    this.socket = params.socket;
    this.peer = params.peer;
    this.source = params.source;
    this.settings = params.settings;
    this.oack = params.oack;
    this.counters = params.counters;
    this.onEnd = params.onEnd;

    this.size = params.source.size;
    const { blksize, windowsize } = params.settings;
    // The last block is always shorter than blksize, so a size that is a multiple of it ends with an empty block.
    this.totalBlocks = Math.floor(this.size / blksize) + 1;
    this.chunkBytes = Math.ceil(READ_CHUNK_BYTES / blksize) * blksize;
    const slotCount = Math.max(1, Math.min(windowsize, this.totalBlocks, Math.floor(MAX_BATCH_BYTES / (4 + blksize))));
    const slotMemory = new Uint8Array(slotCount * (4 + blksize));
    this.slots = Array.from({ length: slotCount }, (_, i) => slotMemory.subarray(i * (4 + blksize), (i + 1) * (4 + blksize)));
    this.outgoing = new Array<Uint8Array>(slotCount);
  }

  start(): void {
    this.deadlineTimer = setTimeout(() => this.guarded(() => this.fail("transfer deadline exceeded")), this.settings.deadlineMs);
    if (this.oack) {
      this.phase = "oack";
      this.sendOack();
    } else {
      this.sendWindow();
    }
  }

  /**
   * "superseded": the client sent a different request from the same port, so it has given up on
   * this one; it is counted as the client's abort and gets no error. "shutdown": the server is closing.
   */
  abort(reason: "superseded" | "shutdown"): void {
    if (reason === "superseded") this.finish("aborted", "superseded by a new request", undefined);
    else this.finish("cancelled", "server shutting down", encodeError(ErrorCode.NOT_DEFINED, "server shutting down"));
  }

  handleMessage(data: Uint8Array, from: UdpPeer): void {
    if (this.phase === "ended") return;
    if (from.port !== this.peer.port || from.address !== this.peer.address) {
      this.rejectStranger(data, from);
      return;
    }
    // ACKs are nearly all the traffic: read them without building a packet object.
    if (data.length >= 4 && data[0] === 0 && data[1] === Opcode.ACK) {
      this.onAck(((data[2] ?? 0) << 8) | (data[3] ?? 0));
      return;
    }
    let packet;
    try {
      packet = decodePacket(data);
    } catch (error) {
      if (!(error instanceof TftpDecodeError)) throw error;
      this.counters.malformedDropped++;
      return;
    }
    if (packet.op === "ERROR") {
      this.finish("aborted", `client sent ERROR ${packet.code} "${packet.message}"`, undefined);
    } else {
      this.counters.ignored++;
    }
  }

  private rejectStranger(data: Uint8Array, from: UdpPeer): void {
    this.counters.wrongTid++;
    // Never answer an ERROR with an ERROR (two servers could ping-pong), nor runts.
    if (data.length < 4 || (data[0] === 0 && data[1] === Opcode.ERROR)) return;
    const reply = encodeError(ErrorCode.UNKNOWN_TID, "unknown transfer ID");
    this.socket.send(reply, reply.length, from);
  }

  private onAck(wireBlock: number): void {
    if (this.phase === "oack") {
      if (wireBlock !== 0) return;
      this.phase = "data";
      this.retries = 0;
      this.sendWindow();
      return;
    }
    const advance = (wireBlock - this.lastAcked) & 0xffff;
    const block = this.lastAcked + advance;
    // advance 0 is a duplicate; beyond lastSent is stale (from before a wrap) or bogus.
    if (advance === 0 || block > this.lastSent) return;
    this.lastAcked = block;
    this.retries = 0;
    if (block === this.totalBlocks) {
      this.finish("completed", "", undefined);
      return;
    }
    this.sendWindow();
  }

  private sendOack(): void {
    const oack = this.oack;
    if (!oack) return;
    this.socket.send(oack, oack.length, this.peer);
    this.lastSendAt = performance.now();
    this.armRetransmitTimer();
  }

  private sendWindow(): void {
    this.nextToSend = this.lastAcked + 1;
    this.windowEnd = Math.min(this.lastAcked + this.settings.windowsize, this.totalBlocks);
    this.lastSendAt = performance.now();
    this.pump();
  }

  /** Sends nextToSend..windowEnd, pausing when the next block's bytes are still being read. */
  private pump(): void {
    const { blksize } = this.settings;
    while (this.nextToSend <= this.windowEnd) {
      const block = this.nextToSend;
      const offset = (block - 1) * blksize;
      const length = Math.min(blksize, this.size - offset);
      if (length > 0 && !this.chunkCovers(offset, length)) {
        if (this.loading) break;
        if (!this.loadChunk(offset)) break;
        continue;
      }
      this.queueData(block, offset - this.chunkOffset, length);
      this.nextToSend = block + 1;
      if (block > this.lastSent) this.lastSent = block;
    }
    this.flush();
    if (this.phase === "ended" || this.nextToSend <= this.windowEnd) return;
    this.lastSendAt = performance.now();
    this.armRetransmitTimer();
  }

  private queueData(block: number, chunkIndex: number, length: number): void {
    const slot = this.slots[this.queued] as Uint8Array;
    writeDataHeader(slot, block);
    if (length > 0) slot.set(this.chunk.subarray(chunkIndex, chunkIndex + length), 4);
    this.outgoing[this.queued] = length === this.settings.blksize ? slot : slot.subarray(0, 4 + length);
    this.queued++;
    this.counters.dataPackets++;
    this.counters.bytesSent += length;
    if (this.queued === this.slots.length) this.flush();
  }

  private flush(): void {
    if (this.queued === 0 || this.phase === "ended") return;
    this.socket.sendBatch(this.outgoing, this.queued, this.peer);
    this.queued = 0;
  }

  private chunkCovers(offset: number, length: number): boolean {
    return offset >= this.chunkOffset && offset + length <= this.chunkOffset + this.chunk.length;
  }

  /** Returns true when the chunk is ready now; false when a read is under way or failed. */
  private loadChunk(offset: number): boolean {
    const length = Math.min(this.chunkBytes, this.size - offset);
    let result: Uint8Array | Promise<Uint8Array>;
    try {
      result = this.source.read(offset, length);
    } catch (error) {
      this.fail(`read failed: ${String(error)}`);
      return false;
    }
    if (result instanceof Uint8Array) return this.acceptChunk(offset, length, result);
    this.loading = true;
    result.then(
      (bytes) =>
        this.guarded(() => {
          this.loading = false;
          if (this.phase !== "ended" && this.acceptChunk(offset, length, bytes)) this.pump();
        }),
      (error: unknown) =>
        this.guarded(() => {
          this.loading = false;
          this.fail(`read failed: ${String(error)}`);
        }),
    );
    return false;
  }

  private acceptChunk(offset: number, length: number, bytes: Uint8Array): boolean {
    if (bytes.length < length) {
      this.fail(`short read at ${offset}: file changed while serving it`);
      return false;
    }
    this.chunk = bytes;
    this.chunkOffset = offset;
    return true;
  }

  private retransmitInterval(): number {
    const { retransmitMs, maxRetransmitMs } = this.settings;
    return Math.min(maxRetransmitMs, retransmitMs * 2 ** this.retries);
  }

  // One lazily re-armed timer instead of clearTimeout/setTimeout per window: windows go out
  // thousands of times a second, timeouts are rare.
  private armRetransmitTimer(): void {
    if (this.retransmitTimer === undefined && this.phase !== "ended") {
      this.retransmitTimer = setTimeout(this.onRetransmitTimer, this.retransmitInterval());
    }
  }

  private readonly onRetransmitTimer = (): void => this.guarded(this.retransmitIfDue);

  private readonly retransmitIfDue = (): void => {
    this.retransmitTimer = undefined;
    if (this.phase === "ended") return;
    const waited = performance.now() - this.lastSendAt;
    const interval = this.retransmitInterval();
    if (waited < interval || this.loading) {
      this.retransmitTimer = setTimeout(this.onRetransmitTimer, Math.max(1, interval - waited));
      return;
    }
    this.retries++;
    if (this.retries > this.settings.maxRetries) {
      if (this.phase === "data" && this.lastSent === this.totalBlocks && this.nextToSend > this.windowEnd) {
        this.finish("unconfirmed", "no ACK for the final block", undefined);
      } else {
        this.fail(`no ACK after ${this.settings.maxRetries} retransmissions`);
      }
      return;
    }
    this.counters.retransmits++;
    if (this.phase === "oack") this.sendOack();
    else this.sendWindow();
  };

  /** Timer and promise callbacks have no caller to throw to: a bug ends this transfer, not the process. */
  private guarded(run: () => void): void {
    try {
      run();
    } catch (error) {
      this.fail(`internal error: ${String(error)}`);
    }
  }

  private fail(detail: string): void {
    this.finish("failed", detail, encodeError(ErrorCode.NOT_DEFINED, detail));
  }

  private finish(outcome: TransferOutcome, detail: string, errorPacket: Uint8Array | undefined): void {
    if (this.phase === "ended") return;
    this.phase = "ended";
    clearTimeout(this.retransmitTimer);
    clearTimeout(this.deadlineTimer);
    this.retransmitTimer = undefined;
    this.deadlineTimer = undefined;
    if (errorPacket) this.socket.send(errorPacket, errorPacket.length, this.peer);
    this.socket.close();
    try {
      const closing = this.source.close?.();
      if (closing instanceof Promise) closing.catch(() => {});
    } catch {
      // A source that fails to close has nothing left to give us.
    }
    this.onEnd(outcome, detail);
  }
}
