// What booting machines fetch over HTTP: their iPXE script, and kernel/initrd/rootfs. No token: firmware has none.
import { Hono } from "hono";
import type { BootLog } from "../core/boot-log.ts";
import { ARTIFACT_FILES, type BootPlanner } from "../core/boot-plan.ts";
import type { BootImages } from "../image/boot-image.ts";
import { fileResponse } from "./file-response.ts";
import { existsSync, statSync } from "node:fs";
import { join, normalize } from "node:path";

export interface BootRouteDeps {
  planner: BootPlanner;
  bootImages: BootImages;
  bootLog: BootLog;
  /** Directory of iPXE binaries, also offered over HTTP for UEFI HTTP boot. */
  ipxeDir?: string;
}

const KIND_OF_FILE = new Map<string, keyof typeof ARTIFACT_FILES>(
  Object.entries(ARTIFACT_FILES).map(([kind, file]) => [file, kind as keyof typeof ARTIFACT_FILES]),
);

export function bootRoutes(deps: BootRouteDeps): Hono {
  const boot = new Hono();

  const script = (c: { req: { query(k: string): string | undefined; url: string } }, rawMac: string) => {
    const mac = normaliseMac(rawMac);
    if (!mac) return new Response(`#!ipxe\necho provd: '${rawMac.replace(/[^\w:.-]/g, "?")}' is not a MAC address\nexit\n`, { status: 400, headers: IPXE });
    const url = c.req.url;
    const q = url.indexOf("?");
    const params = q < 0 ? undefined : new URLSearchParams(url.slice(q + 1));
    const param = (k: string) => expanded(params?.get(k) ?? undefined);
    const request = { mac, baseUrl: originOf(url), uuid: param("uuid"), platform: param("platform"), buildarch: param("buildarch") };
    const result = deps.planner.script(request);
    const client = [request.platform, request.buildarch].filter(Boolean).join("/");
    deps.bootLog.record({ node: result.node, mac, kind: "script", detail: `${result.summary}${client ? ` (${client})` : ""}` });
    if (!result.node) deps.bootLog.discovered({ mac, uuid: request.uuid, arch: request.buildarch ?? request.platform });
    let body = BODIES.get(result);
    if (!body) BODIES.set(result, (body = new TextEncoder().encode(result.script)));
    return new Response(body, { headers: IPXE_HEADERS });
  };

  boot.get("/ipxe/:mac", (c) => script(c, c.req.param("mac")));
  boot.get("/ipxe", (c) => script(c, c.req.query("mac") ?? ""));

  boot.on(["GET", "HEAD"], "/images/:osimage/:node/:file", (c) => imageFile(c.req.raw, deps, c.req.param("osimage"), c.req.param("file"), c.req.param("node")));
  boot.on(["GET", "HEAD"], "/images/:osimage/:file", (c) => imageFile(c.req.raw, deps, c.req.param("osimage"), c.req.param("file")));

  boot.on(["GET", "HEAD"], "/ipxe-bin/:file", (c) => {
    const name = c.req.param("file");
    if (!deps.ipxeDir || !/^[\w.-]+$/.test(name)) return c.text("not found\n", 404);
    const path = normalize(join(deps.ipxeDir, name));
    if (!existsSync(path)) return c.text("not found\n", 404);
    const size = statSync(path).size;
    return fileResponse(c.req.raw, { path, size, etag: `${size}-${name}` });
  });
  return boot;
}

const IPXE = { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" };
// The script path is hot (a boot storm): headers built once, bodies encoded once per cached script, no URL parsing.
const IPXE_HEADERS = new Headers(IPXE);
const BODIES = new WeakMap<object, Uint8Array>();
const MACS = new Map<string, string | undefined>();

/** request.url is absolute and normalised by the server: its origin ends at the first "/" after "//". */
function originOf(url: string): string {
  const slash = url.indexOf("/", url.indexOf("//") + 2);
  return slash < 0 ? url : url.slice(0, slash);
}

function imageFile(request: Request, deps: BootRouteDeps, ref: string, file: string, node?: string): Response {
  const kind = KIND_OF_FILE.get(file) ?? (file.startsWith(`${ARTIFACT_FILES.rootfs}.`) ? "rootfs" : undefined);
  let image;
  try {
    image = deps.bootImages.resolve(ref);
  } catch {
    image = undefined;
  }
  // A cpio rootfs is the whole root as an initramfs, served where the initrd would be.
  const artifact = kind && (kind === "initrd" && image?.rootfsIsInitrd ? image.files.rootfs : image?.files[kind]);
  if (!artifact) return new Response(`no ${file} in osimage ${ref}\n`, { status: 404 });
  const range = request.headers.get("range");
  if (request.method === "GET" && (!range || range.startsWith("bytes=0-"))) {
    deps.bootLog.record({ node, kind, detail: `${ref} ${file} ${artifact.size} bytes` });
  }
  return fileResponse(request, { path: artifact.path, size: artifact.size, etag: artifact.sha256 });
}

function normaliseMac(raw: string): string | undefined {
  if (MACS.has(raw)) return MACS.get(raw);
  if (MACS.size >= 100_000) MACS.clear();
  const mac = parseMac(raw);
  MACS.set(raw, mac);
  return mac;
}

function parseMac(raw: string): string | undefined {
  const hex = raw.toLowerCase().replace(/[:\-.]/g, "");
  return /^[0-9a-f]{12}$/.test(hex) ? hex.match(/../g)!.join(":") : undefined;
}

/** iPXE leaves `${uuid}` as is when it does not know the setting. */
function expanded(value: string | undefined): string | undefined {
  return value && !value.includes("${") ? value : undefined;
}
