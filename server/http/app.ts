// The HTTP application: boot files for machines (/boot), the REST API under /api/v1 (token required), OpenAPI.
import { Hono } from "hono";
import { UserError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { Services } from "../core/services.ts";
import type { TokenStore } from "../core/tokens.ts";
import { bootApiRoutes } from "./api-boot.ts";
import { objectRoutes } from "./api-objects.ts";
import { powerRoutes } from "./api-power.ts";
import { imageRoutes } from "./api-images.ts";
import { requireToken } from "./auth.ts";
import { bootRoutes } from "./boot-routes.ts";
import { openApiDocument } from "./openapi.ts";

export interface AppDeps {
  services: Services;
  tokens: TokenStore;
  log: Logger;
  version: string;
  ipxeDir?: string;
}

export function createApp(deps: AppDeps): Hono {
  const { services } = deps;
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ ok: true, version: deps.version }));
  app.route("/boot", bootRoutes({ ...services, ipxeDir: deps.ipxeDir }));
  app.get("/api/v1/openapi.json", (c) => c.json(openApiDocument(deps.version)));
  app.use("/api/v1/*", requireToken(deps.tokens));
  app.route("/api/v1", objectRoutes(services.inventory));
  app.route("/api/v1", bootApiRoutes(services));
  app.route("/api/v1", powerRoutes(services));
  app.route("/api/v1", imageRoutes(services));
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

/** Bun.serve's fetch: `//boot/x` is answered like `/boot/x` (a redirect broke UEFI HTTP boot elsewhere). */
export function fetchWithSlashesCollapsed(app: Hono): (request: Request) => Response | Promise<Response> {
  return (request) => {
    // Look for "//" in the path without parsing the URL (request.url is absolute: scheme://host/path).
    const raw = request.url;
    const path = raw.indexOf("/", raw.indexOf("//") + 2);
    const end = raw.indexOf("?", path);
    if (path < 0 || !raw.slice(path, end < 0 ? undefined : end).includes("//")) return app.fetch(request);
    const url = new URL(raw);
    url.pathname = url.pathname.replace(/\/{2,}/g, "/");
    return app.fetch(new Request(url.href, request));
  };
}
