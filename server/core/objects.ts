// The object store: nodes, groups, osimages and networks as xCAT-style attribute maps, every write in one transaction.
import { asc, inArray } from "drizzle-orm";
import { type Db, atomically } from "../db/open.ts";
import * as schema from "../db/schema.ts";
import { type ObjectType, CATALOG, attrSpec, canonicalAttr } from "./attributes.ts";
import { UserError } from "./errors.ts";
import { addItems, removeItems, split } from "./list-attr.ts";
import { checkRegexRow, isRegexRow } from "./regex-row.ts";
import { type SecretBox, isSealed } from "./secret-box.ts";
import { objectName } from "./validate.ts";
import { KNOWN_XCAT_ATTRS } from "./xcat-attrs.ts";

export type Attrs = Record<string, string>;

export interface ObjectRecord {
  type: ObjectType;
  name: string;
  attrs: Attrs;
  /** A group that nodes name but nobody defined: it has members and no attributes of its own. */
  implicit?: true;
}

export type ChangeMode = "set" | "add" | "remove";

export interface WriteResult {
  count: number;
  warnings: string[];
}

const TABLES = {
  node: schema.nodes,
  group: schema.groups,
  osimage: schema.osimages,
  network: schema.networks,
} as const;

/** All four tables share name/attrs/timestamps; the builder is typed on one of them and rows handled as maps. */
const tableOf = (type: ObjectType) => TABLES[type] as unknown as typeof schema.osimages;

type Row = Record<string, unknown>;

/** What one write collects across object types. */
interface Batch {
  warnings: string[];
  memberships: Array<{ group: string; members: string[] }>;
}

/** Attributes that are computed, not stored. */
const DERIVED = new Set(["members"]);

export class ObjectStore {
  /** Bumped after every committed write, so caches (the DHCP directory) know to reload. */
  generation = 0;

  constructor(
    readonly db: Db,
    private readonly secrets: SecretBox,
  ) {}

  /** Every object of a type with its own attributes (not inherited ones), sorted by name. */
  list(type: ObjectType): ObjectRecord[] {
    const rows = this.db.select().from(tableOf(type)).orderBy(asc(tableOf(type).name)).all() as Row[];
    const records = rows.map((row) => ({ type, name: row.name as string, attrs: rowToAttrs(type, row) }));
    if (type === "node") this.attachNodeLists(records);
    if (type === "group") return this.withImplicitGroups(records);
    return records;
  }

  /** The named objects, read alone (not the whole table); unknown names are an error listing them all. */
  get(type: ObjectType, names: readonly string[]): ObjectRecord[] {
    if (type === "group") return this.pick(this.list(type), names, type);
    const rows: Row[] = [];
    for (let i = 0; i < names.length; i += 500) {
      rows.push(...(this.db.select().from(tableOf(type)).where(inArray(tableOf(type).name, names.slice(i, i + 500))).all() as Row[]));
    }
    const records = rows.map((row) => ({ type, name: row.name as string, attrs: rowToAttrs(type, row) }));
    if (type === "node") this.attachNodeLists(records, names);
    return this.pick(records, names, type);
  }

  private pick(records: ObjectRecord[], names: readonly string[], type: ObjectType): ObjectRecord[] {
    const byName = new Map(records.map((r) => [r.name, r]));
    const missing = names.filter((n) => !byName.has(n));
    if (missing.length) throw new UserError(`Could not find ${type} definition(s): ${missing.join(",")}`, 404);
    return names.map((n) => byName.get(n)!);
  }

  nodeNames(): string[] {
    return this.db.select({ name: schema.nodes.name }).from(schema.nodes).orderBy(asc(schema.nodes.name)).all().map((r) => r.name);
  }

  /** Members of each group, defined or only named by nodes, in node-name order. */
  groupMembers(): Map<string, string[]> {
    const members = new Map<string, string[]>();
    for (const { name } of this.db.select({ name: schema.groups.name }).from(schema.groups).all()) members.set(name, []);
    const rows = this.db.select().from(schema.nodeGroups).orderBy(asc(schema.nodeGroups.node)).all();
    for (const row of rows) {
      const list = members.get(row.group) ?? [];
      list.push(row.node);
      members.set(row.group, list);
    }
    return members;
  }

