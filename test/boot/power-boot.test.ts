// provd powers machines through their BMCs and they PXE-boot from it: n01 is a SeaBIOS VM behind ipmi_sim (IPMI 2.0),
// n02 an OVMF VM behind our Redfish test BMC. Neither VM runs until provd tells its BMC to power on; the BMCs' power
// hooks start and stop QEMU. Everything runs in one segment: the BMCs on its loopback, the VMs on its bridge.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type LabProcess, MARKER, type Segment, buildPayload, createSegment, labUnavailable, parseMarker, scratchDir } from "../lab/index.ts";
import { BMC_PASSWORD, BMC_USER, HookedVm, ipmiSimUnavailable, processAlive, startIpmiSim, startRedfishBmc } from "./bmc-vms.ts";
import { type Provd, allBoots, seconds, startProvd, withLogs } from "./provd-lab.ts";

const unavailable = labUnavailable() ?? ipmiSimUnavailable();
if (unavailable && process.env.CI) throw new Error(`CI must run the power boot test, but: ${unavailable}`);

const IPMI_PORT = 9623;
const REDFISH_PORT = 8000;
const BOOT_TIMEOUT_MS = 150_000;
const NODES = {
  n01: { mac: "52:54:00:7a:00:01", ip: "10.77.0.11", uuid: "11111111-2222-3333-4444-555555557a01" },
  n02: { mac: "52:54:00:7a:00:02", ip: "10.77.0.12", uuid: "11111111-2222-3333-4444-555555557a02" },
};

