// What the API asks of the object store: noderanges evaluated against it, and objects with inherited values.
import { type ObjectType, canonicalAttr } from "./attributes.ts";
import { type ResolvedAttrs, resolveNode } from "./inherit.ts";
import { type NoderangeContext, NoderangeError, expandNames, expandNoderange, sortNodeNames } from "./noderange.ts";
import type { ObjectRecord, ObjectStore } from "./objects.ts";
import { UserError } from "./errors.ts";

export interface ListedObject {
  type: ObjectType;
  name: string;
  attrs: Record<string, string>;
  /** For nodes: attribute → the group it was inherited from. */
  inherited?: Record<string, string>;
}

export class Inventory {
  constructor(readonly store: ObjectStore) {}

  /** Full noderange evaluation; `files` holds the ^file contents a remote client sent. */
  expand(noderange: string, files: Readonly<Record<string, string>> = {}): { nodes: string[]; warnings: string[] } {
    const warnings: string[] = [];
    const nodes = asUserError(() => expandNoderange(noderange, this.context(files, warnings)));
    return { nodes, warnings };
  }

  /** Syntactic expansion for names of objects that need not exist yet (mkdef). */
  expandNames(noderange: string): string[] {
    return asUserError(() => expandNames(noderange));
  }

  /** Objects of a type; nodes come with inherited values resolved and their sources. `names` undefined = all. */
  list(type: ObjectType, names?: readonly string[]): ListedObject[] {
    const records = names ? this.store.get(type, names) : this.store.list(type);
    if (type === "node") {
      const groups = this.groupsByName();
      return records.map((node) => listedNode(node, resolveNode(node, groups)));
    }
    if (type === "group") {
      const members = this.store.groupMembers();
      return records.map((g) => ({
        type,
        name: g.name,
        attrs: sorted({ ...g.attrs, ...(members.get(g.name)?.length ? { members: sortNodeNames(members.get(g.name)!).join(",") } : {}) }),
      }));
    }
    return records.map((r) => ({ type, name: r.name, attrs: sorted(r.attrs) }));
  }

  private groupsByName(): Map<string, ObjectRecord> {
    return new Map(this.store.list("group").map((g) => [g.name, g]));
  }

  private context(files: Readonly<Record<string, string>>, warnings: string[]): NoderangeContext {
    const nodes = this.store.nodeNames();
    const members = this.store.groupMembers();
    const groups = this.groupsByName();
    const records = new Map<string, ObjectRecord>();
    const resolved = new Map<string, ResolvedAttrs>();
    const resolvedOf = (node: string): ResolvedAttrs | undefined => {
      if (!records.size) for (const r of this.store.list("node")) records.set(r.name, r);
      const record = records.get(node);
      if (!record) return undefined;
      if (!resolved.has(node)) resolved.set(node, resolveNode(record, groups));
      return resolved.get(node);
    };
    return {
      nodes,
      // `all` means every node unless a group of that name was made.
      groupMembers: (group) => members.get(group) ?? (group === "all" ? nodes : undefined),
      attr: (node, attr) => resolvedOf(node)?.[canonicalAttr("node", attr)]?.value,
      readFile: (path) => {
        const content = files[path];
        if (content === undefined) throw new NoderangeError(`Error: the node list file ${path} was not sent with the request`);
        return content;
      },
      warn: (message) => warnings.push(message),
    };
  }
}

function listedNode(node: ObjectRecord, resolved: ResolvedAttrs): ListedObject {
  const attrs: Record<string, string> = {};
  const inherited: Record<string, string> = {};
  for (const attr of Object.keys(resolved).sort()) {
    const { value, from } = resolved[attr]!;
    attrs[attr] = value;
    if (from) inherited[attr] = from;
  }
  return { type: "node", name: node.name, attrs, inherited };
}

function sorted(attrs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(attrs).sort().map((k) => [k, attrs[k]!]));
}

function asUserError<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof NoderangeError) throw new UserError(e.message.replace(/^Error:\s*/, ""), 400);
    throw e;
  }
}
