// The in-memory lease table: who holds which address until when. Persisted through a LeaseStore,
// which sees bound, released and declined leases; offers live in memory only, because a server that
// restarts between OFFER and REQUEST simply finds the requested address still free.
import type { Lease, LeaseState, LeaseStore } from "./backend.ts";
import { ipv4ToNumber, numberToIpv4 } from "./ipv4.ts";

export interface LeaseTableOptions {
  /** Epoch milliseconds; injectable for tests. */
  now?: () => number;
  /** How long an offered address stays held for the client it was offered to. */
  offerHoldMs?: number;
  /** How long a declined address (someone else answers ARP for it) stays out of the pool. */
  declineHoldMs?: number;
}

/** What a lease records besides its address and state. */
export interface LeaseHolder {
  mac: string;
  network?: string;
  node?: string;
  hostname?: string;
}

export interface AddressRange {
  start: string;
  end: string;
}

const DEFAULT_OFFER_HOLD_MS = 60_000;
const DEFAULT_DECLINE_HOLD_MS = 10 * 60_000;
/** After a full scan finds nothing, further scans of that range wait this long (a storm on a full pool). */
const EXHAUSTED_BACKOFF_MS = 1000;
const DECLINED_KEY_PREFIX = "declined:";

interface RangeState {
  cursor: number;
  exhaustedUntil: number;
}

export class LeaseTable {
  private readonly byKey = new Map<string, Lease>();
  private readonly byAddress = new Map<number, Lease>();
  /** Keys the store holds a row for, so evictions only cost a DELETE when there is something to delete. */
  private readonly persisted = new Set<string>();
  private readonly ranges = new Map<string, RangeState>();
  private readonly now: () => number;
  private readonly offerHoldMs: number;
  private readonly declineHoldMs: number;

  constructor(
    private readonly store: LeaseStore,
    options: LeaseTableOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.offerHoldMs = options.offerHoldMs ?? DEFAULT_OFFER_HOLD_MS;
    this.declineHoldMs = options.declineHoldMs ?? DEFAULT_DECLINE_HOLD_MS;
    for (const lease of store.loadAll()) this.load(lease);
  }

  get size(): number {
    return this.byKey.size;
  }

  forClient(clientKey: string): Lease | undefined {
    return this.byKey.get(clientKey);
  }

  /** The lease record at `ip`, expired or not (declined addresses included). */
  atAddress(ip: string): Lease | undefined {
    const n = ipv4ToNumber(ip);
    return n === undefined ? undefined : this.byAddress.get(n);
  }

  /** The address `clientKey` holds right now (an unexpired offer or binding), if any. */
  activeAddress(clientKey: string): string | undefined {
    const lease = this.byKey.get(clientKey);
    if (lease === undefined || lease.expiresAt <= this.now()) return undefined;
    return lease.state === "offered" || lease.state === "bound" ? lease.ip : undefined;
  }

  /** Whether `ip` may go to `clientKey`: nobody else holds it with an unexpired offer, lease or decline. */
  isFreeFor(ip: string, clientKey: string): boolean {
    const n = ipv4ToNumber(ip);
    return n !== undefined && this.freeFor(n, clientKey, this.now());
  }

  /**
   * An address in `range` for `clientKey`: the one it had before if still usable, else `preferred`
   * (the client's option 50) if usable, else the next free one after the last handed out
   * (round robin, so a released address is the last to be reused and tends to go back to its owner).
   * Addresses for which `isReserved` is true (static reservations) are skipped. Undefined when the pool is full.
   */
  allocate(clientKey: string, range: AddressRange, isReserved: (ip: string) => boolean, preferred?: string): string | undefined {
    const start = ipv4ToNumber(range.start);
    const end = ipv4ToNumber(range.end);
    if (start === undefined || end === undefined || start > end) return undefined;
    const now = this.now();
    const usable = (ip: string | undefined): ip is string => {
      if (ip === undefined) return false;
      const n = ipv4ToNumber(ip);
      return n !== undefined && n >= start && n <= end && this.freeFor(n, clientKey, now) && !isReserved(ip);
    };

    const previous = this.byKey.get(clientKey)?.ip;
    if (usable(previous)) return previous;
    if (usable(preferred)) return preferred;

    const rangeKey = `${start}-${end}`;
    let state = this.ranges.get(rangeKey);
    if (state === undefined) {
      state = { cursor: start, exhaustedUntil: 0 };
      this.ranges.set(rangeKey, state);
    }
    if (state.exhaustedUntil > now) return undefined;
    let cursor = state.cursor >= start && state.cursor <= end ? state.cursor : start;
    const size = end - start + 1;
    for (let i = 0; i < size; i++) {
      const n = cursor;
      cursor = cursor === end ? start : cursor + 1;
      if (!this.freeFor(n, clientKey, now)) continue;
      const ip = numberToIpv4(n);
      if (isReserved(ip)) continue;
      state.cursor = cursor;
      return ip;
    }
    state.exhaustedUntil = now + EXHAUSTED_BACKOFF_MS;
    return undefined;
  }

