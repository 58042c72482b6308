// The reply to one decoded request (RFC 2131 plus the PXE rules of dhcp-tftp-http.md). No sockets and
// no database: the directory is a cached lookup, the lease table lives in memory and persists through
// its store in batches. Proxy mode is in proxy-policy.ts.
import type { BootUrls, DhcpDirectory, DhcpHost, DhcpNetwork, DhcpObserver } from "./backend.ts";
import { DEFAULT_BOOT_FILES, chooseBootFile, type BootChoice, type BootFiles } from "./boot-file.ts";
import { ignore, type Decision, type ReplyDecision } from "./decision.ts";
import { DhcpEncodeError } from "./errors.ts";
import { inRange, type LeaseHolder, type LeaseTable } from "./leases.ts";
import { bootEvent, guardObserver } from "./observer.ts";
import { MessageType, Opt, getIpv4, getMessageType, getRelayAgentInfo, RelaySub } from "./options.ts";
import { BROADCAST_FLAG, BootOp, formatHardwareAddress, hardwareAddress, type DhcpPacket } from "./packet.ts";
import { ProxyPolicy } from "./proxy-policy.ts";
import { classifyClient, clientKey, type ClassifyOptions, type ClientClass } from "./pxe.ts";
import {
  addBootOptions,
  addNetworkOptions,
  finishReply,
  inSubnet,
  networkOptions,
  replyDestination,
  startReply,
  type Ingress,
  type NetworkOptions,
  type Source,
} from "./reply.ts";
import { TransactionCache, type TransactionCacheOptions } from "./transactions.ts";

export type { Decision } from "./decision.ts";
export type { Ingress, Source } from "./reply.ts";

export type DhcpMode = "full" | "proxy";

export interface PolicyOptions {
  mode: DhcpMode;
  directory: DhcpDirectory;
  /** Unused in proxy mode, which hands out no addresses. */
  leases: LeaseTable;
  urls: BootUrls;
  observer?: DhcpObserver;
  /** Defaults: undionly.kpxe and snponly.efi; no IA32 or ARM64 build. */
  bootFiles?: Partial<BootFiles>;
  /** Option 60 prefixes that mark a netboot client (some vendors send neither PXEClient nor HTTPClient). */
  vendorPrefixes?: readonly string[];
  transactions?: TransactionCacheOptions;
  /** Where observer failures go. */
  onObserverError?: (error: unknown, what: string) => void;
}

/** A cached DISCOVER transaction: the reply to resend, and the client's class for its REQUEST. */
interface Transaction {
  retransmit: ReplyDecision;
  client: ClientClass;
}

const NO_ADDRESS = "0.0.0.0";
const textEncoder = new TextEncoder();

export class DhcpPolicy {
  private readonly directory: DhcpDirectory;
  private readonly leases: LeaseTable;
  private readonly urls: BootUrls;
  private readonly observer: DhcpObserver;
  private readonly bootFiles: BootFiles;
  private readonly classify: ClassifyOptions;
  private readonly transactions: TransactionCache<Transaction>;
  private readonly proxy: ProxyPolicy | undefined;
  private readonly isReserved: (ip: string) => boolean;

  constructor(options: PolicyOptions) {
    this.directory = options.directory;
    this.leases = options.leases;
    this.urls = options.urls;
    this.observer = guardObserver(options.observer, options.onObserverError);
    this.bootFiles = { ...DEFAULT_BOOT_FILES, ...definedOnly(options.bootFiles) };
    this.classify = options.vendorPrefixes ? { vendorPrefixes: options.vendorPrefixes } : {};
    this.transactions = new TransactionCache(options.transactions);
    this.isReserved = (ip) => this.directory.isReservedIp(ip);
    this.proxy =
      options.mode === "proxy"
        ? new ProxyPolicy({
            directory: this.directory,
            urls: this.urls,
            observer: this.observer,
            bootFiles: this.bootFiles,
            classify: this.classify,
            transactions: this.transactions,
          })
        : undefined;
  }

