import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import { UserError } from "../../../server/core/errors.ts";
import type { Db } from "../../../server/db/open.ts";
import { buildJobs } from "../../../server/db/schema.ts";
import { BuildJobs, type JobContext, type JobEvent, type JobRunner } from "../../../server/image/build/jobs.ts";
import { freshDb, tempDir } from "./helpers.ts";

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Resolves once `check` holds, polling the event loop (the job queue runs on microtasks and timers). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A runner that records what it was asked, writes into its work dir, and succeeds with version "v<id>". */
function recordingRunner() {
  const calls: JobContext[] = [];
  const run: JobRunner = async (ctx) => {
    calls.push(ctx);
    mkdirSync(ctx.workDir, { recursive: true });
    writeFileSync(join(ctx.workDir, "root.img"), "scratch");
    ctx.stage("building", "bootstrap");
    ctx.log("bootstrapping");
    ctx.stage("packing", "squashfs");
    ctx.log("packing");
    return { version: `v${ctx.job.id}`, summary: `built ${ctx.job.osimage}` };
  };
  return { calls, run };
}

describe("BuildJobs", () => {
  let db: Db;
  let dir: string;
  let errors: unknown[];

  beforeEach(() => {
    db = freshDb().db;
    dir = tempDir("provd-jobs-");
    errors = [];
  });

  const jobsWith = (run: JobRunner) => new BuildJobs(db, dir, run, (e) => errors.push(e));

  test("queued → building → success, with the version recorded", async () => {
    const { calls, run } = recordingRunner();
    const jobs = jobsWith(run);
    const job = jobs.submit({ osimage: "compute", kind: "build", force: true });
    expect(job).toMatchObject({ id: 1, osimage: "compute", kind: "build", state: "queued", stage: "waiting", progress: 0, request: { osimage: "compute", kind: "build", force: true } });
    expect(job.startedAt).toBeUndefined();
    await jobs.idle();
    const done = jobs.get(job.id)!;
    expect(done).toMatchObject({ state: "success", stage: "success", progress: 100, version: "v1" });
    expect(done.error).toBeUndefined();
    expect(done.startedAt).toBeGreaterThanOrEqual(done.createdAt);
    expect(done.finishedAt).toBeGreaterThanOrEqual(done.startedAt!);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.job).toMatchObject({ id: 1, state: "building", stage: "starting" });
    expect(calls[0]!.workDir).toBe(join(dir, "work", "job-1"));
    expect(errors).toEqual([]);
  });

  test("stages move the job through building and packing with growing progress", async () => {
    const seen: { state: string; stage: string; progress: number }[] = [];
    const gate = deferred();
    const jobs = jobsWith(async (ctx) => {
      ctx.stage("building", "bootstrap");
      seen.push(pick(jobs.get(ctx.job.id)!));
      ctx.stage("packing", "squashfs");
      seen.push(pick(jobs.get(ctx.job.id)!));
      ctx.stage("validating", "tests");
      seen.push(pick(jobs.get(ctx.job.id)!));
      await gate.promise;
      return { version: "v", summary: "ok" };
    });
    const pick = (j: { state: string; stage: string; progress: number }) => ({ state: j.state, stage: j.stage, progress: j.progress });
    const { id } = jobs.submit({ osimage: "compute", kind: "build" });
    await until(() => seen.length === 3, "three stages");
    expect(seen.map((s) => [s.state, s.stage])).toEqual([
      ["building", "bootstrap"],
      ["packing", "squashfs"],
      ["validating", "tests"],
    ]);
    expect(seen[0]!.progress).toBeGreaterThan(0);
    expect(seen[1]!.progress).toBeGreaterThan(seen[0]!.progress);
    expect(seen[2]!.progress).toBeGreaterThan(seen[1]!.progress);
    expect(seen[2]!.progress).toBeLessThan(100);
    gate.resolve();
    await jobs.idle();
    expect(jobs.get(id)!.state).toBe("success");
  });

  test("a runner that throws a UserError ends the job as error with its message", async () => {
    const jobs = jobsWith(async () => {
      throw new UserError("compute/compute.pkglist:3: no package 'vmi'");
    });
    const { id } = jobs.submit({ osimage: "compute", kind: "build" });
    await jobs.idle();
    expect(jobs.get(id)).toMatchObject({ state: "error", stage: "error", error: "compute/compute.pkglist:3: no package 'vmi'" });
    expect(jobs.get(id)!.version).toBeUndefined();
    expect(jobs.logText(id)).toContain("error: compute/compute.pkglist:3: no package 'vmi'\n");
    // A user's mistake is not a server fault.
    expect(errors).toEqual([]);
  });

  test("an unexpected error ends the job as error and is reported to onError", async () => {
    const boom = new TypeError("undefined is not a function");
    const jobs = jobsWith(async () => {
      throw boom;
    });
    const { id } = jobs.submit({ osimage: "compute", kind: "build" });
    await jobs.idle();
    expect(jobs.get(id)).toMatchObject({ state: "error", error: "undefined is not a function" });
    expect(errors).toEqual([boom]);
  });

  test("a failed job does not stop the next one", async () => {
    const jobs = jobsWith(async (ctx) => {
      if (ctx.job.id === 1) throw new UserError("first fails");
      return { version: "v2", summary: "ok" };
    });
    jobs.submit({ osimage: "a", kind: "build" });
    jobs.submit({ osimage: "b", kind: "build" });
    await jobs.idle();
    expect(jobs.get(1)!.state).toBe("error");
    expect(jobs.get(2)).toMatchObject({ state: "success", version: "v2" });
  });

  test("cancelling a queued job ends it as cancelled; it never runs", async () => {
    const gate = deferred();
    const ran: number[] = [];
    const jobs = jobsWith(async (ctx) => {
      ran.push(ctx.job.id);
      await gate.promise;
      return { version: `v${ctx.job.id}`, summary: "ok" };
    });
    const first = jobs.submit({ osimage: "a", kind: "build" });
    const second = jobs.submit({ osimage: "b", kind: "build" });
    await until(() => ran.length === 1, "the first job to start");
    const cancelled = jobs.cancel(second.id);
    expect(cancelled).toMatchObject({ state: "cancelled", error: "cancelled before it started" });
    expect(cancelled.finishedAt).toBeDefined();
    gate.resolve();
    await jobs.idle();
    expect(ran).toEqual([first.id]);
    expect(jobs.get(first.id)!.state).toBe("success");
    expect(jobs.get(second.id)!.state).toBe("cancelled");
    expect(jobs.get(second.id)!.startedAt).toBeUndefined();
  });

  test("cancelling a running job aborts its signal and ends it as cancelled", async () => {
    let signal: AbortSignal | undefined;
    const jobs = jobsWith(async (ctx) => {
      signal = ctx.signal;
      ctx.stage("building", "bootstrap");
      await new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
      throw new Error("unreachable");
    });
    const { id } = jobs.submit({ osimage: "compute", kind: "build" });
    await until(() => signal !== undefined, "the job to start");
    expect(signal!.aborted).toBe(false);
    jobs.cancel(id);
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toBeInstanceOf(UserError);
    await jobs.idle();
    expect(jobs.get(id)).toMatchObject({ state: "cancelled", stage: "cancelled", error: "cancelled" });
    expect(jobs.logText(id)).toMatch(/\ncancelled\n$/);
    expect(errors).toEqual([]);
  });

  test("a runner that ignores the abort and fails with its own error still ends as cancelled; later stages are ignored", async () => {
    let signal: AbortSignal | undefined;
    const release = deferred();
    const jobs = jobsWith(async (ctx) => {
      signal = ctx.signal;
      await release.promise;
      ctx.stage("packing", "squashfs");
      throw new Error("mksquashfs killed by signal 15");
    });
    const { id } = jobs.submit({ osimage: "compute", kind: "build" });
    const states: string[] = [];
    jobs.subscribe(id, (e) => e.type === "state" && states.push(`${e.job.state}/${e.job.stage}`));
    await until(() => signal !== undefined, "the job to start");
    jobs.cancel(id);
    release.resolve();
    await jobs.idle();
    expect(jobs.get(id)).toMatchObject({ state: "cancelled", error: "cancelled" });
    expect(states).toEqual(["building/starting", "cancelled/cancelled"]);
    expect(jobs.logText(id)).not.toContain("mksquashfs");
    expect(errors).toEqual([]);
  });

  test("cancel of an unknown job is a 404, of an ended one a 409", async () => {
    const jobs = jobsWith(recordingRunner().run);
    expect(() => jobs.cancel(42)).toThrow(expect.objectContaining({ message: "no job 42", status: 404 }));
    const { id } = jobs.submit({ osimage: "compute", kind: "build" });
    await jobs.idle();
    expect(() => jobs.cancel(id)).toThrow(expect.objectContaining({ message: `job ${id} already ended (success)`, status: 409 }));
  });

  test("jobs run one at a time, in the order they were submitted", async () => {
    let active = 0;
    let maxActive = 0;
    const order: string[] = [];
    const jobs = jobsWith(async (ctx) => {
      active++;
      maxActive = Math.max(maxActive, active);
      order.push(`start ${ctx.job.osimage}`);
      await new Promise((r) => setTimeout(r, 5));
      order.push(`end ${ctx.job.osimage}`);
      active--;
      return { version: ctx.job.osimage, summary: "ok" };
    });
    for (const name of ["a", "b", "c"]) jobs.submit({ osimage: name, kind: "build" });
    // While the first runs, the others wait in the queue.
    await until(() => order.length === 1, "the first job to start");
    expect(jobs.list().map((j) => [j.osimage, j.state])).toEqual([
      ["c", "queued"],
      ["b", "queued"],
      ["a", "building"],
    ]);
    await jobs.idle();
    expect(maxActive).toBe(1);
    expect(order).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
    expect(jobs.list().map((j) => j.state)).toEqual(["success", "success", "success"]);
  });

  test("list is newest first and honours the limit", async () => {
    const jobs = jobsWith(recordingRunner().run);
    for (const name of ["a", "b", "c"]) jobs.submit({ osimage: name, kind: "build" });
    await jobs.idle();
    expect(jobs.list().map((j) => j.id)).toEqual([3, 2, 1]);
    expect(jobs.list(2).map((j) => j.id)).toEqual([3, 2]);
    expect(jobs.get(99)).toBeUndefined();
  });

  test("subscribers receive log lines and state changes until the job ends", async () => {
    const events: JobEvent[] = [];
    const { run } = recordingRunner();
    const jobs = jobsWith(run);
    const { id } = jobs.submit({ osimage: "compute", kind: "build" });
    const stop = jobs.subscribe(id, (e) => events.push(e));
    await jobs.idle();
    const logs = events.filter((e) => e.type === "log").map((e) => (e as { line: string }).line);
    const states = events.filter((e) => e.type === "state").map((e) => (e as { job: { state: string; stage: string } }).job);
    expect(logs[0]).toBe("bootstrapping");
    expect(logs[1]).toBe("packing");
    expect(logs[2]).toMatch(/^built compute \(\d+\.\d s\)$/);
    expect(states.map((s) => `${s.state}/${s.stage}`)).toEqual(["building/starting", "building/bootstrap", "packing/squashfs", "success/success"]);
    // Events are in the order they happened: the success state comes after the summary line.
    expect(events.at(-1)).toMatchObject({ type: "state", job: { state: "success", version: "v1" } });
    stop();
  });

  test("an unsubscribed listener receives nothing more; other listeners still do", async () => {
    const gate = deferred();
    const jobs = jobsWith(async (ctx) => {
      ctx.log("one");
      await gate.promise;
      ctx.log("two");
      return { version: "v", summary: "ok" };
    });
    const { id } = jobs.submit({ osimage: "compute", kind: "build" });
    const a: JobEvent[] = [];
    const b: JobEvent[] = [];
    const stopA = jobs.subscribe(id, (e) => a.push(e));
    jobs.subscribe(id, (e) => b.push(e));
    await until(() => a.some((e) => e.type === "log" && e.line === "one"), "the first line");
    stopA();
    gate.resolve();
    await jobs.idle();
    expect(a.some((e) => e.type === "log" && e.line === "two")).toBe(false);
    expect(b.some((e) => e.type === "log" && e.line === "two")).toBe(true);
  });

  test("the log is written to a file and readable from an offset", async () => {
    const jobs = jobsWith(recordingRunner().run);
    const { id } = jobs.submit({ osimage: "compute", kind: "build", force: true });
    expect(jobs.logText(id)).toBe("job 1: build compute (forced) queued\n");
    await jobs.idle();
    const text = jobs.logText(id);
    expect(text).toMatch(/^job 1: build compute \(forced\) queued\nbootstrapping\npacking\nbuilt compute \(\d+\.\d s\)\n$/);
    expect(existsSync(join(dir, "logs", "job-1.log"))).toBe(true);
    const offset = "job 1: build compute (forced) queued\n".length;
    expect(jobs.logText(id, offset)).toBe(text.slice(offset));
    expect(jobs.logText(id, offset).startsWith("bootstrapping\n")).toBe(true);
    expect(jobs.logText(id, text.length)).toBe("");
    expect(jobs.logText(999)).toBe("");
  });

  test("the scratch work dir is removed after the job, on success and on error", async () => {
    const workDirs: string[] = [];
    const jobs = jobsWith(async (ctx) => {
      workDirs.push(ctx.workDir);
      mkdirSync(join(ctx.workDir, "root/etc"), { recursive: true });
      writeFileSync(join(ctx.workDir, "root/etc/hostname"), "x");
      expect(existsSync(join(ctx.workDir, "root/etc/hostname"))).toBe(true);
      if (ctx.job.id === 2) throw new UserError("failed");
      return { version: "v", summary: "ok" };
    });
    jobs.submit({ osimage: "a", kind: "build" });
    jobs.submit({ osimage: "b", kind: "build" });
    await jobs.idle();
    expect(workDirs).toEqual([join(dir, "work", "job-1"), join(dir, "work", "job-2")]);
    for (const w of workDirs) expect(existsSync(w)).toBe(false);
  });

  test("a new instance over the same database ends jobs left queued or running as errors", () => {
    const now = Date.now();
    const insert = (state: string, stage: string) =>
      db
        .insert(buildJobs)
        .values({ osimage: "compute", kind: "build", state, stage, request: { osimage: "compute", kind: "build" }, createdAt: now })
        .returning()
        .get().id;
    const ids = {
      queued: insert("queued", "waiting"),
      building: insert("building", "bootstrap"),
      packing: insert("packing", "squashfs"),
      validating: insert("validating", "tests"),
      success: insert("success", "success"),
      cancelled: insert("cancelled", "cancelled"),
    };
    const leftover = join(dir, "work", `job-${ids.building}`);
    mkdirSync(join(leftover, "root"), { recursive: true });
    const ran: number[] = [];
    const jobs = jobsWith(async (ctx) => {
      ran.push(ctx.job.id);
      return { version: "v", summary: "ok" };
    });
    for (const state of ["queued", "building", "packing", "validating"] as const) {
      const job = jobs.get(ids[state])!;
      expect(job.state).toBe("error");
      expect(job.error).toBe("the server stopped while this job ran; start it again");
      expect(job.finishedAt).toBeGreaterThanOrEqual(now);
    }
    expect(jobs.get(ids.success)!.state).toBe("success");
    expect(jobs.get(ids.cancelled)!.state).toBe("cancelled");
    expect(existsSync(leftover)).toBe(false);
    expect(ran).toEqual([]);
  });

  test("a second instance started while a job runs marks it as error and removes its scratch", async () => {
    const gate = deferred();
    let workDir = "";
    const first = jobsWith(async (ctx) => {
      workDir = ctx.workDir;
      mkdirSync(workDir, { recursive: true });
      await gate.promise;
      return { version: "v", summary: "ok" };
    });
    const { id } = first.submit({ osimage: "compute", kind: "build" });
    await until(() => workDir !== "", "the job to start");
    expect(first.get(id)!.state).toBe("building");
    const second = jobsWith(recordingRunner().run);
    expect(second.get(id)).toMatchObject({ state: "error", error: "the server stopped while this job ran; start it again" });
    expect(existsSync(workDir)).toBe(false);
    gate.resolve();
    await first.idle();
  });

  test("the logs folder is created by the constructor", () => {
    jobsWith(recordingRunner().run);
    expect(existsSync(join(dir, "logs"))).toBe(true);
  });

  test("isFinal tells ended jobs from live ones", async () => {
    const gate = deferred();
    const jobs = jobsWith(async () => {
      await gate.promise;
      return { version: "v", summary: "ok" };
    });
    const job = jobs.submit({ osimage: "compute", kind: "build" });
    expect(jobs.isFinal(job)).toBe(false);
    gate.resolve();
    await jobs.idle();
    expect(jobs.isFinal(jobs.get(job.id)!)).toBe(true);
  });
});
