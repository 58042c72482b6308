// Which script a machine gets when iPXE asks, and with which kernel, initrd and arguments.
import type { TemplateName } from "../../templates/index.ts";
import type { BootDirectory } from "./boot-directory.ts";
import { oneLine, renderScript } from "./boot-scripts.ts";
import type { Inventory } from "./inventory.ts";
import { split } from "./list-attr.ts";
import { effectiveImageAttrs, imageLabel } from "./nodeset.ts";
import type { BootImage, BootImages } from "../image/boot-image.ts";
import { ROOTFS_URL } from "../image/manifest.ts";
import { parseImageRef } from "../image/versions.ts";

export interface BootRequest {
  mac: string;
  /** http://host:port the client used to reach us. */
  baseUrl: string;
  /** iPXE variables the client sent, when it expanded them. */
  uuid?: string;
  platform?: string;
  buildarch?: string;
}

export interface BootScript {
  node?: string;
  template: TemplateName;
  script: string;
  /** One line for the boot timeline. */
  summary: string;
}

/** The files' URL names; the initrd's must match the `initrd=` kernel argument for EFI stubs. */
export const ARTIFACT_FILES = { kernel: "vmlinuz", initrd: "initrd.img", rootfs: "rootfs" } as const;

const RETRY_SECONDS = 5;

/** Rendered scripts are reused until the next write to the database; bounded so odd clients cannot grow it. */
const CACHE_LIMIT = 50_000;

interface PlanSnapshot {
  nodes: Map<string, { attrs: Record<string, string>; own?: string }>;
  images: Map<string, Record<string, string>>;
  groupArgs: Map<string, string | undefined>;
  bootImages: Map<string, BootImage | undefined>;
}

export class BootPlanner {
  private cache = new Map<string, BootScript>();
  private cachedGeneration = -1;
  private snapshot?: PlanSnapshot;

  constructor(
    private readonly inventory: Inventory,
    private readonly directory: BootDirectory,
    private readonly bootImages: BootImages,
  ) {}

  script(request: BootRequest): BootScript {
    const generation = this.inventory.store.generation;
    if (generation !== this.cachedGeneration || this.cache.size >= CACHE_LIMIT) {
      this.cache.clear();
      this.cachedGeneration = generation;
      this.snapshot = undefined;
    }
    const key = `${request.mac} ${request.baseUrl}`;
    let script = this.cache.get(key);
    if (!script) {
      script = this.plan(request);
      this.cache.set(key, script);
    }
    return script;
  }

  private plan(request: BootRequest): BootScript {
    const nodeName = this.directory.nodeOfMac(request.mac);
    if (!nodeName) return this.discovery(request);
    const node = this.snap().nodes.get(nodeName);
    const currstate = node!.attrs.currstate ?? "";
    if (currstate === "boot") return this.simple(nodeName, "localboot", "local boot");
    if (currstate === "shell") return this.simple(nodeName, "shell", "iPXE shell");
    const osimage = node!.attrs.osimage;
    if (currstate.startsWith("netboot") && osimage) {
      const netboot = this.netboot(nodeName, osimage, node!.attrs, request);
      if (netboot) return netboot;
    }
    return { node: nodeName, template: "offline", summary: "offline", script: renderScript("offline", { node: nodeName, waitSeconds: 10 }) };
  }

  /** What scripts are made from, loaded once per generation: a cache miss then costs no query. */
  private snap(): PlanSnapshot {
    if (this.snapshot) return this.snapshot;
    const own = new Map(this.inventory.store.list("node").map((n) => [n.name, n.attrs.addkcmdline]));
    const nodes = new Map(this.inventory.list("node").map((n) => [n.name, { attrs: n.attrs, own: own.get(n.name) }]));
    const imageOwn = new Map(this.inventory.list("osimage").map((o) => [o.name, o.attrs]));
    const images = new Map([...imageOwn.keys()].map((name) => [name, effectiveImageAttrs(name, imageOwn)]));
    const groupArgs = new Map(this.inventory.store.list("group").map((g) => [g.name, g.attrs.addkcmdline]));
    this.snapshot = { nodes, images, groupArgs, bootImages: new Map() };
    return this.snapshot;
  }

