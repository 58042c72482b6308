import { describe, expect, test } from "vitest";
import { failure, withBmc, withDriver } from "./helpers.ts";

function bootPatches(bench: { bmc: { requestsTo(m: string): Array<{ body: unknown; status: number }> } }) {
  return bench.bmc.requestsTo("PATCH").map((r) => ({ body: (r.body as { Boot: unknown }).Boot, status: r.status }));
}

describe("boot override", () => {
  test.each([
    [{ device: "net", persistent: false, uefi: false }, { BootSourceOverrideTarget: "Pxe", BootSourceOverrideEnabled: "Once" }],
    [{ device: "hd", persistent: true, uefi: false }, { BootSourceOverrideTarget: "Hdd", BootSourceOverrideEnabled: "Continuous" }],
    [
      { device: "cd", persistent: false, uefi: true },
      { BootSourceOverrideTarget: "Cd", BootSourceOverrideEnabled: "Once", BootSourceOverrideMode: "UEFI" },
    ],
    [{ device: "setup", persistent: false, uefi: false }, { BootSourceOverrideTarget: "BiosSetup", BootSourceOverrideEnabled: "Once" }],
    [{ device: "none", persistent: false, uefi: false }, { BootSourceOverrideEnabled: "Disabled" }],
  ] as const)("%j is PATCHed as %j and reads back", async (override, patch) => {
    await withBmc({}, async (bench) => {
      await withDriver(bench, async (driver) => {
        await driver.setBootOverride(override);
        expect(bootPatches(bench)).toEqual([{ body: patch, status: 204 }]);
        const back = await driver.getBootOverride();
        expect(back.device).toBe(override.device);
        if (override.device !== "none") expect(back.persistent).toBe(override.persistent);
      });
      expect(bench.warnings).toEqual([]);
    });
  });

  test("iLO refuses BootSourceOverrideMode: retried without it, with a warning", async () => {
    await withBmc({ quirks: ["mode-readonly"] }, async (bench) => {
      await withDriver(bench, (driver) => driver.setBootOverride({ device: "net", persistent: false, uefi: true }));
      expect(bootPatches(bench)).toEqual([
        { body: { BootSourceOverrideTarget: "Pxe", BootSourceOverrideEnabled: "Once", BootSourceOverrideMode: "UEFI" }, status: 400 },
        { body: { BootSourceOverrideTarget: "Pxe", BootSourceOverrideEnabled: "Once" }, status: 204 },
      ]);
      expect(bench.warnings.join("\n")).toContain("PropertyNotWritable");
    });
  });

  test("Supermicro gets the full boot object (its current Mode) on every PATCH", async () => {
    await withBmc({ manufacturer: "Supermicro", quirks: ["full-boot-object"] }, async (bench) => {
      await withDriver(bench, async (driver) => {
        await driver.setBootOverride({ device: "hd", persistent: false, uefi: false });
        await driver.setBootOverride({ device: "none", persistent: false, uefi: false });
      });
      expect(bootPatches(bench)).toEqual([
        { body: { BootSourceOverrideTarget: "Hdd", BootSourceOverrideEnabled: "Once", BootSourceOverrideMode: "UEFI" }, status: 204 },
        { body: { BootSourceOverrideEnabled: "Disabled", BootSourceOverrideMode: "UEFI" }, status: 204 },
      ]);
    });
  });

  test("an override that reads back otherwise (sushy-tools' Once → Continuous) is set, with a warning", async () => {
    await withBmc({ quirks: ["once-reads-continuous"] }, async (bench) => {
      await withDriver(bench, async (driver) => {
        await driver.setBootOverride({ device: "net", persistent: false, uefi: false });
        expect(await driver.getBootOverride()).toEqual({ device: "net", persistent: true, uefi: true });
      });
      expect(bench.warnings).toHaveLength(1);
      expect(bench.warnings[0]).toContain('reads back {"device":"net","persistent":true');
    });
  });

  test("a device the BMC does not list is 'unsupported' before anything is PATCHed", async () => {
    await withBmc({}, async (bench) => {
      await withDriver(bench, async (driver) => {
        const error = await failure(driver.setBootOverride({ device: "floppy", persistent: false, uefi: false }));
        expect(error.kind).toBe("unsupported");
        expect(error.message).toContain("Floppy");
      });
      expect(bench.bmc.requestsTo("PATCH")).toEqual([]);
    });
  });

  test("a PATCH refused for good surfaces @Message.ExtendedInfo", async () => {
    await withBmc({ quirks: ["mode-readonly"] }, async (bench) => {
      bench.bmc.quirks.add("full-boot-object");
      await withDriver(bench, async (driver) => {
        const error = await failure(driver.setBootOverride({ device: "net", persistent: false, uefi: true }));
        expect(error.kind).toBe("refused");
        expect(error.message).toContain("HTTP 400: Base.1.15.0.PropertyMissing: The property BootSourceOverrideMode is a required property");
      });
    });
  });
});
