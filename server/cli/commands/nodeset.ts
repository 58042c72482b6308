import { UserError } from "../../core/errors.ts";
import type { Command } from "../command.ts";
import { noderangePayload, printWarnings } from "../common.ts";

export const nodesetCommand: Command = {
  name: "nodeset",
  summary: "set what nodes boot next: an osimage, local disk, an iPXE shell, or nothing",
  usage: ["nodeset NODERANGE osimage[=NAME]|boot|shell|offline|stat"],
  flags: [],
  details: `osimage=NAME  netboot NAME (osimage alone: each node's own osimage attribute); nodes need a MAC
boot          boot from the local disk
shell         an iPXE shell
offline       no boot state: the node is told so and falls through to its next boot device
stat          print the current state
All nodes are set or none is.

Examples:
  provctl nodeset 'n[01-60]' osimage=debian12-compute
  provctl nodeset n01 boot
  provctl nodeset compute stat`,
  async run(args, io) {
    const [range, state, ...rest] = args.positionals;
    if (!range || !state) throw new UserError("nodeset: give a noderange and a state, e.g. nodeset n01 osimage=compute");
    if (rest.length) throw new UserError(`nodeset: unexpected arguments: ${rest.join(" ")}`);
    const { files } = noderangePayload(range);
    const result = await io.client().post<{ results: Array<{ node: string; status: string }>; warnings: string[] }>("/api/v1/nodeset", { range, state, files });
    printWarnings(io, result.warnings);
    io.out(result.results.map((r) => `${r.node}: ${r.status}`).join("\n"));
    return 0;
  },
};
