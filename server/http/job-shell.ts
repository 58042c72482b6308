// The WebSocket of interactive customize (GET /api/v1/jobs/{id}/shell with Upgrade): Bun.serve upgrades it before
// the hono app sees the request. Bytes from the client go to the shell's terminal, the terminal's output back.
import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import type { TokenStore } from "../core/tokens.ts";
import type { ImageService } from "../image/service.ts";

interface ShellSocketData {
  jobId: number;
  rows: number;
  cols: number;
}

const SHELL_PATH = /^\/api\/v1\/jobs\/(\d+)\/shell$/;

export function jobShell(images: ImageService, tokens: TokenStore) {
  /** Upgrades a shell request (returns undefined), answers a bad one, or returns null for everything else. */
  const upgrade = (request: Request, server: Server<ShellSocketData>): Response | undefined | null => {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return null;
    const url = new URL(request.url);
    const match = SHELL_PATH.exec(url.pathname);
    if (!match) return null;
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
    if (!token || !tokens.verify(token)) return Response.json({ error: "missing or invalid bearer token" }, { status: 401 });
    const job = images.jobs.get(Number(match[1]));
    if (!job || job.kind !== "customize" || !job.request.interactive || images.jobs.isFinal(job)) {
      return Response.json({ error: `job ${match[1]} is not an interactive customize job that is still running` }, { status: 409 });
    }
    const size = (name: string, fallback: number) => Math.min(Math.max(Number(url.searchParams.get(name)) || fallback, 5), 1000);
    const data = { jobId: job.id, rows: size("rows", 24), cols: size("cols", 80) };
    return server.upgrade(request, { data }) ? undefined : Response.json({ error: "WebSocket upgrade failed" }, { status: 400 });
  };

  const websocket: WebSocketHandler<ShellSocketData> = {
    open(ws: ServerWebSocket<ShellSocketData>) {
      const { jobId, rows, cols } = ws.data;
      const client = { send: (d: Uint8Array | string) => void ws.send(d), close: (code?: number, reason?: string) => ws.close(code, reason) };
      if (!images.shells.attach(jobId, client, { rows, cols }, true)) ws.close(1008, "another client is attached to this shell");
    },
    message(ws, message) {
      images.shells.input(ws.data.jobId, typeof message === "string" ? message : new Uint8Array(message));
    },
    close(ws) {
      images.shells.detach(ws.data.jobId);
    },
  };
  return { upgrade, websocket };
}
