// Runs commands with an image root's /proc, /sys, /dev and /run mounted, in a private mount namespace:
// the mounts vanish with the process, so a crash can never leave the host's /dev bound inside a tree we delete.
// A root of only the packages a definition names (no EL `filesystem` package) may lack the mount points: they are
// made, but never through a symlink, which could point out of the root.
const MOUNT_AND_EXEC =
  'r="$1"; shift; for d in proc sys dev run; do [ -e "$r/$d" ] || [ -L "$r/$d" ] || mkdir -m 0755 "$r/$d" || exit; done; ' +
  'mount -t proc proc "$r/proc" && mount --rbind /sys "$r/sys" && mount --make-rslave "$r/sys" && ' +
  'mount --rbind /dev "$r/dev" && mount --make-rslave "$r/dev" && mount -t tmpfs tmpfs "$r/run" && exec "$@"';

/** argv that runs `command` (a host path, e.g. a postinstall script that itself calls `chroot "$1"`) with the mounts. */
export function withImageMounts(root: string, command: string[]): string[] {
  return ["unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--kill-child", "--", "sh", "-c", MOUNT_AND_EXEC, "sh", root, ...command];
}

/** argv that runs `command` inside the image root (chroot), with the mounts. */
export function insideImage(root: string, command: string[]): string[] {
  return withImageMounts(root, ["chroot", root, ...command]);
}
