import { Database } from "bun:sqlite";
import { drizzle, type BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import { migrations } from "../../migrations/index.ts";
import { applyMigrations } from "./migrate.ts";
import * as schema from "./schema.ts";

export type Db = BunSQLiteDatabase<typeof schema> & { $client: Database };

/** Opens (creating if needed) the provd database at `path` (":memory:" for tests) and brings its schema up to date. */
export function openDatabase(path: string): Db {
  const sqlite = new Database(path, { create: true, strict: true });
  sqlite.run("PRAGMA journal_mode = WAL");
  sqlite.run("PRAGMA synchronous = NORMAL");
  sqlite.run("PRAGMA foreign_keys = ON");
  sqlite.run("PRAGMA busy_timeout = 5000");
  applyMigrations(sqlite, migrations);
  return drizzle(sqlite, { schema }) as Db;
}

/** Runs `fn` in a transaction; nested calls become savepoints, so services can compose their writes. */
export function atomically<T>(db: Db, fn: () => T): T {
  return db.$client.transaction(fn)();
}
