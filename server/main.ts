#!/usr/bin/env bun
import { main } from "./cli/main.ts";

const code = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
  stdin: () => Bun.stdin.text(),
});
process.exitCode = code;
