// The boot network services of `provctl serve`: DHCP (full or proxy) on the configured interfaces only,
// TFTP for the iPXE binaries and autoexec.ipxe, and IPv6 router advertisements so iPXE does not wait for one.
import type { ServeConfig } from "./core/config.ts";
import { scriptUrl } from "./core/boot-plan.ts";
import { UserError } from "./core/errors.ts";
import type { Logger } from "./core/log.ts";
import type { Services } from "./core/services.ts";
import { createSqliteLeaseStore } from "./db/lease-store.ts";
import type { BootUrls, DhcpObserver } from "./dhcp/backend.ts";
import { type DhcpServer, startDhcpServer } from "./dhcp/server.ts";
import { type RouterAdvertiser, startRouterAdvertiser } from "./net/router-advert.ts";
import { waitForInterfaces } from "./net/wait-for-interfaces.ts";
import { type TftpServer, fileSourceUnder, memorySource, startTftpServer } from "./tftp/server.ts";
import { cachedSources } from "./tftp/cached-source.ts";

export interface BootNetwork {
  dhcp?: DhcpServer;
  tftp?: TftpServer;
  ra?: RouterAdvertiser;
  stop(): Promise<void>;
}

export async function startBootNetwork(config: ServeConfig, services: Services, log: Logger, httpPort: number): Promise<BootNetwork> {
  const network: BootNetwork = { stop: async () => {} };
  if (config.dhcpInterfaces.length && isLoopback(config.listen.host)) {
    throw new UserError(
      `DHCP serves ${config.dhcpInterfaces.join(",")} but HTTP listens on ${config.listen.host}, which booting machines cannot reach: ` +
        `set --listen 0.0.0.0:${config.listen.port} (or the boot interface's address)`,
    );
  }
  try {
    // TFTP requests carry no MAC: the node is the one with this static IP, or the one leased it.
    const nodeOfIp = (ip: string) => services.directory.nodeOfIp(ip) ?? network.dhcp?.leases.atAddress(ip)?.node;
    if (config.tftpListen) network.tftp = await startTftp(config, services, log, httpPort, nodeOfIp);
    if (config.dhcpInterfaces.length) {
      network.dhcp = await startDhcp(config, services, log, httpPort);
      network.ra = startRouterAdvertiser({ interfaces: config.dhcpInterfaces, log: log.child({ component: "ra" }) });
    }
  } catch (error) {
    await stopAll(network);
    throw error;
  }
  network.stop = () => stopAll(network);
  return network;
}

async function startDhcp(config: ServeConfig, services: Services, log: Logger, httpPort: number): Promise<DhcpServer> {
  const dhcpLog = log.child({ component: "dhcp" });
  await waitForInterfaces(config.dhcpInterfaces, { onWait: (missing) => dhcpLog.warn({ missing }, "waiting for interfaces to have an IPv4 address") });
  const urls: BootUrls = {
    ipxeScript: (serverIp, mac) => scriptUrl(`http://${serverIp}:${httpPort}`, mac),
    httpBootBinary: (serverIp, file) => `http://${serverIp}:${httpPort}/boot/ipxe-bin/${file}`,
  };
  const observer: DhcpObserver = {
    bootEvent: (e) => services.bootLog.record({ node: e.node, mac: e.mac, kind: e.kind, detail: e.detail }),
    discovered: (m) => services.bootLog.discovered(m),
  };
  const server = await startDhcpServer({
    interfaces: config.dhcpInterfaces,
    mode: config.dhcpMode,
    directory: services.directory,
    leases: createSqliteLeaseStore(services.db, { onError: (err) => dhcpLog.error({ err }, "saving leases failed; retrying") }),
    observer,
    urls,
    log: dhcpLog,
  });
  dhcpLog.info({ interfaces: config.dhcpInterfaces, mode: config.dhcpMode }, "DHCP serving");
  return server;
}

async function startTftp(
  config: ServeConfig,
  services: Services,
  log: Logger,
  httpPort: number,
  nodeOfIp: (ip: string) => string | undefined,
): Promise<TftpServer> {
  const tftpLog = log.child({ component: "tftp" });
  const ipxeFiles = cachedSources(fileSourceUnder(config.ipxeDir));
  // iPXE resolves ${next-server} itself: one autoexec.ipxe serves every interface.
  const autoexec = memorySource(new TextEncoder().encode(services.planner.autoexec(`http://\${next-server}:${httpPort}`)));
  const server = await startTftpServer({
    address: config.tftpListen!.host,
    port: config.tftpListen!.port,
    log: tftpLog,
    resolve: async (path, client) => {
      const name = path.replaceAll("\\", "/").replace(/^\/+/, "");
      services.bootLog.record({ node: nodeOfIp(client.address), kind: "tftp", detail: `${name} to ${client.address}` });
      if (name === "autoexec.ipxe" || name.endsWith("/autoexec.ipxe")) return autoexec;
      return ipxeFiles(path, client);
    },
  });
  tftpLog.info({ address: config.tftpListen!.host, port: server.port, root: config.ipxeDir }, "TFTP serving");
  return server;
}

async function stopAll(network: BootNetwork): Promise<void> {
  network.ra?.close();
  network.dhcp?.close();
  await network.tftp?.close();
}

function isLoopback(host: string): boolean {
  return host.startsWith("127.") || host === "::1" || host === "localhost";
}
