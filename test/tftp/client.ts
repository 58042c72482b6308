// A TFTP read client for tests: RFC 7440 receiver plus knobs to misbehave (loss, duplicate ACKs,
// stranger ports, aborts, going silent). Also a raw mode: send bytes, await the next packet.
import type { udp } from "bun";
import { createHash } from "node:crypto";
import {
  ErrorCode,
  decodePacket,
  encodeAck,
  encodeError,
  encodeRequest,
  type TftpPacket,
} from "../../server/tftp/packet.ts";

export type Peer = { address: string; port: number };

export type GetOptions = {
  filename: string;
  mode?: string;
  /** Sent in this order. */
  options?: Record<string, string | number>;
  /** Drop a DATA packet on arrival. `arrival` counts arrivals of that (absolute) block, from 1. */
  dropData?: (block: number, arrival: number) => boolean;
  /** Send every ACK twice. */
  duplicateAcks?: boolean;
  /** After the OACK, send ERROR 8 instead of ACK 0 and stop (EDK2's tsize probe). */
  abortAfterOack?: boolean;
  /** When this block arrives, a second socket sends an ACK for it to the server's transfer port. */
  strangerAckAtBlock?: number;
  /** Stop answering after this block arrives; the result comes back at once. */
  goSilentAfterBlock?: number;
  /** Delay before each ACK. */
  ackDelayMs?: number;
  /** Re-ACK (or resend the request) after this long without progress. Default 150 ms. */
  timeoutMs?: number;
  /** Give up after this many consecutive timeouts. Default 20. */
  maxTimeouts?: number;
};

export type GetResult = {
  data: Uint8Array;
  sha256: string;
  oack: ReadonlyMap<string, string> | undefined;
  error: { code: number; message: string } | undefined;
  serverPort: number | undefined;
  /** DATA datagrams that arrived, dropped ones included. */
  dataPackets: number;
  dropped: number;
  /** DATA for a block at or below the highest block already ACKed when it arrived. */
  alreadyAcked: number;
  acksSent: number;
  /** What the server answered the stranger's ACK with. */
  strangerReply: TftpPacket | undefined;
  elapsedMs: number;
};

type Waiter = { resolve: (value: { packet: TftpPacket; from: Peer }) => void; timer: ReturnType<typeof setTimeout> };

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

type Socket = udp.Socket<"buffer">;

function bindSocket(onMessage: (data: Buffer, from: Peer) => void): Promise<Socket> {
  return Bun.udpSocket({
    hostname: "127.0.0.1",
    socket: {
      data: (_socket, data, port, address) => onMessage(data, { address, port }),
      error: () => {},
    },
  });
}

export class TestClient {
  private handler: ((data: Buffer, from: Peer) => void) | undefined;
  private readonly queue: Array<{ packet: TftpPacket; from: Peer }> = [];
  private readonly waiters: Waiter[] = [];

  private socket!: Socket;

  private constructor(readonly server: Peer) {}

  static async open(serverPort: number, serverAddress = "127.0.0.1"): Promise<TestClient> {
    const client = new TestClient({ address: serverAddress, port: serverPort });
    client.socket = await bindSocket((data, from) => {
      if (client.handler) client.handler(data, from);
      else client.enqueue(data, from);
    });
    return client;
  }

  get port(): number {
    return this.socket.port;
  }

  close(): void {
    this.socket.close();
  }

  send(bytes: Uint8Array, to: Peer = this.server): void {
    this.socket.send(bytes, to.port, to.address);
  }

  sendRequest(filename: string, options: Record<string, string | number> = {}, op: "RRQ" | "WRQ" = "RRQ", mode = "octet"): void {
    this.send(encodeRequest(op, filename, mode, Object.entries(options).map(([k, v]) => [k, String(v)] as const)));
  }

  /** The next packet in raw mode, or undefined after `timeoutMs`. */
  receive(timeoutMs = 1000): Promise<{ packet: TftpPacket; from: Peer } | undefined> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          resolve(undefined);
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  private enqueue(data: Buffer, from: Peer): void {
    let packet: TftpPacket;
    try {
      // Copy: a DATA packet's payload is a view of the receive buffer.
      packet = decodePacket(new Uint8Array(data));
    } catch {
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      waiter.resolve({ packet, from });
    } else {
      this.queue.push({ packet, from });
    }
  }

