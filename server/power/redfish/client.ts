// Authenticated Redfish requests: credentials on every request and one fresh login when a session was dropped.
import type { Authenticator } from "./auth.ts";
import { answerError, expectObject } from "./errors.ts";
import type { JsonObject } from "./json.ts";
import type { RedfishAnswer, RedfishRequest, Transport } from "./transport.ts";

export interface RedfishDocument {
  doc: JsonObject;
  answer: RedfishAnswer;
}

export class RedfishClient {
  constructor(
    readonly transport: Transport,
    readonly auth: Authenticator,
  ) {}

  /** Sends with credentials; a 401 gets one re-login (sushy 8d55d51) and one retry, then is an "auth" error. */
  async send(request: RedfishRequest): Promise<RedfishAnswer> {
    const first = await this.transport.send(this.withAuth(request));
    if (first.status !== 401) return first;
    const what = `${request.method} ${request.path}`;
    if (!(await this.auth.renew())) throw answerError(what, first);
    const second = await this.transport.send(this.withAuth(request));
    if (second.status === 401) throw answerError(`${what} (after a fresh login)`, second);
    return second;
  }

  /** GET that must answer with a JSON object. */
  async get(path: string): Promise<RedfishDocument> {
    const answer = await this.send({ method: "GET", path });
    return { doc: expectObject(`GET ${path}`, answer), answer };
  }

  private withAuth(request: RedfishRequest): RedfishRequest {
    return { ...request, headers: { ...request.headers, ...this.auth.headers() } };
  }
}
