// The ordered dnf transactions a definition asks for: pkglist passes, otherpkglist passes (erase, install, erase), kernel.
import { UserError } from "../../core/errors.ts";
import type { ResolvedDefinition } from "../definition/types.ts";
import { type DnfRepo, repoId, repoUrl, subRepoUrl } from "./repos.ts";

export interface DnfStep {
  /** Names the step in errors: "pkglist pass 2", "otherpkglist pass 1 (erase before)", "kernel". */
  label: string;
  command: "install" | "remove";
  packages: string[];
  env: Record<string, string>;
  /** Enabled repositories; removals need none. */
  repos: DnfRepo[];
}

export function mirrorRepos(def: ResolvedDefinition): DnfRepo[] {
  return def.mirrors.map((m, i) => ({ id: `mirror${i}`, url: repoUrl(m) }));
}

export function planDnfSteps(def: ResolvedDefinition): DnfStep[] {
  const mirrors = mirrorRepos(def);
  const steps: DnfStep[] = [];
  const add = (step: DnfStep) => {
    if (step.packages.length > 0) steps.push(step);
  };

  def.pkglist.forEach((pass, i) => {
    add({ label: `pkglist pass ${i + 1}`, command: "install", packages: pass.install, env: pass.env, repos: mirrors });
  });

  def.otherpkglist.forEach((pass, i) => {
    const label = `otherpkglist pass ${i + 1}`;
    add({ label: `${label} (erase before)`, command: "remove", packages: pass.eraseBefore, env: pass.env, repos: [] });
    add({ label, command: "install", packages: pass.install, env: pass.env, repos: [...mirrors, ...otherRepos(def, pass.repoOf, label)] });
    add({ label: `${label} (erase after)`, command: "remove", packages: pass.eraseAfter, env: pass.env, repos: [] });
  });

  if (def.kernelPackage) add({ label: "kernel", command: "install", packages: [def.kernelPackage], env: {}, repos: mirrors });

  if (mirrors.length === 0 && steps.some((s) => s.command === "install")) {
    throw new UserError(`${def.name}: no mirrors: an EL image needs at least one package repository`);
  }
  return steps;
}

function otherRepos(def: ResolvedDefinition, repoOf: Record<string, string>, label: string): DnfRepo[] {
  const dirs = [...new Set(Object.values(repoOf))].sort();
  if (dirs.length === 0) return [];
  const base = def.otherpkgdir;
  if (!base) {
    throw new UserError(`${label}: ${dirs.map((d) => `${d}/`).join(", ")} entries need otherpkgdir, which is not set`);
  }
  return dirs.map((dir) => ({ id: repoId("otherpkg-", dir), url: subRepoUrl(base, dir) }));
}
