// The dnf command line for one step: every setting explicit, nothing read from the host's or the image's dnf configuration.
import type { DnfStep } from "./dnf-plan.ts";
import { isLocal, repoUrl } from "./repos.ts";

export interface DnfSetup {
  /** Real path of the root. */
  root: string;
  releasever: string;
  /** A private dnf.conf: without --config dnf reads the host's, or the image's once a pass has installed dnf into it. */
  configFile: string;
  /** dnf (4) always prefixes cachedir and logdir with the installroot, so these are relative to the root: "../../cache". */
  cacheDirFromRoot: string;
  logDirFromRoot: string;
  /** Keys that sign the packages of remote repositories (URLs or paths). */
  gpgKeys: string[];
}

export function dnfArgv(setup: DnfSetup, step: DnfStep): string[] {
  const argv = [
    "dnf",
    "-y",
    `--config=${setup.configFile}`,
    `--installroot=${setup.root}`,
    "--noplugins",
    "--setopt=reposdir=/dev/null",
    `--setopt=cachedir=${setup.cacheDirFromRoot}`,
    "--setopt=keepcache=True",
    `--setopt=logdir=${setup.logDirFromRoot}`,
    "--setopt=install_weak_deps=False",
    // The host's dnf.conf says True: a mirror that cannot be read would silently drop its packages.
    "--setopt=skip_if_unavailable=False",
    // Cached metadata is kept 48 h by default: a repository re-indexed since the last build would be ignored.
    "--setopt=metadata_expire=0",
  ];
  if (setup.releasever) argv.push(`--releasever=${setup.releasever}`);
  const keys = setup.gpgKeys.map(repoUrl).join(",");
  for (const repo of step.repos) {
    argv.push(`--repofrompath=${repo.id},${repo.url}`, `--repo=${repo.id}`);
    // Per repository rather than --nogpgcheck, so that a local repository next to a remote one does not switch checking off for both.
    if (isLocal(repo.url)) argv.push(`--setopt=${repo.id}.gpgcheck=False`);
    else {
      argv.push(`--setopt=${repo.id}.gpgcheck=True`);
      if (keys) argv.push(`--setopt=${repo.id}.gpgkey=${keys}`);
    }
  }
  argv.push(step.command, "--", ...step.packages);
  return argv;
}

/** dnf's defaults (gpgcheck off, best on) are what the command line does not set; the file only shields from other files. */
export const DNF_CONF = "[main]\n";
