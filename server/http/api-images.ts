// REST routes for images: definitions, build/customize jobs (followed live), versions, aliases, rollback, prune.
import { Hono } from "hono";
import { stream } from "hono/streaming";
import { UserError } from "../core/errors.ts";
import type { Job, JobEvent } from "../image/build/jobs.ts";
import type { ImageService } from "../image/service.ts";
import { LATEST } from "../image/versions.ts";
import { arrayOf, bool, object, oneOf, readJson, str } from "./body.ts";

const HEARTBEAT_MS = 5000;

export interface ImageApiDeps {
  images: ImageService;
}

const int = (v: unknown, path: string): number => {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0o7777) throw new UserError(`${path}: expected a file mode number`);
  return v;
};
const compressionLevel = (v: unknown, path: string): number => {
  if (typeof v !== "number" || !Number.isInteger(v)) throw new UserError(`${path}: expected a whole number`);
  return v;
};
// Buffer.from(x, "base64") never fails: it skips what is not base64, so a mangled upload would be stored as garbage.
const base64 = (v: unknown, path: string): string => {
  const s = str(v, path);
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new UserError(`${path}: expected base64-encoded content`);
  return s;
};
const definitionBody = object({ files: arrayOf(object({ path: str, content: base64, mode: int }), 2000) });
const buildBody = object({ force: bool }, ["force"]);
const customizeBody = object({ base: str, command: arrayOf(str, 1000), promote: bool, interactive: bool }, ["base", "promote", "command", "interactive"]);
const packBody = object(
  { base: str, format: oneOf(["squashfs", "cpio"] as const), compression: oneOf(["zstd", "xz", "gzip"] as const), level: compressionLevel, promote: bool },
  ["base", "format", "compression", "level", "promote"],
);
const aliasBody = object({ alias: str, version: str }, ["alias"]);
const rollbackBody = object({ alias: str }, ["alias"]);
const pruneBody = object({ dryRun: bool }, ["dryRun"]);

