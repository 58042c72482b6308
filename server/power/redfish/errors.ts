// HTTP answers that are not what was asked for, as BmcErrors that carry the BMC's own message.
import { BmcError } from "../driver.ts";
import { asObject, type JsonObject } from "./json.ts";
import { describeBody } from "./messages.ts";
import type { RedfishAnswer } from "./transport.ts";

export function isSuccess(answer: RedfishAnswer): boolean {
  return answer.status >= 200 && answer.status < 300;
}

/** A BmcError for an error status: 401 is "auth", everything else the BMC said no to is "refused". */
export function answerError(what: string, answer: RedfishAnswer): BmcError {
  const detail = describeBody(answer.body, answer.text);
  const message = `${what}: HTTP ${answer.status}${detail ? `: ${detail}` : ""}`;
  return new BmcError(answer.status === 401 ? "auth" : "refused", message);
}

/** The JSON object a successful answer must carry; anything else is a "protocol" error. */
export function expectObject(what: string, answer: RedfishAnswer): JsonObject {
  if (!isSuccess(answer)) throw answerError(what, answer);
  if (answer.malformed) throw new BmcError("protocol", `${what}: the answer is not JSON: ${excerpt(answer.text)}`);
  const doc = asObject(answer.body);
  if (!doc) throw new BmcError("protocol", `${what}: expected a JSON object, got ${excerpt(answer.text) || "nothing"}`);
  return doc;
}

function excerpt(text: string): string {
  const plain = text.replace(/\s+/g, " ").trim();
  return plain.length > 80 ? `${plain.slice(0, 80)}…` : plain;
}
