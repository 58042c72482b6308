// Recent DISCOVER transactions, keyed on (client key, xid) and never on xid alone: OVMF VMs started
// together share xids, and iPXE repeats its xid on every boot of a MAC (pxe-clients.md pitfall 5).
// A retransmitted DISCOVER is answered with the reply already built, without another directory lookup.

export interface TransactionCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

interface Entry<T> {
  xid: number;
  /** Where the DISCOVER came from (interface and relay): the same client on another link is another transaction. */
  scope: string;
  value: T;
  expiresAt: number;
}

const DEFAULT_TTL_MS = 3000;
const DEFAULT_MAX_ENTRIES = 50_000;

/**
 * Two generations of entries instead of one map pruned in order: a storm of DISCOVERs would otherwise
 * make every insertion walk the deleted head of a huge map. Entries move to the old generation when
 * the current one is a TTL old (or half the size limit) and are dropped a generation later; the
 * expiry check keeps lookups exact.
 */
export class TransactionCache<T> {
  // One entry per client: a new xid from the same client replaces its old transaction.
  private current = new Map<string, Entry<T>>();
  private previous = new Map<string, Entry<T>>();
  private rotatedAt: number;
  private readonly ttlMs: number;
  private readonly generationSize: number;
  private readonly now: () => number;

  constructor(options: TransactionCacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.generationSize = Math.max(1, Math.floor((options.maxEntries ?? DEFAULT_MAX_ENTRIES) / 2));
    this.now = options.now ?? Date.now;
    this.rotatedAt = this.now();
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }

  get(clientKey: string, xid: number, scope: string): T | undefined {
    const entry = this.current.get(clientKey) ?? this.previous.get(clientKey);
    if (entry === undefined || entry.xid !== xid || entry.scope !== scope) return undefined;
    return entry.expiresAt > this.now() ? entry.value : undefined;
  }

  set(clientKey: string, xid: number, scope: string, value: T): void {
    const now = this.now();
    if (now - this.rotatedAt >= this.ttlMs || this.current.size >= this.generationSize) {
      this.previous = this.current;
      this.current = new Map();
      this.rotatedAt = now;
    }
    this.previous.delete(clientKey);
    this.current.set(clientKey, { xid, scope, value, expiresAt: now + this.ttlMs });
  }

  forget(clientKey: string): void {
    this.current.delete(clientKey);
    this.previous.delete(clientKey);
  }
}
