// Request routing of the test BMC: the unauthenticated corner, sessions, the live system, the static mockup.
import type { Mockup } from "./mockup.ts";
import type { Quirk } from "./options.ts";
import { baseError, json, noContent } from "./replies.ts";
import { handleReset, type ResetSettings } from "./reset.ts";
import { SESSIONS_PATH, type Session, type SessionStore } from "./sessions.ts";
import type { SystemResource } from "./system.ts";
import { MONITORS_PATH, TASKS_PATH } from "./tasks.ts";
import type { EtagRules } from "./etag.ts";

export interface BmcState {
  mockup: Mockup;
  system: SystemResource;
  /** Where the alias-307 quirk lists the system. */
  aliasPath: string;
  sessions: SessionStore;
  etags: EtagRules;
  reset: ResetSettings;
  quirks: ReadonlySet<Quirk>;
  username: string;
  password: string;
}

export interface Incoming {
  method: string;
  /** Without a trailing slash, without the query. */
  path: string;
  headers: Headers;
  text: string;
}

const OPEN_PATHS = new Set(["/redfish", "/redfish/v1", "/redfish/v1/odata", "/redfish/v1/$metadata"]);

export function route(state: BmcState, req: Incoming): Response {
  if (req.method === "GET" && OPEN_PATHS.has(req.path)) return openResource(state, req.path);
  if (req.method === "POST" && req.path === SESSIONS_PATH) return withBody(req, (body) => login(state, body));
  if (!authenticated(state, req.headers)) {
    return baseError(401, "ResourceAtUriUnauthorized", `While accessing the resource at ${req.path}, the service received an authorization error.`, {
      "WWW-Authenticate": 'Basic realm="Redfish"',
    });
  }
  const { system } = state;
  if (state.quirks.has("alias-307") && (req.path === state.aliasPath || req.path.startsWith(`${state.aliasPath}/`))) {
    return new Response(null, { status: 307, headers: { Location: system.path + req.path.slice(state.aliasPath.length) } });
  }
  if (req.path === system.path) return systemResource(state, req);
  if (req.path === system.resetTarget) {
    if (req.method !== "POST") return notAllowed(req);
    return withBody(req, (body) => handleReset(system, body, state.reset));
  }
  if (req.path === system.actionInfoPath && state.quirks.has("action-info") && req.method === "GET") {
    return json(system.actionInfo());
  }
  if (req.path.startsWith(`${SESSIONS_PATH}/`)) return sessionResource(state, req);
  if (req.path === SESSIONS_PATH && req.method === "GET") return json(state.sessions.collection());
  if (req.path.startsWith(`${MONITORS_PATH}/`) && req.method === "GET") {
    return state.reset.tasks.monitor(req.path.slice(MONITORS_PATH.length + 1)) ?? missing(req);
  }
  if (req.path.startsWith(`${TASKS_PATH}/`) && req.method === "GET") {
    return state.reset.tasks.task(req.path.slice(TASKS_PATH.length + 1)) ?? missing(req);
  }
  if (req.path === "/redfish/v1/Systems" && req.method === "GET") return systemsCollection(state);
  const resource = state.mockup.resources.get(req.path);
  if (!resource) return missing(req);
  return req.method === "GET" ? json(resource) : notAllowed(req);
}

function openResource(state: BmcState, path: string): Response {
  if (path === "/redfish") return json({ v1: "/redfish/v1/" });
  if (path === "/redfish/v1/$metadata") {
    return new Response(state.mockup.metadata ?? "", { headers: { "Content-Type": "application/xml" } });
  }
  return json(state.mockup.resources.get(path) ?? {});
}

function systemsCollection(state: BmcState): Response {
  const collection = { ...state.mockup.resources.get("/redfish/v1/Systems") };
  const member = state.quirks.has("alias-307") ? state.aliasPath : state.system.path;
  return json({ ...collection, "Members@odata.count": 1, Members: [{ "@odata.id": member }] });
}

function systemResource(state: BmcState, req: Incoming): Response {
  const { system, etags } = state;
  if (req.method === "GET") return systemAnswer(state, 200);
  if (req.method !== "PATCH") return notAllowed(req);
  const precondition = etags.check(req.headers.get("if-match"), system.version);
  if (precondition) return precondition;
  return withBody(req, (body) => system.patch(body) ?? systemAnswer(state, 204));
}

function systemAnswer(state: BmcState, status: 200 | 204): Response {
  const etag = state.etags.etag(state.system.version);
  const headers: Record<string, string> = etag === undefined ? {} : { ETag: etag };
  return status === 204 ? noContent(headers) : json(state.system.document(etag), 200, headers);
}

function login(state: BmcState, body: unknown): Response {
  const { UserName, Password } = (body ?? {}) as { UserName?: unknown; Password?: unknown };
  if (UserName !== state.username || Password !== state.password) {
    return baseError(
      401,
      "ResourceAtUriUnauthorized",
      "While accessing the resource at /redfish/v1/SessionService/Sessions, the service received an authorization error: invalid credentials.",
    );
  }
  const session = state.sessions.create(UserName);
  if (!session) {
    return baseError(
      503,
      "SessionLimitExceeded",
      "The session establishment failed due to the number of simultaneous sessions exceeding the limit of the implementation.",
    );
  }
  const headers: Record<string, string> = { "X-Auth-Token": session.token };
  if (!state.quirks.has("session-no-location")) headers.Location = session.path;
  if (state.quirks.has("session-204")) return noContent(headers);
  return json(state.sessions.resource(session), 201, headers);
}

function sessionResource(state: BmcState, req: Incoming): Response {
  const session: Session | undefined = state.sessions.byId(req.path.slice(SESSIONS_PATH.length + 1));
  if (!session) return missing(req);
  if (req.method === "GET") return json(state.sessions.resource(session));
  if (req.method !== "DELETE") return notAllowed(req);
  state.sessions.delete(session.id);
  return noContent();
}

function authenticated(state: BmcState, headers: Headers): boolean {
  if (state.sessions.byToken(headers.get("x-auth-token"))) return true;
  const basic = /^Basic\s+(\S+)$/i.exec(headers.get("authorization") ?? "");
  if (!basic?.[1]) return false;
  return Buffer.from(basic[1], "base64").toString("utf8") === `${state.username}:${state.password}`;
}

/** POST/PATCH bodies must be JSON sent as JSON (a form body gets 400 on real BMCs too). */
function withBody(req: Incoming, handle: (body: unknown) => Response): Response {
  if (!(req.headers.get("content-type") ?? "").toLowerCase().includes("application/json")) {
    return baseError(
      400,
      "UnrecognizedRequestBody",
      "The service detected a malformed request body that it was unable to interpret (Content-Type must be application/json).",
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(req.text);
  } catch {
    return baseError(
      400,
      "MalformedJSON",
      "The request body submitted was malformed JSON and could not be parsed by the receiving service.",
    );
  }
  return handle(body);
}

function missing(req: Incoming): Response {
  return baseError(404, "ResourceNotFound", `The requested resource at ${req.path} was not found.`);
}

function notAllowed(req: Incoming): Response {
  return baseError(405, "OperationNotAllowed", `The HTTP method ${req.method} is not allowed on ${req.path}.`);
}
