import { expect, test } from "vitest";
test("bun runtime", () => { expect(typeof Bun.version).toBe("string"); });
