// The provd data model. Attribute columns hold xCAT-style strings; anything we do not model lives in `attrs`.
import { blob, index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

const timestamps = {
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
};

/** Attributes a node shares with its groups; a node's value wins, then its groups' in order. */
const inheritableColumns = {
  ip: text("ip"),
  arch: text("arch"),
  mgt: text("mgt"),
  bmc: text("bmc"),
  bmcport: text("bmcport"),
  bmcusername: text("bmcusername"),
  bmcpassword: text("bmcpassword_enc"),
  osimage: text("osimage"),
  currstate: text("currstate"),
  addkcmdline: text("addkcmdline"),
  attrs: text("attrs", { mode: "json" }).$type<Record<string, string>>().notNull(),
};

export const nodes = sqliteTable("nodes", {
  name: text("name").primaryKey(),
  ...inheritableColumns,
  ip: text("ip").unique("nodes_ip_unique"),
  ...timestamps,
});

export const nodeGroups = sqliteTable(
  "node_groups",
  {
    node: text("node").notNull().references(() => nodes.name, { onDelete: "cascade", onUpdate: "cascade" }),
    group: text("group").notNull(),
    position: integer("position").notNull(),
  },
  (t) => [primaryKey({ columns: [t.node, t.group] }), index("node_groups_group").on(t.group)],
);

export const nodeMacs = sqliteTable(
  "node_macs",
  {
    mac: text("mac").primaryKey(),
    node: text("node").notNull().references(() => nodes.name, { onDelete: "cascade", onUpdate: "cascade" }),
    position: integer("position").notNull(),
  },
  (t) => [index("node_macs_node").on(t.node)],
);

export const groups = sqliteTable("groups", {
  name: text("name").primaryKey(),
  ...inheritableColumns,
  ...timestamps,
});

export const osimages = sqliteTable("osimages", {
  name: text("name").primaryKey(),
  provmethod: text("provmethod"),
  osvers: text("osvers"),
  osarch: text("osarch"),
  profile: text("profile"),
  pkglist: text("pkglist"),
  otherpkglist: text("otherpkglist"),
  exlist: text("exlist"),
  postinstall: text("postinstall"),
  synclists: text("synclists"),
  addkcmdline: text("addkcmdline"),
  attrs: text("attrs", { mode: "json" }).$type<Record<string, string>>().notNull(),
  ...timestamps,
});

export const networks = sqliteTable("networks", {
  name: text("name").primaryKey(),
  net: text("net"),
  mask: text("mask"),
  mgtifname: text("mgtifname"),
  gateway: text("gateway"),
  nameservers: text("nameservers"),
  dynamicrange: text("dynamicrange"),
  tftpserver: text("tftpserver"),
  domain: text("domain"),
  mtu: text("mtu"),
  attrs: text("attrs", { mode: "json" }).$type<Record<string, string>>().notNull(),
  ...timestamps,
});

/** API bearer tokens, stored as sha256 hashes only. */
export const apiTokens = sqliteTable("api_tokens", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull(),
  hash: text("hash").notNull().unique(),
  createdAt: integer("created_at").notNull(),
});

/** DHCP leases, static and dynamic, kept across restarts. Keyed by client (client id, else MAC). */
export const leases = sqliteTable(
  "leases",
  {
    clientKey: text("client_key").primaryKey(),
    mac: text("mac").notNull(),
    ip: text("ip").notNull().unique(),
    network: text("network"),
    node: text("node"),
    hostname: text("hostname"),
    /** offered | bound | released | declined */
    state: text("state").notNull(),
    expiresAt: integer("expires_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("leases_mac").on(t.mac)],
);

/** Machines that asked to boot and are no node yet: enough to `chdef` them into one. */
export const discovered = sqliteTable("discovered", {
  mac: text("mac").primaryKey(),
  arch: text("arch"),
  uuid: text("uuid"),
  vendorClass: text("vendor_class"),
  ip: text("ip"),
  interface: text("interface"),
  firstSeen: integer("first_seen").notNull(),
  lastSeen: integer("last_seen").notNull(),
});

/** Each node's boot steps (DHCP offer/ack, TFTP file, script, kernel, initrd, rootfs), for nodestat and bootlog. */
export const bootEvents = sqliteTable(
  "boot_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    node: text("node"),
    mac: text("mac"),
    kind: text("kind").notNull(),
    detail: text("detail").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [index("boot_events_node_at").on(t.node, t.at), index("boot_events_mac_at").on(t.mac, t.at)],
);

/** Registered boot artifacts of an osimage (kernel, initrd, rootfs), content-addressed by sha256. */
export const osimageArtifacts = sqliteTable(
  "osimage_artifacts",
  {
    osimage: text("osimage").notNull().references(() => osimages.name, { onDelete: "cascade", onUpdate: "cascade" }),
    kind: text("kind").notNull(),
    sha256: text("sha256").notNull(),
    size: integer("size").notNull(),
    fileName: text("file_name").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.osimage, t.kind] })],
);

