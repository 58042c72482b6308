// Every migration drizzle-kit wrote, embedded so the compiled binary needs no files beside it.
// After `bun run db:generate`, add the new file here (test/unit/migrations.test.ts checks the journal).
import init from "./0000_init.sql" with { type: "text" };
import boot from "./0001_boot.sql" with { type: "text" };
import tasks from "./0002_tasks.sql" with { type: "text" };
import images from "./0003_images.sql" with { type: "text" };

export const migrations: ReadonlyArray<{ tag: string; sql: string }> = [
  { tag: "0000_init", sql: init },
  { tag: "0001_boot", sql: boot },
  { tag: "0002_tasks", sql: tasks },
  { tag: "0003_images", sql: images },
];
