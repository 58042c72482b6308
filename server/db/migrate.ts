import type { Database } from "bun:sqlite";

export interface Migration {
  tag: string;
  sql: string;
}

/** Applies, in order and each in its own transaction, the migrations this database has not seen. Returns the tags applied. */
export function applyMigrations(sqlite: Database, migrations: ReadonlyArray<Migration>): string[] {
  sqlite.run("CREATE TABLE IF NOT EXISTS __provd_migrations (tag TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)");
  const applied = new Set(
    sqlite.query<{ tag: string }, []>("SELECT tag FROM __provd_migrations").all().map((row) => row.tag),
  );
  const known = new Set(migrations.map((m) => m.tag));
  const unknown = [...applied].filter((tag) => !known.has(tag));
  if (unknown.length > 0) {
    throw new Error(
      `the database was migrated by a newer provd (unknown migrations: ${unknown.join(", ")}); run that version or restore a backup`,
    );
  }
  const done: string[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.tag)) continue;
    sqlite.transaction(() => {
      for (const statement of migration.sql.split("--> statement-breakpoint")) {
        if (statement.trim()) sqlite.run(statement);
      }
      sqlite.run("INSERT INTO __provd_migrations (tag, applied_at) VALUES (?, ?)", [migration.tag, Date.now()]);
    })();
    done.push(migration.tag);
  }
  return done;
}
