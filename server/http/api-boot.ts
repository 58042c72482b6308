// REST routes for booting: uploads and osimage artifacts, nodeset, boot timelines, discovered machines.
import { Hono } from "hono";
import type { BlobStore } from "../core/blob-store.ts";
import type { BootLog } from "../core/boot-log.ts";
import { UserError } from "../core/errors.ts";
import type { Inventory } from "../core/inventory.ts";
import { nodeset, parseNodesetState } from "../core/nodeset.ts";
import type { OsimageArtifacts } from "../core/osimage-artifacts.ts";
import { object, readJson, str, stringMap } from "./body.ts";
import type { BootImages } from "../image/boot-image.ts";

export interface BootApiDeps {
  inventory: Inventory;
  blobs: BlobStore;
  artifacts: OsimageArtifacts;
  bootImages: BootImages;
  bootLog: BootLog;
}

const fileRef = object({ sha256: str, fileName: str }, ["fileName"]);
const artifactsBody = object({ kernel: fileRef, initrd: fileRef, rootfs: fileRef, attrs: stringMap }, ["kernel", "initrd", "rootfs", "attrs"]);
const nodesetBody = object({ range: str, state: str, files: stringMap }, ["files"]);
const rangeBody = object({ range: str, files: stringMap }, ["files"]);

export function bootApiRoutes(deps: BootApiDeps): Hono {
  const api = new Hono();

  api.put("/blobs", async (c) => {
    const body = c.req.raw.body;
    if (!body) throw new UserError("send the file as the request body");
    const blob = await deps.blobs.put(body, c.req.header("x-sha256") ?? undefined);
    return c.json({ sha256: blob.sha256, size: blob.size }, 201);
  });

  api.get("/osimages/:name/artifacts", (c) => {
    deps.inventory.list("osimage", [c.req.param("name")]);
    return c.json({ artifacts: deps.artifacts.list(c.req.param("name")).map(({ path: _path, ...a }) => a) });
  });

  api.post("/osimages/:name/artifacts", async (c) => {
    const { attrs, ...files } = artifactsBody(await readJson(c), "body");
    if (!Object.keys(files).length) throw new UserError("name at least one of kernel, initrd, rootfs");
    const artifacts = deps.artifacts.register(c.req.param("name"), files, attrs);
    return c.json({ artifacts: artifacts.map(({ path: _path, ...a }) => a) }, 201);
  });

  api.post("/nodeset", async (c) => {
    const body = nodesetBody(await readJson(c), "body");
    const request = parseNodesetState(body.state);
    const { nodes, warnings } = deps.inventory.expand(body.range, body.files);
    return c.json({ results: nodeset(deps.inventory, deps.bootImages, nodes, request), warnings });
  });

  api.get("/nodes/:name/bootlog", (c) => {
    deps.inventory.list("node", [c.req.param("name")]);
    return c.json({ events: deps.bootLog.forNode(c.req.param("name")) });
  });

  api.post("/nodestat", async (c) => {
    const body = rangeBody(await readJson(c), "body");
    const { nodes } = deps.inventory.expand(body.range, body.files);
    const latest = deps.bootLog.latest(nodes);
    return c.json({ nodes: nodes.map((node) => ({ node, last: latest.get(node) })) });
  });

  api.get("/discovered", (c) => c.json({ machines: deps.bootLog.listDiscovered() }));
  return api;
}
