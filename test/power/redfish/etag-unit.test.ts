import { describe, expect, test } from "vitest";
import { etagOf, patchWithEtag } from "../../../server/power/redfish/etag.ts";
import type { RedfishAnswer } from "../../../server/power/redfish/transport.ts";

function answer(status: number, headers: Record<string, string> = {}): RedfishAnswer {
  return { status, headers: new Headers(headers), path: "/s", body: undefined, text: "", malformed: false };
}

describe("etagOf", () => {
  test("prefers the header, falls back to @odata.etag, ignores empty ones", () => {
    expect(etagOf(answer(200, { ETag: 'W/"7"' }), { "@odata.etag": 'W/"6"' })).toBe('W/"7"');
    expect(etagOf(answer(200), { "@odata.etag": 'W/"6"' })).toBe('W/"6"');
    expect(etagOf(answer(200, { ETag: '""' }), { "@odata.etag": "" })).toBeUndefined();
    expect(etagOf(answer(200, { ETag: 'W/""' }), {})).toBeUndefined();
  });
});

describe("patchWithEtag", () => {
  async function sequence(etag: string | undefined, statuses: number[], fresh?: string): Promise<Array<string | undefined>> {
    const sent: Array<string | undefined> = [];
    await patchWithEtag(etag, {
      patch: async (ifMatch) => {
        sent.push(ifMatch);
        return answer(statuses.shift() ?? 204);
      },
      freshEtag: async () => fresh,
    });
    return sent;
  }

  test("never more than four PATCHes, whatever the BMC answers", async () => {
    expect(await sequence(undefined, [428, 412, 412, 412, 412], 'W/"2"')).toEqual([undefined, 'W/"2"', '"2"', undefined]);
    expect(await sequence('"1"', [412, 412])).toEqual(['"1"', undefined]);
    expect(await sequence(undefined, [428], undefined)).toEqual([undefined]);
    expect(await sequence('W/"1"', [428, 428], 'W/"1"')).toEqual(['W/"1"']);
  });
});
