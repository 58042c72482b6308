// One HTTP exchange with a BMC: TLS policy, redirects kept on the BMC, the caller's AbortSignal plus a per-request
// budget, and transport failures classified as BmcError. HTTP statuses are returned, not judged, here.
import { BmcError } from "../driver.ts";
import { fetchTls, isTlsFailure, type FetchTls } from "./tls.ts";

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";

export interface RedfishRequest {
  method: HttpMethod;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Replaces the conversation's signal (close() after an abort still frees the session slot). */
  signal?: AbortSignal;
}

export interface RedfishAnswer {
  status: number;
  headers: Headers;
  /** Path of the resource that answered, after redirects. */
  path: string;
  /** Parsed JSON, or undefined for an empty or non-JSON body (see `malformed`). */
  body: unknown;
  text: string;
  malformed: boolean;
}

export interface TransportOptions {
  origin: URL;
  tls?: Parameters<typeof fetchTls>[0];
  signal: AbortSignal;
  requestTimeoutMs: number;
}

const MAX_REDIRECTS = 5;

export class Transport {
  private readonly tls: FetchTls | undefined;

  constructor(private readonly options: TransportOptions) {
    this.tls = options.origin.protocol === "https:" ? fetchTls(options.tls) : undefined;
  }

  get origin(): URL {
    return this.options.origin;
  }

  async send(request: RedfishRequest): Promise<RedfishAnswer> {
    const outer = request.signal ?? this.options.signal;
    const budget = AbortSignal.timeout(this.options.requestTimeoutMs);
    const signal = AbortSignal.any([outer, budget]);
    let method = request.method;
    let body = request.body === undefined ? undefined : JSON.stringify(request.body);
    let url = new URL(request.path, this.options.origin);
    const what = `${request.method} ${request.path}`;
    try {
      for (let hop = 0; ; hop++) {
        const response = await fetch(url, {
          method,
          headers: headersFor(request.headers, body !== undefined),
          body,
          redirect: "manual",
          signal,
          tls: this.tls,
        });
        const location = response.headers.get("location");
        if (response.status >= 300 && response.status < 400 && location) {
          await response.body?.cancel();
          if (hop >= MAX_REDIRECTS) throw new BmcError("protocol", `${what}: more than ${MAX_REDIRECTS} redirects`);
          const next = new URL(location, url);
          if (next.origin !== this.options.origin.origin) {
            throw new BmcError("protocol", `${what}: redirected off the BMC to ${next.origin}; not following`);
          }
          if (response.status === 303) [method, body] = ["GET", undefined];
          url = next;
          continue;
        }
        const text = await response.text();
        const parsed = parseJson(text);
        return {
          status: response.status,
          headers: response.headers,
          path: url.pathname + url.search,
          body: parsed.value,
          text,
          malformed: parsed.malformed,
        };
      }
    } catch (error) {
      throw classify(error, what, outer, budget, this.options.requestTimeoutMs);
    }
  }
}

function headersFor(extra: Record<string, string> | undefined, hasBody: boolean): Record<string, string> {
  const headers: Record<string, string> = { Accept: "application/json", "OData-Version": "4.0", ...extra };
  if (hasBody) headers["Content-Type"] = "application/json";
  return headers;
}

function parseJson(text: string): { value: unknown; malformed: boolean } {
  if (text.trim() === "") return { value: undefined, malformed: false };
  try {
    return { value: JSON.parse(text), malformed: false };
  } catch {
    return { value: undefined, malformed: true };
  }
}

function classify(error: unknown, what: string, outer: AbortSignal, budget: AbortSignal, budgetMs: number): BmcError {
  if (error instanceof BmcError) return error;
  if (outer.aborted) {
    const reason: unknown = outer.reason;
    const timedOut = reason instanceof DOMException && reason.name === "TimeoutError";
    return new BmcError("timeout", `${what}: ${timedOut ? "time budget exhausted" : "cancelled"} before the BMC answered`);
  }
  if (budget.aborted) return new BmcError("timeout", `${what}: no answer within ${budgetMs} ms`);
  const code = (error as { code?: unknown }).code;
  const codeText = typeof code === "string" ? code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  if (isTlsFailure(codeText)) {
    return new BmcError("unreachable", `${what}: TLS failed (${codeText}: ${message}); check the BMC's tls setting`);
  }
  return new BmcError("unreachable", `${what}: ${codeText ? `${codeText}: ` : ""}${message}`);
}
