import { SETTINGS, loadServeConfig } from "../../core/config.ts";
import type { Command } from "../command.ts";

export const serveCommand: Command = {
  name: "serve",
  summary: "run the provd server: the REST API over one SQLite database",
  usage: ["serve [--data-dir DIR] [--listen HOST:PORT] [--config FILE] [--log-level LEVEL]"],
  flags: [
    ...SETTINGS.map((s) => ({ names: [s.flag], value: true, metavar: s.key === "listen" ? "HOST:PORT" : "VALUE", help: `${s.help} (env ${s.env})` })),
    { names: ["--config"], value: true, metavar: "FILE", help: "TOML config file (env PROVCTL_CONFIG; default /etc/provd/provd.toml if present)" },
  ],
  details: `Settings, lowest precedence first: defaults, the config file, PROVCTL_* variables, flags.

  setting      flag          environment         config file key   default
${SETTINGS.map((s) => `  ${s.key.padEnd(12)} ${s.flag.padEnd(13)} ${s.env.padEnd(19)} ${s.file.padEnd(17)} ${s.default?.() ?? "-"}`).join("\n")}

Config file example (TOML):
  data_dir = "/var/lib/provd"
  listen = "127.0.0.1:8640"
  log_level = "info"

At first start, unless PROVCTL_TOKEN is set, an admin API token is printed once; only its hash is kept.
BMC passwords are encrypted with DATA_DIR/secret.key (created with mode 0600): back it up with the database.
DHCP is off until an interface is configured.`,
  async run(args) {
    const flags: Record<string, string> = {};
    for (const [key, value] of args.flags) if (typeof value === "string") flags[key] = value;
    // Loaded only here: every other command is a small HTTP client and starts faster without the server's modules.
    const { serve } = await import("../../serve.ts");
    const server = await serve(loadServeConfig(flags));
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    await server.stop();
    return 0;
  },
};
