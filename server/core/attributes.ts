// The attribute catalog: which attributes each object type models, how values are checked, and which are lists.
import { UserError } from "./errors.ts";
import { integerIn, ipv4, ipv4ToInt, mac, objectName, oneOf } from "./validate.ts";

export const OBJECT_TYPES = ["node", "group", "osimage", "network"] as const;
export type ObjectType = (typeof OBJECT_TYPES)[number];

export function objectType(value: string): ObjectType {
  if ((OBJECT_TYPES as readonly string[]).includes(value)) return value as ObjectType;
  throw new UserError(`unknown object type '${value}': expected one of ${OBJECT_TYPES.join(", ")}`);
}

export interface AttrSpec {
  /** Stored in its own column; other attributes live in the free-form `attrs` map. */
  column: boolean;
  /** Separator of a list value (chdef -p/-m add and remove items). */
  separator?: "," | "|";
  /** Encrypted at rest, never shown in plain text. */
  secret?: boolean;
  /** A node's own value only; never taken from a group. */
  notInherited?: boolean;
  /** Returns the normal form, or throws a UserError saying what is wrong. */
  check?: (value: string) => string;
  help: string;
}

export const MGT_TYPES = ["redfish", "ipmi"] as const;
export const ARCHES = ["x86_64", "aarch64", "ppc64le", "ppc64", "i386", "i686", "riscv64", "armv7l"] as const;

const commaList = (check: (item: string) => string) => (value: string) =>
  value.split(",").map((item) => check(item.trim())).join(",");

const nodeAndGroupAttrs: Record<string, AttrSpec> = {
  ip: { column: true, check: (v) => ipv4("ip", v), help: "IPv4 address of the node's boot interface" },
  arch: { column: true, check: (v) => oneOf("arch", v, ARCHES), help: "CPU architecture" },
  mgt: { column: true, check: (v) => oneOf("mgt", v, MGT_TYPES), help: "power management protocol" },
  bmc: { column: true, help: "BMC address (host name or IP)" },
  bmcport: { column: true, check: (v) => integerIn("bmcport", v, 1, 65535), help: "BMC port (623 IPMI, 443 Redfish)" },
  bmcusername: { column: true, help: "BMC user" },
  bmcpassword: { column: true, secret: true, help: "BMC password, encrypted at rest, never shown" },
  bmcscheme: { column: false, check: (v) => oneOf("bmcscheme", v, ["https", "http"]), help: "Redfish scheme (default https)" },
  bmctls: { column: false, check: (v) => oneOf("bmctls", v, ["verify", "pinned", "insecure"]), help: "Redfish TLS: verify (default), pinned (bmcca), insecure" },
  bmcca: { column: false, help: "PEM file on the server pinning the BMC's certificate authority (bmctls=pinned)" },
  bmcauth: { column: false, check: (v) => oneOf("bmcauth", v, ["session", "basic"]), help: "Redfish auth: session (default) or basic" },
  osimage: { column: true, help: "osimage the node boots (xCAT provmethod)" },
  currstate: { column: true, help: "current boot state, set by nodeset" },
  addkcmdline: { column: true, help: "extra kernel arguments" },
  tags: { column: false, separator: ",", help: "free-form tags" },
};

