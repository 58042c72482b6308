import { expect, test } from "vitest";

test("the whole tree type-checks under strict TypeScript", () => {
  const tsc = Bun.spawnSync(["node_modules/.bin/tsc", "--noEmit", "-p", "."], { stdout: "pipe", stderr: "pipe" });
  expect(tsc.stdout.toString() + tsc.stderr.toString()).toBe("");
  expect(tsc.exitCode).toBe(0);
}, 120_000);
