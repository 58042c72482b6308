// The test BMC as a running HTTP(S) server, with every request recorded for assertions.
import { EtagRules } from "./etag.ts";
import { PowerHooks } from "./hooks.ts";
import { DEFAULT_MOCKUP_DIR, loadMockup, type Resource } from "./mockup.ts";
import type { PowerEvent, Quirk, RedfishBmcOptions, RedfishPowerState } from "./options.ts";
import { PowerModel } from "./power.ts";
import { route, type BmcState } from "./routes.ts";
import { SESSIONS_PATH, SessionStore } from "./sessions.ts";
import { SystemResource } from "./system.ts";
import { TaskBoard } from "./tasks.ts";

export interface RecordedRequest {
  /** Milliseconds since the BMC started. */
  at: number;
  method: string;
  path: string;
  query: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  text: string;
  /** The body parsed as JSON, when it is. */
  body: unknown;
  /** Filled in once answered. */
  status: number;
}

/** Answers instead of the BMC when it returns a Response (malformed JSON, a hang, a 500). */
export type Interceptor = (request: RecordedRequest) => Response | undefined | Promise<Response | undefined>;

export interface RedfishBmc {
  readonly url: string;
  readonly port: number;
  readonly systemPath: string;
  readonly sessionsPath: string;
  readonly requests: RecordedRequest[];
  readonly events: PowerEvent[];
  readonly sessions: SessionStore;
  /** Switchable while running. */
  readonly quirks: Set<Quirk>;
  readonly powerState: RedfishPowerState;
  setPowerState(state: RedfishPowerState): void;
  readonly boot: Resource;
  readonly etag: string | undefined;
  intercept(interceptor: Interceptor): () => void;
  /** Recorded requests with this method (and path), e.g. `requestsTo("PATCH", bmc.systemPath)`. */
  requestsTo(method: string, path?: string): RecordedRequest[];
  clearRequests(): void;
  /** Resolves when the power hooks fired so far have run. */
  hooksSettled(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedfishBmc(options: RedfishBmcOptions = {}): Promise<RedfishBmc> {
  const mockup = loadMockup(options.mockupDir ?? DEFAULT_MOCKUP_DIR, options.systemId);
  const template = mockup.resources.get(mockup.systemPath);
  if (!template) throw new Error(`the mockup has no ${mockup.systemPath}`);
  if (options.manufacturer) template.Manufacturer = options.manufacturer;
  const quirks = new Set<Quirk>(options.quirks ?? []);
  const systemId = mockup.systemPath.slice(mockup.systemPath.lastIndexOf("/") + 1);
  const events: PowerEvent[] = [];
  const hooks = new PowerHooks(options);
  let system: SystemResource | undefined;
  const power = new PowerModel(options.powerState ?? "On", options.transitionMs ?? 500, (change) => {
    if (system) system.version++;
    const event = { ...change, systemId };
    events.push(event);
    hooks.fire(event);
  });
  const mockupReset = (template.Actions as { "#ComputerSystem.Reset"?: Record<string, unknown> } | undefined)?.["#ComputerSystem.Reset"];
  const resetTypes = options.resetTypes ?? ((mockupReset?.["ResetType@Redfish.AllowableValues"] as string[] | undefined) ?? []);
  system = new SystemResource(mockup.systemPath, template, power, resetTypes, quirks);
  const tasks = new TaskBoard(options.taskMs ?? 1000, options.retryAfterSeconds ?? 1, options.taskOutcome ?? "Completed");
  const state: BmcState = {
    mockup,
    system,
    aliasPath: "/redfish/v1/Systems/Self",
    sessions: new SessionStore(options.maxSessions ?? 16),
    etags: new EtagRules(options.ifMatch ?? "none", quirks),
    reset: { quirks, response: options.resetResponse ?? 204, tasks },
    quirks,
    username: options.username ?? "admin",
    password: options.password ?? "password",
  };
  const requests: RecordedRequest[] = [];
  const interceptors = new Set<Interceptor>();
  const started = performance.now();

  const server = Bun.serve({
    hostname: options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    tls: options.tls,
    async fetch(request) {
      const url = new URL(request.url);
      const text = await request.text();
      const recorded: RecordedRequest = {
        at: performance.now() - started,
        method: request.method,
        path: url.pathname,
        query: url.search,
        headers: Object.fromEntries(request.headers),
        text,
        body: parseOrUndefined(text),
        status: 0,
      };
      requests.push(recorded);
      let response: Response | undefined;
      for (const interceptor of interceptors) {
        response = await interceptor(recorded);
        if (response) break;
      }
      const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
      response ??= route(state, { method: request.method, path, headers: request.headers, text });
      recorded.status = response.status;
      // Bun closes the connection after a request that asked for it but does not say so in the answer; sushy asks
      // on every request, and python's http.client then reuses the dying connection (RemoteDisconnected).
      if (/\bclose\b/i.test(request.headers.get("connection") ?? "")) {
        response = new Response(response.body, response);
        response.headers.set("Connection", "close");
      }
      return response;
    },
  });
  const scheme = options.tls ? "https" : "http";
  const host = server.hostname?.includes(":") ? `[${server.hostname}]` : server.hostname;
  const port = server.port ?? 0;

  return {
    url: `${scheme}://${host}:${port}`,
    port,
    systemPath: mockup.systemPath,
    sessionsPath: SESSIONS_PATH,
    requests,
    events,
    sessions: state.sessions,
    quirks,
    get powerState() {
      return power.state;
    },
    setPowerState: (next) => power.set(next),
    get boot() {
      return { ...state.system.boot };
    },
    get etag() {
      return state.etags.etag(state.system.version);
    },
    intercept(interceptor) {
      interceptors.add(interceptor);
      return () => void interceptors.delete(interceptor);
    },
    requestsTo: (method, path) => requests.filter((r) => r.method === method && (path === undefined || r.path === path)),
    clearRequests: () => void requests.splice(0),
    hooksSettled: () => hooks.settled(),
    async stop() {
      power.cancel();
      tasks.stop();
      await server.stop(true);
      await hooks.settled();
    },
  };
}

function parseOrUndefined(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