  /** mkdef: create objects; with `force`, replace existing ones. All or nothing. */
  create(inputs: readonly ObjectRecord[], options: { force?: boolean } = {}): WriteResult {
    return this.writeByType(inputs, (type, ofType, batch) => {
      const existing = new Set(this.list(type).filter((r) => !r.implicit).map((r) => r.name));
      const seen = new Set<string>();
      const records = ofType.map((input) => {
        const name = objectName(type, input.name);
        if (seen.has(name)) throw new UserError(`${name} is defined twice in this request`);
        seen.add(name);
        if (existing.has(name) && !options.force) {
          throw new UserError(`A definition for '${name}' already exists; use -f to replace it or chdef to change it`, 409);
        }
        return { type, name, attrs: this.prepare(type, input.attrs, {}, "set", batch, name) };
      });
      if (type === "node") requireGroups(records);
      if (options.force) this.deleteRows(type, records.map((r) => r.name).filter((n) => existing.has(n)));
      this.writeRecords(type, records, "insert");
    });
  }

  /** chdef: set, add to (-p) or remove from (-m) attributes of existing objects; groups are created on first change. */
  change(inputs: readonly ObjectRecord[], mode: ChangeMode): WriteResult {
    return this.writeByType(inputs, (type, ofType, batch) => {
      const current = new Map(this.list(type).map((r) => [r.name, r]));
      const updates: ObjectRecord[] = [];
      const inserts: ObjectRecord[] = [];
      const missing: string[] = [];
      for (const input of ofType) {
        const name = objectName(type, input.name);
        const old = current.get(name);
        if (!old && type !== "group") {
          missing.push(name);
          continue;
        }
        const attrs = this.prepare(type, input.attrs, old?.attrs ?? {}, mode, batch, name);
        (old && !old.implicit ? updates : inserts).push({ type, name, attrs });
        current.set(name, { type, name, attrs });
      }
      if (missing.length) throw new UserError(`Could not find ${type} definition(s): ${missing.join(",")}`, 404);
      if (type === "node") requireGroups(updates);
      this.writeRecords(type, updates, "update");
      this.writeRecords(type, inserts, "insert");
    });
  }

  /** One transaction over a mixed batch: groups first (nodes name them), nodes last, then group member lists. */
  private writeByType(inputs: readonly ObjectRecord[], writeType: (type: ObjectType, ofType: ObjectRecord[], batch: Batch) => void): WriteResult {
    const batch: Batch = { warnings: [], memberships: [] };
    atomically(this.db, () => {
      for (const type of ["group", "osimage", "network", "node"] as const) {
        const ofType = inputs.filter((i) => i.type === type);
        if (ofType.length) writeType(type, ofType, batch);
      }
      this.applyMemberships(batch.memberships);
    });
    this.generation++;
    return { count: inputs.length, warnings: batch.warnings };
  }

  /** chdef -n: rename one object; node memberships and MACs follow. */
  rename(type: ObjectType, from: string, to: string): void {
    objectName(type, to);
    atomically(this.db, () => {
      this.get(type, [from]);
      if (this.list(type).some((r) => r.name === to)) throw new UserError(`A definition for '${to}' already exists`, 409);
      if (type === "group") {
        this.db.update(schema.nodeGroups).set({ group: to }).where(inArray(schema.nodeGroups.group, [from])).run();
      }
      this.db.update(tableOf(type)).set({ name: to, updatedAt: Date.now() }).where(inArray(tableOf(type).name, [from])).run();
    });
    this.generation++;
  }

  /** rmdef. Removing a group also takes it out of its members' group lists, as xCAT does. */
  remove(type: ObjectType, names: readonly string[]): number {
    atomically(this.db, () => {
      this.get(type, names);
      this.deleteRows(type, [...names]);
      if (type === "group") this.db.delete(schema.nodeGroups).where(inArray(schema.nodeGroups.group, [...names])).run();
    });
    this.generation++;
    return names.length;
  }

  /** Checks and normalises the attributes of one object, merged onto its current ones according to `mode`. */
  private prepare(type: ObjectType, input: Attrs, current: Attrs, mode: ChangeMode, batch: Batch, name: string): Attrs {
    const attrs: Attrs = { ...current };
    for (const [rawName, rawValue] of Object.entries(input)) {
      if (rawName === "objtype") continue;
      const attr = canonicalAttr(type, rawName);
      if (type === "group" && attr === "members") {
        batch.memberships.push({ group: name, members: split(rawValue, ",") });
        continue;
      }
      if (DERIVED.has(attr)) continue;
      const spec = attrSpec(type, attr);
      if (!spec && !KNOWN_XCAT_ATTRS.has(attr)) {
        batch.warnings.push(`${name}: '${attr}' is not an attribute provd models; it is kept as a free-form attribute`);
      }
      const value = rawValue.trim();
      if (mode === "set" || !spec?.separator) {
        if (mode !== "set" && spec?.secret) throw new UserError(`${attr} cannot be added to or removed from; set it`);
        if (value === "") delete attrs[attr];
        else attrs[attr] = this.checkValue(type, name, attr, value);
        continue;
      }
      const checked = value === "" ? "" : this.checkValue(type, name, attr, value);
      const merged = mode === "add" ? addItems(attrs[attr], checked, spec.separator) : removeItems(attrs[attr], checked, spec.separator);
      if (merged) attrs[attr] = merged;
      else delete attrs[attr];
    }
    return attrs;
  }

