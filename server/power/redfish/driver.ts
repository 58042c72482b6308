// One logged-in conversation with one Redfish BMC: the PowerDriver the power service uses.
import type { BootOverride, PowerAction, PowerDriver, PowerState } from "../driver.ts";
import type { Authenticator } from "./auth.ts";
import { readBootOverride } from "./boot-map.ts";
import { setBootOverride } from "./boot.ts";
import type { RedfishClient } from "./client.ts";
import type { JsonObject } from "./json.ts";
import { readPowerState, toPowerState, type RedfishPowerState } from "./power-state.ts";
import { performPowerAction } from "./reset.ts";
import { readResetAction, type ResetAction } from "./system.ts";

export interface DriverSettings {
  signal: AbortSignal;
  taskTimeoutMs: number;
  pollIntervalMs: number;
  cycleOffTimeoutMs: number;
  closeTimeoutMs: number;
  fullBootObject: boolean;
  warn(message: string): void;
}

export class RedfishDriver implements PowerDriver {
  private reset: ResetAction | undefined;

  constructor(
    private readonly client: RedfishClient,
    private readonly auth: Authenticator,
    /** The ComputerSystem's canonical path, as discovered (never assumed). */
    readonly systemPath: string,
    /** The system as read at open(); its Reset action does not change during a conversation. */
    private readonly system: JsonObject,
    private readonly settings: DriverSettings,
  ) {}

  /** PowerState exactly as the BMC reports it now, transitions included. */
  async redfishPowerState(): Promise<RedfishPowerState> {
    const { doc } = await this.client.get(this.systemPath);
    return readPowerState(doc, this.systemPath);
  }

  async powerState(): Promise<PowerState> {
    return toPowerState(await this.redfishPowerState());
  }

  async powerAction(action: PowerAction): Promise<void> {
    this.reset ??= await readResetAction(this.client, this.system, this.systemPath);
    await performPowerAction(
      {
        client: this.client,
        reset: this.reset,
        readState: () => this.redfishPowerState(),
        signal: this.settings.signal,
        taskTimeoutMs: this.settings.taskTimeoutMs,
        pollIntervalMs: this.settings.pollIntervalMs,
        cycleOffTimeoutMs: this.settings.cycleOffTimeoutMs,
      },
      action,
    );
  }

  async setBootOverride(override: BootOverride): Promise<void> {
    await setBootOverride(
      { client: this.client, systemPath: this.systemPath, fullBootObject: this.settings.fullBootObject, warn: this.settings.warn },
      override,
    );
  }

  async getBootOverride(): Promise<BootOverride> {
    const { doc } = await this.client.get(this.systemPath);
    return readBootOverride(doc, this.systemPath);
  }

  async close(): Promise<void> {
    // After an abort the conversation's signal would cancel the DELETE at once and leak one of the BMC's few
    // session slots (Supermicro has 16), so the logout gets a short budget of its own.
    const signal = this.settings.signal.aborted ? AbortSignal.timeout(this.settings.closeTimeoutMs) : undefined;
    await this.auth.logout(signal);
  }
}
