import { randomBytes } from "node:crypto";
import { beforeEach, describe, expect, test } from "vitest";
import { createLogger } from "../../server/core/log.ts";
import { secretBox } from "../../server/core/secret-box.ts";
import { createServices } from "../../server/core/services.ts";
import { TokenStore } from "../../server/core/tokens.ts";
import { openDatabase } from "../../server/db/open.ts";
import { createApp } from "../../server/http/app.ts";
import { testTempDir } from "../temp-dir.ts";

const TOKEN = "test-token";

function makeApp(configured: string | null = TOKEN) {
  const db = openDatabase(":memory:");
  const tokens = new TokenStore(db, configured ?? undefined);
  const services = createServices(db, { secrets: secretBox(randomBytes(32)), blobDir: testTempDir("provd-blobs-") });
  const app = createApp({ services, tokens, log: createLogger("silent"), version: "test" });
  const call = async (method: string, path: string, body?: unknown, token: string | null = TOKEN) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await app.request(path, { method, headers, body: typeof body === "string" ? body : body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  return { app, call, tokens, db };
}

describe("REST API", () => {
  let api: ReturnType<typeof makeApp>;
  beforeEach(() => {
    api = makeApp();
  });

  test("CRUD for nodes, groups, osimages and networks", async () => {
    expect((await api.call("POST", "/api/v1/groups", { objects: [{ name: "compute", attrs: { mgt: "ipmi" } }] })).status).toBe(201);
    const created = await api.call("POST", "/api/v1/nodes", { objects: [{ name: "n[01-03]", attrs: { groups: "compute,all" } }] });
    expect(created).toEqual({ status: 201, json: { count: 3, warnings: [] } });
    const one = await api.call("GET", "/api/v1/nodes/n02");
    expect(one.json).toEqual({ type: "node", name: "n02", attrs: { groups: "compute,all", mgt: "ipmi" }, inherited: { mgt: "compute" } });
    expect((await api.call("PATCH", "/api/v1/nodes/n02", { attrs: { mgt: "redfish" } })).status).toBe(200);
    expect((await api.call("GET", "/api/v1/nodes?range=compute,-n01")).json.objects).toHaveLength(2);
    expect((await api.call("POST", "/api/v1/osimages", { objects: [{ name: "img", attrs: { osvers: "debian12" } }] })).status).toBe(201);
    expect((await api.call("POST", "/api/v1/networks", { objects: [{ name: "net1", attrs: { net: "10.0.0.0", mask: "/24" } }] })).status).toBe(201);
    expect((await api.call("GET", "/api/v1/networks/net1")).json.attrs).toEqual({ mask: "255.255.255.0", net: "10.0.0.0" });
    expect((await api.call("DELETE", "/api/v1/nodes?range=n[01-02]")).json).toEqual({ count: 2 });
    expect((await api.call("POST", "/api/v1/noderange", { noderange: "all" })).json).toEqual({ nodes: ["n03"], warnings: [] });
    expect((await api.call("DELETE", "/api/v1/osimages/img")).status).toBe(200);
    expect((await api.call("GET", "/api/v1/osimages/img")).status).toBe(404);
  });

  test("a token is required, and only a valid one works", async () => {
    expect((await api.call("GET", "/api/v1/nodes", undefined, null)).json.error).toMatch(/missing bearer token/);
    expect((await api.call("POST", "/api/v1/nodes", { objects: [] }, "wrong")).status).toBe(401);
    expect((await api.call("GET", "/api/v1/openapi.json", undefined, null)).status).toBe(200);
  });

  test("a generated admin token is returned once and stored only as a hash", async () => {
    const fresh = makeApp(null);
    const token = fresh.tokens.ensureAdminToken()!;
    expect(token).toMatch(/^pvd_/);
    expect(fresh.tokens.ensureAdminToken()).toBeUndefined();
    expect(fresh.tokens.verify(token)).toBe(true);
    const stored = fresh.db.$client.query<{ hash: string }, []>("SELECT hash FROM api_tokens").all();
    expect(stored.map((r) => r.hash).join()).not.toContain(token);
    expect((await fresh.call("GET", "/api/v1/nodes", undefined, token)).status).toBe(200);
  });

  test.each([
    ["bad JSON", "POST", "/api/v1/nodes", "{not json", 400, /not valid JSON/],
    ["a top-level array", "POST", "/api/v1/nodes", [], 400, /expected a JSON object/],
    ["an unknown field", "POST", "/api/v1/nodes", { objects: [], colour: "red" }, 400, /unknown field\(s\) colour/],
    ["a missing field", "POST", "/api/v1/nodes", {}, 400, /missing field 'objects'/],
    ["a non-string attribute", "POST", "/api/v1/nodes", { objects: [{ name: "n1", attrs: { groups: 3 } }] }, 400, /attrs.groups: expected a string/],
    ["an invalid node name", "POST", "/api/v1/nodes", { objects: [{ name: "n 1", attrs: { groups: "all" } }] }, 400, /invalid node name/],
    ["an unknown field in an object", "POST", "/api/v1/nodes", { objects: [{ name: "n1", attributes: {} }] }, 400, /unknown field\(s\) attributes/],
    ["a bad mode", "PATCH", "/api/v1/nodes", { objects: [], mode: "merge" }, 400, /expected one of set, add, remove/],
    ["a reversed range", "POST", "/api/v1/nodes", { objects: [{ name: "n[05-03]", attrs: { groups: "all" } }] }, 400, /reversed range/],
    ["an unknown node", "POST", "/api/v1/noderange", { noderange: "ghost" }, 400, /Invalid nodes and\/or groups in noderange: ghost/],
    ["an unknown type", "POST", "/api/v1/query", { type: "site" }, 400, /expected one of node, group, osimage, network/],
    ["an unknown route", "GET", "/api/v1/sites", undefined, 404, /no such route/],
    ["remove-all", "DELETE", "/api/v1/nodes", undefined, 400, /there is no remove-all/],
  ])("%s gets a 4xx that says what is wrong", async (_what, method, path, body, status, message) => {
    const res = await api.call(method, path, body);
    expect(res.status).toBe(status);
    expect(String(res.json.error)).toMatch(message);
  });

  test("clashes are 409 and name the other node; nothing of the batch is created", async () => {
    await api.call("POST", "/api/v1/nodes", { objects: [{ name: "n01", attrs: { groups: "all", mac: "52:54:00:00:00:01" } }] });
    const res = await api.call("POST", "/api/v1/nodes", { objects: [{ name: "m[01-60]", attrs: { groups: "all", mac: "52:54:00:00:00:01" } }] });
    expect(res.status).toBe(409);
    expect(res.json.error).toBe("m01: MAC 52:54:00:00:00:01 already belongs to node n01");
    expect((await api.call("POST", "/api/v1/noderange", { noderange: "all" })).json.nodes).toEqual(["n01"]);
  });

  test("mixed-type import is one transaction", async () => {
    const res = await api.call("POST", "/api/v1/import", {
      mode: "create",
      objects: [
        { type: "group", name: "compute", attrs: { mgt: "ipmi" } },
        { type: "node", name: "n01", attrs: { groups: "compute" } },
        { type: "network", name: "bad", attrs: { net: "10.0.0.300" } },
      ],
    });
    expect(res.status).toBe(400);
    expect((await api.call("GET", "/api/v1/groups")).json.objects).toEqual([]);
  });

  test("the OpenAPI document describes the routes", async () => {
    const doc = (await api.call("GET", "/api/v1/openapi.json", undefined, null)).json as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/v1/{plural}", "/api/v1/{plural}/{name}", "/api/v1/noderange", "/api/v1/import"]));
  });
});
