// rsetboot over Redfish: PATCH the system's Boot object with If-Match, then read it back.
import { BmcError, type BootOverride } from "../driver.ts";
import type { RedfishClient } from "./client.ts";
import { answerError, isSuccess } from "./errors.ts";
import { etagOf, patchWithEtag } from "./etag.ts";
import { asString, asStringArray, type JsonObject } from "./json.ts";
import { allowedTargets, bootOf, readBootOverride, redfishTarget } from "./boot-map.ts";
import type { RedfishAnswer } from "./transport.ts";

export interface BootContext {
  client: RedfishClient;
  systemPath: string;
  /** AMI, ASRockRack and Supermicro revert or refuse partial Boot objects (Ironic VENDORS_REQUIRING_FULL_BOOT_REQUEST). */
  fullBootObject: boolean;
  warn(message: string): void;
}

export function bootPatch(override: BootOverride, current: JsonObject, fullBootObject: boolean): JsonObject {
  const patch: JsonObject = {};
  if (override.device === "none") {
    patch.BootSourceOverrideEnabled = "Disabled";
  } else {
    patch.BootSourceOverrideTarget = redfishTarget(override.device, allowedTargets(current));
    const enabled = override.persistent ? "Continuous" : "Once";
    const allowed = asStringArray(current["BootSourceOverrideEnabled@Redfish.AllowableValues"]);
    if (allowed && !allowed.includes(enabled)) {
      throw new BmcError("unsupported", `BootSourceOverrideEnabled ${enabled} is not offered (${allowed.join(", ")})`);
    }
    // Supermicro needs Enabled on every PATCH; we always send it.
    patch.BootSourceOverrideEnabled = enabled;
  }
  const currentMode = asString(current.BootSourceOverrideMode);
  if (override.uefi) patch.BootSourceOverrideMode = "UEFI";
  else if (fullBootObject && currentMode) patch.BootSourceOverrideMode = currentMode;
  return patch;
}

export async function setBootOverride(ctx: BootContext, override: BootOverride): Promise<void> {
  const { doc, answer } = await ctx.client.get(ctx.systemPath);
  const etag = etagOf(answer, doc);
  const patch = bootPatch(override, bootOf(doc), ctx.fullBootObject);
  let result = await patchBoot(ctx, patch, etag);
  if (result.status === 400 && "BootSourceOverrideMode" in patch) {
    // HPE iLO: BootSourceOverrideMode is not writable (community.general#3509).
    const { BootSourceOverrideMode: _dropped, ...withoutMode } = patch;
    ctx.warn(`${ctx.systemPath}: BootSourceOverrideMode refused (${answerError("PATCH", result).message}); set without it`);
    result = await patchBoot(ctx, withoutMode, etag);
  }
  if (!isSuccess(result)) throw answerError(`PATCH ${ctx.systemPath} ${JSON.stringify({ Boot: patch })}`, result);
  await readBack(ctx, override);
}

function patchBoot(ctx: BootContext, boot: JsonObject, etag: string | undefined): Promise<RedfishAnswer> {
  return patchWithEtag(etag, {
    patch: (ifMatch) =>
      ctx.client.send({
        method: "PATCH",
        path: ctx.systemPath,
        body: { Boot: boot },
        headers: ifMatch === undefined ? {} : { "If-Match": ifMatch },
      }),
    freshEtag: async () => {
      const { doc, answer } = await ctx.client.get(ctx.systemPath);
      return etagOf(answer, doc);
    },
  });
}

// Dell's one-time PXE and sushy-tools' Enabled (reads back Continuous) do not always stick: say so, do not fail.
async function readBack(ctx: BootContext, wanted: BootOverride): Promise<void> {
  const { doc } = await ctx.client.get(ctx.systemPath);
  let seen: BootOverride;
  try {
    seen = readBootOverride(doc, ctx.systemPath);
  } catch (error) {
    ctx.warn(`${ctx.systemPath}: boot override reads back unreadable: ${(error as Error).message}`);
    return;
  }
  const differs = seen.device !== wanted.device || (wanted.device !== "none" && seen.persistent !== wanted.persistent);
  if (differs) ctx.warn(`${ctx.systemPath}: boot override reads back ${JSON.stringify(seen)} after setting ${JSON.stringify(wanted)}`);
}
