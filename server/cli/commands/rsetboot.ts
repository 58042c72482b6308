import { UserError } from "../../core/errors.ts";
import { parseRsetboot } from "../../power/verbs.ts";
import type { Command } from "../command.ts";
import { runPowerTask } from "../power-task.ts";

export const rsetboot: Command = {
  name: "rsetboot",
  summary: "set or show the device nodes boot from next (through their BMCs)",
  usage: ["rsetboot NODERANGE [net|hd|cd|floppy|setup|def|stat] [-p] [-u]"],
  flags: [
    { names: ["-p", "--persistent"], help: "every boot, not only the next one" },
    { names: ["-u", "--uefi"], help: "UEFI boot mode" },
  ],
  details: `Prints what the BMC reports back: 'n01: Network', 'Hard Drive', 'CD/DVD', 'BIOS Setup', 'Floppy',
'BIOS default' (after def) or 'boot override inactive'. The default action is stat.

Examples:
  provctl rsetboot n01 net
  provctl rsetboot compute hd -p -u`,
  async run(args, io) {
    const [range, device, ...rest] = args.positionals;
    if (!range) throw new UserError("rsetboot: give a noderange, e.g. rsetboot n01 net");
    if (rest.length) throw new UserError(`rsetboot: unexpected arguments: ${rest.join(" ")}`);
    const request = { command: "rsetboot", device: device ?? "stat", persistent: args.flags.has("-p"), uefi: args.flags.has("-u") };
    parseRsetboot(request.device, request.persistent, request.uefi); // named here, before the server is asked
    const outcome = await runPowerTask(io, range, request, `rsetboot ${device ?? "stat"}`);
    return outcome.failed.length ? 1 : 0;
  },
};
