import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { Lease } from "../../server/dhcp/backend.ts";
import { LeaseTable } from "../../server/dhcp/leases.ts";
import { createSqliteLeaseStore } from "../../server/db/lease-store.ts";
import { openDatabase } from "../../server/db/open.ts";

const dir = mkdtempSync(join(tmpdir(), "provd-leases-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function open(options: { flushMs?: number } = {}) {
  const path = join(dir, `leases-${n++}.db`);
  const db = openDatabase(path);
  return { path, db, store: createSqliteLeaseStore(db, options) };
}

const lease = (clientKey: string, ip: string, state: Lease["state"] = "bound"): Lease => ({ clientKey, mac: clientKey, ip, state, expiresAt: 5_000 });
const count = (db: ReturnType<typeof openDatabase>) => db.$client.query<{ n: number }, []>("SELECT count(*) AS n FROM leases").get()!.n;

describe("SQLite lease store", () => {
  test("batches writes, coalescing repeated saves of one lease, and commits on flush", () => {
    const { db, store } = open({ flushMs: 10_000 });
    const l = lease("a", "10.0.0.1", "offered");
    store.save(l);
    l.state = "bound";
    store.save(l);
    store.save(lease("b", "10.0.0.2"));
    expect(store.pending).toBe(2);
    expect(count(db)).toBe(0);
    store.flush();
    expect(count(db)).toBe(2);
    expect(store.loadAll().find((x) => x.clientKey === "a")).toEqual({ clientKey: "a", mac: "a", ip: "10.0.0.1", state: "bound", expiresAt: 5_000 });
    store.close();
  });

  test("commits by itself within about 50 ms", async () => {
    const { db, store } = open();
    store.save(lease("a", "10.0.0.1"));
    await new Promise((r) => setTimeout(r, 120));
    expect(count(db)).toBe(1);
    store.close();
  });

  test("an address moving to another client replaces the old row (ip is unique); removes delete", () => {
    const { db, store } = open({ flushMs: 10_000 });
    store.save({ ...lease("a", "10.0.0.1"), network: "boot", node: "n1", hostname: "n1" });
    store.flush();
    store.save(lease("b", "10.0.0.1"));
    store.save(lease("c", "10.0.0.3"));
    store.remove("c");
    store.flush();
    expect(store.loadAll().map((l) => l.clientKey)).toEqual(["b"]);
    expect(count(db)).toBe(1);
    store.close();
  });

  test("close flushes; leases survive a reopen and warm a new lease table", () => {
    const first = open({ flushMs: 10_000 });
    const table = new LeaseTable(first.store, { now: () => 1000 });
    for (const [i, key] of ["m1", "m2", "m3"].entries()) table.bind(key, `10.0.0.${10 + i}`, { mac: key, network: "boot" }, 60_000);
    first.store.close();
    first.db.$client.close();

    const db = openDatabase(first.path);
    const again = new LeaseTable(createSqliteLeaseStore(db), { now: () => 2000 });
    expect(again.forClient("m3")).toMatchObject({ ip: "10.0.0.12", state: "bound", network: "boot", expiresAt: 61_000 });
    expect(again.allocate("m3", { start: "10.0.0.10", end: "10.0.0.20" }, () => false)).toBe("10.0.0.12");
    db.$client.close();
  });

  test("10,000 lease writes commit in one batch quickly", () => {
    const { store, db } = open({ flushMs: 10_000 });
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) store.save(lease(`k${i}`, `10.1.${i >> 8}.${i & 0xff}`));
    store.flush();
    expect(count(db)).toBe(10_000);
    expect(performance.now() - started).toBeLessThan(1000);
    store.close();
  });
});
