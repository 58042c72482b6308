// Runs the power hooks in order, one at a time, so a VM script sees "PoweringOn" before "On".
import type { PowerEvent, RedfishBmcOptions } from "./options.ts";

export class PowerHooks {
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly options: Pick<RedfishBmcOptions, "onPower" | "onPowerCommand">) {}

  fire(event: PowerEvent): void {
    const { onPower, onPowerCommand } = this.options;
    if (!onPower && !onPowerCommand) return;
    this.chain = this.chain.then(async () => {
      try {
        await onPower?.(event);
        if (onPowerCommand) await runCommand(onPowerCommand, event);
      } catch (error) {
        console.error(`redfish-bmc: power hook failed: ${(error as Error).message}`);
      }
    });
  }

  /** Resolves once every hook fired so far has finished. */
  settled(): Promise<void> {
    return this.chain;
  }
}

async function runCommand(command: string, event: PowerEvent): Promise<void> {
  const child = Bun.spawn(["sh", "-c", command], {
    env: {
      ...process.env,
      REDFISH_POWER_FROM: event.from,
      REDFISH_POWER_TO: event.to,
      REDFISH_RESET_TYPE: event.resetType,
      REDFISH_SYSTEM_ID: event.systemId,
    },
    stdout: "inherit",
    stderr: "inherit",
  });
  const code = await child.exited;
  if (code !== 0) throw new Error(`${JSON.stringify(command)} exited with ${code}`);
}
