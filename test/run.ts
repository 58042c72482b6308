// The README's test command: runs vitest under Bun and closes with the plain `N passed, N failed` line CI reads.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "provd-test-"));
const report = join(dir, "report.json");
const proc = Bun.spawnSync(
  ["bun", "--bun", "vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: ["inherit", "inherit", "inherit"] },
);

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const summary = JSON.parse(readFileSync(report, "utf8")) as {
    numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number;
    numFailedTestSuites: number;
  };
  passed = summary.numPassedTests;
  // A file that fails to load has no tests to count; it still counts as a failure.
  failed = summary.numFailedTests + summary.numFailedTestSuites;
  skipped = summary.numPendingTests + summary.numTodoTests;
} catch {
  failed = 1;
  console.error("vitest wrote no report: the run itself failed (see above)");
}
rmSync(dir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(proc.exitCode === 0 && failed === 0 ? 0 : 1);
