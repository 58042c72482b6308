import { UserError } from "../../core/errors.ts";
import type { Job } from "../../image/build/jobs.ts";
import type { Command } from "../command.ts";
import { followJob, formatElapsed } from "../images/follow-job.ts";
import { table } from "./images.ts";

export const jobs: Command = {
  name: "jobs",
  summary: "list image build jobs, or show, follow or print the log of one",
  usage: ["jobs [ID] [--log] [--follow]"],
  flags: [
    { names: ["--log", "-l"], help: "print the job's log" },
    { names: ["--follow", "-f"], help: "follow the job until it ends" },
  ],
  async run(args, io) {
    const id = args.positionals[0];
    if (!id) {
      const list = await io.client().get<Job[]>("/api/v1/jobs");
      table(io, ["JOB", "KIND", "OSIMAGE", "STATE", "STAGE", "TIME", "VERSION / ERROR"], list.map((j) => [
        String(j.id), j.kind, j.osimage, j.state, j.stage,
        j.startedAt ? formatElapsed((j.finishedAt ?? Date.now()) - j.startedAt) : "-",
        j.version ?? (j.error ? j.error.split("\n")[0]! : "-"),
      ]));
      return 0;
    }
    if (!/^\d+$/.test(id)) throw new UserError(`jobs: '${id}' is not a job id`);
    if (args.flags.has("--follow")) {
      const end = await followJob(io, Number(id), { verbose: true });
      return end.state === "success" ? 0 : 1;
    }
    if (args.flags.has("--log")) {
      const text = await fetchText(io.client().settings, `/api/v1/jobs/${id}/log`);
      io.out(text.replace(/\n$/, ""));
      return 0;
    }
    io.out(JSON.stringify(await io.client().get<Job>(`/api/v1/jobs/${id}`), null, 2));
    return 0;
  },
};

export const jobcancel: Command = {
  name: "jobcancel",
  summary: "cancel a queued or running image job",
  usage: ["jobcancel ID"],
  flags: [],
  async run(args, io) {
    const id = args.positionals[0];
    if (!id || !/^\d+$/.test(id)) throw new UserError("jobcancel: give the job id (provctl jobs lists them)");
    const job = await io.client().post<Job>(`/api/v1/jobs/${id}/cancel`, {});
    io.out(`job ${job.id}: ${job.state}`);
    return 0;
  },
};

async function fetchText(settings: { url: string; token?: string }, path: string): Promise<string> {
  const response = await fetch(settings.url + path, { headers: settings.token ? { authorization: `Bearer ${settings.token}` } : {} });
  if (!response.ok) throw new UserError(`server answered ${response.status} for ${path}`);
  return response.text();
}
