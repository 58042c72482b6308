// A 202 answer is a task: poll its monitor until it stops answering 202 (python-redfish-library monitor()),
// honouring Retry-After, and judge the Task it ends with. Dell answers resets with a job this way.
import { BmcError } from "../driver.ts";
import type { RedfishClient } from "./client.ts";
import { answerError, isSuccess } from "./errors.ts";
import { asObject, asString, linkOf } from "./json.ts";
import { describeBody } from "./messages.ts";
import { sleep } from "./power-state.ts";
import type { RedfishAnswer } from "./transport.ts";
import { linkPath } from "./url.ts";

export interface TaskOptions {
  timeoutMs: number;
  /** Poll interval when the BMC gives no Retry-After. */
  intervalMs: number;
  signal: AbortSignal;
}

const RUNNING = new Set(["New", "Starting", "Running", "Pending", "Suspended", "Stopping", "Cancelling", "Service"]);
const FAILED = new Set(["Exception", "Killed", "Cancelled", "Interrupted"]);
// Retry-After: 0 would make a busy loop; and no BMC needs us to wait minutes between polls.
const MIN_POLL_MS = 50;
const MAX_POLL_MS = 30_000;

export async function awaitTask(client: RedfishClient, accepted: RedfishAnswer, what: string, options: TaskOptions): Promise<void> {
  const named = accepted.headers.get("location") ?? asString(asObject(accepted.body)?.TaskMonitor) ?? linkOf(accepted.body);
  const monitor = named === undefined ? undefined : linkPath(named);
  if (monitor === undefined) return; // accepted with nothing to watch: as good as a 204
  const deadline = performance.now() + options.timeoutMs;
  let last = accepted;
  for (;;) {
    const wait = pollDelay(last, options.intervalMs);
    if (performance.now() + wait > deadline) {
      throw new BmcError("timeout", `${what}: task ${monitor} still running after ${options.timeoutMs} ms`);
    }
    await sleep(wait, options.signal);
    last = await client.send({ method: "GET", path: monitor });
    if (last.status === 202) continue;
    if (!isSuccess(last)) throw answerError(`${what}: task ${monitor}`, last);
    if (last.malformed) throw new BmcError("protocol", `${what}: task ${monitor} answered with malformed JSON`);
    const task = asObject(last.body);
    const state = asString(task?.TaskState);
    if (state !== undefined && RUNNING.has(state)) continue;
    const status = asString(task?.TaskStatus);
    if ((state !== undefined && FAILED.has(state)) || status === "Critical") {
      const detail = describeBody(last.body, "");
      throw new BmcError("refused", `${what}: task ${monitor} ended ${state ?? status}${detail ? `: ${detail}` : ""}`);
    }
    return;
  }
}

function pollDelay(answer: RedfishAnswer, fallbackMs: number): number {
  const header = answer.headers.get("retry-after")?.trim();
  let ms = fallbackMs;
  if (header && /^\d+$/.test(header)) ms = Number(header) * 1000;
  else if (header && !Number.isNaN(Date.parse(header))) ms = Date.parse(header) - Date.now();
  return Math.min(Math.max(ms, MIN_POLL_MS), MAX_POLL_MS);
}
