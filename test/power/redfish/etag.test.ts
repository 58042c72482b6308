import { describe, expect, test } from "vitest";
import type { Bench } from "./helpers.ts";
import { withBmc, withDriver } from "./helpers.ts";
import { json } from "../../bmc/redfish/replies.ts";

const PXE_ONCE = { device: "net", persistent: false, uefi: false } as const;

function ifMatches(bench: Bench): Array<[string | undefined, number]> {
  return bench.bmc.requestsTo("PATCH").map((r) => [r.headers["if-match"], r.status]);
}

/** Serves the first read of the system without any ETag, as BMCs that only send one on some answers do. */
function hideFirstEtag(bench: Bench): void {
  let hidden = false;
  bench.bmc.intercept(async (r) => {
    if (hidden || r.method !== "GET" || r.path !== bench.bmc.systemPath || bench.bmc.requestsTo("PATCH").length > 0) return undefined;
    if (bench.bmc.requestsTo("GET", bench.bmc.systemPath).length < 2) return undefined; // open() reads it first
    hidden = true;
    const headers = { Authorization: r.headers.authorization ?? "", "X-Auth-Token": r.headers["x-auth-token"] ?? "" };
    const real = await fetch(bench.bmc.url + bench.bmc.systemPath, { headers });
    const { "@odata.etag": _etag, ...doc } = (await real.json()) as Record<string, unknown>;
    return json(doc);
  });
}

describe("ETag and If-Match", () => {
  test("the ETag read is sent as If-Match and accepted", async () => {
    await withBmc({ ifMatch: "require" }, async (bench) => {
      const etag = bench.bmc.etag;
      await withDriver(bench, (driver) => driver.setBootOverride(PXE_ONCE));
      expect(ifMatches(bench)).toEqual([[etag, 204]]);
      expect(bench.bmc.etag).not.toBe(etag);
    });
  });

  test("428 (AMI) without If-Match: GET for the ETag and retry with it", async () => {
    await withBmc({ ifMatch: "require" }, async (bench) => {
      hideFirstEtag(bench);
      await withDriver(bench, (driver) => driver.setBootOverride(PXE_ONCE));
      expect(ifMatches(bench)).toEqual([[undefined, 428], ['W/"1"', 204]]);
    });
  });

  test("412 (Huawei) without If-Match: GET for the ETag and retry with it", async () => {
    await withBmc({ ifMatch: "strict" }, async (bench) => {
      hideFirstEtag(bench);
      await withDriver(bench, (driver) => driver.setBootOverride(PXE_ONCE));
      expect(ifMatches(bench)).toEqual([[undefined, 412], ['W/"1"', 204]]);
    });
  });

  test("412 on its own weak ETag: retried with the strong form", async () => {
    await withBmc({ ifMatch: "require", quirks: ["etag-strong-only"] }, async (bench) => {
      await withDriver(bench, (driver) => driver.setBootOverride(PXE_ONCE));
      expect(ifMatches(bench)).toEqual([['W/"1"', 412], ['"1"', 204]]);
    });
  });

  test("412 on every If-Match: strong form, then none", async () => {
    await withBmc({ quirks: ["etag-broken"] }, async (bench) => {
      await withDriver(bench, (driver) => driver.setBootOverride(PXE_ONCE));
      expect(ifMatches(bench)).toEqual([['W/"1"', 412], ['"1"', 412], [undefined, 204]]);
    });
  });

  test("an empty ETag is ignored: no If-Match is sent", async () => {
    await withBmc({ quirks: ["etag-empty"] }, async (bench) => {
      await withDriver(bench, (driver) => driver.setBootOverride(PXE_ONCE));
      expect(ifMatches(bench)).toEqual([[undefined, 204]]);
    });
  });

  test("no ETag at all: no If-Match", async () => {
    await withBmc({ quirks: ["no-etag"] }, async (bench) => {
      await withDriver(bench, (driver) => driver.setBootOverride(PXE_ONCE));
      expect(ifMatches(bench)).toEqual([[undefined, 204]]);
    });
  });
});
