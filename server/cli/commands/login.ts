import { UserError } from "../../core/errors.ts";
import { ApiClient, loadClientSettings, saveClientSettings } from "../client.ts";
import type { Command } from "../command.ts";

export const login: Command = {
  name: "login",
  summary: "check a server URL and token, and save them for this user",
  usage: ["login [--url URL] --token TOKEN"],
  flags: [],
  details: `Saves to ~/.config/provctl/config.json (mode 0600; PROVCTL_CLIENT_CONFIG overrides the path).
PROVCTL_URL / PROVCTL_TOKEN and --url / --token still take precedence over the saved values.`,
  async run(_args, io) {
    const settings = io.client().settings;
    if (!settings.token) throw new UserError("login: give the token the server printed at first start: provctl login --token TOKEN");
    await new ApiClient(settings).get("/api/v1/networks");
    const path = saveClientSettings(settings);
    io.out(`Logged in to ${settings.url}; saved to ${path}`);
    return 0;
  },
};

export { loadClientSettings };
