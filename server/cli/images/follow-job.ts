// Follows a build job to its end: a progress line on a terminal (the log with --verbose or when piped).
import type { Job } from "../../image/build/jobs.ts";
import type { CommandIO } from "../command.ts";

type Event = { type: "log"; line: string } | { type: "state"; job: Job } | { type: "end"; job: Job } | { type: "tick" };

export async function followJob(io: CommandIO, id: number, opts: { verbose: boolean; stream?: NodeJS.WriteStream }): Promise<Job> {
  const tty = opts.stream ?? process.stderr;
  const live = tty.isTTY && !opts.verbose;
  const started = Date.now();
  let job: Job | undefined;
  let lastLine = "";
  const draw = () => {
    if (!live || !job) return;
    const elapsed = formatElapsed(Date.now() - started);
    const width = (tty.columns ?? 100) - 1;
    const line = `job ${job.id} ${job.state}: ${job.stage} ${job.progress}% ${elapsed}  ${lastLine}`;
    tty.write(`\r${line.slice(0, width)}\x1b[K`);
  };
  const timer = live ? setInterval(draw, 500) : undefined;
  try {
    for await (const raw of io.client().lines(`/api/v1/jobs/${id}/events`)) {
      const event = JSON.parse(raw) as Event;
      if (event.type === "tick") {
        draw();
        continue;
      }
      if (event.type === "log") {
        lastLine = event.line;
        if (!live) io.err(event.line);
      } else {
        job = event.job;
        if (!live && event.type === "state") io.err(`-- ${job.state}: ${job.stage}`);
      }
      draw();
      if (event.type === "end") break;
    }
  } finally {
    if (timer) clearInterval(timer);
    if (live) tty.write("\r\x1b[K");
  }
  return job ?? (await io.client().get<Job>(`/api/v1/jobs/${id}`));
}

export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
