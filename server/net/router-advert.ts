// IPv6 Router Advertisements on the boot interfaces, only so that iPXE stops waiting for one (≈13 s otherwise)
// and goes on with its DHCPv4 lease. Router lifetime is always 0: provd must never become a default router.
import { readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import {
  AF_INET6,
  closeFd,
  ICMP6_FILTER,
  ifNameToIndex,
  IPPROTO_ICMPV6,
  IPPROTO_IPV6,
  IPV6_JOIN_GROUP,
  IPV6_MULTICAST_HOPS,
  IPV6_MULTICAST_IF,
  IPV6_MULTICAST_LOOP,
  IPV6_UNICAST_HOPS,
  openSocket,
  receiveNow,
  sendTo,
  setSockOpt,
  setSockOptInt,
  SO_BINDTODEVICE,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_RAW,
  sockaddrIn6,
  SOL_SOCKET,
} from "./libc.ts";

/** Pino's `logger.debug(fields, message)` shape; a pino logger fits as is. */
export type RouterAdvertLogFn = (fields: Record<string, unknown>, message: string) => void;
export type RouterAdvertLogger = { debug: RouterAdvertLogFn; info: RouterAdvertLogFn; warn: RouterAdvertLogFn };

export type RouterAdvertiserOptions = {
  /** Interfaces to advertise on; no other interface is ever touched. */
  interfaces: readonly string[];
  /** Per interface, a prefix to announce as on-link and autonomous, e.g. `{ br0: "fd77::/64" }`. */
  prefixes?: Readonly<Record<string, string>>;
  /** Unsolicited RA period; default 10 s. The first RA goes out on start. */
  intervalMs?: number;
  log?: RouterAdvertLogger;
};

export type RouterAdvertiserStats = {
  /** RAs handed to the kernel, solicited or not. */
  sent: number;
  /** Router Solicitations received and followed by an RA (one RA answers all those received in one poll). */
  solicitationsAnswered: number;
  /** Failed opens and sends, including "no link-local address"; each is retried. */
  errors: number;
};

export type RouterAdvertiser = {
  /** Live counters. */
  readonly stats: RouterAdvertiserStats;
  /** Stops the timer (which, like a socket, keeps the process alive) and closes every socket; safe to call twice. */
  close(): void;
};

export type Ipv6Prefix = { readonly address: Uint8Array; readonly length: number };

const ND_ROUTER_SOLICIT = 133;
const ND_ROUTER_ADVERT = 134;
const CUR_HOP_LIMIT = 64;
// Short, so hosts drop the prefix soon after provd stops announcing it.
const PREFIX_VALID_S = 600;
const PREFIX_PREFERRED_S = 300;
// How often sockets are checked for solicitations. Bun offers no clean readiness wait on a foreign fd (Bun.file(fd)
// streams merge queued datagrams and close their dup twice on cancel; fs streams park a pool thread in a blocking
// read), so this polls: one non-blocking recvfrom per interface per tick. iPXE goes on the moment an RA arrives, so
// this bounds its wait; the timer costs about 2 ms of CPU a second, as an empty 50 ms setInterval does in Bun.
const POLL_MS = 50;
// Bounds the work a flood of solicitations can cause per tick; one RA answers them all anyway.
const MAX_READS_PER_POLL = 256;
const ALL_NODES = ipv6Bytes("ff02::1");
const ALL_ROUTERS = ipv6Bytes("ff02::2");
const IFA_F_DADFAILED = 0x08;
const IFA_F_TENTATIVE = 0x40;

const quietLogger: RouterAdvertLogger = { debug() {}, info() {}, warn() {} };

type Port = {
  readonly name: string;
  readonly prefix: Ipv6Prefix | undefined;
  socket: { fd: number; ifindex: number; advert: Uint8Array; destination: Uint8Array } | undefined;
  nextAdvertAt: number;
  /** The last problem logged, so a lasting one is logged once rather than at every retry. */
  problem: string | undefined;
};

/**
 * Sends RAs on each named interface: one at start, one every `intervalMs`, and one within ~50 ms of any Router
 * Solicitation. Throws only on bad options; after that, failures are counted in `stats.errors`, logged and retried.
 */
export function startRouterAdvertiser(options: RouterAdvertiserOptions): RouterAdvertiser {
  const intervalMs = options.intervalMs ?? 10_000;
  if (!(intervalMs > 0)) throw new Error(`router-advert: intervalMs must be positive, not ${intervalMs}`);
  const log = options.log ?? quietLogger;
  const prefixes = options.prefixes ?? {};
  for (const name of Object.keys(prefixes)) {
    if (!options.interfaces.includes(name)) {
      throw new Error(`router-advert: prefix for ${name}, which is not one of the interfaces`);
    }
  }
  const ports: Port[] = [...new Set(options.interfaces)].map((name) => {
    if (!validInterfaceName(name)) throw new Error(`router-advert: invalid interface name ${JSON.stringify(name)}`);
    const prefix = prefixes[name] === undefined ? undefined : parseIpv6Prefix(prefixes[name]);
    return { name, prefix, socket: undefined, nextAdvertAt: 0, problem: undefined };
  });

  const stats: RouterAdvertiserStats = { sent: 0, solicitationsAnswered: 0, errors: 0 };
  const receiveBuffer = new Uint8Array(1500);
  let closed = false;

  const fail = (port: Port, error: unknown, message: string): void => {
    stats.errors++;
    const detail = error instanceof Error ? error.message : String(error);
    if (port.problem === detail) return;
    port.problem = detail;
    log.warn({ interface: port.name, err: error }, `router-advert: ${message} on ${port.name}: ${detail}`);
  };

  const closePort = (port: Port): void => {
    if (port.socket) closeFd(port.socket.fd);
    port.socket = undefined;
  };

  const advertise = (port: Port, socket: NonNullable<Port["socket"]>, solicitations: number): void => {
    try {
      // The kernel picks the source; with no usable link-local it would use another address or none, and hosts
      // drop RAs that do not come from a link-local address.
      if (!hasUsableLinkLocal(port.name)) throw new Error("no usable IPv6 link-local address");
      sendTo(socket.fd, socket.advert, socket.destination);
    } catch (error) {
      fail(port, error, "cannot send a router advertisement");
      return;
    }
    stats.sent++;
    stats.solicitationsAnswered += solicitations;
    if (port.problem !== undefined) log.info({ interface: port.name }, `router-advert: sending again on ${port.name}`);
    port.problem = undefined;
    log.debug({ interface: port.name, solicitations }, "router-advert: sent");
  };

  const solicitationsWaiting = (port: Port, fd: number): number => {
    let count = 0;
    try {
      for (let i = 0; i < MAX_READS_PER_POLL; i++) {
        const length = receiveNow(fd, receiveBuffer);
        if (length === undefined) break;
        // RFC 4861 6.1.1; the kernel has checked the ICMPv6 checksum and the socket filter passes only type 133.
        if (length >= 8 && receiveBuffer[0] === ND_ROUTER_SOLICIT && receiveBuffer[1] === 0) count++;
      }
    } catch (error) {
      fail(port, error, "cannot read router solicitations");
    }
    return count;
  };

  const poll = (): void => {
    const now = performance.now();
    for (const port of ports) {
      const due = now >= port.nextAdvertAt;
      if (due) port.nextAdvertAt = now + intervalMs;
      // The socket is bound to an interface index; a deleted interface or one recreated under the same name needs
      // a new socket.
      if (due && port.socket && ifNameToIndex(port.name) !== port.socket.ifindex) closePort(port);
      if (!port.socket && due) {
        try {
          port.socket = openAdvertSocket(port.name, port.prefix);
        } catch (error) {
          fail(port, error, "cannot open an ICMPv6 socket");
        }
      }
      const socket = port.socket;
      if (!socket) continue;
      const solicitations = solicitationsWaiting(port, socket.fd);
      if (due || solicitations > 0) advertise(port, socket, solicitations);
    }
  };

  const safePoll = (): void => {
    if (closed) return;
    try {
      poll();
    } catch (error) {
      stats.errors++;
      log.warn({ err: error }, "router-advert: poll failed");
    }
  };

  safePoll();
  const timer = setInterval(safePoll, POLL_MS);

  return {
    stats,
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      for (const port of ports) closePort(port);
    },
  };
}

