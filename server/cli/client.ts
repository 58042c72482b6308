// The CLI's only way to the data: the server's REST API, with URL and token from flags, environment or config file.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { DEFAULT_LISTEN } from "../core/config.ts";
import { UserError } from "../core/errors.ts";

export interface ClientSettings {
  url: string;
  token?: string;
}

export function clientConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PROVCTL_CLIENT_CONFIG) return env.PROVCTL_CLIENT_CONFIG;
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "provctl", "config.json");
}

export function loadClientSettings(flags: { url?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): ClientSettings {
  const path = clientConfigPath(env);
  let saved: Partial<ClientSettings> = {};
  if (existsSync(path)) {
    try {
      saved = JSON.parse(readFileSync(path, "utf8")) as Partial<ClientSettings>;
    } catch (e) {
      throw new UserError(`client config ${path} is not valid JSON (${(e as Error).message}); fix it or run provctl login again`);
    }
  }
  const url = flags.url ?? env.PROVCTL_URL ?? saved.url ?? `http://${DEFAULT_LISTEN}`;
  return { url: url.replace(/\/+$/, ""), token: flags.token ?? env.PROVCTL_TOKEN ?? saved.token };
}

export function saveClientSettings(settings: ClientSettings, env: NodeJS.ProcessEnv = process.env): string {
  const path = clientConfigPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, JSON.stringify(settings, null, 2) + "\n", { mode: 0o600 });
  return path;
}

export class ApiClient {
  constructor(readonly settings: ClientSettings) {}

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }
  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }
  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PATCH", path, body);
  }
  delete<T>(path: string): Promise<T> {
    return this.request<T>("DELETE", path);
  }

  /** The lines of a streamed (NDJSON) answer, as they arrive. */
  async *lines(path: string): AsyncGenerator<string> {
    const headers: Record<string, string> = { accept: "application/x-ndjson" };
    if (this.settings.token) headers.authorization = `Bearer ${this.settings.token}`;
    let response: Response;
    try {
      response = await fetch(this.settings.url + path, { headers });
    } catch (e) {
      throw new UserError(`lost the provd server at ${this.settings.url} (${(e as Error).message})`);
    }
    if (!response.ok || !response.body) throw new UserError(`server answered ${response.status} for ${path}`);
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.trim()) yield line;
      }
    }
  }

  /** Streams a body (a file upload) with extra headers. */
  upload<T>(path: string, body: ReadableStream<Uint8Array>, size: number, headers: Record<string, string> = {}): Promise<T> {
    return this.send<T>("PUT", path, body, { "content-type": "application/octet-stream", "content-length": String(size), ...headers });
  }

  request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = body === undefined ? {} : { "content-type": "application/json" };
    return this.send<T>(method, path, body === undefined ? undefined : JSON.stringify(body), headers);
  }

  private async send<T>(method: string, path: string, body: string | ReadableStream<Uint8Array> | undefined, extraHeaders: Record<string, string>): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json", ...extraHeaders };
    if (this.settings.token) headers.authorization = `Bearer ${this.settings.token}`;
    let response: Response;
    try {
      response = await fetch(this.settings.url + path, { method, headers, body });
    } catch (e) {
      throw new UserError(
        `cannot reach the provd server at ${this.settings.url} (${(e as Error).message}): is 'provctl serve' running? Set PROVCTL_URL or --url.`,
      );
    }
    const text = await response.text();
    let payload: unknown;
    try {
      payload = text ? JSON.parse(text) : undefined;
    } catch {
      throw new UserError(`the server at ${this.settings.url} answered ${response.status} with something that is not JSON: is it provd?`);
    }
    if (response.status === 401) {
      const why = (payload as { error?: string })?.error ?? "unauthorized";
      throw new UserError(`${why}. Set PROVCTL_TOKEN, pass --token, or run 'provctl login'.`);
    }
    if (!response.ok) throw new UserError((payload as { error?: string })?.error ?? `server answered ${response.status}`);
    return payload as T;
  }
}
