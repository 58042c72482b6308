import { canonicalAttr } from "../../core/attributes.ts";
import { OBJECT_TYPES, type ObjectType } from "../../core/attributes.ts";
import type { ListedObject } from "../../core/inventory.ts";
import { UserError } from "../../core/errors.ts";
import type { Command } from "../command.ts";
import { JSON_FLAG, OBJECTS_FLAG, TYPE_FLAG, query, typeOf, wantsJson } from "../common.ts";
import { type Listing, formatListing } from "../format.ts";

export const lsdef: Command = {
  name: "lsdef",
  summary: "list object definitions",
  usage: ["lsdef [-t TYPE] [-l|-s|-c|-z] [-i ATTRS] [-b] [NODERANGE|NAMES]", "lsdef -a -z > everything.stanza"],
  flags: [
    TYPE_FLAG,
    OBJECTS_FLAG,
    { names: ["-l", "--long"], help: "all attributes (the default when objects are named)" },
    { names: ["-s", "--short"], help: "names only" },
    { names: ["-c", "--compress"], help: "one 'name: attr=value' line per attribute" },
    { names: ["-z", "--stanza"], help: "xCAT stanza format (own values only), for mkdef -z" },
    { names: ["-i", "--attrs"], value: true, metavar: "ATTRS", help: "only these attributes, comma-separated" },
    { names: ["-b", "--inherited"], help: "say which group each inherited value comes from" },
    { names: ["-a", "--all"], help: "every object of every type" },
    JSON_FLAG,
  ],
  details: `Node values include those inherited from groups (node first, then its groups in order).
'all' without -t means every object of every type. -o json prints JSON (-o NAMES still names objects).

Examples:
  provctl lsdef n07 -i mgt
  provctl lsdef compute -c -i bmc,mgt -b
  provctl lsdef -z all > cluster.stanza`,
  async run(args, io) {
    const objectsFlag = args.flags.get("-o");
    const target = typeof objectsFlag === "string" && objectsFlag !== "json" ? objectsFlag : args.positionals[0];
    if (args.positionals.length > 1) throw new UserError(`lsdef: unexpected arguments: ${args.positionals.slice(1).join(" ")}`);
    const everything = args.flags.has("-a") || (target === "all" && !args.flags.has("-t"));
    const types: readonly ObjectType[] = everything ? OBJECT_TYPES : [typeOf(args)];
    const range = everything ? undefined : target;
    const objects: ListedObject[] = [];
    for (const type of types) objects.push(...(await query(io, type, range)));
    const only = typeof args.flags.get("-i") === "string" ? (args.flags.get("-i") as string).split(",").map((a) => canonicalAttr("node", a.trim())) : undefined;
    if (wantsJson(args)) {
      io.out(JSON.stringify(objects, null, 2));
      return 0;
    }
    const listing: Listing = args.flags.has("-z")
      ? "stanza"
      : args.flags.has("-c")
        ? "compressed"
        : args.flags.has("-s") || (target === undefined && !args.flags.has("-l") && !only && !everything)
          ? "names"
          : "long";
    io.out(formatListing(objects, listing, { only, showSource: args.flags.has("-b") }).replace(/\n$/, ""));
    return 0;
  },
};
