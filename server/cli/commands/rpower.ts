import { UserError } from "../../core/errors.ts";
import { parseRpower } from "../../power/verbs.ts";
import type { Command } from "../command.ts";
import { runPowerTask } from "../power-task.ts";

export const rpower: Command = {
  name: "rpower",
  summary: "power nodes on, off, reset, boot, or show their state, through their BMCs",
  usage: ["rpower NODERANGE on|off|softoff|reset|cycle|boot|nmi|stat"],
  flags: [],
  details: `Each node's BMC is reached with its mgt (ipmi or redfish), bmc, bmcport, bmcusername and bmcpassword,
from the node or its groups. Results print as they arrive: 'n01: on' on stdout, 'n01: Error: …' on stderr;
the exit status is 1 if any node failed. 'on' on a node that is on sends nothing; 'boot' powers on a node
that is off and resets one that is on.

Examples:
  provctl rpower 'n[01-60]' stat
  provctl rpower compute boot`,
  async run(args, io) {
    const [range, verb, ...rest] = args.positionals;
    if (!range) throw new UserError("rpower: give a noderange and an action, e.g. rpower n01 stat");
    if (rest.length) throw new UserError(`rpower: unexpected arguments: ${rest.join(" ")}`);
    parseRpower(verb); // a misspelt action is named here, before the server is asked
    const outcome = await runPowerTask(io, range, { command: "rpower", verb }, `rpower ${verb}`);
    return outcome.failed.length ? 1 : 0;
  },
};