describe.skipIf(unavailable)(`Power: provd boots QEMU nodes through IPMI and Redfish BMCs${unavailable ? ` (skipped: ${unavailable})` : ""}`, () => {
  let segment: Segment | undefined;
  let provd: Provd | undefined;
  let ipmiSim: LabProcess | undefined;
  let redfishBmc: LabProcess | undefined;
  const vms: HookedVm[] = [];
  const scratch: string[] = [];
  const started = performance.now();
  const logs = () => ({ provd: provd?.process, ipmi_sim: ipmiSim, "redfish-bmc": redfishBmc });

  beforeAll(async () => {
    const payload = await buildPayload();
    segment = await createSegment({ name: "power", taps: 2 });
    provd = await startProvd({ segment, address: segment.ipv4, dhcpInterfaces: [segment.bridge], dhcpMode: "full" });
    scratch.push(provd.dataDir);
    const work = scratchDir("power");
    scratch.push(work);

    const lifetimeMs = BOOT_TIMEOUT_MS + 120_000;
    const n01 = new HookedVm({ node: "n01", firmware: "bios", tap: segment.taps[0]!, ...NODES.n01, lifetimeMs }, work);
    const n02 = new HookedVm({ node: "n02", firmware: "uefi", tap: segment.taps[1]!, ...NODES.n02, lifetimeMs }, work);
    vms.push(n01, n02);
    ipmiSim = await startIpmiSim({ segment, vm: n01, port: IPMI_PORT, dir: join(work, "ipmi-sim") });
    redfishBmc = await startRedfishBmc({ segment, vm: n02, port: REDFISH_PORT });

    const { provctl } = provd;
    const bmc = ["bmc=127.0.0.1", `bmcusername=${BMC_USER}`, `bmcpassword=${BMC_PASSWORD}`];
    await provctl("mkdef", "-t", "network", "lab", "net=10.77.0.0", "mask=255.255.255.0", `mgtifname=${segment.bridge}`, "dynamicrange=10.77.0.100-10.77.0.150");
    await provctl("mkdef", "-t", "group", "compute", "addkcmdline=console=ttyS0 panic=-1");
    await provctl("mkdef", "n01", "groups=compute,all", `mac=${NODES.n01.mac}`, `ip=${NODES.n01.ip}`, "mgt=ipmi", ...bmc, `bmcport=${IPMI_PORT}`);
    await provctl("mkdef", "n02", "groups=compute,all", `mac=${NODES.n02.mac}`, `ip=${NODES.n02.ip}`, "mgt=redfish", ...bmc, `bmcport=${REDFISH_PORT}`, "bmcscheme=http");
    await provctl("imgimport", "lab-image", "--kernel", payload.kernel.path, "--initrd", payload.initrd.path, "osvers=debian12", "osarch=x86_64", "profile=lab");
    // The mockup the Redfish BMC starts from already has a one-time PXE override; clear it so rsetboot has work to do.
    expect(await withLogs(provctl("rsetboot", "n02", "def"), logs())).toBe("n02: BIOS default\n");
    expect(await provctl("rsetboot", "n02", "stat")).toBe("n02: boot override inactive\n");
    console.log(`[power-boot] set up in ${seconds(performance.now() - started)}`);
  }, 120_000);

  afterAll(async () => {
    // BMCs first, so that no hook starts a VM any more; the hooks' VMs are not our children, so they go by pid.
    await ipmiSim?.stop(2_000);
    await redfishBmc?.stop(2_000);
    for (const vm of vms) vm.kill();
    await segment?.destroy();
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
    console.log(`[power-boot] whole file: ${seconds(performance.now() - started)}`);
  }, 30_000);

  test("rinstall over IPMI and rsetboot net + rpower boot over Redfish power the VMs on, and they PXE-boot their image", async () => {
    const [n01, n02] = vms as [HookedVm, HookedVm];
    const { provctl } = provd!;
    expect(n01.running() || n02.running()).toBe(false);

    const ipmi = async () => {
      const t0 = performance.now();
      const out = await provctl("rinstall", "n01", "osimage=lab-image");
      // The middle line, rsetboot's read-back, is "boot override inactive": ipmi_sim keeps only the device selector of
      // the boot flags, not their valid bit (bmc.md §4). The hook's log below shows what the BMC was told.
      expect(out).toMatch(/^n01: netboot debian12-x86_64-lab\nn01: [^\n]+\nn01: on\n$/);
      const { matched } = await n01.waitForSerial(MARKER, BOOT_TIMEOUT_MS);
      return { matched, ms: performance.now() - t0 };
    };
    const redfish = async () => {
      const t0 = performance.now();
      expect(await provctl("nodeset", "n02", "osimage=lab-image")).toBe("n02: netboot debian12-x86_64-lab\n");
      expect(await provctl("rsetboot", "n02", "net")).toBe("n02: Network\n");
      expect(await provctl("rpower", "n02", "boot")).toBe("n02: on\n");
      const { matched } = await n02.waitForSerial(MARKER, BOOT_TIMEOUT_MS);
      return { matched, ms: performance.now() - t0 };
    };
    const [bios, uefi] = await withLogs(allBoots([ipmi(), redfish()]), logs());
    console.log(`[power-boot] first command → marker: IPMI/BIOS ${seconds(bios!.ms)}, Redfish/UEFI ${seconds(uefi!.ms)}`);
    expect(parseMarker(bios!.matched[0])).toEqual({ node: "n01", image: "lab-image", platform: "pcbios" });
    expect(parseMarker(uefi!.matched[0])).toEqual({ node: "n02", image: "lab-image", platform: "efi" });

    // ipmi_sim was told PXE before the power on, and nothing else. A call may repeat: ipmi_sim runs the hook again for
    // each retransmission of a request.
    const ipmiSets = n01.calls().filter((call) => call.startsWith("set "));
    expect(new Set(ipmiSets)).toEqual(new Set(["set boot pxe", "set power 1"]));
    expect(ipmiSets.lastIndexOf("set boot pxe")).toBeLessThan(ipmiSets.indexOf("set power 1"));
    expect(n02.calls()).toEqual(["redfish Off->PoweringOn On", "redfish PoweringOn->On On"]);
  }, 240_000);

  test("rpower off stops both VMs, and rpower stat then says off", async () => {
    const { provctl } = provd!;
    const pids = vms.map((vm) => ({ node: vm.spec.node, ...vm.pids() }));
    for (const { node, wrapper, qemu } of pids) {
      expect([wrapper, qemu].every((pid) => pid !== undefined && processAlive(pid)), `${node}'s VM runs before rpower off`).toBe(true);
    }
    const alive = () => pids.flatMap(({ node, wrapper, qemu }) => [wrapper!, qemu!].filter(processAlive).map((pid) => `${node} pid ${pid}`));

    const t0 = performance.now();
    expect(sortLines(await withLogs(provctl("rpower", "n01,n02", "off"), logs()))).toEqual(["n01: off", "n02: off"]);
    // The hooks send TERM and return without waiting long (ipmi_sim answers only after its hook), so QEMU may still be
    // exiting when rpower returns.
    while (alive().length && performance.now() - t0 < 10_000) await Bun.sleep(100);
    expect(alive()).toEqual([]);
    console.log(`[power-boot] rpower off → QEMU gone: ${seconds(performance.now() - t0)}`);
    expect(vms[0]!.calls()).toContain("set power 0");
    expect(vms[1]!.calls().at(-1)).toBe("redfish On->Off ForceOff");

    expect(sortLines(await provctl("rpower", "n01,n02", "stat"))).toEqual(["n01: off", "n02: off"]);
  }, 60_000);
});

/** rpower prints one line per node as results arrive, in any order. */
function sortLines(text: string): string[] {
  return text.trimEnd().split("\n").sort();
}
