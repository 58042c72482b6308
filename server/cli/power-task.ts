// Runs a power request on the server and prints each node's result as it arrives, xCAT style.
import type { CommandIO } from "./command.ts";
import { noderangePayload, printWarnings } from "./common.ts";

export interface PowerOutcome {
  ok: string[];
  failed: string[];
}

export async function runPowerTask(io: CommandIO, range: string, request: Record<string, unknown>, label: string): Promise<PowerOutcome> {
  const client = io.client();
  const started = await client.post<{ task: number; nodes: string[]; warnings?: string[] }>("/api/v1/power", { ...noderangePayload(range), ...request });
  printWarnings(io, started.warnings);
  const outcome: PowerOutcome = { ok: [], failed: [] };
  const progress = process.stderr.isTTY ? (text: string) => process.stderr.write(`\r${text}\x1b[K`) : undefined;
  for await (const line of client.lines(`/api/v1/tasks/${started.task}/events`)) {
    const event = JSON.parse(line) as { node?: string; ok?: boolean; message?: string; done?: boolean };
    if (event.done) break;
    if (!event.node) continue;
    progress?.("");
    if (event.ok) {
      outcome.ok.push(event.node);
      io.out(`${event.node}: ${event.message}`);
    } else {
      outcome.failed.push(event.node);
      io.err(`${event.node}: Error: ${event.message}`);
    }
    const done = outcome.ok.length + outcome.failed.length;
    // Every node has answered: the server still closes the BMC sessions, but there is nothing more to print.
    if (done >= started.nodes.length) break;
    progress?.(`${label}: ${done}/${started.nodes.length} done, ${outcome.failed.length} failed`);
  }
  progress?.("");
  return outcome;
}
