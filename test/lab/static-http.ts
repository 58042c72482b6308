// A static HTTP server for the reference lab, run as its own process inside the segment's namespace:
//   bun test/lab/static-http.ts <config.json>
// config: { hostname, port, files: { "/url-path": "/file/path" } }. Prints one JSON line when listening and one per
// request, so the test can assert on what the firmware fetched and when.
import { readFileSync } from "node:fs";

interface Config {
  hostname: string;
  port: number;
  files: Record<string, string>;
}

export interface HttpLogLine {
  /** `Date.now()` when the request arrived. */
  t: number;
  method: string;
  path: string;
  status: number;
  bytes: number;
  remote: string;
  userAgent: string;
}

const configPath = process.argv[2];
if (!configPath) {
  console.error("usage: static-http.ts <config.json>");
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, "utf8")) as Config;

const server = Bun.serve({
  hostname: config.hostname,
  port: config.port,
  // iPXE-EFI acknowledges the last segment only after LoadImage: keep the connection open well past that.
  idleTimeout: 120,
  fetch(request, srv) {
    const path = new URL(request.url).pathname;
    const file = config.files[path];
    const size = file ? Bun.file(file).size : 0;
    const status = file ? 200 : 404;
    const line: HttpLogLine = {
      t: Date.now(),
      method: request.method,
      path,
      status,
      bytes: size,
      remote: srv.requestIP(request)?.address ?? "",
      userAgent: request.headers.get("user-agent") ?? "",
    };
    console.log(JSON.stringify(line));
    if (!file) return new Response("not found\n", { status });
    if (request.method === "HEAD") return new Response(null, { headers: { "content-length": String(size) } });
    return new Response(Bun.file(file));
  },
});

console.log(JSON.stringify({ listening: `${server.hostname}:${server.port}` }));
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    void server.stop(true);
    process.exit(0);
  });
}
