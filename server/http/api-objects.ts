// REST routes for nodes, groups, osimages and networks, plus noderange expansion and stanza-style bulk import.
import { Hono } from "hono";
import { OBJECT_TYPES, type ObjectType } from "../core/attributes.ts";
import { UserError } from "../core/errors.ts";
import type { Inventory } from "../core/inventory.ts";
import type { ObjectRecord } from "../core/objects.ts";
import { arrayOf, bool, object, oneOf, readJson, str, stringMap } from "./body.ts";

const PLURALS: Record<string, ObjectType> = { nodes: "node", groups: "group", osimages: "osimage", networks: "network" };

const files = stringMap;
const named = object({ name: str, attrs: stringMap }, ["attrs"]);
const createBody = object({ objects: arrayOf(named), force: bool }, ["force"]);
const changeBody = object({ objects: arrayOf(named), mode: oneOf(["set", "add", "remove"] as const), files }, ["mode", "files"]);
const changeOneBody = object({ attrs: stringMap, mode: oneOf(["set", "add", "remove"] as const) }, ["mode"]);
const renameBody = object({ to: str });
const importBody = object(
  {
    objects: arrayOf(object({ type: oneOf(OBJECT_TYPES), name: str, attrs: stringMap })),
    mode: oneOf(["create", "change"] as const),
    force: bool,
  },
  ["force"],
);
const noderangeBody = object({ noderange: str, files }, ["files"]);
const queryBody = object({ type: oneOf(OBJECT_TYPES), range: str, names: arrayOf(str), files }, ["range", "names", "files"]);

export function objectRoutes(inventory: Inventory): Hono {
  const api = new Hono();
  const store = inventory.store;

  /** Names a request means: a noderange for nodes, a comma list otherwise; undefined = all. */
  const select = (type: ObjectType, range: string | undefined, names: readonly string[] | undefined, f = {}) => {
    if (names) return names;
    if (range === undefined || range === "") return undefined;
    if (range === "all" && type !== "node") return undefined;
    return type === "node" ? inventory.expand(range, f).nodes : range.split(",").filter(Boolean);
  };

  api.post("/noderange", async (c) => {
    const body = noderangeBody(await readJson(c), "body");
    return c.json(inventory.expand(body.noderange, body.files));
  });

  api.post("/query", async (c) => {
    const body = queryBody(await readJson(c), "body");
    return c.json({ objects: inventory.list(body.type, select(body.type, body.range, body.names, body.files)) });
  });

  api.post("/remove", async (c) => {
    const body = queryBody(await readJson(c), "body");
    const names = select(body.type, body.range, body.names, body.files);
    if (!names) throw new UserError("say what to remove: a range or names (there is no remove-all)");
    return c.json({ count: store.remove(body.type, names) });
  });

  api.post("/import", async (c) => {
    const body = importBody(await readJson(c), "body");
    const objects = body.objects.flatMap((o) => expandInput(inventory, o.type, o, body.mode === "create"));
    const result = body.mode === "create" ? store.create(objects, { force: body.force }) : store.change(objects, "set");
    return c.json(result, body.mode === "create" ? 201 : 200);
  });

  for (const [plural, type] of Object.entries(PLURALS)) {
    api.get(`/${plural}`, (c) => {
      const names = c.req.query("names")?.split(",").filter(Boolean);
      return c.json({ objects: inventory.list(type, select(type, c.req.query("range"), names)) });
    });

    api.get(`/${plural}/:name`, (c) => {
      return c.json(inventory.list(type, [c.req.param("name")])[0]);
    });

    api.post(`/${plural}`, async (c) => {
      const body = createBody(await readJson(c), "body");
      const objects = body.objects.flatMap((o) => expandInput(inventory, type, o, true));
      return c.json(store.create(objects, { force: body.force }), 201);
    });

    api.patch(`/${plural}`, async (c) => {
      const body = changeBody(await readJson(c), "body");
      const objects = body.objects.flatMap((o) => expandInput(inventory, type, o, false, body.files));
      return c.json(store.change(objects, body.mode ?? "set"));
    });

    api.patch(`/${plural}/:name`, async (c) => {
      const body = changeOneBody(await readJson(c), "body");
      return c.json(store.change([{ type, name: c.req.param("name"), attrs: body.attrs }], body.mode ?? "set"));
    });

    api.post(`/${plural}/:name/rename`, async (c) => {
      const body = renameBody(await readJson(c), "body");
      store.rename(type, c.req.param("name"), body.to);
      return c.json({ count: 1, warnings: [] });
    });

    api.delete(`/${plural}/:name`, (c) => {
      return c.json({ count: store.remove(type, [c.req.param("name")]) });
    });

    api.delete(`/${plural}`, (c) => {
      const names = select(type, c.req.query("range"), c.req.query("names")?.split(",").filter(Boolean));
      if (!names) throw new UserError("say what to remove: ?range=<noderange> or ?names=a,b (there is no remove-all)");
      return c.json({ count: store.remove(type, names) });
    });
  }

  return api;
}

/** A node name in a write may be a range: syntactic for creation (`mkdef n[01-60]`), evaluated for changes. */
function expandInput(
  inventory: Inventory,
  type: ObjectType,
  input: { name: string; attrs?: Record<string, string> },
  creating: boolean,
  files?: Record<string, string>,
): ObjectRecord[] {
  const attrs = input.attrs ?? {};
  if (type !== "node") return [{ type, name: input.name, attrs }];
  const names = creating ? inventory.expandNames(input.name) : inventory.expand(input.name, files).nodes;
  return names.map((name) => ({ type, name, attrs }));
}
