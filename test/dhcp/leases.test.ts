import { describe, expect, test } from "vitest";
import { LeaseTable, inRange } from "../../server/dhcp/leases.ts";
import { TransactionCache } from "../../server/dhcp/transactions.ts";
import { MemoryLeaseStore } from "./fixtures/directory.ts";

const RANGE = { start: "10.0.0.10", end: "10.0.0.14" };
const none = () => false;

function table(store = new MemoryLeaseStore()) {
  const clock = { now: 1_000_000 };
  return { clock, store, leases: new LeaseTable(store, { now: () => clock.now, offerHoldMs: 60_000, declineHoldMs: 600_000 }) };
}

describe("LeaseTable", () => {
  test("allocates round robin, skipping reserved, held and declined addresses", () => {
    const { leases } = table();
    const reserved = (ip: string) => ip === "10.0.0.11";
    const a = leases.allocate("a", RANGE, reserved)!;
    leases.offer("a", a, { mac: "a" });
    const b = leases.allocate("b", RANGE, reserved)!;
    leases.bind("b", b, { mac: "b" }, 3600_000);
    leases.decline("b", b, "b");
    const c = leases.allocate("c", RANGE, reserved)!;
    expect([a, b, c]).toEqual(["10.0.0.10", "10.0.0.12", "10.0.0.13"]);
    leases.offer("c", c, { mac: "c" });
    expect(leases.allocate("d", RANGE, reserved)).toBe("10.0.0.14");
    leases.offer("d", "10.0.0.14", { mac: "d" });
    expect(leases.allocate("e", RANGE, reserved)).toBeUndefined();
  });

  test("a client gets its previous address back, even after it expired, unless someone else took it", () => {
    const { leases, clock } = table();
    leases.bind("a", "10.0.0.12", { mac: "a" }, 1000);
    clock.now += 10_000;
    expect(leases.allocate("a", RANGE, none)).toBe("10.0.0.12");
    leases.offer("b", "10.0.0.12", { mac: "b" }); // expired, so b may take it
    expect(leases.forClient("a")).toBeUndefined();
    expect(leases.allocate("a", RANGE, none)).toBe("10.0.0.10");
  });

  test("the client's requested address is used when it is free and in range", () => {
    const { leases } = table();
    expect(leases.allocate("a", RANGE, none, "10.0.0.13")).toBe("10.0.0.13");
    expect(leases.allocate("a", RANGE, none, "10.0.0.99")).toBe("10.0.0.10");
  });

  test("an offer does not downgrade an unexpired binding to the same address", () => {
    const { leases } = table();
    leases.bind("a", "10.0.0.10", { mac: "a" }, 3600_000);
    leases.offer("a", "10.0.0.10", { mac: "a" });
    expect(leases.forClient("a")).toMatchObject({ state: "bound" });
  });

  test("expired offers free the address; withdrawn offers free it at once", () => {
    const { leases, clock } = table();
    leases.offer("a", "10.0.0.10", { mac: "a" });
    expect(leases.isFreeFor("10.0.0.10", "b")).toBe(false);
    clock.now += 61_000;
    expect(leases.isFreeFor("10.0.0.10", "b")).toBe(true);
    leases.offer("c", "10.0.0.11", { mac: "c" });
    leases.withdrawOffer("c");
    expect(leases.isFreeFor("10.0.0.11", "b")).toBe(true);
  });

  test("persists bindings, releases and declines, not offers; moving an address removes the old row", () => {
    const { leases, store, clock } = table();
    leases.offer("a", "10.0.0.10", { mac: "a" });
    expect(store.saves).toBe(0);
    leases.bind("a", "10.0.0.10", { mac: "a", node: "n1", hostname: "n1", network: "net" }, 1000);
    expect(store.rows.get("a")).toMatchObject({ ip: "10.0.0.10", state: "bound", node: "n1", network: "net" });
    clock.now += 5000;
    leases.bind("b", "10.0.0.10", { mac: "b" }, 1000);
    expect(store.rows.has("a")).toBe(false);
    leases.release("b", "10.0.0.10");
    expect(store.rows.get("b")).toMatchObject({ state: "released" });
  });

  test("warms up from the store", () => {
    const store = new MemoryLeaseStore([
      { clientKey: "a", mac: "a", ip: "10.0.0.12", state: "bound", expiresAt: 9_999_999 },
      { clientKey: "declined:10.0.0.10", mac: "x", ip: "10.0.0.10", state: "declined", expiresAt: 9_999_999 },
    ]);
    const { leases } = table(store);
    expect(leases.size).toBe(2);
    expect(leases.allocate("a", RANGE, none)).toBe("10.0.0.12");
    expect(leases.allocate("b", RANGE, none)).toBe("10.0.0.11");
    expect(leases.activeAddress("a")).toBe("10.0.0.12");
  });

  test("inRange", () => {
    expect(inRange("10.0.0.14", RANGE)).toBe(true);
    expect(inRange("10.0.0.15", RANGE)).toBe(false);
    expect(inRange("10.0.0.12", undefined)).toBe(false);
  });
});

describe("TransactionCache", () => {
  test("keyed on client and xid and scope; expires; a new xid replaces the client's entry", () => {
    const clock = { now: 0 };
    const cache = new TransactionCache<string>({ ttlMs: 1000, now: () => clock.now });
    cache.set("a", 1, "eth0", "offer-a");
    cache.set("b", 1, "eth0", "offer-b");
    expect([cache.get("a", 1, "eth0"), cache.get("b", 1, "eth0"), cache.get("a", 2, "eth0"), cache.get("a", 1, "eth1")]).toEqual([
      "offer-a",
      "offer-b",
      undefined,
      undefined,
    ]);
    cache.set("a", 2, "eth0", "offer-a2");
    expect(cache.get("a", 1, "eth0")).toBeUndefined();
    clock.now = 1001;
    expect(cache.get("b", 1, "eth0")).toBeUndefined();
    cache.forget("a");
    expect(cache.get("a", 2, "eth0")).toBeUndefined();
  });

  test("stays bounded", () => {
    const cache = new TransactionCache<number>({ maxEntries: 100, now: () => 0 });
    for (let i = 0; i < 1000; i++) cache.set(`c${i}`, i, "s", i);
    expect(cache.size).toBe(100);
    expect(cache.get("c999", 999, "s")).toBe(999);
  });
});
