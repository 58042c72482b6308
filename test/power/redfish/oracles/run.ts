// Runs the independent Redfish clients (Debian's python3-sushy and redfishtool) against a test BMC.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const PYTHON = "/usr/bin/python3";
const SUSHY_SCRIPT = fileURLToPath(new URL("./sushy_check.py", import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Why an oracle cannot run here, or undefined when it can. */
export function missingSushy(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} is missing (apt-get install python3-sushy)`;
  const probe = Bun.spawnSync([PYTHON, "-c", "import sushy"], { stdout: "ignore", stderr: "ignore" });
  return probe.exitCode === 0 ? undefined : "python3-sushy is not installed (apt-get install python3-sushy)";
}

export function missingRedfishtool(): string | undefined {
  return Bun.which("redfishtool") ? undefined : "redfishtool is not installed (apt-get install redfishtool)";
}

// Asynchronous on purpose: the BMC answers from this very process.
async function run(argv: string[]): Promise<Run> {
  const child = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe", env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } });
  const timer = setTimeout(() => child.kill(), 20_000);
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

export function sushy(url: string, auth: "session" | "basic"): Promise<Run> {
  return run([PYTHON, SUSHY_SCRIPT, url, "admin", "password", auth]);
}

/** `redfishtool -r HOST:PORT -u admin -p password -S Never …`: -S Never is its switch for plain http. */
export function redfishtool(url: string, ...args: string[]): Promise<Run> {
  const { host } = new URL(url);
  return run(["redfishtool", "-r", host, "-u", "admin", "-p", "password", "-S", "Never", ...args]);
}