  private bootImage(ref: string): BootImage | undefined {
    const cached = this.snap().bootImages;
    if (cached.has(ref)) return cached.get(ref);
    let image: BootImage | undefined;
    try {
      image = this.bootImages.resolve(ref);
    } catch {
      image = undefined;
    }
    cached.set(ref, image);
    return image;
  }

  /** The generated autoexec.ipxe served over TFTP: chain to this machine's script. */
  autoexec(baseUrl: string): string {
    return renderScript("autoexec", { scriptUrl: scriptUrl(baseUrl, "${net0/mac:hexhyp}") });
  }

  private simple(node: string, template: TemplateName, summary: string): BootScript {
    return { node, template, summary, script: renderScript(template, { node }) };
  }

  private discovery(request: BootRequest): BootScript {
    const script = renderScript("discovery", { mac: request.mac, pollSeconds: 30, retryUrl: scriptUrl(request.baseUrl, request.mac) });
    return { template: "discovery", summary: "discovery (unknown machine)", script };
  }

  private netboot(node: string, ref: string, attrs: Record<string, string>, request: BootRequest): BootScript | undefined {
    const { osimage } = parseImageRef(ref);
    const imageAttrs = this.snap().images.get(osimage);
    const image = this.bootImage(ref);
    const { kernel, initrd, rootfs } = image?.files ?? {};
    if (!imageAttrs || !image || !kernel || !(initrd || (image.rootfsIsInitrd && rootfs))) return undefined;
    const files = `${request.baseUrl}/boot/images/${encodeURIComponent(image.urlName)}/${encodeURIComponent(node)}`;
    const rootfsUrl = `${files}/${rootfsUrlName(rootfs?.fileName)}`;
    const args = [
      image.kernelParams.replaceAll(ROOTFS_URL, rootfsUrl),
      imageAttrs.addkcmdline,
      ...this.groupArgs(attrs.groups),
      this.ownArgs(node),
      `initrd=${ARTIFACT_FILES.initrd}`,
      `provd.node=${node}`,
      `provd.image=${image.version ? `${osimage}@${image.version}` : osimage}`,
      `provd.platform=\${platform}`,
      rootfs && !image.rootfsIsInitrd && !image.kernelParams.includes(ROOTFS_URL) ? `provd.rootfs=${rootfsUrl}` : undefined,
      `NODE=${node}`,
      "BOOTIF=01-${net0/mac:hexhyp}",
    ];
    const label = imageLabel(osimage, imageAttrs);
    const script = renderScript("netboot", {
      node,
      osimage: image.version ? `${osimage}@${image.version}` : osimage,
      label,
      kernelUrl: `${files}/${ARTIFACT_FILES.kernel}`,
      initrdUrl: `${files}/${ARTIFACT_FILES.initrd}`,
      kernelArgs: oneLine(args.filter(Boolean).join(" ")),
      retrySeconds: RETRY_SECONDS,
    });
    return { node, template: "netboot", summary: `netboot ${label}${image.version ? ` @${image.version}` : ""}`, script };
  }

  /** Group arguments come before the node's own, lowest-precedence group first, so later (stronger) ones win. */
  private groupArgs(groups: string | undefined): string[] {
    const defined = this.snap().groupArgs;
    return split(groups, ",")
      .reverse()
      .flatMap((g) => defined.get(g) ?? []);
  }

  private ownArgs(node: string): string | undefined {
    return this.snap().nodes.get(node)?.own;
  }
}

/**
 * The rootfs is served as `rootfs` plus its file's extension (rootfs.squashfs): live-boot picks how to mount a
 * fetched root by the URL's extension and gives up on one it does not know.
 */
export function rootfsUrlName(fileName: string | undefined): string {
  const base = fileName?.slice(fileName.lastIndexOf("/") + 1) ?? "";
  const ext = base.includes(".") ? base.slice(base.indexOf(".")) : "";
  return /^(\.[A-Za-z0-9]{1,10}){1,3}$/.test(ext) ? `${ARTIFACT_FILES.rootfs}${ext}` : ARTIFACT_FILES.rootfs;
}

export function scriptUrl(baseUrl: string, mac: string): string {
  return `${baseUrl}/boot/ipxe/${mac}?uuid=\${uuid}&platform=\${platform}&buildarch=\${buildarch}`;
}