  /** The decision for one request that arrived on `ingress` from `source`. Throws only on bugs. */
  decide(request: DhcpPacket, ingress: Ingress, source?: Source): Decision {
    if (request.op !== BootOp.Request) return ignore("not-a-request");
    const type = getMessageType(request);
    if (type === undefined) return ignore("bootp");
    const key = clientKey(request);
    if (key === "") return ignore("no-client-id");
    const mac = formatHardwareAddress(hardwareAddress(request));
    try {
      if (this.proxy) return this.proxy.decide(request, type, key, mac, ingress, source);
      switch (type) {
        case MessageType.Discover:
          return this.discover(request, key, mac, ingress);
        case MessageType.Request:
          return this.request(request, key, mac, ingress);
        case MessageType.Release:
          return this.release(request, key, mac, ingress);
        case MessageType.Decline:
          return this.decline(request, key, mac, ingress);
        case MessageType.Inform:
          return this.inform(request, mac, ingress);
        default:
          return ignore("not-a-request");
      }
    } catch (error) {
      if (error instanceof DhcpEncodeError) return ignore("unencodable", error.message);
      throw error;
    }
  }

  private discover(p: DhcpPacket, key: string, mac: string, ingress: Ingress): Decision {
    const scope = transactionScope(p, ingress);
    const cached = this.transactions.get(key, p.xid, scope);
    if (cached !== undefined) return cached.retransmit;

    const network = this.networkFor(p, ingress);
    const net = network && networkOptions(network);
    if (network === undefined || net === undefined) return ignore("no-network");
    const host = this.directory.hostByMac(mac);
    const ip = this.addressFor(key, host, network, net, getIpv4(p, Opt.RequestedAddress));
    if (ip === undefined) return ignore("pool-exhausted", network.name);
    this.leases.offer(key, ip, leaseHolder(mac, network, host));

    const client = classifyClient(p, this.classify);
    const reply = startReply(p, MessageType.Offer, ingress.address);
    reply.yiaddr = ip;
    addNetworkOptions(reply, net, true, host?.hostname);
    const boot = this.bootFor(reply, p, client, host, network, ingress, mac);
    const decision = replied(MessageType.Offer, finishReply(reply, p, ingress.mtu), replyDestination(p, MessageType.Offer, ingress));
    this.transactions.set(key, p.xid, scope, { retransmit: { ...decision, retransmit: true }, client });

    if (host === undefined) this.reportDiscovered(mac, client, ip, ingress);
    this.observer.bootEvent(bootEvent("dhcp-offer", mac, host?.node, describe(ip, boot, ingress)));
    return decision;
  }

  /** RFC 2131 §4.3.2: SELECTING (54 and 50), INIT-REBOOT (50 only), RENEWING/REBINDING (ciaddr). */
  private request(p: DhcpPacket, key: string, mac: string, ingress: Ingress): Decision {
    const discovered = this.transactions.get(key, p.xid, transactionScope(p, ingress));
    this.transactions.forget(key);
    const serverId = getIpv4(p, Opt.ServerId);
    const requested = getIpv4(p, Opt.RequestedAddress);
    if (serverId !== undefined && serverId !== ingress.address) {
      this.leases.withdrawOffer(key);
      return ignore("other-server");
    }
    const target = serverId !== undefined ? (requested ?? nonZero(p.ciaddr)) : (nonZero(p.ciaddr) ?? requested);
    if (target === undefined) return ignore("bad-request", "REQUEST without requested address or ciaddr");

    const network = this.networkFor(p, ingress);
    const net = network && networkOptions(network);
    // Silence, not NAK, for a network we know nothing about: another server may own it.
    if (network === undefined || net === undefined) return ignore("no-network");
    if (!inSubnet(target, net)) return this.nak(p, mac, undefined, ingress, `${target} is not on network ${network.name}`);

    const host = this.directory.hostByMac(mac);
    const refusal = this.checkRequestedAddress(key, target, host, network, net);
    if (refusal !== undefined) return this.nak(p, mac, host, ingress, refusal);
    this.leases.bind(key, target, leaseHolder(mac, network, host), net.leaseSeconds * 1000);

    let client = classifyClient(p, this.classify);
    // A REQUEST may lack the DISCOVER's PXE options (Raspberry Pi 4 drops 60): keep the DISCOVER's verdict.
    if (!client.netboot && !client.ipxe && discovered?.client.netboot) client = discovered.client;
    const reply = startReply(p, MessageType.Ack, ingress.address);
    reply.yiaddr = target;
    reply.ciaddr = p.ciaddr;
    addNetworkOptions(reply, net, true, host?.hostname);
    const boot = this.bootFor(reply, p, client, host, network, ingress, mac);
    const decision = replied(MessageType.Ack, finishReply(reply, p, ingress.mtu), replyDestination(p, MessageType.Ack, ingress));
    this.observer.bootEvent(bootEvent("dhcp-ack", mac, host?.node, describe(target, boot, ingress)));
    return decision;
  }

