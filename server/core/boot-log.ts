// Each node's boot timeline (DHCP, TFTP, script, kernel, initrd, rootfs) and the machines that asked to boot unknown.
import { and, desc, eq, inArray, lt, sql } from "drizzle-orm";
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

  record(event: Omit<BootEvent, "at">): void {
    this.events.push({ ...event, at: Date.now() });
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

  private writeEvents(items: BootEvent[]): void {
    atomically(this.db, () => {
      const tx = this.db;
      for (let i = 0; i < items.length; i += 500) {
        tx.insert(bootEvents)
          .values(items.slice(i, i + 500).map((e) => ({ node: e.node ?? null, mac: e.mac ?? null, kind: e.kind, detail: e.detail, at: e.at })))
          .run();
      }
      for (const node of new Set(items.flatMap((e) => (e.node ? [e.node] : [])))) {
        const cutoff = tx.select({ id: bootEvents.id }).from(bootEvents).where(eq(bootEvents.node, node)).orderBy(desc(bootEvents.id)).limit(1).offset(KEEP_PER_NODE).get();
        if (cutoff) tx.delete(bootEvents).where(and(eq(bootEvents.node, node), lt(bootEvents.id, cutoff.id + 1))).run();
      }
    });
  }

  private writeMachines(items: Array<DiscoveredMachine & { at: number }>): void {
    atomically(this.db, () => {
      const tx = this.db;
      for (const m of items) {
        const fields = { arch: m.arch ?? null, uuid: m.uuid ?? null, vendorClass: m.vendorClass ?? null, ip: m.ip ?? null, interface: m.interface ?? null, lastSeen: m.at };
        tx.insert(discovered)
          .values({ mac: m.mac, ...fields, firstSeen: m.at })
          .onConflictDoUpdate({
            target: discovered.mac,
            set: {
              lastSeen: m.at,
              arch: sql`coalesce(excluded.arch, ${discovered.arch})`,
              uuid: sql`coalesce(excluded.uuid, ${discovered.uuid})`,
              vendorClass: sql`coalesce(excluded.vendor_class, ${discovered.vendorClass})`,
              ip: sql`coalesce(excluded.ip, ${discovered.ip})`,
              interface: sql`coalesce(excluded.interface, ${discovered.interface})`,
            },
          })
          .run();
      }
    });
  }
}

function toEvent(row: typeof bootEvents.$inferSelect): BootEvent {
  return { node: row.node ?? undefined, mac: row.mac ?? undefined, kind: row.kind, detail: row.detail, at: row.at };
}