export function imageRoutes(deps: ImageApiDeps): Hono {
  const api = new Hono();
  const { images } = deps;

  api.put("/osimages/:name/definition", async (c) => {
    const body = definitionBody(await readJson(c, 96 * 1024 * 1024), "body");
    const files = body.files.map((f) => ({ path: f.path, mode: f.mode, content: Buffer.from(f.content, "base64") }));
    const result = images.definitions.import(c.req.param("name"), files);
    return c.json({ name: c.req.param("name"), ...result }, result.created ? 201 : 200);
  });

  api.get("/osimages/:name/definition", (c) => {
    const name = c.req.param("name");
    images.definitions.chain(name);
    const files = images.definitions.files(name).map((f) => ({ path: f.path, mode: f.mode, content: Buffer.from(f.content).toString("base64") }));
    return c.json({ name, chain: images.definitions.chain(name), files });
  });

  api.post("/osimages/:name/builds", async (c) => {
    const body = buildBody(await readJson(c), "body");
    return c.json(images.genimage(c.req.param("name"), body.force ?? false), 202);
  });

  api.post("/osimages/:name/customize", async (c) => {
    const body = customizeBody(await readJson(c), "body");
    const ref = `${c.req.param("name")}@${body.base ?? LATEST}`;
    return c.json(images.customize(ref, body.command ?? [], body.promote ?? false, body.interactive ?? false), 202);
  });

  api.post("/osimages/:name/packimage", async (c) => {
    const body = packBody(await readJson(c), "body");
    const ref = `${c.req.param("name")}@${body.base ?? LATEST}`;
    return c.json(images.packimage(ref, { format: body.format, compression: body.compression, level: body.level }, body.promote ?? false), 202);
  });

  api.get("/images", (c) => c.json(images.list(c.req.query("osimage") || undefined).map(summary)));

  api.get("/osimages/:name/versions/:ref", (c) => {
    const name = c.req.param("name");
    const version = images.versions.resolve(name, c.req.param("ref"));
    return c.json(images.list(name).find((v) => v.id === version.id));
  });

  api.get("/osimages/:name/versions/:ref/manifest.json", (c) => c.json(images.versions.resolve(c.req.param("name"), c.req.param("ref")).manifest));

  api.post("/osimages/:name/aliases", async (c) => {
    const body = aliasBody(await readJson(c), "body");
    const version = images.promote(`${c.req.param("name")}@${body.version}`, body.alias ?? LATEST);
    return c.json(summary({ ...version, nodes: [] }));
  });

  api.delete("/osimages/:name/aliases/:alias", (c) => {
    images.versions.removeAlias(c.req.param("name"), c.req.param("alias"));
    return c.body(null, 204);
  });

  api.post("/osimages/:name/rollback", async (c) => {
    const body = rollbackBody(await readJson(c), "body");
    return c.json(images.versions.rollback(c.req.param("name"), body.alias ?? LATEST));
  });

  api.post("/osimages/:name/prune", async (c) => {
    const body = pruneBody(await readJson(c), "body");
    return c.json(images.prune(c.req.param("name"), body.dryRun ?? false));
  });

  api.get("/jobs", (c) => c.json(images.jobs.list(Number(c.req.query("limit") ?? 50) || 50)));
  api.get("/jobs/:id{[0-9]+}", (c) => c.json(job(images, c.req.param("id"))));
  api.post("/jobs/:id{[0-9]+}/cancel", (c) => c.json(images.jobs.cancel(Number(c.req.param("id")))));
  api.get("/jobs/:id{[0-9]+}/log", (c) => {
    const j = job(images, c.req.param("id"));
    return c.text(images.jobs.logText(j.id, Number(c.req.query("offset") ?? 0) || 0));
  });

  /** NDJSON: the log so far, then new log lines and state changes live, ending with {"type":"end","job":…}. */
  api.get("/jobs/:id{[0-9]+}/events", (c) => {
    const first = job(images, c.req.param("id"));
    c.header("content-type", "application/x-ndjson");
    return stream(c, async (out) => {
      const queue: JobEvent[] = [];
      let wake: (() => void) | undefined;
      const stop = images.jobs.subscribe(first.id, (e) => {
        queue.push(e);
        wake?.();
      });
      out.onAbort(stop);
      for (const line of images.jobs.logText(first.id).split("\n").filter(Boolean)) await out.write(`${JSON.stringify({ type: "log", line })}\n`);
      await out.write(`${JSON.stringify({ type: "state", job: images.jobs.get(first.id) })}\n`);
      let current: Job = images.jobs.get(first.id)!;
      while (!images.jobs.isFinal(current)) {
        if (!queue.length) {
          // A quiet stage (mksquashfs, dpkg unpacking) must not look like a dead connection to idle timeouts.
          const woken = await new Promise<boolean>((resolve) => {
            wake = () => resolve(true);
            setTimeout(() => resolve(false), HEARTBEAT_MS);
          });
          if (!woken) await out.write(`${JSON.stringify({ type: "tick" })}\n`);
        }
        wake = undefined;
        while (queue.length) {
          const e = queue.shift()!;
          if (e.type === "state") current = e.job;
          await out.write(`${JSON.stringify(e)}\n`);
        }
        current = images.jobs.get(first.id)!;
      }
      stop();
      // Events that came while writes were pending (the job may end meanwhile: its last lines) still go out.
      while (queue.length) await out.write(`${JSON.stringify(queue.shift())}\n`);
      await out.write(`${JSON.stringify({ type: "end", job: images.jobs.get(first.id) })}\n`);
    });
  });
  return api;
}

function job(images: ImageService, id: string): Job {
  const found = images.jobs.get(Number(id));
  if (!found) throw new UserError(`no job ${id}`, 404);
  return found;
}

/** A version without its package list and validation log: what listings show. */
function summary(v: ReturnType<ImageService["list"]>[number]) {
  const { manifest, validationLog: _log, ...rest } = v;
  return {
    ...rest,
    kernelVersion: manifest.kernelVersion,
    artifacts: manifest.artifacts,
    packages: manifest.packages.length,
    rootfs: manifest.rootfs,
    timings: manifest.timings,
  };
}
