// The HTTP application: REST API under /api/v1 (token required) and the OpenAPI document.
import { Hono } from "hono";
import { UserError } from "../core/errors.ts";
import type { Inventory } from "../core/inventory.ts";
import type { Logger } from "../core/log.ts";
import type { TokenStore } from "../core/tokens.ts";
import { objectRoutes } from "./api-objects.ts";
import { requireToken } from "./auth.ts";
import { openApiDocument } from "./openapi.ts";

export interface AppDeps {
  inventory: Inventory;
  tokens: TokenStore;
  log: Logger;
  version: string;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ ok: true, version: deps.version }));
  app.get("/api/v1/openapi.json", (c) => c.json(openApiDocument(deps.version)));
  app.use("/api/v1/*", requireToken(deps.tokens));
  app.route("/api/v1", objectRoutes(deps.inventory));
  app.notFound((c) => c.json({ error: `no such route: ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    if (err instanceof UserError) return c.json({ error: err.message }, err.status);
    if (isConstraintError(err)) return c.json({ error: `the change conflicts with existing data: ${err.message}` }, 409);
    deps.log.error({ err, method: c.req.method, path: c.req.path }, "request failed");
    return c.json({ error: "internal error; see the server log" }, 500);
  });
  return app;
}

function isConstraintError(err: Error): boolean {
  return (err as { code?: string }).code?.startsWith("SQLITE_CONSTRAINT") === true;
}
