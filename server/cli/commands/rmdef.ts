import { UserError } from "../../core/errors.ts";
import type { Command } from "../command.ts";
import { OBJECTS_FLAG, TYPE_FLAG, definitionsMessage, noderangePayload, typeOf } from "../common.ts";

export const rmdef: Command = {
  name: "rmdef",
  summary: "remove object definitions",
  usage: ["rmdef [-t TYPE] NODERANGE|NAMES"],
  flags: [TYPE_FLAG, OBJECTS_FLAG],
  details: `All named objects are removed or none is. Removing a group takes it out of its members' groups.

Examples:
  provctl rmdef n[05-10]
  provctl rmdef -t osimage old-image`,
  async run(args, io) {
    const type = typeOf(args);
    const target = args.flags.get("-o") ?? args.positionals[0];
    if (typeof target !== "string") throw new UserError(`rmdef: say which ${type}(s) to remove`);
    if (args.positionals.length > 1) throw new UserError(`rmdef: unexpected arguments: ${args.positionals.slice(1).join(" ")}`);
    const body = type === "node" ? { type, ...noderangePayload(target) } : { type, names: target.split(",") };
    const result = await io.client().post<{ count: number }>("/api/v1/remove", body);
    io.out(definitionsMessage(result.count, "removed"));
    return 0;
  },
};
