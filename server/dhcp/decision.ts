// What the policy decided for one request; the server turns it into a send, a counter, or nothing.
import type { MessageType } from "./options.ts";
import type { Destination } from "./reply.ts";

export type IgnoreReason =
  | "not-a-request" // BOOTREPLY, or a message type only servers send
  | "bootp" // no option 53: plain BOOTP is not served
  | "no-client-id" // neither chaddr nor option 61
  | "other-server" // REQUEST/RELEASE/DECLINE naming another server's option 54
  | "no-network" // no network configured for the interface or relay
  | "pool-exhausted"
  | "not-pxe" // proxy mode: not a network boot client
  | "unexpected-type" // proxy mode: a message type the port does not answer
  | "bad-request" // a REQUEST in no RFC 2131 state, a DECLINE without option 50
  | "unencodable"; // the reply would not fit the client's size limit

export interface ReplyDecision {
  action: "reply";
  type: MessageType;
  bytes: Uint8Array;
  to: Destination;
  /** Answered from the transaction cache (a retransmitted DISCOVER). */
  retransmit: boolean;
}

export interface NotedDecision {
  /** A RELEASE or DECLINE was applied; it gets no reply. */
  action: "noted";
  type: MessageType;
}

export interface IgnoreDecision {
  action: "ignore";
  reason: IgnoreReason;
  detail?: string;
}

export type Decision = ReplyDecision | NotedDecision | IgnoreDecision;

const IGNORED = new Map<IgnoreReason, IgnoreDecision>();

/** A shared, frozen decision per reason, so ignoring costs no allocation. */
export function ignore(reason: IgnoreReason, detail?: string): IgnoreDecision {
  if (detail !== undefined) return { action: "ignore", reason, detail };
  let decision = IGNORED.get(reason);
  if (decision === undefined) {
    decision = Object.freeze({ action: "ignore", reason }) as IgnoreDecision;
    IGNORED.set(reason, decision);
  }
  return decision;
}
