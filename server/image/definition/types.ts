// What an osimage definition means once its files are parsed and its profile chain (base → compute → gpu) merged.
// Builders (Debian, EL) and the packer read only these types; they never parse definition files themselves.

/** One ordered install pass of a pkglist/otherpkglist (`#NEW_INSTALL_LIST#` starts the next one). */
export interface InstallPass {
  /** `#ENV:K=V#` settings, for this pass only. */
  env: Record<string, string>;
  /** Packages to install, in file order; `@group` entries kept as written (builders quote them). */
  install: string[];
  /** otherpkglist `-pkg`: erased before this pass's install. */
  eraseBefore: string[];
  /** otherpkglist `--pkg`: erased after this pass's install. */
  eraseAfter: string[];
  /** otherpkglist `dir/pkg`: the package `pkg` comes from repository `otherpkgdir/dir`. Key: package, value: dir. */
  repoOf: Record<string, string>;
}

/** One exlist entry: a `find -path` glob relative to the root, starting `./`; `include` for `+` re-includes. */
export interface ExlistRule {
  glob: string;
  include: boolean;
  /** Where it came from, for error messages: "compute/compute.exlist:3". */
  origin: string;
}

/** One synclist entry `src [src…] -> dst`, sources already `$VAR`-expanded and resolved to absolute paths. */
export interface SyncEntry {
  sources: string[];
  dest: string;
  /** dst ends in `/` or there are several sources: each source lands inside dest. */
  destIsDir: boolean;
  origin: string;
}

/** One postinstall script with its extra arguments; runs as `script <rootimg> <osvers> <arch> <profile> [args]`. */
export interface PostinstallStep {
  /** Absolute path of the script file (inside the materialised definition folder, or on the server host). */
  script: string;
  args: string[];
  origin: string;
}

/** A definition after inheritance: everything a build needs, nothing that depends on where files were read from. */
export interface ResolvedDefinition {
  /** The osimage being built (the leaf of the chain). */
  name: string;
  /** Names from root to leaf, e.g. ["base", "compute", "gpu"]. */
  chain: string[];
  distro: "debian" | "el";
  osvers: string;
  osarch: string;
  profile: string;
  /** Debian: suite (bookworm); EL: releasever (9). */
  release: string;
  /** Debian: mirror URL or a deb822 sources file path ("" = the host's apt sources). EL: repository URLs. */
  mirrors: string[];
  /** EL: GPG keys (URLs or absolute paths) for the remote repositories; local repositories are not checked. */
  gpgKeys: string[];
  /** mmdebstrap variant (minbase by default). */
  variant: string;
  /** Kernel package (linux-image-amd64); "" builds a kernel-less root (no kernel/initrd artifacts). */
  kernelPackage: string;
  /** How the initrd finds its root over the network: live-boot (fetch=) or dracut (root=live:). */
  netrootTool: "live-boot" | "dracut";
  /** rootfs format and compression. */
  rootfs: { format: "squashfs" | "cpio"; compression: "zstd" | "xz" | "gzip"; level?: number };
  /** Kernel arguments, parent's first. */
  kernelArgs: string[];
  /** pkglist passes merged parent first; a child's `-pkg` entry removes an inherited package. */
  pkglist: InstallPass[];
  otherpkglist: InstallPass[];
  /** Directory that `dir/pkg` otherpkglist entries are relative to (otherpkgdir). */
  otherpkgdir?: string;
  exlist: ExlistRule[];
  synclist: SyncEntry[];
  /** Parent's scripts first. */
  postinstall: PostinstallStep[];
  /** Validation scripts run inside the built image (absolute paths), parent's first. */
  tests: PostinstallStep[];
  /** osimage.environvar, used for `$VAR` in synclists and postinstall env. */
  environ: Record<string, string>;
  /** Non-fatal findings (e.g. synclist APPEND: sections skipped for image sync). */
  warnings: string[];
}
