import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { migrations } from "../../migrations/index.ts";
import { openDatabase } from "../../server/db/open.ts";

describe("embedded migrations", () => {
  test("every migration drizzle-kit journaled is embedded, in order", () => {
    const journal = JSON.parse(readFileSync("migrations/meta/_journal.json", "utf8")) as { entries: Array<{ tag: string }> };
    expect(migrations.map((m) => m.tag)).toEqual(journal.entries.map((e) => e.tag));
    for (const m of migrations) expect(m.sql).toBe(readFileSync(`migrations/${m.tag}.sql`, "utf8"));
  });

  test("apply once, then are recognised as applied", () => {
    const db = openDatabase(":memory:");
    const tables = db.$client.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").all();
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(["nodes", "groups", "osimages", "networks", "node_macs", "node_groups", "api_tokens"]));
    const applied = db.$client.query<{ n: number }, []>("SELECT count(*) AS n FROM __provd_migrations").get();
    expect(applied?.n).toBe(migrations.length);
  });
});
