// Carries out one power action with POST Reset, falling back across advertised ResetTypes and absorbing the
// vendor answers that mean "done already" (bmc.md §2).
import { BmcError, type PowerAction } from "../driver.ts";
import type { RedfishClient } from "./client.ts";
import { answerError, isSuccess } from "./errors.ts";
import { waitForPowerState, type RedfishPowerState } from "./power-state.ts";
import { onType, resetSteps, type ResetStep } from "./reset-plan.ts";
import type { ResetAction } from "./system.ts";
import { awaitTask } from "./task.ts";
import type { RedfishAnswer } from "./transport.ts";

export interface ResetContext {
  client: RedfishClient;
  reset: ResetAction;
  readState(): Promise<RedfishPowerState>;
  signal: AbortSignal;
  taskTimeoutMs: number;
  pollIntervalMs: number;
  /** How long a "cycle" without PowerCycle waits for Off before sending On. */
  cycleOffTimeoutMs: number;
}

/** Statuses after which the next advertised ResetType is tried (sushy-tools answers PowerCycle with 501). */
const FALL_BACK = new Set([400, 405, 501]);

export async function performPowerAction(ctx: ResetContext, action: PowerAction): Promise<void> {
  const steps = resetSteps(action, ctx.reset.allowed);
  for (const [index, step] of steps.entries()) {
    if (step.kind === "off-then-on") return offThenOn(ctx, step);
    const refusal = await post(ctx, step.resetType);
    if (refusal === undefined || (await doneAnyway(ctx, action, refusal))) return;
    if (index < steps.length - 1 && FALL_BACK.has(refusal.status)) continue;
    throw refusalError(ctx, step.resetType, refusal);
  }
}

/** POSTs one ResetType; undefined when the BMC accepted it (and its task, if any, completed). */
async function post(ctx: ResetContext, resetType: string): Promise<RedfishAnswer | undefined> {
  const answer = await ctx.client.send({ method: "POST", path: ctx.reset.target, body: { ResetType: resetType } });
  if (answer.status === 202) {
    await awaitTask(ctx.client, answer, describe(ctx, resetType), {
      timeoutMs: ctx.taskTimeoutMs,
      intervalMs: ctx.pollIntervalMs,
      signal: ctx.signal,
    });
    return undefined;
  }
  return isSuccess(answer) ? undefined : answer;
}

/** Refusals that leave the system where the action would have: iDRAC's 409 "already on", iLO's reset while off. */
async function doneAnyway(ctx: ResetContext, action: PowerAction, refusal: RedfishAnswer): Promise<boolean> {
  if (refusal.status !== 409 && refusal.status !== 400) return false;
  if (action === "on" || action === "off" || action === "softoff") {
    if (refusal.status !== 409) return false;
    const state = await ctx.readState();
    return action === "on" ? state === "On" || state === "PoweringOn" : state === "Off" || state === "PoweringOff";
  }
  if (action === "reset" || action === "cycle") {
    if ((await ctx.readState()) !== "Off") return false;
    await powerOn(ctx);
    return true;
  }
  return false;
}

async function powerOn(ctx: ResetContext): Promise<void> {
  const on = onType(ctx.reset.allowed);
  if (on === undefined) throw new BmcError("unsupported", `the BMC offers neither On nor ForceOn`);
  const refusal = await post(ctx, on);
  if (refusal === undefined || (await doneAnyway(ctx, "on", refusal))) return;
  throw refusalError(ctx, on, refusal);
}

async function offThenOn(ctx: ResetContext, step: Extract<ResetStep, { kind: "off-then-on" }>): Promise<void> {
  const refusal = await post(ctx, step.off);
  if (refusal !== undefined && !(await doneAnyway(ctx, "off", refusal))) throw refusalError(ctx, step.off, refusal);
  const readMapped = async () => ((await ctx.readState()) === "Off" ? "off" : "on");
  await waitForPowerState({ powerState: readMapped }, "off", {
    timeoutMs: ctx.cycleOffTimeoutMs,
    intervalMs: ctx.pollIntervalMs,
    signal: ctx.signal,
  });
  await powerOn(ctx);
}

function refusalError(ctx: ResetContext, resetType: string, refusal: RedfishAnswer): BmcError {
  const error = answerError(describe(ctx, resetType), refusal);
  return refusal.status === 501 || refusal.status === 405 ? new BmcError("unsupported", error.message) : error;
}

function describe(ctx: ResetContext, resetType: string): string {
  return `POST ${ctx.reset.target} {"ResetType":"${resetType}"}`;
}
