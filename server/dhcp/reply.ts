// Building a reply packet and choosing where it goes. Option bytes derived from a network are computed
// once per network object, since the reply path runs for every packet.
import type { DhcpNetwork } from "./backend.ts";
import type { BootChoice } from "./boot-file.ts";
import { encodePacket, replySizeLimit } from "./codec.ts";
import { ipv4ToNumber } from "./ipv4.ts";
import { DhcpEncodeError } from "./errors.ts";
import { MessageType, Opt, buildIpxeOptions, buildPxeVendorOptions, requestsOption } from "./options.ts";
import { BROADCAST_FLAG, BootOp, FILE_FIELD_SIZE, type DhcpPacket } from "./packet.ts";

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
const NO_ADDRESS = "0.0.0.0";
const LIMITED_BROADCAST = "255.255.255.255";

/** The interface a request arrived on, as the reply needs it. */
export interface Ingress {
  ifname: string;
  /** The interface's IPv4 address: server identifier (54), default next-server, host of boot URLs. */
  address: string;
  mtu: number;
  /** The request came to the proxyDHCP/BINL port (4011), not 67. */
  binl?: boolean;
}

/** Where a request came from (UDP source). */
export interface Source {
  address: string;
  port: number;
}

export interface Destination {
  address: string;
  port: number;
  broadcast: boolean;
}

/** Everything a reply needs from a network, encoded. */
export interface NetworkOptions {
  net: number;
  mask: number;
  subnetMask: Uint8Array;
  broadcast: Uint8Array;
  router?: Uint8Array;
  dns?: Uint8Array;
  domain?: Uint8Array;
  mtu?: Uint8Array;
  leaseSeconds: number;
  leaseTime: Uint8Array;
  renewalTime: Uint8Array;
  rebindingTime: Uint8Array;
}

const networkCache = new WeakMap<DhcpNetwork, NetworkOptions>();
const textEncoder = new TextEncoder();

/** The option bytes for `network` (cached per object); undefined if its net or mask is not an address. */
export function networkOptions(network: DhcpNetwork): NetworkOptions | undefined {
  const cached = networkCache.get(network);
  if (cached !== undefined) return cached;
  const mask = ipv4ToNumber(network.mask);
  const netAddress = ipv4ToNumber(network.net);
  if (mask === undefined || netAddress === undefined) return undefined;
  const net = (netAddress & mask) >>> 0;
  const lease = Math.max(60, Math.floor(network.leaseSeconds));
  const built: NetworkOptions = {
    net,
    mask,
    subnetMask: addressBytes(mask),
    broadcast: addressBytes((net | ~mask) >>> 0),
    leaseSeconds: lease,
    leaseTime: u32Bytes(lease),
    // RFC 2131 §4.4.5 defaults: T1 = 0.5, T2 = 0.875 of the lease.
    renewalTime: u32Bytes(Math.floor(lease / 2)),
    rebindingTime: u32Bytes(Math.floor((lease * 7) / 8)),
  };
  const router = network.gateway === undefined ? undefined : addressListBytes([network.gateway]);
  if (router) built.router = router;
  const dns = addressListBytes(network.nameservers);
  if (dns) built.dns = dns;
  if (network.domain) built.domain = textEncoder.encode(network.domain);
  if (network.mtu !== undefined && network.mtu >= 68 && network.mtu <= 0xffff) built.mtu = Uint8Array.of(network.mtu >>> 8, network.mtu & 0xff);
  networkCache.set(network, built);
  return built;
}

export function inSubnet(ip: string, net: NetworkOptions): boolean {
  const n = ipv4ToNumber(ip);
  return n !== undefined && ((n & net.mask) >>> 0) === net.net;
}

/** A reply skeleton: the request's xid, flags, giaddr and hardware address, and options 53 and 54. */
export function startReply(request: DhcpPacket, type: MessageType, serverId: string): DhcpPacket {
  // Built field by field rather than through createPacket's spread: this runs for every reply.
  const options = new Map<number, Uint8Array>();
  options.set(Opt.MessageType, MESSAGE_TYPE_BYTES[type]);
  options.set(Opt.ServerId, serverIdBytes(serverId));
  return {
    op: BootOp.Reply,
    htype: request.htype,
    hlen: request.hlen,
    hops: 0,
    xid: request.xid,
    secs: 0,
    flags: request.flags,
    ciaddr: NO_ADDRESS,
    yiaddr: NO_ADDRESS,
    siaddr: NO_ADDRESS,
    giaddr: request.giaddr,
    chaddr: request.chaddr,
    sname: "",
    file: "",
    options,
  };
}

const serverIdCache = new Map<string, Uint8Array>();

/** Option 54's bytes; a server answers as one of a handful of addresses, so they are kept. */
function serverIdBytes(serverId: string): Uint8Array {
  let bytes = serverIdCache.get(serverId);
  if (bytes === undefined) {
    const n = ipv4ToNumber(serverId);
    if (n === undefined) throw new DhcpEncodeError(`server identifier "${serverId}" is not an IPv4 address`);
    bytes = addressBytes(n);
    if (serverIdCache.size < 1024) serverIdCache.set(serverId, bytes);
  }
  return bytes;
}

