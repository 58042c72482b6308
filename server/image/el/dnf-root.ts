// Builds an EL root filesystem with `dnf --installroot`, pass by pass as the definition lists them.
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { ResolvedDefinition } from "../definition/types.ts";
import { DNF_CONF, type DnfSetup, dnfArgv } from "./dnf-args.ts";
import { dnfFailure } from "./dnf-failure.ts";
import { type DnfStep, planDnfSteps } from "./dnf-plan.ts";
import { checkLocalRepo } from "./repos.ts";
import { type InstalledPackage, listInstalled } from "./rpm-list.ts";
import { runInSandbox } from "./scriptlet-sandbox.ts";
import { SOURCE_DATE_EPOCH } from "../reproducible.ts";

export interface ElRootOptions {
  /** Empty directory to install into. */
  root: string;
  def: ResolvedDefinition;
  /** dnf cachedir kept across builds: downloaded packages stay there (keepcache). Must not be inside root. */
  cacheDir: string;
  /** Every output line of dnf, as is. */
  log: (line: string) => void;
  /** Kills dnf (and its scriptlets) when aborted. */
  signal?: AbortSignal;
  /**
   * Keys (URLs or paths) that sign the packages of remote (http, https) repositories, which are always GPG-checked.
   * Local repositories (file://, plain paths) are not checked.
   */
  gpgKeys?: string[];
}

export async function buildElRoot(o: ElRootOptions): Promise<{ packages: InstalledPackage[] }> {
  o.signal?.throwIfAborted();
  if (process.getuid?.() !== 0) throw new Error("building an EL root needs root: rpm chroots into it to run scriptlets");
  const steps = planDnfSteps(o.def);
  for (const step of steps) for (const repo of step.repos) await checkLocalRepo(repo, step.label);

  await mkdir(o.root, { recursive: true });
  await mkdir(o.cacheDir, { recursive: true });
  const root = await realpath(o.root);
  const cacheDir = await realpath(o.cacheDir);
  if (!relative(root, cacheDir).startsWith("..")) throw new Error(`dnf cache ${cacheDir} is inside the root ${root}`);

  const home = await mkdtemp(join(tmpdir(), "provd-dnf-"));
  try {
    const setup = await prepareHome(home, root, cacheDir, o);
    for (const step of steps) await runStep(setup, home, step, o);
    // dnf's transaction history stamps real times into an SQLite file (and leaves its WAL beside it): an image
    // carrying it would differ on every build. The rpmdb, which rpm writes with SOURCE_DATE_EPOCH, stays.
    for (const f of ["history.sqlite", "history.sqlite-shm", "history.sqlite-wal"]) await rm(join(root, "var/lib/dnf", f), { force: true });
    return { packages: await listInstalled(root) };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** A HOME of dnf's own: Debian's rpm keeps its database under ~/.rpmdb unless ~/.rpmmacros says otherwise. */
async function prepareHome(home: string, root: string, cacheDir: string, o: ElRootOptions): Promise<DnfSetup> {
  await writeFile(join(home, ".rpmmacros"), "%_dbpath /var/lib/rpm\n");
  const configFile = join(home, "dnf.conf");
  await writeFile(configFile, DNF_CONF);
  await mkdir(join(home, "log"));
  return {
    root,
    releasever: o.def.release,
    configFile,
    cacheDirFromRoot: relative(root, cacheDir),
    // dnf's logs repeat what o.log gets; outside the root they neither bloat nor unsettle the image.
    logDirFromRoot: relative(root, join(home, "log")),
    gpgKeys: o.gpgKeys ?? [],
  };
}

async function runStep(setup: DnfSetup, home: string, step: DnfStep, o: ElRootOptions): Promise<void> {
  const lines: string[] = [];
  const code = await runInSandbox({
    root: setup.root,
    argv: dnfArgv(setup, step),
    env: dnfEnv(home, step.env),
    onLine: (line) => {
      lines.push(line);
      o.log(line);
    },
    signal: o.signal,
  });
  if (code !== 0) throw dnfFailure(step, code, lines);
}

/** Scriptlets inherit this environment: the pass's #ENV: settings and what downloads need, not provd's own. */
function dnfEnv(home: string, passEnv: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
  for (const name of ["http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  // LC_ALL=C: failures are recognised by dnf's English messages. PYTHONUNBUFFERED: lines reach the log as they happen.
  // SOURCE_DATE_EPOCH: rpm records it as the install time, so the rpmdb does not change from build to build.
  return { ...env, ...passEnv, HOME: home, LC_ALL: "C", PYTHONUNBUFFERED: "1", SOURCE_DATE_EPOCH: String(SOURCE_DATE_EPOCH) };
}
