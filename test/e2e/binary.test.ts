// `bun build --compile` gives one executable that embeds migrations and runs from an empty directory.
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { removeDir, startServer, tempDir } from "./harness.ts";

const ROOT = join(import.meta.dirname, "../..");
const BINARY = join(ROOT, "dist/provctl");

describe("dist/provctl", () => {
  beforeAll(() => {
    const build = Bun.spawnSync(["bun", "run", "build"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    if (build.exitCode !== 0) throw new Error(`build failed:\n${build.stderr.toString()}`);
  }, 120_000);

  test("lists the commands and serves from an empty directory", async () => {
    const empty = tempDir("empty-cwd");
    const help = Bun.spawnSync([BINARY, "--help"], { cwd: empty });
    expect(help.stdout.toString()).toMatch(/Commands:\n {2}serve .*\n {2}mkdef .*\n {2}chdef .*\n {2}lsdef .*\n {2}rmdef .*\n {2}nodels /);

    const server = await startServer({ cli: [BINARY], cwd: empty, token: "bin" });
    expect(server.run(["mkdef", "r[1-2]n[01-02]", "groups=rack,all"]).code).toBe(0);
    expect(server.run(["nodels", "rack"]).stdout).toBe("r1n01\nr1n02\nr2n01\nr2n02\n");
    // The iPXE templates are embedded too: a node's boot script renders from the empty directory.
    expect(server.run(["chdef", "r1n01", "mac=52:54:00:aa:bb:01"]).code).toBe(0);
    const script = await fetch(`${server.url}/boot/ipxe/52-54-00-aa-bb-01`);
    expect(script.status).toBe(200);
    expect(await script.text()).toMatch(/^#!ipxe\n/);
    await server.stop();
    removeDir(server.dataDir);
    removeDir(empty);
  });
});