/** Lease times (unless an INFORM answer), then the network's configuration. */
export function addNetworkOptions(reply: DhcpPacket, net: NetworkOptions, withLease: boolean, hostname: string | undefined): void {
  const o = reply.options;
  if (withLease) {
    o.set(Opt.LeaseTime, net.leaseTime);
    o.set(Opt.RenewalTime, net.renewalTime);
    o.set(Opt.RebindingTime, net.rebindingTime);
  }
  o.set(Opt.SubnetMask, net.subnetMask);
  o.set(Opt.BroadcastAddress, net.broadcast);
  if (net.router) o.set(Opt.Router, net.router);
  if (net.dns) o.set(Opt.DnsServer, net.dns);
  if (net.domain) o.set(Opt.DomainName, net.domain);
  if (hostname) o.set(Opt.HostName, textEncoder.encode(hostname));
  if (net.mtu) o.set(Opt.InterfaceMtu, net.mtu);
}

const PXE_CLIENT = textEncoder.encode("PXEClient");
const HTTP_CLIENT = textEncoder.encode("HTTPClient");
const PXE_VENDOR_OPTIONS = buildPxeVendorOptions();
const IPXE_NO_PXEDHCP = buildIpxeOptions({ noPxeDhcp: true });

/**
 * PXE and iPXE options and the boot file (D7-D10): 60 and 97 echoed, 43 when `vendorOptions`, 175.176 = 1 for
 * iPXE; the file in `file` when it fits (NUL-terminated, at most 127 bytes), and in 67 when option 55
 * asks for it or when it does not fit `file`.
 */
export function addBootOptions(reply: DhcpPacket, request: DhcpPacket, boot: BootChoice, siaddr: string, vendorOptions: boolean): void {
  reply.siaddr = siaddr;
  const o = reply.options;
  o.set(Opt.VendorClass, boot.vendorClass === "HTTPClient" ? HTTP_CLIENT : PXE_CLIENT);
  const uuid = request.options.get(Opt.ClientUuid);
  if (uuid !== undefined) o.set(Opt.ClientUuid, uuid);
  if (vendorOptions) o.set(Opt.VendorSpecific, PXE_VENDOR_OPTIONS);
  if (boot.ipxe) o.set(Opt.Ipxe, IPXE_NO_PXEDHCP);
  const bytes = textEncoder.encode(boot.file);
  const fitsFile = bytes.length < FILE_FIELD_SIZE && !bytes.includes(0);
  if (fitsFile) reply.file = boot.file;
  if (!fitsFile || requestsOption(request, Opt.BootfileName)) o.set(Opt.BootfileName, bytes);
}

/** Echoes option 82 verbatim (the encoder puts it last, RFC 3046 §2.1) and encodes within the client's size limit (D11). */
export function finishReply(reply: DhcpPacket, request: DhcpPacket, mtu: number): Uint8Array {
  const relayInfo = request.options.get(Opt.RelayAgentInfo);
  if (relayInfo !== undefined) reply.options.set(Opt.RelayAgentInfo, relayInfo);
  return encodePacket(reply, { maxSize: replySizeLimit(request, mtu) });
}

/**
 * RFC 2131 §4.1 with the notes' rules: relayed → the relay's server port; BINL (4011) → back to the
 * sender; NAK, broadcast flag or no ciaddr → 255.255.255.255:68 out of the ingress interface (we cannot
 * unicast to an address the client does not have yet without writing ARP entries); else ciaddr:68.
 * A DISCOVER's ciaddr is ignored, as dnsmasq does, because buggy clients set it.
 */
export function replyDestination(request: DhcpPacket, type: MessageType, ingress: Ingress, source?: Source): Destination {
  if (request.giaddr !== NO_ADDRESS) return { address: request.giaddr, port: DHCP_SERVER_PORT, broadcast: false };
  if (ingress.binl && source !== undefined && source.address !== NO_ADDRESS) {
    return { address: source.address, port: source.port, broadcast: false };
  }
  const ciaddr = type === MessageType.Offer ? NO_ADDRESS : request.ciaddr;
  if (type === MessageType.Nak || (request.flags & BROADCAST_FLAG) !== 0 || ciaddr === NO_ADDRESS) {
    return { address: LIMITED_BROADCAST, port: DHCP_CLIENT_PORT, broadcast: true };
  }
  return { address: ciaddr, port: DHCP_CLIENT_PORT, broadcast: false };
}

const MESSAGE_TYPE_BYTES: Readonly<Record<MessageType, Uint8Array>> = {
  [MessageType.Discover]: Uint8Array.of(MessageType.Discover),
  [MessageType.Offer]: Uint8Array.of(MessageType.Offer),
  [MessageType.Request]: Uint8Array.of(MessageType.Request),
  [MessageType.Decline]: Uint8Array.of(MessageType.Decline),
  [MessageType.Ack]: Uint8Array.of(MessageType.Ack),
  [MessageType.Nak]: Uint8Array.of(MessageType.Nak),
  [MessageType.Release]: Uint8Array.of(MessageType.Release),
  [MessageType.Inform]: Uint8Array.of(MessageType.Inform),
};

function addressBytes(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

function addressListBytes(addrs: readonly string[]): Uint8Array | undefined {
  const numbers: number[] = [];
  for (const addr of addrs) {
    const n = ipv4ToNumber(addr);
    if (n !== undefined) numbers.push(n);
  }
  if (numbers.length === 0) return undefined;
  const out = new Uint8Array(numbers.length * 4);
  numbers.forEach((n, i) => out.set(addressBytes(n), i * 4));
  return out;
}

function u32Bytes(n: number): Uint8Array {
  return addressBytes(Math.min(n, 0xffffffff) >>> 0);
}
