// 202 answers: a task that runs for a while, its monitor (202 until done) and its Task resource.
import { json } from "./replies.ts";

interface Task {
  id: string;
  state: "Running" | "Completed" | "Exception";
  started: string;
  timer: ReturnType<typeof setTimeout>;
}

export const TASKS_PATH = "/redfish/v1/TaskService/Tasks";
export const MONITORS_PATH = "/redfish/v1/TaskService/TaskMonitors";

export class TaskBoard {
  private readonly tasks = new Map<string, Task>();
  private next = 1000;

  constructor(
    private readonly durationMs: number,
    private readonly retryAfterSeconds: number,
    private readonly outcome: "Completed" | "Exception",
  ) {}

  /** Starts a task that runs `work` when it completes; answers 202 with its monitor. */
  start(work: () => void): Response {
    const id = String(this.next++);
    const task: Task = {
      id,
      state: "Running",
      started: new Date().toISOString(),
      timer: setTimeout(() => {
        task.state = this.outcome;
        if (this.outcome === "Completed") work();
      }, this.durationMs),
    };
    this.tasks.set(id, task);
    return json(this.resource(task), 202, this.monitorHeaders(task));
  }

  /** GET on a monitor: 202 while running, then the finished Task; undefined for an unknown one. */
  monitor(id: string): Response | undefined {
    const task = this.tasks.get(id);
    if (!task) return undefined;
    return task.state === "Running" ? json(this.resource(task), 202, this.monitorHeaders(task)) : json(this.resource(task));
  }

  task(id: string): Response | undefined {
    const task = this.tasks.get(id);
    return task ? json(this.resource(task)) : undefined;
  }

  stop(): void {
    for (const task of this.tasks.values()) clearTimeout(task.timer);
  }

  private monitorHeaders(task: Task): Record<string, string> {
    return { Location: `${MONITORS_PATH}/${task.id}`, "Retry-After": String(this.retryAfterSeconds) };
  }

  private resource(task: Task): Record<string, unknown> {
    const failed = task.state === "Exception";
    return {
      "@odata.type": "#Task.v1_7_0.Task",
      "@odata.id": `${TASKS_PATH}/${task.id}`,
      Id: task.id,
      Name: `Task ${task.id}`,
      TaskState: task.state,
      TaskStatus: failed ? "Critical" : "OK",
      StartTime: task.started,
      TaskMonitor: `${MONITORS_PATH}/${task.id}`,
      Messages: failed
        ? [{ MessageId: "Base.1.15.0.InternalError", Message: "The request failed due to an internal service error." }]
        : [],
    };
  }
}
