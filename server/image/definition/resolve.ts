// An osimage's profile chain (base → compute → gpu) loaded and merged into one ResolvedDefinition.
import { join } from "node:path";
import { UserError } from "../../core/errors.ts";
import { DESCRIPTOR_FILE, labelFor, loadDescriptor, type Descriptor } from "./descriptor.ts";
import { readExlists } from "./exlist.ts";
import { dedupePass, isEmptyPass, mergePassesInto, readPkglists, type PkglistKind } from "./pkglist.ts";
import { readSynclists } from "./synclist.ts";
import type { ExlistRule, InstallPass, ResolvedDefinition } from "./types.ts";

const LEVELS = { zstd: [1, 22], xz: [0, 9], gzip: [1, 9] } as const;

/** `folderOf(name)` says where an osimage's folder is; the folder holds osimage.toml and the files it names. */
export function resolveDefinition(name: string, folderOf: (name: string) => string): ResolvedDefinition {
  const chain = loadChain(name, folderOf);
  const pick = <K extends keyof Descriptor>(key: K): Descriptor[K] | undefined => {
    let value: Descriptor[K] | undefined;
    for (const d of chain) if (d[key] !== undefined) value = d[key];
    return value;
  };

  const distro = pick("distro");
  if (!distro) throw new UserError(`osimage ${name}: no distro (debian or el) set in ${chain.map((d) => `${d.name}/${DESCRIPTOR_FILE}`).join(" or ")}`);
  const compression = pick("compression") ?? "zstd";
  const level = pick("level") ?? (compression === "zstd" ? 3 : undefined);
  if (level !== undefined) {
    const [lo, hi] = LEVELS[compression];
    if (level < lo || level > hi) throw new UserError(`osimage ${name}: level ${level} is out of range for ${compression} (${lo}–${hi})`);
  }

  const environ: Record<string, string> = {};
  for (const d of chain) Object.assign(environ, d.environ);

  const warnings: string[] = [];
  const synclist = chain.flatMap((d) => {
    const parsed = readSynclists(d.synclists, { env: environ, label: labelFor(d.name, d.folder), origin: `${d.name}/${DESCRIPTOR_FILE} synclists` });
    warnings.push(...parsed.warnings);
    return parsed.entries;
  });

  return {
    name,
    chain: chain.map((d) => d.name),
    distro,
    osvers: pick("osvers") ?? "",
    osarch: pick("osarch") ?? "x86_64",
    // Only a profile someone wrote is inherited; the default is the leaf's own name.
    profile: pick("profile") ?? name,
    release: pick("release") ?? "",
    mirrors: pick("mirrors") ?? [],
    gpgKeys: dedupe(chain.flatMap((d) => d.gpgKeys)),
    variant: pick("variant") ?? "minbase",
    kernelPackage: pick("kernel") ?? (distro === "debian" ? "linux-image-amd64" : "kernel"),
    netrootTool: pick("netroot") ?? (distro === "debian" ? "live-boot" : "dracut"),
    rootfs: { format: pick("rootfs") ?? "squashfs", compression, ...(level !== undefined ? { level } : {}) },
    kernelArgs: dedupe(chain.flatMap((d) => d.kernelArgs)),
    pkglist: mergeChainPkglists(chain, "pkglist", environ),
    otherpkglist: mergeChainPkglists(chain, "otherpkglist", environ),
    ...(pick("otherpkgdir") !== undefined ? { otherpkgdir: pick("otherpkgdir") } : {}),
    exlist: dedupeRules(chain.flatMap((d) => readExlists(d.exlist, { env: environ, label: labelFor(d.name, d.folder), origin: `${d.name}/${DESCRIPTOR_FILE} exlist` }))),
    synclist,
    postinstall: chain.flatMap((d) => d.postinstall),
    tests: chain.flatMap((d) => d.tests),
    environ,
    warnings,
  };
}

/** Root first. A missing parent or a cycle names the osimages involved. */
function loadChain(name: string, folderOf: (name: string) => string): Descriptor[] {
  const chain: Descriptor[] = [];
  let current: string | undefined = name;
  let child: Descriptor | undefined;
  while (current !== undefined) {
    const seen = chain.map((d) => d.name);
    if (seen.includes(current)) {
      throw new UserError(`osimage ${name}: parent cycle: ${[...seen.slice(seen.indexOf(current)), current].join(" → ")}`);
    }
    const folder = folderOf(current);
    const d = loadDescriptor(current, folder);
    if (!d) {
      throw new UserError(
        child
          ? `osimage ${child.name}: parent ${current} not found (no ${join(folder, DESCRIPTOR_FILE)})`
          : `osimage ${current}: no ${join(folder, DESCRIPTOR_FILE)}`,
      );
    }
    chain.push(d);
    child = d;
    current = d.parent;
  }
  return chain.reverse();
}

/**
 * Parent's passes first, pass by pass. In a pkglist a child's `-pkg` removes `pkg` from what it inherits and must
 * remove something; in an otherpkglist `-pkg` is also erased before its pass (xCAT), so finding nothing is fine.
 */
function mergeChainPkglists(chain: Descriptor[], kind: PkglistKind, env: Record<string, string>): InstallPass[] {
  const merged: InstallPass[] = [];
  for (const d of chain) {
    const files = kind === "pkglist" ? d.pkglist : d.otherpkglist;
    if (files.length === 0) continue;
    const parsed = readPkglists(files, { kind, env, label: labelFor(d.name, d.folder), origin: `${d.name}/${DESCRIPTOR_FILE} ${kind}` });
    for (const removal of parsed.removals) {
      let found = false;
      for (const pass of merged) {
        if (!pass.install.includes(removal.pkg)) continue;
        found = true;
        pass.install = pass.install.filter((p) => p !== removal.pkg);
        delete pass.repoOf[removal.pkg];
      }
      if (!found && kind === "pkglist") throw new UserError(`${removal.origin}: -${removal.pkg} removes nothing inherited`);
    }
    mergePassesInto(merged, parsed.passes);
  }
  return merged.map(dedupePass).filter((p) => !isEmptyPass(p));
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}

function dedupeRules(rules: ExlistRule[]): ExlistRule[] {
  const seen = new Set<string>();
  return rules.filter((r) => {
    const key = `${r.include ? "+" : "-"}${r.glob}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