  /** Why `target` may not be bound to this client (a NAK message), or undefined if it may. */
  private checkRequestedAddress(
    key: string,
    target: string,
    host: DhcpHost | undefined,
    network: DhcpNetwork,
    net: NetworkOptions,
  ): string | undefined {
    const reserved = staticAddress(host, net);
    if (reserved !== undefined) return target === reserved ? undefined : `this node's address is ${reserved}`;
    if (this.isReserved(target)) return `${target} is reserved for another node`;
    const active = this.leases.activeAddress(key);
    if (active === target) return undefined;
    if (active !== undefined) return `your address is ${active}`;
    // Authoritative, like dnsmasq --dhcp-authoritative: a client we have no record of (a lost database,
    // a server swap) keeps its address if it is ours to give and nobody else holds it.
    if (!inRange(target, network.dynamicRange)) return `${target} is not in the dynamic range`;
    if (!this.leases.isFreeFor(target, key)) return `${target} is in use`;
    return undefined;
  }

  private nak(p: DhcpPacket, mac: string, host: DhcpHost | undefined, ingress: Ingress, message: string): Decision {
    const reply = startReply(p, MessageType.Nak, ingress.address);
    // RFC 2131 §4.3.2: a relay must broadcast the NAK to the client, so the flag is set even when relayed.
    reply.flags |= BROADCAST_FLAG;
    reply.options.set(Opt.Message, textEncoder.encode(message));
    const decision = replied(MessageType.Nak, finishReply(reply, p, ingress.mtu), replyDestination(p, MessageType.Nak, ingress));
    this.observer.bootEvent(bootEvent("dhcp-nak", mac, host?.node, `${message} (via ${ingress.ifname})`));
    return decision;
  }

  private release(p: DhcpPacket, key: string, mac: string, ingress: Ingress): Decision {
    const serverId = getIpv4(p, Opt.ServerId);
    if (serverId !== undefined && serverId !== ingress.address) return ignore("other-server");
    if (this.leases.release(key, p.ciaddr)) {
      this.observer.bootEvent(bootEvent("dhcp-release", mac, this.leases.forClient(key)?.node, p.ciaddr));
    }
    return { action: "noted", type: MessageType.Release };
  }

  private decline(p: DhcpPacket, key: string, mac: string, ingress: Ingress): Decision {
    const serverId = getIpv4(p, Opt.ServerId);
    if (serverId !== undefined && serverId !== ingress.address) return ignore("other-server");
    const ip = getIpv4(p, Opt.RequestedAddress);
    if (ip === undefined) return ignore("bad-request", "DECLINE without option 50");
    const node = this.leases.forClient(key)?.node;
    // A static address stays the node's: holding it back would only move the conflict to the next lease.
    const isStatic = this.isReserved(ip);
    const marked = !isStatic && this.leases.decline(key, ip, mac);
    this.observer.bootEvent(bootEvent("dhcp-decline", mac, node, `${ip} is in use by another machine${marked ? "; held back" : ""}`));
    return { action: "noted", type: MessageType.Decline };
  }

  /** RFC 2131 §4.3.5: configuration for a client that already has an address; no yiaddr, no lease times. */
  private inform(p: DhcpPacket, mac: string, ingress: Ingress): Decision {
    const network = this.networkFor(p, ingress);
    const net = network && networkOptions(network);
    if (network === undefined || net === undefined) return ignore("no-network");
    const host = this.directory.hostByMac(mac);
    const reply = startReply(p, MessageType.Ack, ingress.address);
    reply.ciaddr = p.ciaddr;
    addNetworkOptions(reply, net, false, host?.hostname);
    this.bootFor(reply, p, classifyClient(p, this.classify), host, network, ingress, mac);
    return replied(MessageType.Ack, finishReply(reply, p, ingress.mtu), replyDestination(p, MessageType.Ack, ingress));
  }

