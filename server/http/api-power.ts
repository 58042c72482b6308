// REST routes for power: start an rpower/rsetboot task over a noderange, read it, or follow its results live.
import { Hono } from "hono";
import { stream } from "hono/streaming";
import { UserError } from "../core/errors.ts";
import type { Inventory } from "../core/inventory.ts";
import type { PowerService } from "../power/service.ts";
import type { TaskResult, TaskStore } from "../power/task-store.ts";
import { parseRpower, parseRsetboot } from "../power/verbs.ts";
import { bool, object, oneOf, readJson, str, stringMap } from "./body.ts";

export interface PowerApiDeps {
  inventory: Inventory;
  power: PowerService;
  tasks: TaskStore;
}

const powerBody = object(
  { range: str, files: stringMap, command: oneOf(["rpower", "rsetboot"] as const), verb: str, device: str, persistent: bool, uefi: bool },
  ["files", "verb", "device", "persistent", "uefi"],
);

export function powerRoutes(deps: PowerApiDeps): Hono {
  const api = new Hono();

  api.post("/power", async (c) => {
    const body = powerBody(await readJson(c), "body");
    const request = body.command === "rpower" ? parseRpower(body.verb) : parseRsetboot(body.device, body.persistent ?? false, body.uefi ?? false);
    const { nodes } = deps.inventory.expand(body.range, body.files);
    return c.json({ task: deps.power.start(nodes, request), nodes }, 202);
  });

  api.get("/tasks/:id{[0-9]+}", (c) => {
    const task = deps.tasks.get(Number(c.req.param("id")));
    if (!task) throw new UserError(`no task ${c.req.param("id")}`, 404);
    return c.json(task);
  });

  /** NDJSON: one line per node result as it arrives, then {"done":true,…}. */
  api.get("/tasks/:id{[0-9]+}/events", (c) => {
    const id = Number(c.req.param("id"));
    if (!deps.tasks.get(id)) throw new UserError(`no task ${id}`, 404);
    c.header("content-type", "application/x-ndjson");
    return stream(c, async (out) => {
      const sent = new Set<string>();
      const queue: TaskResult[] = [];
      let wake: (() => void) | undefined;
      let finished = false;
      const stop = deps.tasks.listen(id, {
        result: (r) => {
          queue.push(r);
          wake?.();
        },
        done: () => {
          finished = true;
          wake?.();
        },
      });
      out.onAbort(stop);
      const snapshot = deps.tasks.get(id)!;
      queue.unshift(...snapshot.results);
      if (snapshot.state !== "running") finished = true;
      for (;;) {
        // Whatever came in while the last write was under way goes out as one write: one wake-up of the client
        // for a burst of results, not one per node.
        while (queue.length) {
          let lines = "";
          for (const r of queue.splice(0)) {
            if (sent.has(r.node)) continue;
            sent.add(r.node);
            lines += `${JSON.stringify(r)}\n`;
          }
          if (lines) await out.write(lines);
        }
        if (finished) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      stop();
      await out.write(`${JSON.stringify({ done: true, state: deps.tasks.get(id)?.state })}\n`);
    });
  });
  return api;
}
