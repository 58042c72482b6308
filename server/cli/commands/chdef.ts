import { UserError } from "../../core/errors.ts";
import { assignments, isAssignment } from "../args.ts";
import type { Command } from "../command.ts";
import { OBJECTS_FLAG, PLURAL, TYPE_FLAG, definitionsMessage, noderangePayload, printWarnings, typeOf } from "../common.ts";
import { importStanzas } from "./mkdef.ts";

export const chdef: Command = {
  name: "chdef",
  summary: "change attributes of defined objects",
  usage: ["chdef [-t TYPE] [-p|-m] NODERANGE attr=value ...", "chdef [-t TYPE] NAME -n NEWNAME", "chdef -z < stanza-file"],
  flags: [
    TYPE_FLAG,
    OBJECTS_FLAG,
    { names: ["-p", "--plus"], help: "add the values to list attributes (groups, mac, tags…)" },
    { names: ["-m", "--minus"], help: "remove the values from list attributes" },
    { names: ["-n", "--newname"], value: true, metavar: "NEWNAME", help: "rename the object" },
    { names: ["-z", "--stanza"], help: "read an xCAT stanza file from standard input" },
  ],
  details: `An empty value removes the attribute (chdef n01 addkcmdline=). For nodes, NODERANGE is evaluated
(groups, ranges, selectors); to set a value on a group itself use -t group.

Examples:
  provctl chdef n[01-04] -p groups=gpu
  provctl chdef -t group compute mgt=ipmi
  provctl chdef n01 -n n101`,
  async run(args, io) {
    if (args.flags.has("-z")) return importStanzas(io, "change");
    const type = typeOf(args);
    const target = args.flags.get("-o") ?? args.positionals.find((a) => !isAssignment(a));
    if (typeof target !== "string") throw new UserError(`chdef: say which ${type}(s) to change`);
    const newName = args.flags.get("-n");
    if (typeof newName === "string") {
      await io.client().post(`/api/v1/${PLURAL[type]}/${encodeURIComponent(target)}/rename`, { to: newName });
      io.out(definitionsMessage(1, "created or modified"));
      return 0;
    }
    if (args.flags.has("-p") && args.flags.has("-m")) throw new UserError("chdef: -p and -m cannot be used together");
    const mode = args.flags.has("-p") ? "add" : args.flags.has("-m") ? "remove" : "set";
    const attrs = assignments(args.positionals.filter((a) => a !== target));
    if (!Object.keys(attrs).length) throw new UserError("chdef: give at least one attr=value to change");
    const body =
      type === "node"
        ? (() => {
            const { range, files } = noderangePayload(target);
            return { objects: [{ name: range, attrs }], mode, files };
          })()
        : { objects: target.split(",").map((name) => ({ name, attrs })), mode };
    const result = await io.client().patch<{ count: number; warnings: string[] }>(`/api/v1/${PLURAL[type]}`, body);
    printWarnings(io, result.warnings);
    io.out(definitionsMessage(result.count, "created or modified"));
    return 0;
  },
};
