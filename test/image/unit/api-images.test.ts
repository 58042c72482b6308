import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import { UserError } from "../../../server/core/errors.ts";
import { createLogger } from "../../../server/core/log.ts";
import { secretBox } from "../../../server/core/secret-box.ts";
import { createServices } from "../../../server/core/services.ts";
import { TokenStore } from "../../../server/core/tokens.ts";
import { openDatabase } from "../../../server/db/open.ts";
import { createApp } from "../../../server/http/app.ts";
import { BuildJobs, type JobRunner } from "../../../server/image/build/jobs.ts";
import { LATEST } from "../../../server/image/versions.ts";
import { fakeVersion, tempDir } from "./helpers.ts";

const TOKEN = "test-token";
const b64 = (text: string) => Buffer.from(text).toString("base64");

const DEFINITION = {
  files: [
    { path: "osimage.toml", content: b64('distro = "debian"\nosvers = "debian12"\npkglist = "base.pkglist"\n'), mode: 0o644 },
    { path: "base.pkglist", content: b64("systemd-sysv\n"), mode: 0o644 },
    { path: "scripts/setup.sh", content: b64("#!/bin/sh\n"), mode: 0o755 },
  ],
};

/** The app over an in-memory database; builds go to `runner` instead of the real pipeline (no mmdebstrap). */
function makeApp(runner?: JobRunner) {
  const db = openDatabase(":memory:");
  const dataDir = tempDir("provd-api-images-");
  const services = createServices(db, { secrets: secretBox(randomBytes(32)), blobDir: join(dataDir, "blobs"), dataDir });
  const jobs = new BuildJobs(
    db,
    join(dataDir, "fake-jobs"),
    runner ??
      (async () => {
        throw new Error("no build should start in this test");
      }),
  );
  (services.images as unknown as { jobs: BuildJobs }).jobs = jobs;
  const app = createApp({ services, tokens: new TokenStore(db, TOKEN), log: createLogger("silent"), version: "test" });
  const request = (method: string, path: string, body?: unknown, token: string | null = TOKEN) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    return app.request(`/api/v1${path}`, { method, headers, body: typeof body === "string" ? body : body === undefined ? undefined : JSON.stringify(body) });
  };
  const call = async (method: string, path: string, body?: unknown, token: string | null = TOKEN) => {
    const res = await request(method, path, body, token);
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : undefined) as any };
  };
  return { app, call, request, services, jobs };
}

