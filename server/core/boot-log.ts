// Each node's boot timeline (DHCP, TFTP, script, kernel, initrd, rootfs) and the machines that asked to boot unknown.
import type { Statement } from "bun:sqlite";
import { desc, eq, inArray, sql } from "drizzle-orm";
import { type Db, atomically } from "../db/open.ts";
import { bootEvents, discovered } from "../db/schema.ts";
import { WriteBehind } from "../db/write-behind.ts";

export interface BootEvent {
  node?: string;
  mac?: string;
  kind: string;
  detail: string;
  at: number;
}

export interface DiscoveredMachine {
  mac: string;
  arch?: string;
  uuid?: string;
  vendorClass?: string;
  ip?: string;
  interface?: string;
}

/** Events kept per node; older ones are pruned. */
const KEEP_PER_NODE = 500;
/** New events of a node between two prunes: a node keeps at most KEEP_PER_NODE + PRUNE_EVERY. */
const PRUNE_EVERY = 100;
/** A repeat of the same event within this time (a client hammering one URL) is not recorded again. */
const REPEAT_MS = 1000;

export class BootLog {
  private readonly events: WriteBehind<BootEvent>;
  private readonly machines: WriteBehind<DiscoveredMachine & { at: number }>;

  constructor(
    private readonly db: Db,
    onError: (error: unknown) => void = () => {},
  ) {
    this.events = new WriteBehind((items) => this.writeEvents(items), 100, onError);
    this.machines = new WriteBehind((items) => this.writeMachines(items), 100, onError);
  }

  /** When each distinct event was last written, to drop a client's rapid repeats. */
  private lastWritten = new Map<string, number>();

  record(event: Omit<BootEvent, "at">): void {
    const at = Date.now();
    const key = `${event.node ?? ""} ${event.mac ?? ""} ${event.kind} ${event.detail}`;
    const last = this.lastWritten.get(key);
    if (last !== undefined && at - last < REPEAT_MS) return;
    if (this.lastWritten.size >= 100_000) this.lastWritten.clear();
    this.lastWritten.set(key, at);
    this.events.push({ ...event, at });
  }

  discovered(machine: DiscoveredMachine): void {
    this.machines.push({ ...machine, at: Date.now() });
  }

  flush(): void {
    this.events.flush();
    this.machines.flush();
  }

  /** A node's events, oldest first. */
  forNode(node: string, limit = 200): BootEvent[] {
    this.flush();
    const rows = this.db.select().from(bootEvents).where(eq(bootEvents.node, node)).orderBy(desc(bootEvents.id)).limit(limit).all();
    return rows.reverse().map(toEvent);
  }

  /** The newest event of each node named. */
  latest(nodes: readonly string[]): Map<string, BootEvent> {
    this.flush();
    const out = new Map<string, BootEvent>();
    for (let i = 0; i < nodes.length; i += 500) {
      const chunk = nodes.slice(i, i + 500);
      const newest = this.db
        .select({ id: sql<number>`max(${bootEvents.id})` })
        .from(bootEvents)
        .where(inArray(bootEvents.node, chunk))
        .groupBy(bootEvents.node);
      const rows = this.db.select().from(bootEvents).where(inArray(bootEvents.id, newest)).all();
      for (const row of rows) out.set(row.node!, toEvent(row));
    }
    return out;
  }

  listDiscovered(): Array<DiscoveredMachine & { firstSeen: number; lastSeen: number }> {
    this.flush();
    return this.db
      .select()
      .from(discovered)
      .orderBy(discovered.mac)
      .all()
      .map((r) => ({ ...r, arch: r.arch ?? undefined, uuid: r.uuid ?? undefined, vendorClass: r.vendorClass ?? undefined, ip: r.ip ?? undefined, interface: r.interface ?? undefined }));
  }

  close(): void {
    this.flush();
  }

  // Hot path: statements prepared once (drizzle re-prepares its SQL each time), and a node's old events pruned once per
  // PRUNE_EVERY new ones rather than on every flush.
  private insertEvent?: Statement;
  private pruneNode?: Statement;
  private sincePrune = new Map<string, number>();

  private writeEvents(items: BootEvent[]): void {
    const sqlite = this.db.$client;
    const insert = (this.insertEvent ??= sqlite.prepare("INSERT INTO boot_events (node, mac, kind, detail, at) VALUES (?, ?, ?, ?, ?)"));
    const prune = (this.pruneNode ??= sqlite.prepare(
      "DELETE FROM boot_events WHERE node = ?1 AND id <= (SELECT id FROM boot_events WHERE node = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
    ));
    atomically(this.db, () => {
      for (const e of items) insert.run(e.node ?? null, e.mac ?? null, e.kind, e.detail, e.at);
      const counts = new Map<string, number>();
      for (const e of items) if (e.node) counts.set(e.node, (counts.get(e.node) ?? 0) + 1);
      for (const [node, n] of counts) {
        // Unknown since start: prune on first sight, then every PRUNE_EVERY events.
        const since = (this.sincePrune.get(node) ?? PRUNE_EVERY) + n;
        if (since >= PRUNE_EVERY) {
          prune.run(node, KEEP_PER_NODE);
          this.sincePrune.set(node, 0);
        } else this.sincePrune.set(node, since);
      }
    });
  }

  private upsertMachine?: Statement;

  private writeMachines(items: Array<DiscoveredMachine & { at: number }>): void {
    // Prepared once, like the events: drizzle built and prepared this upsert per row, ~0.2 ms per unknown DISCOVER.
    const upsert = (this.upsertMachine ??= this.db.$client.prepare(
      `INSERT INTO discovered (mac, arch, uuid, vendor_class, ip, interface, first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
       ON CONFLICT (mac) DO UPDATE SET last_seen = excluded.last_seen, arch = coalesce(excluded.arch, arch), uuid = coalesce(excluded.uuid, uuid),
         vendor_class = coalesce(excluded.vendor_class, vendor_class), ip = coalesce(excluded.ip, ip), interface = coalesce(excluded.interface, interface)`,
    ));
    atomically(this.db, () => {
      for (const m of items) upsert.run(m.mac, m.arch ?? null, m.uuid ?? null, m.vendorClass ?? null, m.ip ?? null, m.interface ?? null, m.at);
    });
  }
}

function toEvent(row: typeof bootEvents.$inferSelect): BootEvent {
  return { node: row.node ?? undefined, mac: row.mac ?? undefined, kind: row.kind, detail: row.detail, at: row.at };
}
