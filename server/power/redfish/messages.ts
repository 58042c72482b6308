// Turns a Redfish error body into one readable line: the BMC's own words (@Message.ExtendedInfo) are what an
// operator needs to see, e.g. iLO's "UnableToModifyDuringSystemPOST" or Dell's "PSU501".
import { asObject, asString } from "./json.ts";

export interface RedfishMessage {
  id?: string;
  text?: string;
}

function readMessages(list: unknown): RedfishMessage[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((item) => {
    const entry = asObject(item);
    if (!entry) return [];
    const id = asString(entry.MessageId);
    const text = asString(entry.Message);
    return id || text ? [{ id, text }] : [];
  });
}

/** Messages from `error.@Message.ExtendedInfo`, a top-level `@Message.ExtendedInfo`, or a Task's `Messages`. */
export function extendedInfo(body: unknown): RedfishMessage[] {
  const doc = asObject(body);
  if (!doc) return [];
  const error = asObject(doc.error);
  return [
    ...(error ? readMessages(error["@Message.ExtendedInfo"]) : []),
    ...readMessages(doc["@Message.ExtendedInfo"]),
    ...readMessages(doc.Messages),
  ];
}

/** The registry key without its prefix: "Base.1.8.PropertyNotWritable" → "PropertyNotWritable". */
export function messageKey(id: string): string {
  return id.slice(id.lastIndexOf(".") + 1);
}

export function hasMessage(body: unknown, key: string): boolean {
  return extendedInfo(body).some((m) => m.id !== undefined && messageKey(m.id) === key);
}

/** "Base.1.8.ActionNotSupported: The action … ; …", or the error's own message, or a short excerpt of a text body. */
export function describeBody(body: unknown, text: string): string {
  const messages = extendedInfo(body).map((m) => [m.id, m.text].filter(Boolean).join(": "));
  if (messages.length > 0) return messages.join("; ");
  const error = asObject(asObject(body)?.error);
  const summary = [asString(error?.code), asString(error?.message)].filter(Boolean).join(": ");
  if (summary) return summary;
  const plain = text.replace(/\s+/g, " ").trim();
  return plain.length > 200 ? `${plain.slice(0, 200)}…` : plain;
}
