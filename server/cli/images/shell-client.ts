// The client half of interactive customize: the terminal in raw mode, relayed over the job's WebSocket.
import { UserError } from "../../core/errors.ts";
import type { ApiClient } from "../client.ts";

/** Relays stdin/stdout to the shell of job `id` until the shell ends; resolves with the close reason. */
export async function attachShell(client: ApiClient, id: number): Promise<string> {
  const rows = process.stdout.rows ?? 24;
  const cols = process.stdout.columns ?? 80;
  const url = `${client.settings.url.replace(/^http/, "ws")}/api/v1/jobs/${id}/shell?rows=${rows}&cols=${cols}`;
  const headers: Record<string, string> = client.settings.token ? { authorization: `Bearer ${client.settings.token}` } : {};
  // Bun's WebSocket takes headers, so the token travels as for every other call.
  const ws = new WebSocket(url, { headers } as unknown as string[]);
  ws.binaryType = "arraybuffer";
  const stdin = process.stdin;
  const raw = stdin.isTTY;
  const onData = (chunk: Buffer) => ws.readyState === WebSocket.OPEN && ws.send(chunk);
  return new Promise<string>((resolve, reject) => {
    let opened = false;
    const cleanup = () => {
      stdin.off("data", onData);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
    };
    ws.onopen = () => {
      opened = true;
      if (raw) stdin.setRawMode(true);
      stdin.on("data", onData);
      stdin.resume();
    };
    ws.onmessage = (event) => {
      process.stdout.write(typeof event.data === "string" ? event.data : new Uint8Array(event.data as ArrayBuffer));
    };
    ws.onerror = () => {
      if (!opened) {
        cleanup();
        reject(new UserError(`could not open the shell of job ${id} at ${url}`));
      }
    };
    ws.onclose = (event) => {
      cleanup();
      resolve(event.reason || `closed (${event.code})`);
    };
  });
}
