// The test BMC as its own process, as a QEMU end-to-end test will run it: flags, the printed URL, the --on-power hook.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { createRedfishProtocol, waitForPowerState } from "../../../server/power/redfish/index.ts";
import type { PowerEvent } from "../../bmc/redfish-bmc.ts";
import { FAST, withBmc, withDriver } from "./helpers.ts";

const CLI = fileURLToPath(new URL("../../bmc/redfish-bmc.ts", import.meta.url));

async function firstLine(stream: ReadableStream<Uint8Array>, pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
    const match = pattern.exec(text);
    if (match) {
      reader.releaseLock();
      return match;
    }
  }
  throw new Error(`no ${pattern} in ${JSON.stringify(text)}`);
}

describe("standalone test BMC", () => {
  test("bun test/bmc/redfish-bmc.ts --port 0 … --on-power CMD runs the command on every transition", async () => {
    const dir = mkdtempSync(join(tmpdir(), "redfish-bmc-"));
    const log = join(dir, "power.log");
    const child = Bun.spawn(
      ["bun", CLI, "--port", "0", "--user", "root", "--password", "calvin", "--quirks", "already-on-409", "--transition-ms", "100",
        "--system-id", "System.Embedded.1", "--on-power", `echo "$REDFISH_POWER_FROM>$REDFISH_POWER_TO $REDFISH_RESET_TYPE" >> ${log}`],
      { stdout: "pipe", stderr: "inherit" },
    );
    try {
      const [, url] = await firstLine(child.stdout, /listening on (http:\/\/\S+)/, 10_000);
      const { hostname, port } = new URL(url!);
      const target = { host: hostname, port: Number(port), scheme: "http" as const, username: "root", password: "calvin" };
      const driver = await createRedfishProtocol(FAST).open(target, AbortSignal.timeout(10_000));
      try {
        expect(driver.systemPath).toBe("/redfish/v1/Systems/System.Embedded.1");
        await driver.powerAction("off");
        await waitForPowerState(driver, "off", { timeoutMs: 2000, intervalMs: 50 });
        await driver.powerAction("on");
        await waitForPowerState(driver, "on", { timeoutMs: 2000, intervalMs: 50 });
        await driver.powerAction("on"); // 409 already on: success, no transition
      } finally {
        await driver.close();
      }
      const lines = () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []);
      for (let i = 0; i < 40 && lines().length < 3; i++) await Bun.sleep(50);
      expect(lines()).toEqual(["On>Off ForceOff", "Off>PoweringOn On", "PoweringOn>On On"]);
    } finally {
      child.kill();
      await child.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("--help lists the flags; a bad flag exits 2", async () => {
    const help = Bun.spawn(["bun", CLI, "--help"], { stdout: "pipe" });
    expect(await new Response(help.stdout).text()).toContain("--on-power CMD");
    const bad = Bun.spawn(["bun", CLI, "--quirks", "nonsense"], { stdout: "ignore", stderr: "pipe" });
    expect(await bad.exited).toBe(2);
    expect(await new Response(bad.stderr).text()).toContain("unknown quirk nonsense");
  });

  test("in-process, onPower is called in order, including for a restart that stays On", async () => {
    const events: PowerEvent[] = [];
    await withBmc({ transitionMs: 50, onPower: (e) => void events.push(e) }, async (bench) => {
      await withDriver(bench, async (driver) => {
        await driver.powerAction("reset");
        await Bun.sleep(150);
      });
      await bench.bmc.hooksSettled();
    });
    expect(events.map((e) => `${e.from}>${e.to} ${e.resetType}`)).toEqual(["On>PoweringOn ForceRestart", "PoweringOn>On ForceRestart"]);
  });
});
