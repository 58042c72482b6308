// The system's power over time: resets start transitions that settle after `transitionMs`, like a real host.
import type { PowerEvent, RedfishPowerState } from "./options.ts";

export class PowerModel {
  private settle: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private current: RedfishPowerState,
    private readonly transitionMs: number,
    private readonly changed: (event: Omit<PowerEvent, "systemId">) => void,
  ) {}

  get state(): RedfishPowerState {
    return this.current;
  }

  /** Carries out an accepted ResetType. */
  apply(resetType: string): void {
    const on = this.current === "On" || this.current === "PoweringOn";
    switch (resetType) {
      case "On":
      case "ForceOn":
        if (!on) this.begin("PoweringOn", "On", resetType);
        break;
      case "ForceOff":
        this.set("Off", resetType);
        break;
      case "GracefulShutdown":
        if (on) this.begin("PoweringOff", "Off", resetType);
        break;
      case "ForceRestart":
      case "GracefulRestart":
        this.begin("PoweringOn", "On", resetType);
        break;
      case "PowerCycle":
        if (on) this.set("Off", resetType);
        this.begin("PoweringOn", "On", resetType);
        break;
      case "PushPowerButton":
        if (on) this.begin("PoweringOff", "Off", resetType);
        else this.begin("PoweringOn", "On", resetType);
        break;
      case "Nmi":
        this.changed({ from: this.current, to: this.current, resetType });
        break;
    }
  }

  /** Sets the state at once (tests, and a VM hook that learns the guest powered itself off). */
  set(state: RedfishPowerState, resetType = "External"): void {
    this.cancel();
    const from = this.current;
    this.current = state;
    if (from !== state) this.changed({ from, to: state, resetType });
  }

  cancel(): void {
    clearTimeout(this.settle);
    this.settle = undefined;
  }

  private begin(transient: RedfishPowerState, final: RedfishPowerState, resetType: string): void {
    this.set(transient, resetType);
    this.settle = setTimeout(() => {
      this.settle = undefined;
      this.set(final, resetType);
    }, this.transitionMs);
  }
}
