// Power tasks and their per-node results in SQLite, with live listeners for results still coming in.
import { asc, desc, eq, lt } from "drizzle-orm";
import type { Db } from "../db/open.ts";
import { taskResults, tasks } from "../db/schema.ts";

export interface TaskResult {
  node: string;
  ok: boolean;
  message: string;
  at: number;
}

export interface Task {
  id: number;
  command: string;
  nodeCount: number;
  state: "running" | "done" | "interrupted";
  createdAt: number;
  finishedAt?: number;
  results: TaskResult[];
}

type Listener = { result(r: TaskResult): void; done(): void };

const KEEP_TASKS = 1000;

export class TaskStore {
  private readonly listeners = new Map<number, Set<Listener>>();

  constructor(private readonly db: Db) {
    // A task still "running" in the database belongs to a server that died.
    this.db.update(tasks).set({ state: "interrupted", finishedAt: Date.now() }).where(eq(tasks.state, "running")).run();
  }

  create(command: string, nodeCount: number): number {
    const row = this.db.insert(tasks).values({ command, nodeCount, state: "running", createdAt: Date.now() }).returning({ id: tasks.id }).get();
    const old = this.db.select({ id: tasks.id }).from(tasks).orderBy(desc(tasks.id)).limit(1).offset(KEEP_TASKS).get();
    if (old) this.db.delete(tasks).where(lt(tasks.id, old.id + 1)).run();
    return row.id;
  }

  addResult(taskId: number, result: Omit<TaskResult, "at">): void {
    const full = { ...result, at: Date.now() };
    this.db.insert(taskResults).values({ taskId, ...full }).onConflictDoNothing().run();
    for (const l of this.listeners.get(taskId) ?? []) l.result(full);
  }

  finish(taskId: number): void {
    this.db.update(tasks).set({ state: "done", finishedAt: Date.now() }).where(eq(tasks.id, taskId)).run();
    for (const l of this.listeners.get(taskId) ?? []) l.done();
    this.listeners.delete(taskId);
  }

  get(taskId: number): Task | undefined {
    const row = this.db.select().from(tasks).where(eq(tasks.id, taskId)).get();
    if (!row) return undefined;
    const results = this.db.select().from(taskResults).where(eq(taskResults.taskId, taskId)).orderBy(asc(taskResults.at)).all();
    return {
      id: row.id,
      command: row.command,
      nodeCount: row.nodeCount,
      state: row.state as Task["state"],
      createdAt: row.createdAt,
      finishedAt: row.finishedAt ?? undefined,
      results: results.map(({ node, ok, message, at }) => ({ node, ok, message, at })),
    };
  }

  /** Calls `listener` for results from now on, until the task is done; returns the unsubscribe function. */
  listen(taskId: number, listener: Listener): () => void {
    const set = this.listeners.get(taskId) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(taskId, set);
    return () => set.delete(listener);
  }
}
