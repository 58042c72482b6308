import { describe, expect, test } from "vitest";
import { clampLimits, negotiateReadOptions } from "../../server/tftp/options.ts";

const limits = clampLimits({});
const negotiate = (options: Record<string, string>, size = 1000) =>
  negotiateReadOptions(new Map(Object.entries(options)), size, limits);

describe("read option negotiation", () => {
  test("no options: defaults and no OACK", () => {
    expect(negotiate({})).toEqual({ blksize: 512, windowsize: 1, timeoutSeconds: undefined, accepted: [] });
  });

  test.each([
    [{ blksize: "1024" }, [["blksize", "1024"]], 1024],
    [{ blksize: "8" }, [["blksize", "8"]], 8],
    [{ blksize: "1468" }, [["blksize", "1468"]], 1468],
    [{ blksize: "65464" }, [["blksize", "1468"]], 1468],
    [{ blksize: "999999999999" }, [["blksize", "1468"]], 1468],
    [{ blksize: "7" }, [], 512],
    [{ blksize: "0" }, [], 512],
    [{ blksize: "-1" }, [], 512],
    [{ blksize: "12ab" }, [], 512],
    [{ blksize: " 512" }, [], 512],
  ])("blksize %j → OACK %j", (options, accepted, blksize) => {
    const result = negotiate(options);
    expect(result.accepted).toEqual(accepted);
    expect(result.blksize).toBe(blksize);
  });

  test("blksize is clamped to the configured maximum, itself clamped to 8..65464", () => {
    expect(negotiateReadOptions(new Map([["blksize", "65464"]]), 1, clampLimits({ maxBlksize: 9000 })).blksize).toBe(9000);
    expect(negotiateReadOptions(new Map([["blksize", "65464"]]), 1, clampLimits({ maxBlksize: 1e9 })).blksize).toBe(65464);
    expect(negotiateReadOptions(new Map([["blksize", "100"]]), 1, clampLimits({ maxBlksize: 1 })).blksize).toBe(8);
  });

  test("tsize answers the real size whatever the client sent", () => {
    expect(negotiate({ tsize: "0" }, 173792).accepted).toEqual([["tsize", "173792"]]);
    expect(negotiate({ tsize: "5" }, 0).accepted).toEqual([["tsize", "0"]]);
    expect(negotiate({ tsize: "x" }, 10).accepted).toEqual([]);
  });

  test.each([
    ["1", 1],
    ["5", 5],
    ["255", 255],
    ["0", undefined],
    ["256", undefined],
    ["1.5", undefined],
  ])("timeout %s is accepted unchanged or left out", (value, seconds) => {
    const result = negotiate({ timeout: value });
    expect(result.timeoutSeconds).toBe(seconds);
    expect(result.accepted).toEqual(seconds === undefined ? [] : [["timeout", value]]);
  });

  test.each([
    ["1", 1],
    ["4", 4],
    ["64", 64],
    ["65", 64],
    ["65535", 64],
    ["0", undefined],
    ["four", undefined],
  ])("windowsize %s → %s", (value, granted) => {
    const result = negotiate({ windowsize: value });
    expect(result.windowsize).toBe(granted ?? 1);
    expect(result.accepted).toEqual(granted === undefined ? [] : [["windowsize", String(granted)]]);
  });

  test("unknown options are ignored; accepted ones come back in a fixed order", () => {
    const result = negotiate({ windowsize: "4", multicast: "", foo: "bar", tsize: "0", blksize: "1468" }, 42);
    expect(result.accepted).toEqual([
      ["blksize", "1468"],
      ["tsize", "42"],
      ["windowsize", "4"],
    ]);
  });

  test("only unknown options: no OACK", () => {
    expect(negotiate({ foo: "1", utimeout: "500" }).accepted).toEqual([]);
  });
});
