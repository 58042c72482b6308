// The DHCP lease table in SQLite. Writes are queued and committed together (every ~50 ms and on
// close): one transaction per batch instead of one per packet is what lets the DHCP server keep up
// with a boot storm, and a lease changing twice inside a batch (OFFER then ACK) is written once.
import type { Database, Statement } from "bun:sqlite";
import type { Lease, LeaseState, LeaseStore } from "../dhcp/backend.ts";
import type { Db } from "./open.ts";
import { leases } from "./schema.ts";

export interface SqliteLeaseStoreOptions {
  /** Group-commit interval; default 50 ms. */
  flushMs?: number;
  now?: () => number;
  /** Called when a batch fails to commit (the batch is kept and retried on the next flush). */
  onError?: (error: unknown) => void;
}

export interface SqliteLeaseStore extends LeaseStore {
  /** Commits every queued write now. */
  flush(): void;
  /** Writes queued and not yet committed. */
  readonly pending: number;
}

type Row = [clientKey: string, mac: string, ip: string, network: string | null, node: string | null, hostname: string | null, state: string, expiresAt: number, updatedAt: number];

const LEASE_STATES: ReadonlySet<string> = new Set<LeaseState>(["offered", "bound", "released", "declined"]);
const DEFAULT_FLUSH_MS = 50;

export function createSqliteLeaseStore(db: Db, options: SqliteLeaseStoreOptions = {}): SqliteLeaseStore {
  const sqlite: Database = db.$client;
  const now = options.now ?? Date.now;
  const flushMs = options.flushMs ?? DEFAULT_FLUSH_MS;
  // OR REPLACE also clears a row that held the same address under another client (ip is UNIQUE):
  // the in-memory table already moved the address, the database follows.
  const upsert: Statement = sqlite.prepare(
    "INSERT OR REPLACE INTO leases (client_key, mac, ip, network, node, hostname, state, expires_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const remove: Statement = sqlite.prepare("DELETE FROM leases WHERE client_key = ?");
  /** Latest write per client key: a row to upsert, or null to delete. */
  let queue = new Map<string, Row | null>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const commit = sqlite.transaction((batch: Map<string, Row | null>) => {
    for (const [key, row] of batch) {
      if (row === null) remove.run(key);
      else upsert.run(...row);
    }
  });

  const flush = (): void => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (queue.size === 0) return;
    const batch = queue;
    queue = new Map();
    try {
      commit(batch);
    } catch (error) {
      // Keep the batch (newer writes win) so a transient error (SQLITE_BUSY) loses nothing.
      for (const [key, row] of batch) if (!queue.has(key)) queue.set(key, row);
      options.onError?.(error);
      schedule();
    }
  };

  const schedule = (): void => {
    if (timer !== undefined || closed) return;
    timer = setTimeout(flush, flushMs);
    // The DHCP sockets keep the process alive; a pending flush must not, and close() flushes anyway.
    timer.unref?.();
  };

  const enqueue = (key: string, row: Row | null): void => {
    if (closed) return;
    queue.delete(key); // keep the map in write order
    queue.set(key, row);
    schedule();
  };

  return {
    loadAll() {
      return db.select().from(leases).all().flatMap((r): Lease[] => {
        if (!LEASE_STATES.has(r.state)) return [];
        const lease: Lease = { clientKey: r.clientKey, mac: r.mac, ip: r.ip, state: r.state as LeaseState, expiresAt: r.expiresAt };
        if (r.network !== null) lease.network = r.network;
        if (r.node !== null) lease.node = r.node;
        if (r.hostname !== null) lease.hostname = r.hostname;
        return [lease];
      });
    },
    save(lease) {
      enqueue(lease.clientKey, [
        lease.clientKey,
        lease.mac,
        lease.ip,
        lease.network ?? null,
        lease.node ?? null,
        lease.hostname ?? null,
        lease.state,
        lease.expiresAt,
        now(),
      ]);
    },
    remove(clientKey) {
      enqueue(clientKey, null);
    },
    flush,
    get pending() {
      return queue.size;
    },
    close() {
      if (closed) return;
      flush();
      closed = true;
    },
  };
}