  /** Holds `ip` for `clientKey` while it decides; keeps an unexpired binding to the same address as it is. */
  offer(clientKey: string, ip: string, holder: LeaseHolder): Lease | undefined {
    const now = this.now();
    const current = this.byKey.get(clientKey);
    if (current?.ip === ip && current.state === "bound" && current.expiresAt > now) {
      Object.assign(current, holder);
      return current;
    }
    return this.assign(clientKey, ip, holder, "offered", now + this.offerHoldMs, false);
  }

  /** Binds `ip` to `clientKey` for `leaseMs` and persists it. */
  bind(clientKey: string, ip: string, holder: LeaseHolder, leaseMs: number): Lease | undefined {
    return this.assign(clientKey, ip, holder, "bound", this.now() + leaseMs, true);
  }

  /** The client gave `ip` back (DHCPRELEASE); its record stays so it gets the same address next time. */
  release(clientKey: string, ip: string): boolean {
    const lease = this.byKey.get(clientKey);
    if (lease === undefined || lease.ip !== ip || lease.state === "released") return false;
    lease.state = "released";
    lease.expiresAt = this.now();
    this.save(lease);
    return true;
  }

  /** The client found `ip` in use (DHCPDECLINE): drop its lease and keep the address out of the pool for a while. */
  decline(clientKey: string, ip: string, mac: string): boolean {
    const lease = this.byKey.get(clientKey);
    if (lease === undefined || lease.ip !== ip) return false;
    this.drop(lease);
    this.assign(`${DECLINED_KEY_PREFIX}${ip}`, ip, { mac, ...(lease.network ? { network: lease.network } : {}) }, "declined", this.now() + this.declineHoldMs, true);
    return true;
  }

  /** The client chose another server: release an address only offered to it. */
  withdrawOffer(clientKey: string): void {
    const lease = this.byKey.get(clientKey);
    if (lease?.state === "offered") this.drop(lease);
  }

  private freeFor(n: number, clientKey: string, now: number): boolean {
    const holder = this.byAddress.get(n);
    return holder === undefined || holder.clientKey === clientKey || holder.expiresAt <= now;
  }

  private assign(clientKey: string, ip: string, holder: LeaseHolder, state: LeaseState, expiresAt: number, persist: boolean): Lease | undefined {
    const n = ipv4ToNumber(ip);
    if (n === undefined) return undefined;
    const previousHolder = this.byAddress.get(n);
    if (previousHolder !== undefined && previousHolder.clientKey !== clientKey) this.drop(previousHolder);

    let lease = this.byKey.get(clientKey);
    if (lease === undefined) {
      lease = { clientKey, mac: holder.mac, ip, state, expiresAt };
      this.byKey.set(clientKey, lease);
    } else if (lease.ip !== ip) {
      const old = ipv4ToNumber(lease.ip);
      if (old !== undefined && this.byAddress.get(old) === lease) this.byAddress.delete(old);
      lease.ip = ip;
    }
    lease.mac = holder.mac;
    lease.state = state;
    lease.expiresAt = expiresAt;
    setOptional(lease, "network", holder.network);
    setOptional(lease, "node", holder.node);
    setOptional(lease, "hostname", holder.hostname);
    this.byAddress.set(n, lease);
    if (persist) this.save(lease);
    return lease;
  }

  private drop(lease: Lease): void {
    this.byKey.delete(lease.clientKey);
    const n = ipv4ToNumber(lease.ip);
    if (n !== undefined && this.byAddress.get(n) === lease) this.byAddress.delete(n);
    if (this.persisted.delete(lease.clientKey)) this.store.remove(lease.clientKey);
  }

  private save(lease: Lease): void {
    this.persisted.add(lease.clientKey);
    this.store.save(lease);
  }

  private load(lease: Lease): void {
    const n = ipv4ToNumber(lease.ip);
    if (n === undefined) return;
    const clash = this.byAddress.get(n);
    // Rows never share an address, but a hand-edited database might: the later expiry wins.
    if (clash !== undefined && clash.expiresAt >= lease.expiresAt) return;
    if (clash !== undefined) this.byKey.delete(clash.clientKey);
    const copy: Lease = { ...lease };
    this.byKey.set(copy.clientKey, copy);
    this.byAddress.set(n, copy);
    this.persisted.add(copy.clientKey);
  }
}

export function inRange(ip: string, range: AddressRange | undefined): boolean {
  if (range === undefined) return false;
  const n = ipv4ToNumber(ip);
  const start = ipv4ToNumber(range.start);
  const end = ipv4ToNumber(range.end);
  return n !== undefined && start !== undefined && end !== undefined && n >= start && n <= end;
}

function setOptional<K extends "network" | "node" | "hostname">(lease: Lease, key: K, value: string | undefined): void {
  if (value === undefined) delete lease[key];
  else lease[key] = value;
}