  private checkValue(type: ObjectType, name: string, attr: string, value: string): string {
    const spec = attrSpec(type, attr);
    if (spec?.secret) {
      if (!isSealed(value)) return this.secrets.seal(value);
      try {
        this.secrets.open(value);
      } catch (e) {
        throw new UserError(`${name}: ${attr}: ${(e as Error).message}`);
      }
      return value;
    }
    if (type === "group" && isRegexRow(value)) return checkRegexRow(attr, value);
    return spec?.check ? spec.check(value) : value;
  }

  /** Reads a stored secret in plain text, for the server's own use (power control); never for output. */
  revealSecret(sealed: string): string {
    return this.secrets.open(sealed);
  }

  private writeRecords(type: ObjectType, records: readonly ObjectRecord[], how: "insert" | "update"): void {
    if (!records.length) return;
    const now = Date.now();
    if (type === "node") this.checkNodeUniqueness(records);
    if (type === "group") this.checkGroupNames(records);
    if (type === "node") this.checkNodeNamesFreeOfGroups(records);
    const table = tableOf(type);
    for (const record of records) {
      const row = attrsToRow(type, record.attrs);
      if (how === "insert") {
        this.db.insert(table).values({ ...row, name: record.name, createdAt: now, updatedAt: now } as typeof table.$inferInsert).run();
      } else {
        this.db.update(table).set({ ...row, updatedAt: now }).where(inArray(table.name, [record.name])).run();
      }
    }
    if (type === "node") this.writeNodeLists(records);
  }

  private writeNodeLists(records: readonly ObjectRecord[]): void {
    const names = records.map((r) => r.name);
    this.db.delete(schema.nodeGroups).where(inArray(schema.nodeGroups.node, names)).run();
    this.db.delete(schema.nodeMacs).where(inArray(schema.nodeMacs.node, names)).run();
    const groupRows = records.flatMap((r) => split(r.attrs.groups, ",").map((group, position) => ({ node: r.name, group, position })));
    const macRows = records.flatMap((r) => split(r.attrs.mac, "|").map((mac, position) => ({ node: r.name, mac, position })));
    for (let i = 0; i < groupRows.length; i += 500) this.db.insert(schema.nodeGroups).values(groupRows.slice(i, i + 500)).run();
    for (let i = 0; i < macRows.length; i += 500) this.db.insert(schema.nodeMacs).values(macRows.slice(i, i + 500)).run();
  }

  /** A MAC or IP belongs to one node: a clash names the other node. */
  private checkNodeUniqueness(records: readonly ObjectRecord[]): void {
    const writing = new Set(records.map((r) => r.name));
    const macOwner = new Map<string, string>();
    for (const row of this.db.select().from(schema.nodeMacs).all()) if (!writing.has(row.node)) macOwner.set(row.mac, row.node);
    const ipOwner = new Map<string, string>();
    for (const row of this.db.select({ name: schema.nodes.name, ip: schema.nodes.ip }).from(schema.nodes).all()) {
      if (row.ip && !writing.has(row.name)) ipOwner.set(row.ip, row.name);
    }
    for (const record of records) {
      for (const mac of split(record.attrs.mac, "|")) {
        const other = macOwner.get(mac);
        if (other) throw new UserError(`${record.name}: MAC ${mac} already belongs to node ${other}`, 409);
        macOwner.set(mac, record.name);
      }
      const ip = record.attrs.ip;
      if (ip) {
        const other = ipOwner.get(ip);
        if (other) throw new UserError(`${record.name}: IP ${ip} already belongs to node ${other}`, 409);
        ipOwner.set(ip, record.name);
      }
    }
  }

  private checkGroupNames(records: readonly ObjectRecord[]): void {
    const nodes = new Set(this.nodeNames());
    const clash = records.filter((r) => nodes.has(r.name)).map((r) => r.name);
    if (clash.length) throw new UserError(`group name(s) ${clash.join(",")} already used by nodes; pick other names`, 409);
  }

