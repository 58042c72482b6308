// The validation gate: the definition's test scripts run inside the built root; `latest` only moves on a pass.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import type { PostinstallStep } from "../definition/types.ts";
import { insideImage } from "../chroot.ts";
import { runCommand } from "../run-command.ts";

export interface ValidationResult {
  state: "passed" | "failed" | "untested";
  log: string;
}

export async function validateRoot(
  root: string,
  tests: readonly PostinstallStep[],
  env: Record<string, string>,
  opts: { log: (line: string) => void; signal?: AbortSignal },
): Promise<ValidationResult> {
  if (!tests.length) return { state: "untested", log: "" };
  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(line);
    opts.log(line);
  };
  const dir = join(root, "tmp/provd-validate");
  mkdirSync(dir, { recursive: true });
  try {
    for (const [i, test] of tests.entries()) {
      const name = `${i}-${basename(test.script)}`;
      copyFileSync(test.script, join(dir, name));
      log(`== ${basename(test.script)} ${test.args.join(" ")}`.trim());
      try {
        // chroot passes the environment on, so the image needs no env binary of its own.
        await runCommand(insideImage(root, [`/tmp/provd-validate/${name}`, ...test.args]), {
          log,
          env,
          signal: opts.signal,
          what: `validation test ${basename(test.script)}`,
        });
        log(`== ${basename(test.script)}: passed`);
      } catch (e) {
        opts.signal?.throwIfAborted();
        log(`== ${basename(test.script)}: FAILED (${(e as Error).message.split("\n")[0]})`);
        return { state: "failed", log: lines.join("\n") };
      }
    }
    return { state: "passed", log: lines.join("\n") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
