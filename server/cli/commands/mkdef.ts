import { UserError } from "../../core/errors.ts";
import { parseStanzas } from "../../core/stanza.ts";
import { assignments, isAssignment } from "../args.ts";
import type { Command, CommandIO } from "../command.ts";
import { OBJECTS_FLAG, PLURAL, TYPE_FLAG, definitionsMessage, printWarnings, typeOf } from "../common.ts";

type WriteResult = { count: number; warnings: string[] };

export const mkdef: Command = {
  name: "mkdef",
  summary: "define nodes, groups, osimages or networks",
  usage: ["mkdef [-t TYPE] [-f] NODERANGE attr=value ...", "mkdef -z [-f] < stanza-file"],
  flags: [
    TYPE_FLAG,
    OBJECTS_FLAG,
    { names: ["-f", "--force"], help: "replace objects that already exist" },
    { names: ["-z", "--stanza"], help: "read an xCAT stanza file from standard input" },
  ],
  details: `Node names are expanded as ranges without checking they exist: n[01-60], r[1-2]n[01-04], n01-n10.
Nodes need groups=. All objects are created or none is (e.g. a MAC already used by another node).

Examples:
  provctl mkdef -t node n[01-60] groups=compute,all mgt=redfish
  provctl mkdef -t group compute mgt=ipmi bmcusername=ADMIN bmcpassword=secret
  provctl lsdef -z all > backup.stanza; provctl mkdef -z -f < backup.stanza`,
  async run(args, io) {
    const force = args.flags.has("-f");
    if (args.flags.has("-z")) return importStanzas(io, "create", force);
    const type = typeOf(args);
    const names = args.flags.get("-o") ?? args.positionals.find((a) => !isAssignment(a));
    if (typeof names !== "string") throw new UserError(`mkdef: say which ${type}(s) to define, e.g. mkdef -t ${type} NAME attr=value`);
    const attrs = assignments(args.positionals.filter((a) => a !== names));
    const objects = type === "node" ? [{ name: names, attrs }] : names.split(",").map((name) => ({ name, attrs }));
    const result = await io.client().post<WriteResult>(`/api/v1/${PLURAL[type]}`, { objects, force });
    printWarnings(io, result.warnings);
    io.out(definitionsMessage(result.count, "created or modified"));
    return 0;
  },
};

/** mkdef -z / chdef -z: all objects of the file in one transaction. */
export async function importStanzas(io: CommandIO, mode: "create" | "change", force = false): Promise<number> {
  const parsed = parseStanzas(await io.stdin());
  for (const u of parsed.unsupported) {
    io.err(`Warning: line ${u.line}: ${u.name} (objtype=${u.type}) not imported: provd does not model ${u.type} objects`);
  }
  const result = await io.client().post<WriteResult>("/api/v1/import", { objects: parsed.objects, mode, force });
  printWarnings(io, result.warnings);
  io.out(definitionsMessage(result.count, "created or modified"));
  return 0;
}
