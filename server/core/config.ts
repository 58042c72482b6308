// Server settings: defaults < config file < PROVCTL_* environment < flags. One table drives parsing and --help.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { UserError } from "./errors.ts";

export interface ServeConfig {
  dataDir: string;
  listen: { host: string; port: number };
  /** An admin token to accept instead of generating one at first start. */
  token?: string;
  logLevel: string;
  configFile?: string;
}

interface Setting {
  key: "dataDir" | "listen" | "token" | "logLevel";
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
  return {
    dataDir: resolve(values.dataDir!),
    listen: parseListen(values.listen!),
    token: values.token,
    logLevel,
    configFile,
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
    if (typeof value !== "string") throw new UserError(`config file ${path}: '${key}' must be a string`);
    out[key] = value;
  }
  return out;
}