export const CATALOG: Record<ObjectType, Record<string, AttrSpec>> = {
  node: {
    groups: {
      column: false,
      separator: ",",
      notInherited: true,
      check: commaList((g) => objectName("group", g)),
      help: "groups, in order of precedence",
    },
    mac: {
      column: false,
      separator: "|",
      notInherited: true,
      check: (v) => v.split(/[|,]/).map((m) => mac("mac", m)).join("|"),
      help: "MAC address(es), '|'-separated",
    },
    ...nodeAndGroupAttrs,
  },
  group: nodeAndGroupAttrs,
  osimage: {
    provmethod: { column: true, check: (v) => oneOf("provmethod", v, ["netboot", "statelite", "install"]), help: "provisioning method" },
    osvers: { column: true, help: "OS version, e.g. debian12" },
    osarch: { column: true, check: (v) => oneOf("osarch", v, ARCHES), help: "architecture" },
    profile: { column: true, help: "profile name" },
    pkglist: { column: true, separator: ",", help: "package list files" },
    otherpkglist: { column: true, separator: ",", help: "other package list files" },
    exlist: { column: true, separator: ",", help: "exclude list files" },
    postinstall: { column: true, separator: ",", help: "postinstall scripts" },
    synclists: { column: true, separator: ",", help: "synclist files" },
    addkcmdline: { column: true, help: "kernel arguments" },
    parent: { column: false, help: "osimage this definition inherits from (profile inheritance)" },
    distro: { column: false, check: (v) => oneOf("distro", v, ["debian", "el"]), help: "debian (mmdebstrap) or el (dnf --installroot)" },
    release: { column: false, help: "Debian suite (bookworm) or EL releasever (9)" },
    mirrors: { column: false, separator: ",", help: "package mirrors or repository URLs (default: the host's apt sources)" },
    variant: { column: false, help: "mmdebstrap variant (minbase)" },
    kernel: { column: false, help: "kernel package; none for a kernel-less root (kernel = \"\" in osimage.toml)" },
    netroot: { column: false, check: (v) => oneOf("netroot", v, ["live-boot", "dracut"]), help: "how the initrd fetches the root: live-boot or dracut" },
    rootfs: { column: false, check: (v) => oneOf("rootfs", v, ["squashfs", "cpio"]), help: "rootfs format: squashfs or cpio" },
    compression: { column: false, check: (v) => oneOf("compression", v, ["zstd", "xz", "gzip"]), help: "rootfs compression: zstd, xz or gzip" },
    level: { column: false, help: "compression level (zstd default 3)" },
    otherpkgdir: { column: false, help: "directory otherpkglist dir/pkg entries are relative to" },
    tests: { column: false, separator: ",", help: "validation scripts run inside each built image" },
    gpgkeys: { column: false, separator: ",", help: "EL: GPG keys (URLs or files) of the remote repositories" },
    environvar: { column: false, separator: ",", help: "K=V settings for synclists and postinstall" },
  },
  network: {
    net: { column: true, check: (v) => ipv4("net", v), help: "network address" },
    mask: { column: true, check: (v) => netmask(v), help: "netmask" },
    mgtifname: { column: true, help: "interface DHCP serves this network on" },
    gateway: { column: true, check: (v) => (v === "<xcatmaster>" ? v : ipv4("gateway", v)), help: "default gateway" },
    nameservers: { column: true, separator: ",", check: commaList((v) => (v === "<xcatmaster>" ? v : ipv4("nameservers", v))), help: "DNS servers" },
    dynamicrange: { column: true, check: (v) => ipRange(v), help: "dynamic range start-end for unknown machines" },
    tftpserver: { column: true, check: (v) => (v === "<xcatmaster>" ? v : ipv4("tftpserver", v)), help: "next-server" },
    domain: { column: true, help: "DNS domain" },
    mtu: { column: true, check: (v) => integerIn("mtu", v, 576, 65535), help: "MTU" },
  },
};

/** xCAT writes `provmethod` for a node's image and `table.column` forms such as `nodehm.mgt`. */
const ALIASES: Partial<Record<ObjectType, Record<string, string>>> = {
  node: { provmethod: "osimage", "nodetype.provmethod": "osimage", "nodelist.groups": "groups" },
  group: { provmethod: "osimage" },
};

const ATTR_NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;

/** The catalog name of an attribute given on input, after xCAT aliases and `table.column` forms. */
export function canonicalAttr(type: ObjectType, name: string): string {
  if (!ATTR_NAME.test(name)) throw new UserError(`invalid attribute name '${name}'`);
  const alias = ALIASES[type]?.[name];
  if (alias) return alias;
  const column = name.includes(".") ? name.slice(name.lastIndexOf(".") + 1) : undefined;
  if (column && CATALOG[type][column]) return column;
  return name;
}

export function attrSpec(type: ObjectType, name: string): AttrSpec | undefined {
  return CATALOG[type][name];
}

function netmask(value: string): string {
  if (/^\/?\d{1,2}$/.test(value)) {
    const bits = Number(value.replace("/", ""));
    if (bits > 32) throw new UserError(`mask=${value}: a prefix length is at most 32`);
    const n = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
  }
  const ip = ipv4("mask", value);
  const bits = ipv4ToInt(ip).toString(2).padStart(32, "0");
  if (bits.includes("01")) throw new UserError(`mask=${value}: not a contiguous netmask`);
  return ip;
}

function ipRange(value: string): string {
  const [start, end, ...rest] = value.split("-");
  if (!start || !end || rest.length) throw new UserError(`dynamicrange=${value}: expected start-end, e.g. 10.0.0.100-10.0.0.200`);
  const a = ipv4("dynamicrange", start.trim());
  const b = ipv4("dynamicrange", end.trim());
  if (ipv4ToInt(a) > ipv4ToInt(b)) throw new UserError(`dynamicrange=${value}: the start is after the end`);
  return `${a}-${b}`;
}
