// Step 1 of a login (bmc.md §3): Get Channel Authentication Capabilities, sessionless and in IPMI 1.5
// framing (ipmi_sim ignores sessionless payloads framed as RMCP+), to learn that the BMC answers at
// all and speaks IPMI 2.0 before any session is asked for.
import { BmcError } from "../driver.ts";
import type { Channel, RetryPolicy } from "./channel.ts";
import { completionCodeText } from "./codes.ts";
import { NetFn, answers, decodeResponse, encodeRequest } from "./message.ts";
import { decodeSessionless, encodeSessionless15 } from "./rmcp.ts";

export const PRIVILEGE_ADMINISTRATOR = 0x04;

const GET_CHANNEL_AUTH_CAPS = { netFn: NetFn.app, cmd: 0x38, data: Uint8Array.of(0x8e, PRIVILEGE_ADMINISTRATOR) };

export async function checkIpmi20(channel: Channel, policy: RetryPolicy, signal: AbortSignal): Promise<void> {
  const rqSeq = 1;
  const response = await channel
    .exchange({
      build: () => encodeSessionless15(encodeRequest(GET_CHANNEL_AUTH_CAPS, rqSeq)),
      accept: (datagram) => {
        const reply = decodeResponse(decodeSessionless(datagram));
        if (!answers(reply, GET_CHANNEL_AUTH_CAPS, rqSeq)) throw new BmcError("protocol", "reply to another request");
        return reply;
      },
      policy,
      signal,
      what: "answer to Get Channel Authentication Capabilities",
    })
    .catch((error: unknown) => {
      if (error instanceof BmcError && error.kind === "timeout" && !signal.aborted && channel.droppedReplies === 0) {
        throw new BmcError("timeout", `${error.message} (is an IPMI BMC listening there?)`);
      }
      throw error;
    });
  if (response.completionCode !== 0) {
    throw new BmcError(
      "unsupported",
      `${channel.peer} does not speak IPMI 2.0: Get Channel Authentication Capabilities answered ${completionCodeText(response.completionCode)}`,
    );
  }
  const data = response.data;
  if (data.length < 4 || ((data[1] ?? 0) & 0x80) === 0 || ((data[3] ?? 0) & 0x02) === 0) {
    throw new BmcError("unsupported", `${channel.peer} does not offer IPMI 2.0 (RMCP+) on this channel`);
  }
}
