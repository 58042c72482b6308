// Redfish answers built the way BMCs build them: errors carry Base registry messages in @Message.ExtendedInfo.

export interface MessageSpec {
  id: string;
  message: string;
}

export const BASE = "Base.1.15.0";

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", "OData-Version": "4.0", ...headers },
  });
}

export function redfishError(status: number, messages: MessageSpec[], headers: Record<string, string> = {}): Response {
  const first = messages[0] ?? { id: `${BASE}.GeneralError`, message: "An error occurred." };
  const body = {
    error: {
      code: first.id,
      message: first.message,
      "@Message.ExtendedInfo": messages.map((m) => ({
        "@odata.type": "#Message.v1_1_1.Message",
        MessageId: m.id,
        Message: m.message,
        Severity: "Warning",
        Resolution: "None.",
      })),
    },
  };
  return json(body, status, headers);
}

export function baseError(status: number, key: string, message: string, headers: Record<string, string> = {}): Response {
  return redfishError(status, [{ id: `${BASE}.${key}`, message }], headers);
}

export function noContent(headers: Record<string, string> = {}): Response {
  return new Response(null, { status: 204, headers });
}