  private checkNodeNamesFreeOfGroups(records: readonly ObjectRecord[]): void {
    const groupNames = new Set(this.groupMembers().keys());
    const clash = records.filter((r) => groupNames.has(r.name)).map((r) => r.name);
    if (clash.length) throw new UserError(`node name(s) ${clash.join(",")} already used by groups; pick other names`, 409);
    for (const record of records) {
      if (split(record.attrs.groups, ",").includes(record.name)) {
        throw new UserError(`${record.name}: a node cannot be a member of a group with its own name`);
      }
    }
  }

  private applyMemberships(memberships: ReadonlyArray<{ group: string; members: string[] }>): void {
    if (!memberships.length) return;
    const nodes = new Map(this.list("node").map((r) => [r.name, r]));
    const changed = new Map<string, ObjectRecord>();
    for (const { group, members } of memberships) {
      const missing = members.filter((m) => !nodes.has(m));
      if (missing.length) throw new UserError(`group ${group}: members are not defined nodes: ${missing.join(",")}`, 404);
      for (const member of members) {
        const node = changed.get(member) ?? nodes.get(member)!;
        changed.set(member, { ...node, attrs: { ...node.attrs, groups: addItems(node.attrs.groups, group, ",") } });
      }
    }
    this.writeNodeLists([...changed.values()]);
  }

  private deleteRows(type: ObjectType, names: string[]): void {
    if (names.length) this.db.delete(tableOf(type)).where(inArray(tableOf(type).name, names)).run();
  }

  /** Adds groups and MACs from their tables; `only` limits the read to those nodes. */
  private attachNodeLists(records: ObjectRecord[], only?: readonly string[]): void {
    const byName = new Map(records.map((r) => [r.name, r]));
    const groupRows = only ? this.rowsFor(schema.nodeGroups, only) : this.db.select().from(schema.nodeGroups).all();
    groupRows.sort((a, b) => a.position - b.position);
    for (const row of groupRows) {
      const attrs = byName.get(row.node)?.attrs;
      if (attrs) attrs.groups = attrs.groups ? `${attrs.groups},${row.group}` : row.group;
    }
    const macRows = only ? this.rowsFor(schema.nodeMacs, only) : this.db.select().from(schema.nodeMacs).all();
    macRows.sort((a, b) => a.position - b.position);
    for (const row of macRows) {
      const attrs = byName.get(row.node)?.attrs;
      if (attrs) attrs.mac = attrs.mac ? `${attrs.mac}|${row.mac}` : row.mac;
    }
  }

  private rowsFor<T extends typeof schema.nodeGroups | typeof schema.nodeMacs>(table: T, nodes: readonly string[]): Array<T["$inferSelect"]> {
    const rows: Array<T["$inferSelect"]> = [];
    for (let i = 0; i < nodes.length; i += 500) {
      rows.push(...(this.db.select().from(table as typeof schema.nodeMacs).where(inArray(table.node, nodes.slice(i, i + 500))).all() as Array<T["$inferSelect"]>));
    }
    return rows;
  }

  /** Groups named by nodes but never defined still exist for xCAT; they carry no attributes. */
  private withImplicitGroups(defined: ObjectRecord[]): ObjectRecord[] {
    const all = new Map(defined.map((r) => [r.name, r]));
    for (const name of this.groupMembers().keys()) {
      if (!all.has(name)) all.set(name, { type: "group", name, attrs: {}, implicit: true });
    }
    return [...all.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

function rowToAttrs(type: ObjectType, row: Row): Attrs {
  const attrs: Attrs = {};
  for (const [attr, spec] of Object.entries(CATALOG[type])) {
    const value = row[attr];
    if (spec.column && typeof value === "string" && value !== "") attrs[attr] = value;
  }
  return { ...attrs, ...(row.attrs as Attrs) };
}

function attrsToRow(type: ObjectType, attrs: Attrs): Row {
  const row: Row = {};
  const extra: Attrs = {};
  for (const [attr, spec] of Object.entries(CATALOG[type])) if (spec.column) row[attr] = attrs[attr] ?? null;
  for (const [attr, value] of Object.entries(attrs)) {
    if (CATALOG[type][attr]?.column) continue;
    if (type === "node" && (attr === "groups" || attr === "mac")) continue;
    extra[attr] = value;
  }
  row.attrs = extra;
  return row;
}

function requireGroups(records: readonly ObjectRecord[]): void {
  const without = records.filter((r) => !r.attrs.groups).map((r) => r.name);
  if (without.length) {
    throw new UserError(`every node needs a groups attribute (e.g. groups=all); missing on: ${without.join(",")}`);
  }
}
