import { canonicalAttr } from "../../core/attributes.ts";
import type { Command } from "../command.ts";
import { isSelector } from "../args.ts";
import { OUTPUT_FLAGS, query, wantsJson } from "../common.ts";
import { sourceNote } from "../format.ts";

export const nodels: Command = {
  name: "nodels",
  summary: "list nodes, or attributes of nodes",
  usage: ["nodels [NODERANGE] [-H] [-b] [ATTR ...] [ATTR==VALUE|ATTR!=VALUE|ATTR=~RE|ATTR!~RE ...]"],
  flags: [
    { names: ["-H", "--with-fieldname"], help: "always print the attribute name" },
    { names: ["-b", "--inherited"], help: "say which group each inherited value comes from" },
    ...OUTPUT_FLAGS,
  ],
  details: `Without a noderange, every node. Selectors after the noderange filter it.

Examples:
  provctl nodels compute
  provctl nodels 'compute,-n[05-10]'
  provctl nodels compute mgt bmc
  provctl nodels all mgt==ipmi`,
  async run(args, io) {
    const [first, ...rest] = args.positionals;
    const selectors = rest.filter(isSelector);
    const attrs = rest.filter((a) => !isSelector(a));
    const base = first ?? "all";
    const range = selectors.length ? [`(${base})`, ...selectors].join("@") : base;
    const objects = await query(io, "node", range);
    if (wantsJson(args)) {
      io.out(JSON.stringify(objects.map((o) => ({ name: o.name, ...(attrs.length ? { attrs: pick(o.attrs, attrs) } : {}) })), null, 2));
      return 0;
    }
    const withName = args.flags.has("-H") || attrs.length > 1;
    const lines: string[] = [];
    for (const object of objects) {
      if (!attrs.length) lines.push(object.name);
      for (const attr of attrs) {
        const key = canonicalAttr("node", attr);
        const value = object.attrs[key] ?? "";
        const note = sourceNote(object, key, { showSource: args.flags.has("-b") });
        lines.push(withName ? `${object.name}: ${attr}: ${value}${note}` : `${object.name}: ${value}${note}`);
      }
    }
    if (lines.length) io.out(lines.join("\n"));
    return 0;
  },
};

function pick(attrs: Record<string, string>, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, attrs[canonicalAttr("node", n)] ?? ""]));
}
