// Server settings: defaults < config file < PROVCTL_* environment < flags. One table drives parsing and --help.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { UserError } from "./errors.ts";
import { integerIn } from "./validate.ts";

export interface ServeConfig {
  dataDir: string;
  listen: { host: string; port: number };
  /** An admin token to accept instead of generating one at first start. */
  token?: string;
  logLevel: string;
  configFile?: string;
  /** iPXE binaries served over TFTP (and HTTP for UEFI HTTP boot). */
  ipxeDir: string;
  /** Interfaces DHCP serves; none means DHCP is off. */
  dhcpInterfaces: string[];
  dhcpMode: "full" | "proxy";
  /** TFTP address; undefined means off. */
  tftpListen?: { host: string; port: number };
  /** BMCs worked on at once by rpower/rsetboot. */
  powerConcurrency: number;
  /** Budget for one node's power operation, in milliseconds. */
  powerTimeoutMs: number;
  /** Downloaded packages shared by image builds. */
  imageCacheDir: string;
}

interface Setting {
  key: "dataDir" | "listen" | "token" | "logLevel" | "ipxeDir" | "dhcpInterfaces" | "dhcpMode" | "tftpListen" | "powerConcurrency" | "powerTimeout" | "imageCacheDir";
  flag: string;
  env: string;
  file: string;
  help: string;
  default?: () => string;
}

export const DEFAULT_LISTEN = "127.0.0.1:8640";
export const DEFAULT_CONFIG_FILE = "/etc/provd/provd.toml";

export const SETTINGS: readonly Setting[] = [
  {
    key: "dataDir",
    flag: "--data-dir",
    env: "PROVCTL_DATA_DIR",
    file: "data_dir",
    help: "where the database, the secret key and artifacts live",
    default: () => (process.getuid?.() === 0 ? "/var/lib/provd" : join(homedir(), ".local/share/provd")),
  },
  { key: "listen", flag: "--listen", env: "PROVCTL_LISTEN", file: "listen", help: "HTTP address:port", default: () => DEFAULT_LISTEN },
  {
    key: "token",
    flag: "--token",
    env: "PROVCTL_TOKEN",
    file: "token",
    help: "admin API token to accept (none is generated then); prefer the environment over the flag",
  },
  {
    key: "logLevel",
    flag: "--log-level",
    env: "PROVCTL_LOG_LEVEL",
    file: "log_level",
    help: "trace, debug, info, warn, error",
    default: () => "info",
  },
  {
    key: "dhcpInterfaces",
    flag: "--dhcp-interfaces",
    env: "PROVCTL_DHCP_INTERFACES",
    file: "dhcp_interfaces",
    help: "comma-separated interfaces to serve DHCP on (only these; none = DHCP off)",
  },
  {
    key: "dhcpMode",
    flag: "--dhcp-mode",
    env: "PROVCTL_DHCP_MODE",
    file: "dhcp_mode",
    help: "full (addresses and boot) or proxy (boot info only, beside the site's DHCP server)",
    default: () => "full",
  },
  {
    key: "tftpListen",
    flag: "--tftp-listen",
    env: "PROVCTL_TFTP_LISTEN",
    file: "tftp_listen",
    help: "TFTP address:port (default 0.0.0.0:69 when DHCP is on, else off; 'off' to disable)",
  },
  {
    key: "ipxeDir",
    flag: "--ipxe-dir",
    env: "PROVCTL_IPXE_DIR",
    file: "ipxe_dir",
    help: "iPXE binaries (undionly.kpxe, snponly.efi, ipxe.efi…): Debian's ipxe package",
    default: () => "/usr/lib/ipxe",
  },
  {
    key: "powerConcurrency",
    flag: "--power-concurrency",
    env: "PROVCTL_POWER_CONCURRENCY",
    file: "power_concurrency",
    help: "BMCs rpower/rsetboot work on at once (one operation per BMC at a time)",
    default: () => "256",
  },
  {
    key: "powerTimeout",
    flag: "--power-timeout",
    env: "PROVCTL_POWER_TIMEOUT",
    file: "power_timeout",
    help: "seconds one node's power operation may take, retries included",
    default: () => "10",
  },
  {
    key: "imageCacheDir",
    flag: "--image-cache-dir",
    env: "PROVCTL_IMAGE_CACHE_DIR",
    file: "image_cache_dir",
    help: "package cache shared by image builds (default DATA_DIR/cache)",
  },
];

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

/** Reads the settings from `flags` (already split as --name value), the environment and the config file. */
export function loadServeConfig(flags: Record<string, string>, env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const configFile = flags["--config"] ?? env.PROVCTL_CONFIG ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const fromFile = configFile ? readConfigFile(configFile) : {};
  const values: Partial<Record<Setting["key"], string>> = {};
  for (const s of SETTINGS) {
    const value = flags[s.flag] ?? env[s.env] ?? fromFile[s.file] ?? s.default?.();
    if (value !== undefined && value !== "") values[s.key] = value;
  }
  const logLevel = values.logLevel!;
  if (!LOG_LEVELS.includes(logLevel)) throw new UserError(`log level '${logLevel}': expected one of ${LOG_LEVELS.join(", ")}`);
  const dhcpInterfaces = (values.dhcpInterfaces ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  for (const ifname of dhcpInterfaces) {
    if (!/^[\w.@:-]{1,15}$/.test(ifname)) throw new UserError(`dhcp interface '${ifname}' is not an interface name`);
  }
  const dhcpMode = values.dhcpMode!;
  if (dhcpMode !== "full" && dhcpMode !== "proxy") throw new UserError(`dhcp mode '${dhcpMode}': expected full or proxy`);
  const tftp = values.tftpListen ?? (dhcpInterfaces.length ? "0.0.0.0:69" : "off");
  const powerConcurrency = Number(integerIn("power concurrency", values.powerConcurrency!, 1, 100_000));
  const powerTimeout = Number(values.powerTimeout);
  if (!(powerTimeout >= 0.1 && powerTimeout <= 3600)) throw new UserError(`power timeout '${values.powerTimeout}': expected seconds from 0.1 to 3600`);
  return {
    dataDir: resolve(values.dataDir!),
    listen: parseListen(values.listen!),
    token: values.token,
    logLevel,
    configFile,
    ipxeDir: values.ipxeDir!,
    dhcpInterfaces,
    dhcpMode,
    tftpListen: tftp === "off" ? undefined : parseListen(tftp),
    powerConcurrency,
    powerTimeoutMs: Math.round(powerTimeout * 1000),
    imageCacheDir: resolve(values.imageCacheDir ?? join(values.dataDir!, "cache")),
  };
}

export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new UserError(`listen address '${value}': expected host:port, e.g. ${DEFAULT_LISTEN}`);
  return { host: match[1] ?? (match[2] || "0.0.0.0"), port };
}

function readConfigFile(path: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = Bun.TOML.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new UserError(`config file ${path}: ${(e as Error).message}`);
  }
  const known = new Set(SETTINGS.map((s) => s.file));
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!known.has(key)) throw new UserError(`config file ${path}: unknown setting '${key}' (known: ${[...known].join(", ")})`);
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) out[key] = value.join(",");
    else if (typeof value === "string") out[key] = value;
    else throw new UserError(`config file ${path}: '${key}' must be a string`);
  }
  return out;
}
