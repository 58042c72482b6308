// provctl: the server (`serve`) and its xCAT-style command-line client, in one binary.
import { UserError } from "../core/errors.ts";
import { VERSION } from "../version.ts";
import { type FlagSpec, flagHelp, parseArgs } from "./args.ts";
import { ApiClient, loadClientSettings } from "./client.ts";
import type { Command, CommandIO } from "./command.ts";
import { bootlog, nodediscoverls, nodestat } from "./commands/bootlog.ts";
import { chdef } from "./commands/chdef.ts";
import { imgimport } from "./commands/imgimport.ts";
import { customize, defimport, genimage, packimage } from "./commands/genimage.ts";
import { images, imgprune, imgpromote, imgrollback } from "./commands/images.ts";
import { jobcancel, jobs } from "./commands/jobs.ts";
import { login } from "./commands/login.ts";
import { lsdef } from "./commands/lsdef.ts";
import { mkdef } from "./commands/mkdef.ts";
import { nodels } from "./commands/nodels.ts";
import { nodesetCommand } from "./commands/nodeset.ts";
import { rinstall } from "./commands/rinstall.ts";
import { rmdef } from "./commands/rmdef.ts";
import { rpower } from "./commands/rpower.ts";
import { rsetboot } from "./commands/rsetboot.ts";
import { serveCommand } from "./commands/serve.ts";

export const COMMANDS: readonly Command[] = [
  serveCommand,
  mkdef,
  chdef,
  lsdef,
  rmdef,
  nodels,
  nodesetCommand,
  rpower,
  rsetboot,
  rinstall,
  imgimport,
  defimport,
  genimage,
  customize,
  packimage,
  images,
  imgpromote,
  imgrollback,
  imgprune,
  jobs,
  jobcancel,
  nodestat,
  bootlog,
  nodediscoverls,
  login,
];

const CLIENT_FLAGS: FlagSpec[] = [
  { names: ["--url"], value: true, metavar: "URL", help: "server URL (env PROVCTL_URL; default http://127.0.0.1:8640)" },
  { names: ["--token"], value: true, metavar: "TOKEN", help: "API token (env PROVCTL_TOKEN, or saved by provctl login)" },
];
const HELP_FLAG: FlagSpec = { names: ["-h", "--help"], help: "show this help" };

export function usage(): string {
  const width = Math.max("version".length, ...COMMANDS.map((c) => c.name.length));
  return `provctl ${VERSION}: bare-metal provisioning server and its xCAT-style client

Usage: provctl COMMAND [options]   (provctl COMMAND --help for more)

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}
  ${"version".padEnd(width)}  print the version

Client options (all commands but serve):
${flagHelp(CLIENT_FLAGS)}

Quote noderanges that hold brackets so the shell leaves them alone: 'n[01-60]'.
`;
}

export function commandHelp(command: Command): string {
  const flags = command.name === "serve" ? command.flags : [...command.flags, ...CLIENT_FLAGS];
  return `Usage:\n${command.usage.map((u) => `  provctl ${u}`).join("\n")}\n\n${command.summary}\n\nOptions:\n${flagHelp([...flags, HELP_FLAG])}\n${command.details ? `\n${command.details}\n` : ""}`;
}

export async function main(argv: readonly string[], io: Omit<CommandIO, "client">): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "-h" || name === "--help" || name === "help") {
    io.out(usage());
    return name ? 0 : 1;
  }
  if (name === "version" || name === "--version") {
    io.out(VERSION);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`Error: unknown command '${name}'. Run 'provctl --help' for the list.`);
    return 1;
  }
  try {
    if (rest.includes("-h") || rest.includes("--help")) {
      io.out(commandHelp(command));
      return 0;
    }
    const specs = command.name === "serve" ? command.flags : [...command.flags, ...CLIENT_FLAGS];
    const args = parseArgs(rest, specs, command.name);
    const url = args.flags.get("--url");
    const token = args.flags.get("--token");
    const settings = () => loadClientSettings({ url: typeof url === "string" ? url : undefined, token: typeof token === "string" ? token : undefined });
    return await command.run(args, { ...io, client: () => new ApiClient(settings()) });
  } catch (e) {
    if (e instanceof UserError) {
      io.err(e.message.startsWith("Error:") ? e.message : `Error: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
