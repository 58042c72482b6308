// PowerDriver over an IPMI session: Chassis Status/Control and System Boot Options (bmc.md §3 step 4).
// It does what it is told, once; verb semantics ("already on") live in the power service.
import type { BootOverride, PowerAction, PowerDriver, PowerState } from "../driver.ts";
import { BmcError } from "../driver.ts";
import type { CipherSuiteId } from "./algorithms.ts";
import {
  BOOT_FLAGS_PARAMETER,
  type BootFlags,
  KEEP_VALID_BIT,
  bootOverrideOf,
  decodeBootFlags,
  encodeBootFlags,
} from "./boot-options.ts";
import { hex } from "./bytes.ts";
import { NetFn } from "./message.ts";
import type { CommandCodes, IpmiSession } from "./session.ts";

const Chassis = { getStatus: 0x01, control: 0x02, setBootOptions: 0x08, getBootOptions: 0x09 } as const;

const CONTROL_CODES: Readonly<Record<PowerAction, number>> = {
  off: 0x00,
  on: 0x01,
  cycle: 0x02,
  reset: 0x03,
  nmi: 0x04,
  softoff: 0x05,
};

const BOOT_OPTION_CODES: CommandCodes = {
  0x80: "parameter not supported",
  0x81: "another set is in progress",
  0x82: "parameter is read-only",
};

export class IpmiDriver implements PowerDriver {
  constructor(private readonly session: IpmiSession) {}

  /** The cipher suite the BMC settled on. */
  get cipherSuite(): CipherSuiteId {
    return this.session.cipherSuite;
  }

  async powerState(): Promise<PowerState> {
    const request = { netFn: NetFn.chassis, cmd: Chassis.getStatus, data: new Uint8Array(0) };
    const data = await this.session.command(request, "Get Chassis Status", undefined, "user");
    if (data.length < 1) throw new BmcError("protocol", `${this.session.peer} answered Get Chassis Status without data`);
    return ((data[0] ?? 0) & 0x01) !== 0 ? "on" : "off";
  }

  async powerAction(action: PowerAction): Promise<void> {
    const code = CONTROL_CODES[action];
    await this.session.command(
      { netFn: NetFn.chassis, cmd: Chassis.control, data: Uint8Array.of(code) },
      `Chassis Control (${action}, 0x${code.toString(16).padStart(2, "0")})`,
    );
  }

  async setBootOverride(override: BootOverride): Promise<void> {
    if (override.device !== "none") await this.keepValidBit();
    const data = encodeBootFlags(override);
    await this.session.command(
      { netFn: NetFn.chassis, cmd: Chassis.setBootOptions, data },
      `Set System Boot Options (boot flags ${hex(data)})`,
      BOOT_OPTION_CODES,
    );
  }

  async getBootOverride(): Promise<BootOverride> {
    return bootOverrideOf(await this.bootFlags());
  }

  /** The raw flags, for callers that must tell "no override" from "override not valid" (ipmi_sim keeps only the device). */
  async bootFlags(): Promise<BootFlags> {
    const data = await this.session.command(
      { netFn: NetFn.chassis, cmd: Chassis.getBootOptions, data: Uint8Array.of(BOOT_FLAGS_PARAMETER, 0, 0) },
      "Get System Boot Options (boot flags)",
      BOOT_OPTION_CODES,
    );
    return decodeBootFlags(data);
  }

  /** Any other IPMI command in this session: the response data, or BmcError "refused" on a completion code. */
  raw(netFn: number, cmd: number, data: Uint8Array): Promise<Uint8Array> {
    const what = `command 0x${netFn.toString(16).padStart(2, "0")}/0x${cmd.toString(16).padStart(2, "0")}`;
    return this.session.command({ netFn, cmd, data }, what);
  }

  close(): Promise<void> {
    return this.session.close();
  }

  /**
   * Best effort: without it some BMCs drop the override when no Chassis Control follows within 60 s
   * (bougou/go-ipmi#74, xcat2/xcat-core#7460). A BMC that refuses the parameter keeps its 60 s rule.
   */
  private async keepValidBit(): Promise<void> {
    try {
      const request = { netFn: NetFn.chassis, cmd: Chassis.setBootOptions, data: KEEP_VALID_BIT };
      await this.session.command(request, "Set System Boot Options (parameter 3)", BOOT_OPTION_CODES);
    } catch (error) {
      if (!(error instanceof BmcError && error.kind === "refused")) throw error;
    }
  }
}
