// The DHCP server: one socket per configured interface on 0.0.0.0:67, pinned to it, so each link is
// heard only on its own socket and broadcast replies leave only through the link the request came in
// on. Nothing else is ever served. In proxy mode each interface also gets a socket on 4011 (BINL).
//
// Options:
//   interfaces   names to serve (each must exist and have an IPv4 address); never any other
//   mode         "full": addresses, leases and boot files; "proxy": boot files only, beside another DHCP server
//   directory    nodes and networks (cached lookups), leases the LeaseStore to persist leases in
//   observer     boot events and discovered machines; urls: iPXE script and HTTP boot URLs
//   port         default 67; proxyPort default 4011 (proxy mode only)
//   bootFiles    TFTP names of the iPXE builds (defaults undionly.kpxe, snponly.efi; no IA32/ARM64)
//   serverAddresses  per interface, the address to answer as instead of its first IPv4 (VIPs, secondaries)
//   log          pino-compatible; per-packet events are never logged above debug
import type { BootUrls, DhcpDirectory, DhcpObserver, LeaseStore } from "./backend.ts";
import { openDeviceSocket, type DeviceSocket } from "./bind-device.ts";
import type { BootFiles } from "./boot-file.ts";
import { decodePacket } from "./codec.ts";
import type { IgnoreReason } from "./decision.ts";
import { interfaceInfo } from "./interfaces.ts";
import { LeaseTable, type LeaseTableOptions } from "./leases.ts";
import { MessageType } from "./options.ts";
import type { DhcpPacket } from "./packet.ts";
import { DhcpPolicy, type DhcpMode } from "./policy.ts";
import type { Ingress } from "./reply.ts";
import type { TransactionCacheOptions } from "./transactions.ts";

export type LogFn = (fields: Record<string, unknown>, message: string) => void;

export interface DhcpLog {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
}

export interface DhcpServerOptions {
  interfaces: readonly string[];
  mode: DhcpMode;
  directory: DhcpDirectory;
  leases: LeaseStore;
  observer?: DhcpObserver;
  urls: BootUrls;
  port?: number;
  proxyPort?: number;
  bootFiles?: Partial<BootFiles>;
  vendorPrefixes?: readonly string[];
  serverAddresses?: Readonly<Record<string, string>>;
  receiveBuffer?: number;
  leaseTable?: LeaseTableOptions;
  transactions?: TransactionCacheOptions;
  log?: DhcpLog;
}

export type ReplyKind = "offer" | "ack" | "nak";

export interface InterfaceStats {
  received: number;
  replied: number;
  droppedMalformed: number;
  ignored: number;
}

export interface DhcpStats {
  received: number;
  replied: Record<ReplyKind, number>;
  /** Replies resent from the transaction cache (retransmitted DISCOVERs); also counted in `replied`. */
  retransmitsAnswered: number;
  releases: number;
  declines: number;
  droppedMalformed: number;
  ignored: number;
  ignoredBy: Partial<Record<IgnoreReason, number>>;
  /** Replies the kernel refused (buffer full, unreachable). */
  sendFailures: number;
  /** Requests whose handling hit a bug; the server carried on. */
  errors: number;
  byInterface: Record<string, InterfaceStats>;
}

export interface DhcpServer {
  readonly stats: DhcpStats;
  /** The live lease table (read it; the server writes it). */
  readonly leases: LeaseTable;
  /** Stops every socket, then closes the lease store, which flushes pending writes. */
  close(): void;
}

export const DEFAULT_DHCP_PORT = 67;
export const DEFAULT_PROXY_PORT = 4011;

const SILENT_LOG: DhcpLog = { debug() {}, info() {}, warn() {} };

const REPLY_KIND: Partial<Record<MessageType, ReplyKind>> = {
  [MessageType.Offer]: "offer",
  [MessageType.Ack]: "ack",
  [MessageType.Nak]: "nak",
};

