// The provd data model. Attribute columns hold xCAT-style strings; anything we do not model lives in `attrs`.
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

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
