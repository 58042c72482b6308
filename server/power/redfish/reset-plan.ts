// Which ResetType carries out a provd power action (bmc.md §1): the first one the BMC advertises.
import { BmcError, type PowerAction } from "../driver.ts";

/** One POST, or ForceOff → wait for Off → On for a "cycle" on BMCs without (a working) PowerCycle. */
export type ResetStep = { kind: "post"; resetType: string } | { kind: "off-then-on"; off: string; on: string };

const ON_TYPES = ["On", "ForceOn"];

const CHOICES: Record<PowerAction, Array<string | "off-then-on">> = {
  on: ON_TYPES,
  off: ["ForceOff"],
  softoff: ["GracefulShutdown"],
  reset: ["ForceRestart", "PowerCycle"],
  cycle: ["PowerCycle", "off-then-on"],
  nmi: ["Nmi"],
};

/** The steps to try in order; throws "unsupported" when the BMC advertises none of them. */
export function resetSteps(action: PowerAction, allowed: readonly string[] | undefined): ResetStep[] {
  const offers = (type: string) => allowed === undefined || allowed.includes(type);
  const steps = CHOICES[action].flatMap((choice): ResetStep[] => {
    if (choice !== "off-then-on") return offers(choice) ? [{ kind: "post", resetType: choice }] : [];
    const on = onType(allowed);
    return offers("ForceOff") && on ? [{ kind: "off-then-on", off: "ForceOff", on }] : [];
  });
  if (steps.length === 0) {
    const wanted = CHOICES[action].filter((c) => c !== "off-then-on").join(" or ");
    throw new BmcError("unsupported", `the BMC offers no ${wanted} for "${action}" (it offers ${allowed?.join(", ")})`);
  }
  return steps;
}

/** The ResetType that powers the system on: `On`, else `ForceOn`. */
export function onType(allowed: readonly string[] | undefined): string | undefined {
  return ON_TYPES.find((type) => allowed === undefined || allowed.includes(type));
}