  /** A static address in this network's subnet, else a dynamic one; undefined when the pool is full. */
  private addressFor(
    key: string,
    host: DhcpHost | undefined,
    network: DhcpNetwork,
    net: NetworkOptions,
    requested: string | undefined,
  ): string | undefined {
    const reserved = staticAddress(host, net);
    if (reserved !== undefined) return reserved;
    if (network.dynamicRange === undefined) return undefined;
    return this.leases.allocate(key, network.dynamicRange, this.isReserved, requested);
  }

  private bootFor(
    reply: DhcpPacket,
    p: DhcpPacket,
    client: ClientClass,
    host: DhcpHost | undefined,
    network: DhcpNetwork,
    ingress: Ingress,
    mac: string,
  ): BootChoice | undefined {
    const boot = chooseBootFile(client, host, ingress.address, mac, this.urls, this.bootFiles);
    // EDK2 takes a PXEClient offer without 43 for a BINL offer and asks port 4011 instead of booting `file`.
    if (boot !== undefined) addBootOptions(reply, p, boot, network.nextServer ?? ingress.address, boot.pxeRom);
    return boot;
  }

  /** RFC 3527 link selection, else giaddr, picks a relayed client's network; else the ingress interface's. */
  private networkFor(p: DhcpPacket, ingress: Ingress): DhcpNetwork | undefined {
    if (p.giaddr === NO_ADDRESS) return this.directory.networkForInterface(ingress.ifname, ingress.address);
    const link = getRelayAgentInfo(p)?.get(RelaySub.LinkSelection);
    const linkAddress = link?.length === 4 ? `${link[0]}.${link[1]}.${link[2]}.${link[3]}` : undefined;
    return this.directory.networkForRelay(linkAddress ?? p.giaddr);
  }

  private reportDiscovered(mac: string, client: ClientClass, ip: string, ingress: Ingress): void {
    const machine: Parameters<DhcpObserver["discovered"]>[0] = { mac, ip, interface: ingress.ifname };
    if (client.arch !== "unknown") machine.arch = client.arch;
    if (client.uuid !== undefined) machine.uuid = client.uuid;
    if (client.vendorClass !== undefined) machine.vendorClass = client.vendorClass;
    this.observer.discovered(machine);
  }
}

function replied(type: MessageType, bytes: Uint8Array, to: ReplyDecision["to"]): ReplyDecision {
  return { action: "reply", type, bytes, to, retransmit: false };
}

function transactionScope(p: DhcpPacket, ingress: Ingress): string {
  return p.giaddr === NO_ADDRESS ? ingress.ifname : `${ingress.ifname}/${p.giaddr}`;
}

/** The node's static address if it lies in this subnet; a node seen on another network leases dynamically there. */
function staticAddress(host: DhcpHost | undefined, net: NetworkOptions): string | undefined {
  return host?.ip !== undefined && inSubnet(host.ip, net) ? host.ip : undefined;
}

function leaseHolder(mac: string, network: DhcpNetwork, host: DhcpHost | undefined): LeaseHolder {
  const holder: LeaseHolder = { mac, network: network.name };
  if (host !== undefined) {
    holder.node = host.node;
    holder.hostname = host.hostname;
  }
  return holder;
}

function describe(ip: string, boot: BootChoice | undefined, ingress: Ingress): string {
  const file = boot === undefined ? "" : boot.refused ? ` refused: ${boot.refusal}` : ` file ${boot.file}`;
  return `${ip}${file} via ${ingress.ifname}`;
}

function nonZero(addr: string): string | undefined {
  return addr === NO_ADDRESS ? undefined : addr;
}

function definedOnly(files: Partial<BootFiles> | undefined): Partial<BootFiles> {
  const out: Partial<BootFiles> = {};
  if (files === undefined) return out;
  for (const [name, file] of Object.entries(files) as [keyof BootFiles, string | undefined][]) {
    if (file !== undefined && file !== "") out[name] = file;
  }
  return out;
}
