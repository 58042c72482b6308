// ETag/If-Match for PATCH. AMI answers 428 without If-Match (gofish#171), Huawei 412; several BMCs reject their own
// weak ETag (community.general#3268), so the fallbacks follow sushy 3e69fce: strong form, then no If-Match.
import { asString, type JsonObject } from "./json.ts";
import type { RedfishAnswer } from "./transport.ts";

/** The resource's ETag from the header or `@odata.etag`; empty ones are ignored (sushy 7f41d5c). */
export function etagOf(answer: RedfishAnswer, doc: JsonObject | undefined): string | undefined {
  for (const candidate of [answer.headers.get("etag"), asString(doc?.["@odata.etag"])]) {
    const value = candidate?.trim();
    if (value && value !== '""' && value !== 'W/""') return value;
  }
  return undefined;
}

export function strongForm(etag: string): string | undefined {
  return etag.startsWith("W/") ? etag.slice(2) : undefined;
}

export interface EtagPatch {
  /** Sends the PATCH with this If-Match, or none. */
  patch(ifMatch: string | undefined): Promise<RedfishAnswer>;
  /** Reads the resource again for its current ETag. */
  freshEtag(): Promise<string | undefined>;
}

/** At most four PATCHes: as read; with a fresh ETag after 428; strong form after 412; none after 412. */
export async function patchWithEtag(etag: string | undefined, ops: EtagPatch): Promise<RedfishAnswer> {
  let sent = etag;
  let answer = await ops.patch(sent);
  if (answer.status === 428 || (answer.status === 412 && sent === undefined)) {
    const fresh = await ops.freshEtag();
    if (fresh === undefined || fresh === sent) return answer;
    sent = fresh;
    answer = await ops.patch(sent);
  }
  if (answer.status !== 412 || sent === undefined) return answer;
  const strong = strongForm(sent);
  if (strong !== undefined) {
    answer = await ops.patch(strong);
    if (answer.status !== 412) return answer;
  }
  return ops.patch(undefined);
}
