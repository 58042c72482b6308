// The ComputerSystem: the mockup's resource with live PowerState, Boot, Reset and ETag.
import type { Resource } from "./mockup.ts";
import type { Quirk } from "./options.ts";
import type { PowerModel } from "./power.ts";
import { baseError, redfishError } from "./replies.ts";

const BOOT_ENABLED = ["Disabled", "Once", "Continuous"];
const BOOT_MODES = ["UEFI", "Legacy"];

export class SystemResource {
  version = 1;
  readonly boot: Resource;

  constructor(
    readonly path: string,
    private readonly template: Resource,
    readonly power: PowerModel,
    readonly resetTypes: string[],
    private readonly quirks: ReadonlySet<Quirk>,
  ) {
    this.boot = { ...(template.Boot as Resource | undefined) };
  }

  get resetTarget(): string {
    return `${this.path}/Actions/ComputerSystem.Reset`;
  }

  get actionInfoPath(): string {
    return `${this.path}/ResetActionInfo`;
  }

  document(etag: string | undefined): Resource {
    const reset: Resource = { target: this.resetTarget };
    if (this.quirks.has("action-info")) reset["@Redfish.ActionInfo"] = this.actionInfoPath;
    else reset["ResetType@Redfish.AllowableValues"] = this.resetTypes;
    const actions = { ...(this.template.Actions as Resource | undefined), "#ComputerSystem.Reset": reset };
    const doc: Resource = { ...this.template, PowerState: this.power.state, Boot: { ...this.boot }, Actions: actions };
    if (etag !== undefined) doc["@odata.etag"] = etag;
    return doc;
  }

  actionInfo(): Resource {
    return {
      "@odata.type": "#ActionInfo.v1_3_0.ActionInfo",
      "@odata.id": this.actionInfoPath,
      Id: "ResetActionInfo",
      Name: "Reset Action Info",
      Parameters: [{ Name: "ResetType", Required: true, DataType: "String", AllowableValues: this.resetTypes }],
    };
  }

  /** Applies a PATCH body; an error answer when the BMC would refuse it. */
  patch(body: unknown): Response | undefined {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return baseError(400, "MalformedJSON", "The request body submitted was malformed JSON.");
    }
    const unknown = Object.keys(body).filter((key) => key !== "Boot");
    if (unknown.length > 0) return baseError(400, "PropertyUnknown", `The property ${unknown[0]} is not in the list of valid properties.`);
    const boot = (body as { Boot?: unknown }).Boot;
    if (typeof boot !== "object" || boot === null) return baseError(400, "PropertyValueTypeError", "Boot must be an object.");
    const refusal = this.checkBoot(boot as Resource);
    if (refusal) return refusal;
    Object.assign(this.boot, boot);
    if (this.quirks.has("once-reads-continuous") && this.boot.BootSourceOverrideEnabled === "Once") {
      this.boot.BootSourceOverrideEnabled = "Continuous";
    }
    this.version++;
    return undefined;
  }

  private checkBoot(boot: Resource): Response | undefined {
    const allowedTargets = (this.boot["BootSourceOverrideTarget@Redfish.AllowableValues"] as string[] | undefined) ?? [];
    const allowed: Record<string, string[] | undefined> = {
      BootSourceOverrideTarget: allowedTargets,
      BootSourceOverrideEnabled: BOOT_ENABLED,
      BootSourceOverrideMode: BOOT_MODES,
      UefiTargetBootSourceOverride: undefined,
    };
    for (const [key, value] of Object.entries(boot)) {
      if (!(key in allowed)) return baseError(400, "PropertyUnknown", `The property ${key} is not in the list of valid properties.`);
      const values = allowed[key];
      if (values && (typeof value !== "string" || !values.includes(value))) {
        return baseError(
          400,
          "PropertyValueNotInList",
          `The value ${JSON.stringify(value)} for the property ${key} is not in the list of acceptable values.`,
        );
      }
    }
    if ("BootSourceOverrideMode" in boot && this.quirks.has("mode-readonly")) {
      return redfishError(400, [
        {
          id: "Base.1.15.0.PropertyNotWritable",
          message: "The property BootSourceOverrideMode is a read only property and cannot be assigned a value.",
        },
      ]);
    }
    if (this.quirks.has("full-boot-object")) {
      const missing = !("BootSourceOverrideEnabled" in boot)
        ? "BootSourceOverrideEnabled"
        : "BootSourceOverrideTarget" in boot && !("BootSourceOverrideMode" in boot) ? "BootSourceOverrideMode" : undefined;
      if (missing) return baseError(
        400,
        "PropertyMissing",
        `The property ${missing} is a required property and must be included in the request.`,
      );
    }
    return undefined;
  }
}
