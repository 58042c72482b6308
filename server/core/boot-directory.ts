// The DHCP server's view of provd's data: MAC → node reservations and networks, cached until the next write.
import type { DhcpDirectory, DhcpHost, DhcpNetwork } from "../dhcp/backend.ts";
import type { Inventory } from "./inventory.ts";
import { split } from "./list-attr.ts";
import { ipv4ToInt } from "./validate.ts";

const DEFAULT_LEASE_SECONDS = 12 * 3600;

interface Snapshot {
  generation: number;
  hosts: Map<string, DhcpHost>;
  nodesByIp: Map<string, string>;
  networks: DhcpNetwork[];
}

export class BootDirectory implements DhcpDirectory {
  private snapshot?: Snapshot;

  constructor(private readonly inventory: Inventory) {}

  hostByMac(mac: string): DhcpHost | undefined {
    return this.current().hosts.get(mac.toLowerCase());
  }

  networkForInterface(ifname: string, interfaceAddress: string): DhcpNetwork | undefined {
    const networks = this.current().networks;
    return networks.find((n) => n.interface === ifname) ?? networks.find((n) => contains(n, interfaceAddress));
  }

  networkForRelay(giaddr: string): DhcpNetwork | undefined {
    return this.current().networks.find((n) => contains(n, giaddr));
  }

  isReservedIp(ip: string): boolean {
    return this.current().nodesByIp.has(ip);
  }

  /** The node a MAC belongs to, for boot events and scripts. */
  nodeOfMac(mac: string): string | undefined {
    return this.hostByMac(mac)?.node;
  }

  /** The node with this static IP, for boot events of requests that carry no MAC (TFTP). */
  nodeOfIp(ip: string): string | undefined {
    return this.current().nodesByIp.get(ip);
  }

  private current(): Snapshot {
    const generation = this.inventory.store.generation;
    if (this.snapshot?.generation !== generation) this.snapshot = this.load(generation);
    return this.snapshot;
  }

  private load(generation: number): Snapshot {
    const hosts = new Map<string, DhcpHost>();
    const nodesByIp = new Map<string, string>();
    for (const node of this.inventory.list("node")) {
      const { ip, bootfile } = node.attrs;
      if (ip) nodesByIp.set(ip, node.name);
      for (const mac of split(node.attrs.mac, "|")) hosts.set(mac, { node: node.name, hostname: node.name, ip, bootfile });
    }
    const networks = this.inventory.list("network").flatMap((n) => toDhcpNetwork(n.name, n.attrs) ?? []);
    return { generation, hosts, nodesByIp, networks };
  }
}

function toDhcpNetwork(name: string, attrs: Record<string, string>): DhcpNetwork | undefined {
  if (!attrs.net || !attrs.mask) return undefined;
  const [start, end] = attrs.dynamicrange?.split("-") ?? [];
  const server = (v: string | undefined) => (v && v !== "<xcatmaster>" ? v : undefined);
  return {
    name,
    net: attrs.net,
    mask: attrs.mask,
    gateway: server(attrs.gateway),
    nameservers: split(attrs.nameservers, ",").filter((s) => s !== "<xcatmaster>"),
    domain: attrs.domain,
    dynamicRange: start && end ? { start, end } : undefined,
    nextServer: server(attrs.tftpserver),
    mtu: attrs.mtu ? Number(attrs.mtu) : undefined,
    interface: attrs.mgtifname,
    leaseSeconds: attrs.leasetime ? Number(attrs.leasetime) : DEFAULT_LEASE_SECONDS,
  };
}

function contains(network: DhcpNetwork, ip: string): boolean {
  const mask = ipv4ToInt(network.mask);
  return ((ipv4ToInt(ip) & mask) >>> 0) === ((ipv4ToInt(network.net) & mask) >>> 0);
}
