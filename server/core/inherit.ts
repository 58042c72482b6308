// Per-attribute inheritance (xCAT semantics): a node's own value, else the first of its groups, in order, that sets it.
import { attrSpec } from "./attributes.ts";
import { split } from "./list-attr.ts";
import type { ObjectRecord } from "./objects.ts";
import { applyRegexRow, isRegexRow } from "./regex-row.ts";

export interface ResolvedValue {
  value: string;
  /** The group the value came from; absent when the node sets it itself. */
  from?: string;
}

export type ResolvedAttrs = Record<string, ResolvedValue>;

export function resolveNode(node: ObjectRecord, groups: ReadonlyMap<string, ObjectRecord>): ResolvedAttrs {
  const resolved: ResolvedAttrs = {};
  for (const [attr, value] of Object.entries(node.attrs)) resolved[attr] = { value };
  for (const groupName of split(node.attrs.groups, ",")) {
    const group = groups.get(groupName);
    if (!group) continue;
    for (const [attr, raw] of Object.entries(group.attrs)) {
      if (resolved[attr] || attrSpec("node", attr)?.notInherited) continue;
      const value = isRegexRow(raw) ? applyRegexRow(raw, node.name) : raw;
      if (value !== undefined) resolved[attr] = { value, from: groupName };
    }
  }
  return resolved;
}

/** Resolved attributes as a plain map, sorted by attribute name. */
export function flatten(resolved: ResolvedAttrs): Record<string, string> {
  return Object.fromEntries(
    Object.keys(resolved)
      .sort()
      .map((attr) => [attr, resolved[attr]!.value]),
  );
}
