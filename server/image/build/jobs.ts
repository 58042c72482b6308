// Build jobs: queued → building → packing → validating → success | error | cancelled, one at a time,
// stored in SQLite with a log file each and live listeners for clients that follow them.
import { desc, eq, inArray } from "drizzle-orm";
import { appendFileSync, mkdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../../db/open.ts";
import { buildJobs } from "../../db/schema.ts";
import { UserError } from "../../core/errors.ts";
import type { JobState } from "./pipeline.ts";
import { removeTree } from "./scratch.ts";

export interface JobRequest {
  osimage: string;
  kind: "build" | "customize" | "pack";
  force?: boolean;
  /** customize: the version to start from (id or alias) and the command to run inside it. */
  base?: string;
  command?: string[];
  promote?: boolean;
  /** customize with a shell for `provctl customize --shell` instead of a command. */
  interactive?: boolean;
  /** pack: how to pack the base version's root (unset fields keep the base's). */
  pack?: { format?: "squashfs" | "cpio"; compression?: "zstd" | "xz" | "gzip"; level?: number };
}

export interface Job {
  id: number;
  osimage: string;
  kind: JobRequest["kind"];
  state: JobState;
  stage: string;
  /** Rough share of the work done, from the stage reached (0–100). */
  progress: number;
  request: JobRequest;
  version?: string;
  error?: string;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
}

export type JobEvent = { type: "log"; line: string } | { type: "state"; job: Job };

export interface JobContext {
  job: Job;
  workDir: string;
  log: (line: string) => void;
  stage: (state: JobState, stage: string) => void;
  signal: AbortSignal;
}

export type JobRunner = (ctx: JobContext) => Promise<{ version: string; summary: string }>;

const FINAL: ReadonlySet<JobState> = new Set(["success", "error", "cancelled"]);
const STAGES = ["resolve", "bootstrap", "synclist", "postinstall", "exlist", "unpack", "command", "boot files", "squashfs", "cpio", "checksums", "tests"];

export class BuildJobs {
  private readonly listeners = new Map<number, Set<(e: JobEvent) => void>>();
  private readonly running = new Map<number, AbortController>();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly dir: string,
    private readonly run: JobRunner,
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    mkdirSync(join(dir, "logs"), { recursive: true });
    // A job not finished in the database belonged to a server that stopped: it ends as an error, never stuck.
    const stale = this.db.select().from(buildJobs).where(inArray(buildJobs.state, ["queued", "building", "packing", "validating"])).all();
    for (const row of stale) {
      this.db.update(buildJobs).set({ state: "error", error: "the server stopped while this job ran; start it again", finishedAt: Date.now() }).where(eq(buildJobs.id, row.id)).run();
      removeTree(this.workDir(row.id));
    }
  }

  submit(request: JobRequest): Job {
    const row = this.db
      .insert(buildJobs)
      .values({ osimage: request.osimage, kind: request.kind, state: "queued", stage: "waiting", request: request as unknown as Record<string, unknown>, createdAt: Date.now() })
      .returning()
      .get();
    const job = this.get(row.id)!;
    this.log(job.id, `job ${job.id}: ${request.kind} ${request.osimage}${request.force ? " (forced)" : ""} queued`);
    this.queue = this.queue.then(() => this.execute(job.id)).catch(this.onError);
    return job;
  }

  get(id: number): Job | undefined {
    const row = this.db.select().from(buildJobs).where(eq(buildJobs.id, id)).get();
    return row && toJob(row);
  }

  list(limit = 50): Job[] {
    return this.db.select().from(buildJobs).orderBy(desc(buildJobs.id)).limit(limit).all().map(toJob);
  }

  cancel(id: number): Job {
    const job = this.get(id);
    if (!job) throw new UserError(`no job ${id}`, 404);
    if (FINAL.has(job.state)) throw new UserError(`job ${id} already ended (${job.state})`, 409);
    if (job.state === "queued") this.finish(id, "cancelled", { error: "cancelled before it started" });
    else this.running.get(id)?.abort(new UserError("cancelled"));
    return this.get(id)!;
  }

  logText(id: number, offset = 0): string {
    const path = this.logPath(id);
    return existsSync(path) ? readFileSync(path, "utf8").slice(offset) : "";
  }

  /** Live events of a job; returns the unsubscribe function. Nothing arrives for a job that already ended. */
  subscribe(id: number, listener: (e: JobEvent) => void): () => void {
    const set = this.listeners.get(id) ?? new Set();
    set.add(listener);
    this.listeners.set(id, set);
    return () => set.delete(listener);
  }

  isFinal(job: Job): boolean {
    return FINAL.has(job.state);
  }

  /** Resolves when every queued and running job has ended (tests, shutdown). */
  idle(): Promise<void> {
    return this.queue;
  }

  private async execute(id: number): Promise<void> {
    const queued = this.get(id);
    if (!queued || queued.state !== "queued") return;
    const abort = new AbortController();
    this.running.set(id, abort);
    this.update(id, { state: "building", stage: "starting", startedAt: Date.now() });
    const workDir = this.workDir(id);
    const started = performance.now();
    try {
      const result = await this.run({
        job: this.get(id)!,
        workDir,
        log: (line) => this.log(id, line),
        stage: (state, stage) => {
          if (!abort.signal.aborted) this.update(id, { state, stage });
        },
        signal: abort.signal,
      });
      this.log(id, `${result.summary} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
      this.finish(id, "success", { version: result.version });
    } catch (e) {
      const cancelled = abort.signal.aborted;
      const message = (e as Error).message ?? String(e);
      this.log(id, cancelled ? "cancelled" : `error: ${message}`);
      if (!(e instanceof UserError) && !cancelled) this.onError(e);
      this.finish(id, cancelled ? "cancelled" : "error", { error: cancelled ? "cancelled" : message });
    } finally {
      this.running.delete(id);
      removeTree(workDir, (line) => this.log(id, line));
    }
  }

  private workDir(id: number): string {
    return join(this.dir, "work", `job-${id}`);
  }

  private logPath(id: number): string {
    return join(this.dir, "logs", `job-${id}.log`);
  }

  private log(id: number, line: string): void {
    appendFileSync(this.logPath(id), `${line}\n`);
    for (const l of this.listeners.get(id) ?? []) l({ type: "log", line });
  }

  private update(id: number, set: Partial<typeof buildJobs.$inferInsert>): void {
    this.db.update(buildJobs).set(set).where(eq(buildJobs.id, id)).run();
    const job = this.get(id)!;
    for (const l of this.listeners.get(id) ?? []) l({ type: "state", job });
  }

  private finish(id: number, state: JobState, extra: { version?: string; error?: string }): void {
    this.update(id, { state, stage: state, finishedAt: Date.now(), ...extra });
    this.listeners.delete(id);
  }
}

function toJob(row: typeof buildJobs.$inferSelect): Job {
  const state = row.state as JobState;
  const stageIndex = STAGES.indexOf(row.stage);
  const progress = state === "success" ? 100 : state === "queued" ? 0 : stageIndex < 0 ? 1 : Math.round(((stageIndex + 1) / (STAGES.length + 1)) * 100);
  return {
    id: row.id,
    osimage: row.osimage,
    kind: row.kind as Job["kind"],
    state,
    stage: row.stage,
    progress,
    request: row.request as unknown as JobRequest,
    version: row.version ?? undefined,
    error: row.error ?? undefined,
    createdAt: row.createdAt,
    startedAt: row.startedAt ?? undefined,
    finishedAt: row.finishedAt ?? undefined,
  };
}