/** Power and boot-device requests (rpower, rsetboot) with each node's outcome, readable while they run. */
export const tasks = sqliteTable("tasks", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  /** e.g. "rpower boot", "rsetboot net -p" */
  command: text("command").notNull(),
  nodeCount: integer("node_count").notNull(),
  /** running | done | interrupted */
  state: text("state").notNull(),
  createdAt: integer("created_at").notNull(),
  finishedAt: integer("finished_at"),
});

export const taskResults = sqliteTable(
  "task_results",
  {
    taskId: integer("task_id").notNull().references(() => tasks.id, { onDelete: "cascade" }),
    node: text("node").notNull(),
    ok: integer("ok", { mode: "boolean" }).notNull(),
    message: text("message").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.node] })],
);

/** The files of an osimage definition (osimage.toml, pkglists, scripts…), as imported from its `osimages/` folder. */
export const osimageFiles = sqliteTable(
  "osimage_files",
  {
    osimage: text("osimage").notNull().references(() => osimages.name, { onDelete: "cascade", onUpdate: "cascade" }),
    path: text("path").notNull(),
    content: blob("content", { mode: "buffer" }).notNull(),
    mode: integer("mode").notNull(),
  },
  (t) => [primaryKey({ columns: [t.osimage, t.path] })],
);

/** Built (or customized) image versions: immutable, named by the hash of their artifacts. */
export const imageVersions = sqliteTable(
  "image_versions",
  {
    osimage: text("osimage").notNull().references(() => osimages.name, { onDelete: "cascade", onUpdate: "cascade" }),
    id: text("id").notNull(),
    /** Hash of everything the build read (definition, scripts, synced files): an unchanged definition is not rebuilt. */
    inputHash: text("input_hash").notNull(),
    /** build | customize */
    origin: text("origin").notNull(),
    /** The version a customize job started from. */
    parent: text("parent"),
    manifest: text("manifest", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    /** passed | failed | untested */
    validation: text("validation").notNull(),
    validationLog: text("validation_log").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.osimage, t.id] }), index("image_versions_input").on(t.osimage, t.inputHash)],
);

/** Named pointers to versions (`latest`, releases); every move is kept so `rollback` can step back. */
export const imageAliases = sqliteTable(
  "image_aliases",
  {
    osimage: text("osimage").notNull().references(() => osimages.name, { onDelete: "cascade", onUpdate: "cascade" }),
    alias: text("alias").notNull(),
    version: text("version").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.osimage, t.alias] })],
);

export const imageAliasHistory = sqliteTable(
  "image_alias_history",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    osimage: text("osimage").notNull(),
    alias: text("alias").notNull(),
    version: text("version").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [index("image_alias_history_alias").on(t.osimage, t.alias, t.seq)],
);

/** genimage and customize jobs: queued → building → packing → validating → success | error | cancelled. */
export const buildJobs = sqliteTable("build_jobs", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  osimage: text("osimage").notNull(),
  /** build | customize */
  kind: text("kind").notNull(),
  state: text("state").notNull(),
  /** What the job is doing now, e.g. "bootstrap", "squashfs". */
  stage: text("stage").notNull(),
  /** Request details: force, the customize command, the base version. */
  request: text("request", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
  version: text("version"),
  error: text("error"),
  createdAt: integer("created_at").notNull(),
  startedAt: integer("started_at"),
  finishedAt: integer("finished_at"),
});
