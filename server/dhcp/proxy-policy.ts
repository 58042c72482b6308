// proxyDHCP (dhcp-tftp-http.md §5): another server hands out addresses; we only tell netboot clients
// what to boot. On 67 we answer DISCOVERs with an offer without yiaddr; BIOS ROMs get 43 = `06 01 08 ff`
// and boot from it; EFI firmware gets no 43 (only BIOS proxy offers carry it) and asks again
// on 4011 (BINL), where we ACK its REQUEST.
import type { BootUrls, DhcpDirectory, DhcpObserver } from "./backend.ts";
import { chooseBootFile, type BootChoice, type BootFiles } from "./boot-file.ts";
import { ignore, type Decision, type ReplyDecision } from "./decision.ts";
import { bootEvent } from "./observer.ts";
import { MessageType } from "./options.ts";
import type { DhcpPacket } from "./packet.ts";
import { classifyClient, type ClassifyOptions, type ClientClass } from "./pxe.ts";
import { addBootOptions, finishReply, replyDestination, startReply, type Ingress, type Source } from "./reply.ts";
import type { TransactionCache } from "./transactions.ts";

export interface ProxyPolicyOptions {
  directory: DhcpDirectory;
  urls: BootUrls;
  /** Already guarded: never throws. */
  observer: DhcpObserver;
  bootFiles: BootFiles;
  classify: ClassifyOptions;
  transactions: TransactionCache<{ retransmit: ReplyDecision; client: ClientClass }>;
}

export class ProxyPolicy {
  constructor(private readonly o: ProxyPolicyOptions) {}

  decide(p: DhcpPacket, type: MessageType, key: string, mac: string, ingress: Ingress, source: Source | undefined): Decision {
    if (ingress.binl) {
      if (type !== MessageType.Request && type !== MessageType.Inform) return ignore("unexpected-type");
      return this.answer(p, MessageType.Ack, classifyClient(p, this.o.classify), mac, ingress, source);
    }
    // REQUESTs on 67 belong to the server that hands out addresses.
    if (type !== MessageType.Discover) return ignore("unexpected-type");
    const scope = ingress.ifname;
    const cached = this.o.transactions.get(key, p.xid, scope);
    if (cached !== undefined) return cached.retransmit;
    const client = classifyClient(p, this.o.classify);
    const decision = this.answer(p, MessageType.Offer, client, mac, ingress, source);
    if (decision.action === "reply") this.o.transactions.set(key, p.xid, scope, { retransmit: { ...decision, retransmit: true }, client });
    return decision;
  }

  private answer(p: DhcpPacket, type: MessageType, client: ClientClass, mac: string, ingress: Ingress, source: Source | undefined): Decision {
    if (!client.netboot && !client.ipxe) return ignore("not-pxe");
    const host = this.o.directory.hostByMac(mac);
    const boot = chooseBootFile(client, host, ingress.address, mac, this.o.urls, this.o.bootFiles);
    if (boot === undefined) return ignore("not-pxe");

    const reply = startReply(p, type, ingress.address);
    // The 4011 exchange is with a configured client: ciaddr is its address (PXE 2.1 §2.2.7).
    if (type === MessageType.Ack) reply.ciaddr = p.ciaddr;
    const network = this.o.directory.networkForInterface(ingress.ifname, ingress.address);
    addBootOptions(reply, p, boot, network?.nextServer ?? ingress.address, boot.pxeRom && boot.bios);
    const bytes = finishReply(reply, p, ingress.mtu);

    if (host === undefined && type === MessageType.Offer) this.reportDiscovered(mac, client, ingress);
    const kind = type === MessageType.Offer ? "proxy-offer" : "proxy-ack";
    this.o.observer.bootEvent(bootEvent(kind, mac, host?.node, describe(boot, ingress)));
    return { action: "reply", type, bytes, to: replyDestination(p, type, ingress, source), retransmit: false };
  }

  private reportDiscovered(mac: string, client: ClientClass, ingress: Ingress): void {
    const machine: Parameters<DhcpObserver["discovered"]>[0] = { mac, interface: ingress.ifname };
    if (client.arch !== "unknown") machine.arch = client.arch;
    if (client.uuid !== undefined) machine.uuid = client.uuid;
    if (client.vendorClass !== undefined) machine.vendorClass = client.vendorClass;
    this.o.observer.discovered(machine);
  }
}

function describe(boot: BootChoice, ingress: Ingress): string {
  return `${boot.refused ? `refused: ${boot.refusal}` : `file ${boot.file}`} via ${ingress.ifname}`;
}
