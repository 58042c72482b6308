// HTTP boot endpoints, osimage import and nodeset, through the app as a booting machine and the CLI see it.
import { randomBytes } from "node:crypto";
import { beforeEach, describe, expect, test } from "vitest";
import { createLogger } from "../../server/core/log.ts";
import { secretBox } from "../../server/core/secret-box.ts";
import { createServices } from "../../server/core/services.ts";
import { TokenStore } from "../../server/core/tokens.ts";
import { openDatabase } from "../../server/db/open.ts";
import { createApp, fetchWithSlashesCollapsed } from "../../server/http/app.ts";
import { testTempDir } from "../temp-dir.ts";

const KERNEL = randomBytes(100_000);
const INITRD = randomBytes(30_000);
const auth = { authorization: "Bearer t" };

async function setup() {
  const db = openDatabase(":memory:");
  const services = createServices(db, { secrets: secretBox(randomBytes(32)), blobDir: testTempDir("provd-boot-") });
  const app = createApp({ services, tokens: new TokenStore(db, "t"), log: createLogger("silent"), version: "test" });
  const fetch = fetchWithSlashesCollapsed(app);
  const get = async (path: string, init: RequestInit = {}) => fetch(new Request(`http://10.77.0.1:8640${path}`, init));
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await get(path, { method, headers: { ...auth, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const upload = async (bytes: Uint8Array) => ((await (await get("/api/v1/blobs", { method: "PUT", headers: auth, body: bytes })).json()) as { sha256: string }).sha256;
  await api("POST", "/api/v1/groups", { objects: [{ name: "compute", attrs: { addkcmdline: "console=ttyS0,115200" } }] });
  await api("POST", "/api/v1/nodes", { objects: [{ name: "n01", attrs: { groups: "compute,all", mac: "52:54:00:77:00:01", addkcmdline: "rd.debug" } }, { name: "n02", attrs: { groups: "compute,all" } }] });
  const kernel = await upload(KERNEL);
  const initrd = await upload(INITRD);
  const registered = await api("POST", "/api/v1/osimages/debian12-compute/artifacts", {
    kernel: { sha256: kernel, fileName: "vmlinuz-6.1" },
    initrd: { sha256: initrd },
    attrs: { osvers: "debian12", osarch: "x86_64", profile: "compute", addkcmdline: "quiet" },
  });
  expect(registered.status).toBe(201);
  return { services, get, api, kernel };
}

const script = async (get: (p: string) => Promise<Response>, mac = "52-54-00-77-00-01") => (await get(`/boot/ipxe/${mac}?platform=efi&uuid=\${uuid}`)).text();

describe("osimage import", () => {
  test("uploads are content-addressed and checked against the client's sha256", async () => {
    const { get, kernel } = await setup();
    expect(kernel).toBe(new Bun.CryptoHasher("sha256").update(KERNEL).digest("hex"));
    const bad = await get("/api/v1/blobs", { method: "PUT", headers: { ...auth, "x-sha256": "0".repeat(64) }, body: INITRD });
    expect(bad.status).toBe(422);
  });

  test("a new osimage needs a kernel and an initrd; unknown blobs are refused; nothing half-registered", async () => {
    const { api, kernel } = await setup();
    expect((await api("POST", "/api/v1/osimages/half/artifacts", { kernel: { sha256: kernel } })).json.error).toMatch(/needs at least a kernel and an initrd/);
    expect((await api("POST", "/api/v1/osimages/half/artifacts", { kernel: { sha256: kernel }, initrd: { sha256: "a".repeat(64) } })).status).toBe(404);
    expect((await api("GET", "/api/v1/osimages/half")).status).toBe(404);
    const listed = await api("GET", "/api/v1/osimages/debian12-compute/artifacts");
    expect((listed.json.artifacts as Array<{ kind: string; size: number }>).map((a) => [a.kind, a.size]).sort()).toEqual([["initrd", 30_000], ["kernel", 100_000]]);
  });
});

describe("nodeset", () => {
  let t: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    t = await setup();
  });

  test("osimage=NAME prints xCAT's netboot line and the node's script netboots it", async () => {
    const res = await t.api("POST", "/api/v1/nodeset", { range: "n01", state: "osimage=debian12-compute" });
    expect(res.json.results).toEqual([{ node: "n01", status: "netboot debian12-x86_64-compute" }]);
    const text = await script(t.get);
    expect(text.startsWith("#!ipxe\n")).toBe(true);
    expect(text).toContain(
      "kernel http://10.77.0.1:8640/boot/images/debian12-compute/n01/vmlinuz quiet console=ttyS0,115200 rd.debug initrd=initrd.img provd.node=n01 provd.image=debian12-compute provd.platform=${platform} NODE=n01 BOOTIF=01-${net0/mac:hexhyp} || goto kernel_failed\n",
    );
    expect(text).toContain("initrd http://10.77.0.1:8640/boot/images/debian12-compute/n01/initrd.img || goto initrd_failed\n");
    expect((await t.api("POST", "/api/v1/nodeset", { range: "n01", state: "stat" })).json.results).toEqual([{ node: "n01", status: "netboot debian12-x86_64-compute" }]);
  });

  test("boot, shell and offline give local boot, a shell and a clear message", async () => {
    await t.api("POST", "/api/v1/nodeset", { range: "n01", state: "osimage=debian12-compute" });
    expect((await t.api("POST", "/api/v1/nodeset", { range: "n01", state: "boot" })).json.results).toEqual([{ node: "n01", status: "boot" }]);
    expect(await script(t.get)).toMatch(/^#!ipxe\n(#.*\n|echo .*\n)*exit\n$/);
    await t.api("POST", "/api/v1/nodeset", { range: "n01", state: "shell" });
    expect(await script(t.get)).toContain("\nshell\n");
    await t.api("POST", "/api/v1/nodeset", { range: "n01", state: "offline" });
    const offline = await script(t.get);
    expect(offline).toContain("n01 is offline");
    expect(offline).toContain("provctl nodeset n01 osimage=<name>");
    expect((await t.api("POST", "/api/v1/nodeset", { range: "n01", state: "stat" })).json.results).toEqual([{ node: "n01", status: "offline" }]);
  });

  test.each([
    [{ range: "n01,n02", state: "osimage=debian12-compute" }, /No MAC address available for node\(s\) n02/],
    [{ range: "n01", state: "osimage=nope" }, /osimage nope is not defined/],
    [{ range: "n01", state: "osimage" }, /n01: no osimage attribute/],
    [{ range: "n01", state: "netboot" }, /deprecated, use "osimage=<osimage_name>"/],
    [{ range: "n01", state: "reboot" }, /Unknown state reboot requested/],
    [{ range: "ghost", state: "boot" }, /Invalid nodes and\/or groups in noderange: ghost/],
  ])("%j fails whole and changes nothing", async (body, message) => {
    await t.api("POST", "/api/v1/nodeset", { range: "n01", state: "boot" });
    const res = await t.api("POST", "/api/v1/nodeset", body);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(String(res.json.error)).toMatch(message);
    expect((await t.api("POST", "/api/v1/nodeset", { range: "n01", state: "stat" })).json.results).toEqual([{ node: "n01", status: "boot" }]);
  });
});

describe("boot HTTP", () => {
  test("an unknown MAC gets the discovery script and is recorded", async () => {
    const t = await setup();
    const text = await (await t.get("/boot/ipxe/52:54:00:aa:bb:cc?uuid=11111111-2222-3333-4444-555555555501&buildarch=x86_64")).text();
    expect(text).toContain("is not a node of this cluster");
    expect(text).toContain("chain --replace http://10.77.0.1:8640/boot/ipxe/52:54:00:aa:bb:cc?uuid=${uuid}&platform=${platform}&buildarch=${buildarch} || goto wait");
    const found = (await t.api("GET", "/api/v1/discovered")).json.machines as Array<Record<string, unknown>>;
    expect(found).toMatchObject([{ mac: "52:54:00:aa:bb:cc", uuid: "11111111-2222-3333-4444-555555555501", arch: "x86_64" }]);
    expect((await t.get("/boot/ipxe/not-a-mac")).status).toBe(400);
  });

  test("files: Content-Length, HEAD, Range 206/416, //path, and the boot timeline", async () => {
    const t = await setup();
    await t.api("POST", "/api/v1/nodeset", { range: "n01", state: "osimage=debian12-compute" });
    await script(t.get);
    const url = "/boot/images/debian12-compute/n01/vmlinuz";
    const whole = await t.get(url);
    expect(whole.headers.get("content-length")).toBe("100000");
    expect(Buffer.from(await whole.arrayBuffer()).equals(KERNEL)).toBe(true);
    const head = await t.get(url, { method: "HEAD" });
    expect([head.status, head.headers.get("content-length"), await head.text()]).toEqual([200, "100000", ""]);
    const part = await t.get(url, { headers: { range: "bytes=10-19" } });
    expect([part.status, part.headers.get("content-range"), part.headers.get("content-length")]).toEqual([206, "bytes 10-19/100000", "10"]);
    expect(Buffer.from(await part.arrayBuffer()).equals(KERNEL.subarray(10, 20))).toBe(true);
    const suffix = await t.get(url, { headers: { range: "bytes=-5" } });
    expect(Buffer.from(await suffix.arrayBuffer()).equals(KERNEL.subarray(-5))).toBe(true);
    const beyond = await t.get(url, { headers: { range: "bytes=100000-" } });
    expect([beyond.status, beyond.headers.get("content-range")]).toEqual([416, "bytes */100000"]);
    expect((await t.get(`/${url}`)).status).toBe(200);
    expect(whole.redirected).toBe(false);
    expect((await t.get("/boot/images/debian12-compute/n01/initrd.img")).headers.get("content-length")).toBe("30000");
    expect((await t.get("/boot/images/nope/n01/vmlinuz")).status).toBe(404);
    const events = (await t.api("GET", "/api/v1/nodes/n01/bootlog")).json.events as Array<{ kind: string; detail: string }>;
    // Ranges and HEAD are not downloads; the second whole kernel (//…) within a second is a repeat, not a new step.
    expect(events.map((e) => e.kind)).toEqual(["script", "kernel", "initrd"]);
    expect(events[0]!.detail).toBe("netboot debian12-x86_64-compute (efi)");
  });

  test("kernel arguments cannot inject iPXE commands; & and + survive", async () => {
    const t = await setup();
    await t.api("PATCH", "/api/v1/nodes/n01", { attrs: { addkcmdline: "a=1&b=2 c+d\nshell" } });
    await t.api("POST", "/api/v1/nodeset", { range: "n01", state: "osimage=debian12-compute" });
    const text = await script(t.get);
    expect(text).toContain(" a=1&b=2 c+d shell initrd=initrd.img ");
    expect(text.split("\n").filter((l) => l === "shell")).toEqual([]);
  });
});