describe("image API", () => {
  let api: ReturnType<typeof makeApp>;
  beforeEach(() => {
    api = makeApp();
  });

  test("a token is required", async () => {
    expect((await api.call("GET", "/images", undefined, null)).status).toBe(401);
    expect((await api.call("PUT", "/osimages/base/definition", DEFINITION, "wrong")).status).toBe(401);
  });

  test("the images list starts empty", async () => {
    expect(await api.call("GET", "/images")).toEqual({ status: 200, json: [] });
    expect(await api.call("GET", "/images?osimage=base")).toEqual({ status: 200, json: [] });
    expect(await api.call("GET", "/jobs")).toEqual({ status: 200, json: [] });
  });

  test("PUT definition creates (201), then replaces (200); GET gives it back", async () => {
    expect(await api.call("PUT", "/osimages/base/definition", DEFINITION)).toEqual({ status: 201, json: { name: "base", created: true, warnings: [] } });
    const again = await api.call("PUT", "/osimages/base/definition", DEFINITION);
    expect(again).toEqual({ status: 200, json: { name: "base", created: false, warnings: [] } });
    const got = await api.call("GET", "/osimages/base/definition");
    expect(got.status).toBe(200);
    expect(got.json.name).toBe("base");
    expect(got.json.chain).toEqual(["base"]);
    const files = [...got.json.files].sort((a: { path: string }, b: { path: string }) => a.path.localeCompare(b.path));
    expect(files).toEqual([
      { path: "base.pkglist", mode: 0o644, content: b64("systemd-sysv\n") },
      { path: "scripts/setup.sh", mode: 0o755, content: b64("#!/bin/sh\n") },
    ]);
    const osimage = await api.call("GET", "/osimages/base");
    expect(osimage.json.attrs).toMatchObject({ provmethod: "netboot", distro: "debian", osvers: "debian12", pkglist: "base.pkglist" });
  });

  test("GET definition of an unknown osimage is a 404", async () => {
    const res = await api.call("GET", "/osimages/ghost/definition");
    expect(res).toEqual({ status: 404, json: { error: "osimage ghost is not defined" } });
  });

  test.each([
    ["bad JSON", "{nope", /request body is not valid JSON/],
    ["an unknown top-level field", { ...DEFINITION, extra: 1 }, /body: unknown field\(s\) extra \(expected files\)/],
    ["an unknown field in a file", { files: [{ ...DEFINITION.files[0]!, owner: "root" }] }, /body\.files\[0\]: unknown field\(s\) owner/],
    ["a missing mode", { files: [{ path: "osimage.toml", content: b64("x") }] }, /body\.files\[0\]: missing field 'mode'/],
    ["a mode that is not a number", { files: [{ ...DEFINITION.files[0]!, mode: "0644" }] }, /body\.files\[0\]\.mode: expected a file mode number/],
    ["a negative mode", { files: [{ ...DEFINITION.files[0]!, mode: -1 }] }, /body\.files\[0\]\.mode: expected a file mode number/],
    ["content that is not base64", { files: [DEFINITION.files[0]!, { ...DEFINITION.files[1]!, content: "this is not base64!" }] }, /^body\.files\[1\]\.content: expected base64-encoded content$/],
    ["base64 with a stray character", { files: [DEFINITION.files[0]!, { ...DEFINITION.files[1]!, content: `${b64("vim\n")}!` }] }, /body\.files\[1\]\.content: expected base64/],
    ["base64 cut short", { files: [DEFINITION.files[0]!, { ...DEFINITION.files[1]!, content: b64("vim\n").slice(0, -1) }] }, /body\.files\[1\]\.content: expected base64/],
    ["content that is not a string", { files: [{ ...DEFINITION.files[0]!, content: 42 }] }, /body\.files\[0\]\.content: expected a string/],
    ["files that are not an array", { files: {} }, /body\.files: expected an array/],
    ["a path going up", { files: [...DEFINITION.files, { path: "../escape", content: b64("x"), mode: 0o644 }] }, /definition file '\.\.\/escape': expected a plain relative path/],
    ["an absolute path", { files: [...DEFINITION.files, { path: "/etc/passwd", content: b64("x"), mode: 0o644 }] }, /definition file '\/etc\/passwd'/],
    ["a path that climbs out", { files: [...DEFINITION.files, { path: "a/../../b", content: b64("x"), mode: 0o644 }] }, /definition file 'a\/\.\.\/\.\.\/b'/],
    ["no osimage.toml", { files: [DEFINITION.files[1]!] }, /base: no osimage\.toml in the definition folder/],
    ["bad TOML", { files: [{ path: "osimage.toml", content: b64("distro = = debian"), mode: 0o644 }] }, /^base\/osimage\.toml: /],
  ])("PUT definition with %s is a 400 with a message", async (_what, body, message) => {
    const res = await api.call("PUT", "/osimages/base/definition", body);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(message);
    expect((await api.call("GET", "/osimages/base")).status).toBe(404);
  });

  test("POST builds for an unknown osimage is a 404 and queues nothing", async () => {
    const res = await api.call("POST", "/osimages/ghost/builds", {});
    expect(res).toEqual({ status: 404, json: { error: "osimage ghost is not defined" } });
    expect((await api.call("GET", "/jobs")).json).toEqual([]);
  });

  test("POST builds with an unknown field is a 400", async () => {
    await api.call("PUT", "/osimages/base/definition", DEFINITION);
    const res = await api.call("POST", "/osimages/base/builds", { force: true, now: true });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/unknown field\(s\) now/);
  });

  test("jobs that do not exist are 404s", async () => {
    expect(await api.call("GET", "/jobs/999")).toEqual({ status: 404, json: { error: "no job 999" } });
    expect((await api.call("GET", "/jobs/999/log")).status).toBe(404);
    expect((await api.call("GET", "/jobs/999/events")).status).toBe(404);
    expect(await api.call("POST", "/jobs/999/cancel")).toEqual({ status: 404, json: { error: "no job 999" } });
    // Not a number: no such route.
    expect((await api.call("GET", "/jobs/abc")).status).toBe(404);
  });

  describe("versions and aliases", () => {
    beforeEach(async () => {
      await api.call("PUT", "/osimages/base/definition", DEFINITION);
      api.services.images.versions.add(fakeVersion("base", "aaaaaaaaaaaa0001"));
      api.services.images.versions.add(fakeVersion("base", "bbbbbbbbbbbb0002", { validation: "failed" }));
      api.services.images.versions.setAlias("base", LATEST, "aaaaaaaaaaaa0001");
    });

    test("POST aliases with a bad alias name is a 400", async () => {
      const res = await api.call("POST", "/osimages/base/aliases", { alias: "1 bad", version: "aaaaaaaaaaaa0001" });
      expect(res.status).toBe(400);
      expect(res.json.error).toBe("'1 bad' is not a valid alias name (letters, digits, '.', '_', '-'; starting with a letter)");
    });

    test("POST aliases without a version is a 400; with an unknown version a 404", async () => {
      expect((await api.call("POST", "/osimages/base/aliases", { alias: "stable" })).json.error).toMatch(/missing field 'version'/);
      const res = await api.call("POST", "/osimages/base/aliases", { alias: "stable", version: "nosuch" });
      expect(res).toEqual({ status: 404, json: { error: "osimage base has no version or alias 'nosuch' (provctl images base lists them)" } });
    });

    test("POST aliases sets an alias by id prefix; the list shows it", async () => {
      const res = await api.call("POST", "/osimages/base/aliases", { alias: "stable", version: "aaaaaa" });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ osimage: "base", id: "aaaaaaaaaaaa0001", aliases: [LATEST, "stable"], nodes: [], packages: 1 });
      expect(res.json.manifest).toBeUndefined();
      expect(res.json.validationLog).toBeUndefined();
      const list = await api.call("GET", "/images?osimage=base");
      expect(list.json.map((v: { id: string; aliases: string[] }) => [v.id, v.aliases])).toEqual([
        ["aaaaaaaaaaaa0001", [LATEST, "stable"]],
        ["bbbbbbbbbbbb0002", []],
      ]);
    });

    test("a version that failed validation cannot become latest (409)", async () => {
      const res = await api.call("POST", "/osimages/base/aliases", { version: "bbbbbbbbbbbb0002" });
      expect(res.status).toBe(409);
      expect(res.json.error).toMatch(/failed validation/);
    });

    test("GET a version by alias, and its manifest", async () => {
      const v = await api.call("GET", "/osimages/base/versions/latest");
      expect(v.json).toMatchObject({ id: "aaaaaaaaaaaa0001", nodes: [] });
      const m = await api.call("GET", "/osimages/base/versions/aaaaaaaaaaaa0001/manifest.json");
      expect(m.json).toMatchObject({ schema: 1, osimage: "base", id: "aaaaaaaaaaaa0001" });
      expect((await api.call("GET", "/osimages/base/versions/nightly")).status).toBe(404);
    });

    test("rollback: 409 with nothing to roll back to, then steps back after a promotion", async () => {
      const none = await api.call("POST", "/osimages/base/rollback", {});
      expect(none.status).toBe(409);
      api.services.images.versions.setAlias("base", LATEST, "bbbbbbbbbbbb0002");
      expect(await api.call("POST", "/osimages/base/rollback", {})).toEqual({ status: 200, json: { from: "bbbbbbbbbbbb0002", to: "aaaaaaaaaaaa0001" } });
    });

    test("DELETE latest is refused; another alias is removed", async () => {
      expect((await api.call("DELETE", "/osimages/base/aliases/latest")).status).toBe(400);
      await api.call("POST", "/osimages/base/aliases", { alias: "stable", version: "aaaaaaaaaaaa0001" });
      const res = await api.request("DELETE", "/osimages/base/aliases/stable");
      expect(res.status).toBe(204);
      expect(api.services.images.versions.aliasTarget("base", "stable")).toBeUndefined();
    });

    test("prune: a dry run lists, a real run removes", async () => {
      api.services.images.versions.add(fakeVersion("base", "cccccccccccc0003"));
      // Same-millisecond adds are ordered by insertion: c is the newest and kept.
      expect(await api.call("POST", "/osimages/base/prune", { dryRun: true })).toEqual({ status: 200, json: { removed: ["bbbbbbbbbbbb0002"], freedBytes: 0 } });
      expect((await api.call("GET", "/images?osimage=base")).json).toHaveLength(3);
      const real = await api.call("POST", "/osimages/base/prune", {});
      expect(real.json.removed).toEqual(["bbbbbbbbbbbb0002"]);
      expect((await api.call("GET", "/images?osimage=base")).json.map((v: { id: string }) => v.id)).toEqual(["aaaaaaaaaaaa0001", "cccccccccccc0003"]);
    });

    test("prune of an unknown osimage is a 404", async () => {
      expect((await api.call("POST", "/osimages/ghost/prune", { dryRun: true })).status).toBe(404);
    });
  });

  describe("build jobs with a fake runner", () => {
    test("POST builds queues a job (202); it runs, and the job, log and events show it", async () => {
      const api = makeApp(async (ctx) => {
        ctx.stage("building", "bootstrap");
        ctx.log("fake bootstrap");
        return { version: "aaaaaaaaaaaa0001", summary: `${ctx.job.osimage}@aaaaaaaaaaaa0001 built` };
      });
      await api.call("PUT", "/osimages/base/definition", DEFINITION);
      const queued = await api.call("POST", "/osimages/base/builds", { force: true });
      expect(queued.status).toBe(202);
      expect(queued.json).toMatchObject({ id: 1, osimage: "base", kind: "build", state: "queued", request: { osimage: "base", kind: "build", force: true } });
      await api.jobs.idle();
      expect((await api.call("GET", "/jobs/1")).json).toMatchObject({ id: 1, state: "success", version: "aaaaaaaaaaaa0001", progress: 100 });
      expect((await api.call("GET", "/jobs")).json.map((j: { id: number }) => j.id)).toEqual([1]);
      const log = await (await api.request("GET", "/jobs/1/log")).text();
      expect(log).toMatch(/^job 1: build base \(forced\) queued\nfake bootstrap\nbase@aaaaaaaaaaaa0001 built \(\d+\.\d s\)\n$/);
      const tail = await (await api.request("GET", "/jobs/1/log?offset=5")).text();
      expect(tail).toBe(log.slice(5));
      const events = await api.request("GET", "/jobs/1/events");
      expect(events.headers.get("content-type")).toContain("application/x-ndjson");
      const lines = (await events.text()).trim().split("\n").map((l) => JSON.parse(l));
      expect(lines.filter((l) => l.type === "log").map((l) => l.line)).toEqual(log.trim().split("\n"));
      expect(lines.at(-1)).toMatchObject({ type: "end", job: { id: 1, state: "success" } });
    });

    test("the events stream follows a running job live until it ends", async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      let started!: () => void;
      const running = new Promise<void>((r) => {
        started = r;
      });
      const api = makeApp(async (ctx) => {
        ctx.log("before");
        started();
        await gate;
        ctx.stage("packing", "squashfs");
        ctx.log("after");
        return { version: "v1", summary: "done" };
      });
      await api.call("PUT", "/osimages/base/definition", DEFINITION);
      await api.call("POST", "/osimages/base/builds", {});
      await running;
      const res = await api.request("GET", "/jobs/1/events");
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = "";
      const lines = () => text.split("\n").filter(Boolean).map((l) => JSON.parse(l));
      // First what happened so far, with the job still running…
      while (!lines().some((l) => l.type === "state")) {
        const chunk = await reader.read();
        if (chunk.done) break;
        text += decoder.decode(chunk.value, { stream: true });
      }
      expect(lines().map((l) => (l.type === "log" ? l.line : `${l.type}:${l.job.state}`))).toEqual(["job 1: build base queued", "before", "state:building"]);
      // …then, once the job moves on, the new events live, and the end.
      release();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value, { stream: true });
      const kinds = lines().map((l) => (l.type === "log" ? `log:${l.line}` : l.type === "state" ? `state:${l.job.state}/${l.job.stage}` : l.type));
      expect(kinds.slice(3, 5)).toEqual(["state:packing/squashfs", "log:after"]);
      expect(kinds).toContain("state:success/success");
      expect(kinds.at(-1)).toBe("end");
      expect(lines().at(-1).job.state).toBe("success");
      // Every line of the job's log arrives once, the summary written as the job ended included.
      expect(lines().filter((l) => l.type === "log").map((l) => l.line)).toEqual(api.jobs.logText(1).trim().split("\n"));
      await api.jobs.idle();
    });

    test("a runner's UserError shows as the job's error; cancel of an ended job is a 409", async () => {
      const api = makeApp(async () => {
        throw new UserError("base/base.pkglist:1: no such package");
      });
      await api.call("PUT", "/osimages/base/definition", DEFINITION);
      await api.call("POST", "/osimages/base/builds", {});
      await api.jobs.idle();
      expect((await api.call("GET", "/jobs/1")).json).toMatchObject({ state: "error", error: "base/base.pkglist:1: no such package" });
      const cancel = await api.call("POST", "/jobs/1/cancel");
      expect(cancel).toEqual({ status: 409, json: { error: "job 1 already ended (error)" } });
    });

    test("POST cancel of a running job cancels it", async () => {
      let started!: () => void;
      const running = new Promise<void>((r) => {
        started = r;
      });
      const api = makeApp(
        (ctx) =>
          new Promise((_, reject) => {
            ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
            started();
          }),
      );
      await api.call("PUT", "/osimages/base/definition", DEFINITION);
      await api.call("POST", "/osimages/base/builds", {});
      await running;
      const res = await api.call("POST", "/jobs/1/cancel");
      expect(res.status).toBe(200);
      await api.jobs.idle();
      expect((await api.call("GET", "/jobs/1")).json).toMatchObject({ state: "cancelled", error: "cancelled" });
    });

    test("customize needs an existing base version and a command", async () => {
      const api = makeApp();
      await api.call("PUT", "/osimages/base/definition", DEFINITION);
      const noVersion = await api.call("POST", "/osimages/base/customize", { command: ["true"] });
      expect(noVersion).toEqual({ status: 404, json: { error: "osimage base has no built versions yet: provctl genimage base" } });
      api.services.images.versions.add(fakeVersion("base", "aaaaaaaaaaaa0001"));
      api.services.images.versions.setAlias("base", LATEST, "aaaaaaaaaaaa0001");
      const noCommand = await api.call("POST", "/osimages/base/customize", { command: [] });
      expect(noCommand.status).toBe(400);
      expect(noCommand.json.error).toMatch(/customize needs a command/);
      expect((await api.call("GET", "/jobs")).json).toEqual([]);
    });
  });
});