export async function startDhcpServer(options: DhcpServerOptions): Promise<DhcpServer> {
  const interfaces = [...new Set(options.interfaces)];
  if (interfaces.length === 0) throw new Error("DHCP needs at least one interface to serve");
  const log = options.log ?? SILENT_LOG;
  const port = options.port ?? DEFAULT_DHCP_PORT;
  const proxyPort = options.proxyPort ?? DEFAULT_PROXY_PORT;
  const stats = emptyStats(interfaces);

  // Resolve every interface before opening anything, so a typo fails the start cleanly.
  const ingresses = interfaces.map((ifname): Ingress => {
    const info = interfaceInfo(ifname);
    return { ifname, address: options.serverAddresses?.[ifname] ?? info.address, mtu: info.mtu };
  });

  const leases = new LeaseTable(options.leases, options.leaseTable);
  const policy = new DhcpPolicy({
    mode: options.mode,
    directory: options.directory,
    leases,
    urls: options.urls,
    ...(options.observer ? { observer: options.observer } : {}),
    ...(options.bootFiles ? { bootFiles: options.bootFiles } : {}),
    ...(options.vendorPrefixes ? { vendorPrefixes: options.vendorPrefixes } : {}),
    ...(options.transactions ? { transactions: options.transactions } : {}),
    onObserverError: (error, what) => log.warn({ err: error, what }, "DHCP observer failed"),
  });

  const handle = (socket: DeviceSocket, ingress: Ingress, data: Uint8Array, fromAddress: string, fromPort: number): void => {
    stats.received++;
    const perInterface = stats.byInterface[ingress.ifname]!;
    perInterface.received++;
    let request: DhcpPacket;
    try {
      request = decodePacket(data);
    } catch {
      stats.droppedMalformed++;
      perInterface.droppedMalformed++;
      return;
    }
    try {
      // Only the BINL port answers to the sender's address; skip the object everywhere else.
      const decision = policy.decide(request, ingress, ingress.binl ? { address: fromAddress, port: fromPort } : undefined);
      switch (decision.action) {
        case "reply": {
          if (!socket.send(decision.bytes, decision.to.port, decision.to.address)) {
            stats.sendFailures++;
            return;
          }
          const kind = REPLY_KIND[decision.type];
          if (kind) stats.replied[kind]++;
          if (decision.retransmit) stats.retransmitsAnswered++;
          perInterface.replied++;
          return;
        }
        case "noted":
          if (decision.type === MessageType.Release) stats.releases++;
          else stats.declines++;
          return;
        case "ignore":
          stats.ignored++;
          perInterface.ignored++;
          stats.ignoredBy[decision.reason] = (stats.ignoredBy[decision.reason] ?? 0) + 1;
          if (decision.detail !== undefined) log.debug({ interface: ingress.ifname, reason: decision.reason, detail: decision.detail }, "DHCP request ignored");
          return;
      }
    } catch (error) {
      stats.errors++;
      log.warn({ err: error, interface: ingress.ifname, from: fromAddress }, "DHCP request handling failed");
    }
  };

  const sockets: DeviceSocket[] = [];
  const closeAll = () => {
    for (const socket of sockets) socket.close();
  };
  try {
    for (const ingress of ingresses) {
      sockets.push(await openFor(ingress, port, options, handle, log));
      if (options.mode === "proxy") sockets.push(await openFor({ ...ingress, binl: true }, proxyPort, options, handle, log));
    }
  } catch (error) {
    closeAll();
    throw error;
  }
  log.info({ interfaces: ingresses.map((i) => `${i.ifname}=${i.address}`), mode: options.mode, port }, "DHCP server listening");

  let closed = false;
  return {
    stats,
    leases,
    close() {
      if (closed) return;
      closed = true;
      closeAll();
      options.leases.close();
    },
  };
}

function openFor(
  ingress: Ingress,
  port: number,
  options: DhcpServerOptions,
  handle: (socket: DeviceSocket, ingress: Ingress, data: Uint8Array, fromAddress: string, fromPort: number) => void,
  log: DhcpLog,
): Promise<DeviceSocket> {
  let socket: DeviceSocket | undefined;
  const opening = openDeviceSocket({
    ifname: ingress.ifname,
    port,
    ...(options.receiveBuffer !== undefined ? { receiveBuffer: options.receiveBuffer } : {}),
    onDatagram: (data, fromAddress, fromPort) => {
      if (socket !== undefined) handle(socket, ingress, data, fromAddress, fromPort);
    },
    onError: (error) => log.debug({ err: error, interface: ingress.ifname }, "DHCP socket error"),
  });
  return opening.then((opened) => {
    socket = opened;
    return opened;
  });
}

function emptyStats(interfaces: readonly string[]): DhcpStats {
  const byInterface: Record<string, InterfaceStats> = {};
  for (const name of interfaces) byInterface[name] = { received: 0, replied: 0, droppedMalformed: 0, ignored: 0 };
  return {
    received: 0,
    replied: { offer: 0, ack: 0, nak: 0 },
    retransmitsAnswered: 0,
    releases: 0,
    declines: 0,
    droppedMalformed: 0,
    ignored: 0,
    ignoredBy: {},
    sendFailures: 0,
    errors: 0,
    byInterface,
  };
}
