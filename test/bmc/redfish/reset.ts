// POST …/Actions/ComputerSystem.Reset: validation, the vendor refusals of bmc.md §2, and 200/204/202 answers.
import type { Quirk } from "./options.ts";
import { BASE, baseError, json, noContent, redfishError } from "./replies.ts";
import type { SystemResource } from "./system.ts";
import type { TaskBoard } from "./tasks.ts";

export interface ResetSettings {
  quirks: ReadonlySet<Quirk>;
  response: 200 | 204 | 202;
  tasks: TaskBoard;
}

const RESTARTS = new Set(["ForceRestart", "GracefulRestart", "PowerCycle"]);

export function handleReset(system: SystemResource, body: unknown, settings: ResetSettings): Response {
  const resetType = (body as { ResetType?: unknown } | null)?.ResetType;
  if (typeof resetType !== "string") {
    return baseError(
      400,
      "ActionParameterMissing",
      "The action Reset requires the parameter ResetType to be present in the request body.",
    );
  }
  if (!system.resetTypes.includes(resetType)) {
    return baseError(
      400,
      "ActionParameterNotSupported",
      `The parameter ResetType for the action Reset is not supported on the target resource (${resetType}).`,
    );
  }
  const { quirks } = settings;
  const state = system.power.state;
  if (quirks.has("powercycle-501") && resetType === "PowerCycle") {
    return baseError(501, "ActionNotSupported", "The action PowerCycle is not supported by the resource.");
  }
  if (quirks.has("already-on-409") && (resetType === "On" || resetType === "ForceOn") && state === "On") {
    // What iDRAC answers (dellemc-openmanage-ansible-modules#115).
    return redfishError(409, [
      { id: "IDRAC.2.8.PSU501", message: "Unable to perform the operation because the server is already powered ON." },
    ]);
  }
  if (quirks.has("reset-off-400") && RESTARTS.has(resetType) && state === "Off") {
    return redfishError(400, [
      {
        id: "iLO.2.14.InvalidOperationForSystemState",
        message: "Unable to perform the operation because the server is in an invalid state for it (powered off).",
      },
    ]);
  }
  const work = () => system.power.apply(resetType);
  switch (settings.response) {
    case 202:
      return settings.tasks.start(work);
    case 200:
      work();
      return json({ "@Message.ExtendedInfo": [{ MessageId: `${BASE}.Success`, Message: "The request completed successfully." }] });
    case 204:
      work();
      return noContent();
  }
}