function openAdvertSocket(name: string, prefix: Ipv6Prefix | undefined): NonNullable<Port["socket"]> {
  const ifindex = ifNameToIndex(name);
  if (ifindex === 0) throw new Error("no such interface");
  const advert = buildRouterAdvert(readMac(name), prefix);
  const fd = openSocket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
  try {
    setSockOpt(fd, SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${name}\0`));
    setSockOpt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, onlyIcmpType(ND_ROUTER_SOLICIT));
    setSockOptInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255);
    setSockOptInt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255);
    setSockOptInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex);
    // Our own RAs must not loop back into this host's stack, which could take the prefix for itself.
    setSockOptInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0);
    // Solicitations go to ff02::2, which a host that does not forward has not joined, so the kernel would drop them.
    setSockOpt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, ipv6Mreq(ALL_ROUTERS, ifindex));
  } catch (error) {
    closeFd(fd);
    throw error;
  }
  return { fd, ifindex, advert, destination: sockaddrIn6(ALL_NODES, ifindex) };
}

/** An RA (RFC 4861 4.2) with router lifetime 0; the checksum is left 0 for the kernel to fill in. */
export function buildRouterAdvert(mac: Uint8Array | undefined, prefix: Ipv6Prefix | undefined): Uint8Array {
  const packet = new Uint8Array(16 + (mac ? 8 : 0) + (prefix ? 32 : 0));
  const view = new DataView(packet.buffer);
  packet[0] = ND_ROUTER_ADVERT;
  packet[4] = CUR_HOP_LIMIT;
  let at = 16;
  if (mac) {
    packet.set([1, 1], at); // source link-layer address, 8 bytes
    packet.set(mac, at + 2);
    at += 8;
  }
  if (prefix) {
    packet.set([3, 4, prefix.length, 0xc0], at); // prefix information, 32 bytes, on-link + autonomous
    view.setUint32(at + 4, PREFIX_VALID_S);
    view.setUint32(at + 8, PREFIX_PREFERRED_S);
    packet.set(prefix.address, at + 16);
  }
  return packet;
}

/** `fd77::/64` → its 16 bytes and length; throws on anything else, including host bits set. */
export function parseIpv6Prefix(text: string): Ipv6Prefix {
  const match = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(text);
  const address = match?.[1] === undefined ? undefined : parseIpv6(match[1]);
  const length = Number(match?.[2]);
  if (!address || !(length >= 1 && length <= 128)) {
    throw new Error(`router-advert: invalid IPv6 prefix ${JSON.stringify(text)}`);
  }
  for (let bit = length; bit < 128; bit++) {
    if ((address[bit >> 3]! >> (7 - (bit & 7))) & 1) {
      throw new Error(`router-advert: prefix ${text} has bits set past /${length}`);
    }
  }
  return { address, length };
}

/** Hex-and-colons IPv6 (no embedded IPv4, no zone) → 16 bytes, or undefined. */
export function parseIpv6(text: string): Uint8Array | undefined {
  if (!/^[0-9a-fA-F:]+$/.test(text) || !isIPv6(text)) return undefined;
  const halves = text.split("::");
  const left = halves[0] ? halves[0].split(":") : [];
  const right = halves[1] ? halves[1].split(":") : [];
  const missing = halves.length === 2 ? Math.max(0, 8 - left.length - right.length) : 0;
  const zeros = new Array<string>(missing).fill("0");
  const words = [...left, ...zeros, ...right];
  if (words.length !== 8) return undefined;
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  words.forEach((word, i) => view.setUint16(i * 2, Number.parseInt(word, 16)));
  return bytes;
}

function ipv6Bytes(text: string): Uint8Array {
  const bytes = parseIpv6(text);
  if (!bytes) throw new Error(`bad IPv6 constant ${text}`);
  return bytes;
}

// Linux's rule (dev_valid_name); also keeps the name safe inside /sys/class/net/<name>.
function validInterfaceName(name: string): boolean {
  return name.length > 0 && name.length < 16 && name !== "." && name !== ".." && !/[/:\s]/.test(name);
}

/** struct icmp6_filter passing one type: a set bit blocks a type. */
function onlyIcmpType(type: number): Uint8Array {
  const words = new Uint32Array(8).fill(0xffffffff);
  words[type >> 5]! &= ~(1 << (type & 31));
  return new Uint8Array(words.buffer);
}

/** struct ipv6_mreq. */
function ipv6Mreq(group: Uint8Array, ifindex: number): Uint8Array {
  const mreq = new Uint8Array(20);
  mreq.set(group);
  new DataView(mreq.buffer).setUint32(16, ifindex, true);
  return mreq;
}

/** The interface's 6-byte MAC, or undefined for links without one (tun and the like), which then get no SLLA option. */
function readMac(name: string): Uint8Array | undefined {
  const text = readFileSync(`/sys/class/net/${name}/address`, "utf8").trim();
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(text) || text === "00:00:00:00:00:00") return undefined;
  return Uint8Array.from(text.split(":"), (octet) => Number.parseInt(octet, 16));
}

/** Whether the interface has a link-local address the kernel may send from (not tentative, not failed DAD). */
function hasUsableLinkLocal(name: string): boolean {
  // Lines: address, ifindex, prefix length, scope (20 = link), flags, name; all hex but the name.
  for (const line of readFileSync("/proc/net/if_inet6", "utf8").split("\n")) {
    const [, , , scope, flags, device] = line.trim().split(/\s+/);
    if (device !== name || scope !== "20" || flags === undefined) continue;
    if ((Number.parseInt(flags, 16) & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) === 0) return true;
  }
  return false;
}
