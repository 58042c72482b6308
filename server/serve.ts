// `provctl serve`: one process serving the API (and, as they land, DHCP, TFTP and boot files) from one database.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ServeConfig } from "./core/config.ts";
import { createLogger } from "./core/log.ts";
import { secretBoxFromKeyFile } from "./core/secret-box.ts";
import { createServices } from "./core/services.ts";
import { TokenStore } from "./core/tokens.ts";
import { openDatabase } from "./db/open.ts";
import { startBootNetwork } from "./boot-network.ts";
import { powerProtocols } from "./power/protocols.ts";
import { createApp, fetchWithSlashesCollapsed } from "./http/app.ts";
import { jobShell } from "./http/job-shell.ts";
import { VERSION } from "./version.ts";

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

export async function serve(config: ServeConfig): Promise<RunningServer> {
  const log = createLogger(config.logLevel);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const db = openDatabase(join(config.dataDir, "provd.db"));
  const services = createServices(db, {
    secrets: secretBoxFromKeyFile(join(config.dataDir, "secret.key")),
    blobDir: join(config.dataDir, "blobs"),
    dataDir: config.dataDir,
    imageCacheDir: config.imageCacheDir,
    onError: (err) => log.error({ err }, "background work failed"),
    power: { protocols: powerProtocols(), concurrency: config.powerConcurrency, timeoutMs: config.powerTimeoutMs, log: log.child({ component: "power" }) },
  });
  const tokens = new TokenStore(db, config.token);
  const firstToken = tokens.ensureAdminToken();
  const app = createApp({ services, tokens, log, version: VERSION, ipxeDir: config.ipxeDir });
  const appFetch = fetchWithSlashesCollapsed(app);
  const shell = jobShell(services.images, tokens);
  const http = Bun.serve({
    hostname: config.listen.host,
    port: config.listen.port,
    fetch: (request, server) => {
      const upgraded = shell.upgrade(request, server);
      return upgraded === null ? appFetch(request) : upgraded;
    },
    websocket: shell.websocket,
    // Root filesystems are uploaded in one request.
    maxRequestBodySize: 64 * 1024 ** 3,
  });
  const bootNetwork = await startBootNetwork(config, services, log, http.port ?? config.listen.port).catch(async (error: unknown) => {
    await http.stop(true);
    services.bootLog.close();
    db.$client.close();
    throw error;
  });
  const host = http.hostname ?? config.listen.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${http.port}`;
  log.info({ url, dataDir: config.dataDir, configFile: config.configFile, version: VERSION }, "provd serving");
  if (firstToken) {
    // Shown once: only its hash is kept.
    process.stdout.write(
      `\nAdmin API token (shown once, store it now):\n\n  export PROVCTL_URL=${url}\n  export PROVCTL_TOKEN=${firstToken}\n\n` +
        `or save it for this user with: provctl login --url ${url} --token ${firstToken}\n\n`,
    );
  }
  return {
    url,
    async stop() {
      await bootNetwork.stop();
      await http.stop(true);
      services.bootLog.close();
      db.$client.close();
      log.info("provd stopped");
    },
  };
}
