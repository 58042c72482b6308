// Readers for Redfish JSON: a BMC's answer is untrusted input, so every field is checked before use.

export type JsonObject = Record<string, unknown>;

export function asObject(value: unknown): JsonObject | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

export function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function asStringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : undefined;
}

/** The `@odata.id` of a link object such as `{"@odata.id": "/redfish/v1/Systems"}`. */
export function linkOf(value: unknown): string | undefined {
  return asString(asObject(value)?.["@odata.id"]);
}

/** Walks nested objects: `pick(doc, "Links", "Sessions")`. */
export function pick(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) current = asObject(current)?.[key];
  return current;
}
