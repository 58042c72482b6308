// What the DHCP server needs from the rest of provd, as interfaces: it never touches the database itself.

/** A node reserved for a MAC (from the node table, with inherited values resolved). */
export interface DhcpHost {
  node: string;
  /** Static address; absent means the node takes a dynamic lease like an unknown machine. */
  ip?: string;
  hostname: string;
  /** Per-node boot binary override (TFTP path, or absolute URL for HTTP boot), e.g. snp-nolacp.efi. */
  bootfile?: string;
  /** The node may lease an address but must not network boot: it is answered with `/netboot-not-allowed`. */
  netbootDenied?: boolean;
}

export interface DhcpNetwork {
  name: string;
  /** Network address and netmask, dotted quads. */
  net: string;
  mask: string;
  gateway?: string;
  nameservers: string[];
  domain?: string;
  /** Inclusive dynamic range for machines without a static address. */
  dynamicRange?: { start: string; end: string };
  /** next-server override; default: the address of the interface the request arrived on. */
  nextServer?: string;
  mtu?: number;
  /** Interface the network is served on when not relayed. */
  interface?: string;
  leaseSeconds: number;
}

/**
 * Hot path: called for every packet, so implementations cache and invalidate on writes. Returning the
 * same network object until it changes lets the server reuse the option bytes it derived from it.
 */
export interface DhcpDirectory {
  hostByMac(mac: string): DhcpHost | undefined;
  /** Whether some node holds `ip` as its static address, so the dynamic pool must never hand it out. */
  isReservedIp(ip: string): boolean;
  /** The network served directly on an interface (by name, or containing one of its addresses). */
  networkForInterface(ifname: string, interfaceAddress: string): DhcpNetwork | undefined;
  /** The network a relay's giaddr belongs to. */
  networkForRelay(giaddr: string): DhcpNetwork | undefined;
}

export type LeaseState = "offered" | "bound" | "released" | "declined";

export interface Lease {
  clientKey: string;
  mac: string;
  ip: string;
  network?: string;
  node?: string;
  hostname?: string;
  state: LeaseState;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/**
 * Lease persistence. Implementations may batch writes, but must flush them on close(). The caller keeps
 * mutating the lease objects it passes to save(), so copy what you keep before returning.
 */
export interface LeaseStore {
  /** All leases at start, to warm the in-memory state. */
  loadAll(): Lease[];
  save(lease: Lease): void;
  remove(clientKey: string): void;
  close(): void;
}

export type BootEventKind = "dhcp-offer" | "dhcp-ack" | "dhcp-nak" | "dhcp-release" | "dhcp-decline" | "proxy-offer" | "proxy-ack";

/** Side effects the server reports; they must return fast and never throw into the reply path. */
export interface DhcpObserver {
  bootEvent(event: { mac: string; node?: string; kind: BootEventKind; detail: string }): void;
  /** A machine with no node asked to boot. */
  discovered(machine: { mac: string; arch?: string; uuid?: string; vendorClass?: string; ip?: string; interface: string }): void;
}

/** Where boot files come from, as the reply should name them. */
export interface BootUrls {
  /** The iPXE script URL for a client whose server address (as seen on this interface) is `serverIp`. */
  ipxeScript(serverIp: string, mac: string): string;
  /** Absolute URL of an iPXE binary for UEFI HTTP boot clients. */
  httpBootBinary(serverIp: string, file: string): string;
}
