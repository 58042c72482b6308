// nodeset: the boot state each node gets next time it PXE-boots (xCAT destiny semantics), all nodes or none.
import { UserError } from "./errors.ts";
import type { Inventory } from "./inventory.ts";
import type { BootImages } from "../image/boot-image.ts";
import { parseImageRef } from "../image/versions.ts";

export type NodesetRequest =
  | { state: "osimage"; osimage?: string }
  | { state: "boot" }
  | { state: "shell" }
  | { state: "offline" }
  | { state: "stat" };

export interface NodesetResult {
  node: string;
  /** What xCAT prints after "n01: ", e.g. "netboot debian12-x86_64-compute". */
  status: string;
}

/** Parses the state argument as xCAT's nodeset does, rejecting the deprecated and unknown ones. */
export function parseNodesetState(arg: string): NodesetRequest {
  const [word, value] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
  switch (word) {
    case "osimage":
      if (value === "") throw new UserError("osimage= needs an image name, or use 'osimage' alone for each node's own osimage");
      return { state: "osimage", osimage: value };
    case "boot":
    case "shell":
    case "offline":
    case "stat":
      if (value !== undefined) throw new UserError(`nodeset state '${word}' takes no value`);
      return { state: word };
    case "netboot":
    case "install":
    case "statelite":
      throw new UserError(`The options "install", "netboot", and "statelite" have been deprecated, use "osimage=<osimage_name>" instead.`);
    default:
      throw new UserError(`Unknown state ${arg} requested (expected osimage[=name], boot, shell, offline or stat)`);
  }
}

/** The label xCAT prints and records: <os>-<arch>-<profile>, or the image name when those are not set. */
export function imageLabel(name: string, attrs: Record<string, string>): string {
  return attrs.osvers && attrs.osarch && attrs.profile ? `${attrs.osvers}-${attrs.osarch}-${attrs.profile}` : name;
}

/**
 * An osimage's attributes with those of its parents (profile inheritance) filled in: compute inherits base's
 * osvers. A definition's profile defaults to its own name, as in osimage.toml.
 */
export function effectiveImageAttrs(name: string, images: ReadonlyMap<string, Record<string, string>>): Record<string, string> {
  const chain: Record<string, string>[] = [];
  const seen = new Set<string>();
  for (let current: string | undefined = name; current && !seen.has(current); current = images.get(current)?.parent) {
    seen.add(current);
    const attrs = images.get(current);
    if (attrs) chain.unshift(attrs);
  }
  const merged: Record<string, string> = Object.assign({}, ...chain);
  // Kernel arguments add up along the chain, parent's first, as the definition files' lists do.
  const args = chain.map((a) => a.addkcmdline).filter(Boolean);
  if (args.length) merged.addkcmdline = args.join(" ");
  if (merged.distro) {
    merged.profile = images.get(name)?.profile ?? name;
    merged.osarch ??= "x86_64";
  }
  return merged;
}

export function nodeset(inventory: Inventory, bootImages: BootImages, nodes: readonly string[], request: NodesetRequest): NodesetResult[] {
  const listed = inventory.list("node", nodes);
  if (request.state === "stat") return listed.map((n) => ({ node: n.name, status: n.attrs.currstate ?? "offline" }));
  if (request.state !== "osimage") {
    const currstate = request.state === "offline" ? "" : request.state;
    inventory.store.change(listed.map((n) => ({ type: "node", name: n.name, attrs: { currstate } })), "set");
    return listed.map((n) => ({ node: n.name, status: request.state }));
  }
  const withoutMac = listed.filter((n) => !n.attrs.mac).map((n) => n.name);
  if (withoutMac.length) throw new UserError(`No MAC address available for node(s) ${withoutMac.join(",")}: set one with chdef <node> mac=…`);
  const images = new Map(inventory.list("osimage").map((o) => [o.name, o]));
  const attrsByName = new Map([...images].map(([k, o]) => [k, o.attrs]));
  const changes = listed.map((n) => {
    const ref = request.osimage ?? n.attrs.osimage;
    if (!ref) throw new UserError(`${n.name}: no osimage attribute; say which: nodeset ${n.name} osimage=<name>`);
    const { osimage: name } = parseImageRef(ref);
    const image = images.get(name);
    if (!image) throw new UserError(`osimage ${name} is not defined (lsdef -t osimage lists them)`, 404);
    // A pin naming no version is an error here, not a node that silently boots nothing.
    const bootable = bootImages.resolve(ref);
    if (!bootable?.files.kernel || !(bootable.files.initrd || bootable.rootfsIsInitrd)) {
      throw new UserError(`osimage ${name} has no kernel and initrd yet: build it (provctl genimage ${name}) or import files (provctl imgimport ${name} --kernel FILE --initrd FILE)`);
    }
    return { node: n.name, osimage: ref, status: `netboot ${imageLabel(name, effectiveImageAttrs(name, attrsByName))}` };
  });
  inventory.store.change(
    changes.map((c) => ({ type: "node", name: c.node, attrs: { osimage: c.osimage, currstate: c.status } })),
    "set",
  );
  return changes.map(({ node, status }) => ({ node, status }));
}