  /** Downloads a file, as an RFC 7440 receiver, with whatever misbehaviour `opts` asks for. */
  async get(opts: GetOptions): Promise<GetResult> {
    const stranger = opts.strangerAckAtBlock === undefined ? undefined : await this.strangerSocket();
    return new Promise((resolve, reject) => {
      const startedAt = performance.now();
      const timeoutMs = opts.timeoutMs ?? 150;
      const maxTimeouts = opts.maxTimeouts ?? 20;
      const chunks: Uint8Array[] = [];
      const arrivals = new Map<number, number>();
      let blksize = 512;
      let windowsize = 1;
      let oack: Map<string, string> | undefined;
      let serverPeer: Peer | undefined;
      let expected = 1;
      let highestAcked = -1;
      let inWindow = 0;
      let gapReported = false;
      let timeouts = 0;
      let finished = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const result: GetResult = {
        data: new Uint8Array(0),
        sha256: "",
        oack: undefined,
        error: undefined,
        serverPort: undefined,
        dataPackets: 0,
        dropped: 0,
        alreadyAcked: 0,
        acksSent: 0,
        strangerReply: undefined,
        elapsedMs: 0,
      };

      const request = () => this.sendRequest(opts.filename, opts.options ?? {}, "RRQ", opts.mode ?? "octet");

      const finish = (error?: Error) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        this.handler = undefined;
        result.elapsedMs = performance.now() - startedAt;
        const total = chunks.reduce((n, c) => n + c.length, 0);
        const data = new Uint8Array(total);
        let at = 0;
        for (const chunk of chunks) {
          data.set(chunk, at);
          at += chunk.length;
        }
        Object.assign(result, { data, sha256: sha256(data), oack, serverPort: serverPeer?.port });
        if (stranger) {
          result.strangerReply = stranger.reply();
          stranger.socket.close();
        }
        if (error) reject(error);
        else resolve(result);
      };

      const ack = (block: number) => {
        if (!serverPeer) return;
        const peer = serverPeer;
        const packet = encodeAck(block);
        const sendIt = () => {
          this.send(packet, peer);
          result.acksSent++;
          if (opts.duplicateAcks) {
            this.send(packet, peer);
            result.acksSent++;
          }
        };
        if (block > highestAcked) highestAcked = block;
        if (opts.ackDelayMs) setTimeout(() => !finished && sendIt(), opts.ackDelayMs);
        else sendIt();
      };

      const restartTimer = () => {
        clearTimeout(timer);
        timer = setTimeout(onTimeout, timeoutMs);
      };
      const onTimeout = () => {
        if (finished) return;
        if (++timeouts > maxTimeouts) {
          finish(new Error(`client gave up after ${maxTimeouts} timeouts (expected block ${expected})`));
          return;
        }
        if (!serverPeer) request();
        else {
          inWindow = 0;
          ack(expected - 1);
        }
        restartTimer();
      };

      const onData = (wire: number, payload: Uint8Array) => {
        const delta = (wire - (expected & 0xffff)) & 0xffff;
        const block = delta > 0x8000 ? expected - (0x10000 - delta) : expected + delta;
        result.dataPackets++;
        if (opts.dropData) {
          const arrival = (arrivals.get(block) ?? 0) + 1;
          arrivals.set(block, arrival);
          if (opts.dropData(block, arrival)) {
            result.dropped++;
            return;
          }
        }
        if (block <= highestAcked) result.alreadyAcked++;
        if (block < expected) return;
        if (block > expected) {
          // RFC 7440: on a gap, ACK the last block received in order, once per gap.
          if (!gapReported) {
            gapReported = true;
            inWindow = 0;
            ack(expected - 1);
          }
          return;
        }
        chunks.push(payload.slice());
        expected++;
        inWindow++;
        gapReported = false;
        timeouts = 0;
        if (stranger && block === opts.strangerAckAtBlock && serverPeer) {
          stranger.socket.send(encodeAck(block), serverPeer.port, serverPeer.address);
        }
        if (block === opts.goSilentAfterBlock) {
          finish();
          return;
        }
        if (payload.length < blksize) {
          ack(block);
          finish();
          return;
        }
        if (inWindow >= windowsize) {
          inWindow = 0;
          ack(block);
        }
        restartTimer();
      };

      this.handler = (data, from) => {
        if (finished || data.length < 4) return;
        if (serverPeer && (from.port !== serverPeer.port || from.address !== serverPeer.address)) return;
        const op = ((data[0] ?? 0) << 8) | (data[1] ?? 0);
        const wire = ((data[2] ?? 0) << 8) | (data[3] ?? 0);
        if (op === 3) {
          serverPeer ??= from;
          onData(wire, data.subarray(4));
          return;
        }
        let packet: TftpPacket;
        try {
          packet = decodePacket(new Uint8Array(data));
        } catch {
          return;
        }
        if (packet.op === "ERROR") {
          result.error = { code: packet.code, message: packet.message };
          finish();
        } else if (packet.op === "OACK") {
          serverPeer ??= from;
          oack = new Map(packet.options);
          blksize = Number(oack.get("blksize") ?? 512);
          windowsize = Number(oack.get("windowsize") ?? 1);
          if (opts.abortAfterOack) {
            this.send(encodeError(ErrorCode.OPTION_REJECTED, "User aborted the transfer"), from);
            finish();
            return;
          }
          ack(0);
          restartTimer();
        }
      };

      request();
      restartTimer();
    });
  }

  /** A second socket, i.e. a wrong TID, remembering the first reply it gets. */
  private async strangerSocket(): Promise<{ socket: Socket; reply: () => TftpPacket | undefined }> {
    let reply: TftpPacket | undefined;
    const socket = await bindSocket((data) => {
      try {
        reply ??= decodePacket(new Uint8Array(data));
      } catch {
        // leave it unset: the test says what was missing
      }
    });
    return { socket, reply: () => reply };
  }
}
