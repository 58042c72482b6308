import { UserError } from "../../core/errors.ts";
import type { Command } from "../command.ts";
import { noderangePayload, printWarnings } from "../common.ts";
import { runPowerTask } from "../power-task.ts";

export const rinstall: Command = {
  name: "rinstall",
  summary: "provision nodes now: nodeset osimage, rsetboot net, rpower boot",
  usage: ["rinstall NODERANGE osimage[=NAME] [-u]"],
  flags: [{ names: ["-u", "--uefi"], help: "set the one-time network boot in UEFI mode" }],
  details: `Nodes whose boot device cannot be set are not powered. Exit status 1 if any node failed.

Example:
  provctl rinstall 'n[01-04]' osimage=debian12-compute`,
  async run(args, io) {
    const [range, state, ...rest] = args.positionals;
    if (!range || !state?.startsWith("osimage")) throw new UserError("rinstall: give a noderange and osimage[=NAME], e.g. rinstall n01 osimage=compute");
    if (rest.length) throw new UserError(`rinstall: unexpected arguments: ${rest.join(" ")}`);
    const { files } = noderangePayload(range);
    const set = await io.client().post<{ results: Array<{ node: string; status: string }>; warnings: string[] }>("/api/v1/nodeset", { range, state, files });
    printWarnings(io, set.warnings);
    for (const r of set.results) io.out(`${r.node}: ${r.status}`);
    const boot = await runPowerTask(io, set.results.map((r) => r.node).join(","), { command: "rsetboot", device: "net", persistent: false, uefi: args.flags.has("-u") }, "rsetboot net");
    const power = boot.ok.length ? await runPowerTask(io, boot.ok.join(","), { command: "rpower", verb: "boot" }, "rpower boot") : { ok: [], failed: [] };
    const failed = [...boot.failed, ...power.failed];
    if (failed.length) io.err(`Error: [provd]: Failed to run 'rpower' against the following nodes: ${failed.join(",")}`);
    return failed.length ? 1 : 0;
  },
};
