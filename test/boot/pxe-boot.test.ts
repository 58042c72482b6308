// Real firmware PXE-boots through `provctl serve`: SeaBIOS + iPXE ROM and OVMF's own EDK2 PXE client, in a namespace.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MARKER, type Segment, bootVm, buildPayload, createSegment, labUnavailable, parseMarker, scratchDir, waitForListening } from "../lab/index.ts";

const ROOT = join(import.meta.dirname, "../..");
const CLI = ["bun", join(ROOT, "server/main.ts")];
const unavailable = labUnavailable();
if (unavailable && process.env.CI) throw new Error(`CI must run the boot test, but: ${unavailable}`);

const HTTP = "http://10.77.0.1:8640";
const MACS = { n01: "52:54:00:77:00:01", n02: "52:54:00:77:00:02", stranger: "52:54:00:77:00:99" };

describe.skipIf(unavailable)(`PXE boot through provctl serve${unavailable ? ` (skipped: ${unavailable})` : ""}`, () => {
  let segment: Segment;
  const env = { PROVCTL_URL: HTTP, PROVCTL_TOKEN: "lab-token" };
  const provctl = async (...args: string[]) => {
    const result = await segment.exec([...CLI, ...args], { env, check: false, timeoutMs: 60_000 });
    if (result.code !== 0) throw new Error(`provctl ${args.join(" ")} failed: ${result.stderr}`);
    return result.stdout;
  };

  beforeAll(async () => {
    const payload = await buildPayload();
    segment = await createSegment({ name: "boot", taps: 3 });
    const server = segment.spawn([...CLI, "serve"], {
      env: {
        PROVCTL_DATA_DIR: scratchDir("provd-data"),
        PROVCTL_LISTEN: "0.0.0.0:8640",
        PROVCTL_TOKEN: "lab-token",
        PROVCTL_DHCP_INTERFACES: segment.bridge,
        PROVCTL_LOG_LEVEL: "debug",
      },
    });
    await waitForListening(segment, [{ proto: "udp", port: 67 }, { proto: "udp", port: 69 }, { proto: "tcp", port: 8640 }], { processes: [server] });
    await provctl("mkdef", "-t", "network", "lab", "net=10.77.0.0", "mask=255.255.255.0", `mgtifname=${segment.bridge}`, "dynamicrange=10.77.0.100-10.77.0.150");
    await provctl("mkdef", "-t", "group", "compute", "addkcmdline=console=ttyS0 panic=-1");
    await provctl("mkdef", "n01", "groups=compute,all", `mac=${MACS.n01}`, "ip=10.77.0.11");
    await provctl("mkdef", "n02", "groups=compute,all", `mac=${MACS.n02}`, "ip=10.77.0.12");
    await provctl("imgimport", "lab-image", "--kernel", payload.kernel.path, "--initrd", payload.initrd.path, "osvers=debian12", "osarch=x86_64", "profile=lab");
    expect(await provctl("nodeset", "n01,n02", "osimage=lab-image")).toBe("n01: netboot debian12-x86_64-lab\nn02: netboot debian12-x86_64-lab\n");
  }, 240_000);

  afterAll(async () => {
    await segment?.destroy();
  });

  test("BIOS and UEFI boot the image nodeset gave them; an unknown machine is offered discovery", async () => {
    const common = { segment, timeoutMs: 180_000 };
    const [bios, uefi, stranger] = await Promise.all([
      bootVm({ ...common, firmware: "bios", tap: segment.taps[0]!, mac: MACS.n01, uuid: "11111111-2222-3333-4444-555555555501", until: MARKER }),
      bootVm({ ...common, firmware: "uefi", tap: segment.taps[1]!, mac: MACS.n02, uuid: "11111111-2222-3333-4444-555555555502", until: MARKER }),
      bootVm({ ...common, firmware: "bios", tap: segment.taps[2]!, mac: MACS.stranger, uuid: "11111111-2222-3333-4444-555555555599", until: /is not a node of this cluster/ }),
    ]);
    expect(parseMarker(bios.matched[0])).toEqual({ node: "n01", image: "lab-image", platform: "pcbios" });
    expect(parseMarker(uefi.matched[0])).toEqual({ node: "n02", image: "lab-image", platform: "efi" });
    console.log(`boot times: BIOS ${Math.round(bios.elapsedMs)} ms, UEFI ${Math.round(uefi.elapsedMs)} ms, unknown machine to discovery ${Math.round(stranger.elapsedMs)} ms`);

    const uefiLog = await provctl("bootlog", "n02");
    for (const step of ["dhcp-offer", "dhcp-ack", "tftp", "script", "kernel", "initrd"]) expect(uefiLog).toContain(` ${step}`);
    expect(uefiLog).toMatch(/tftp\s+snponly\.efi/);
    const biosLog = await provctl("bootlog", "n01");
    expect(biosLog).toMatch(/script\s+netboot debian12-x86_64-lab \(pcbios/);
    expect(await provctl("nodediscoverls")).toContain(MACS.stranger);
  }, 300_000);

  test("after nodeset boot, the next script n01 gets is a local boot", async () => {
    expect(await provctl("nodeset", "n01", "boot")).toBe("n01: boot\n");
    const fetched = await segment.exec(["bun", "-e", `console.log(await (await fetch("${HTTP}/boot/ipxe/52-54-00-77-00-01")).text())`]);
    expect(fetched.stdout).toContain("boots from its local disk");
    expect(fetched.stdout.trim().endsWith("exit")).toBe(true);
  });
});
