// Runs a command with /proc, /sys and a minimal /dev mounted inside the root, in a private mount and PID namespace.
// Scriptlets need them: `>/dev/null` without a /dev would write a regular file into the image, dracut (kernel %posttrans)
// reads /proc and /sys. The mounts exist only in the namespace, so they vanish with the process, even when it is killed:
// nothing to unmount, nothing that can leak onto the host or stop the root from being deleted.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { forEachLine } from "../output-lines.ts";

// A tmpfs /dev with the usual nodes rather than a bind of the host's: a package that writes into /dev must not reach the host.
const MOUNT_AND_EXEC = `set -e
r=$1; shift
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$r/sys"
mount -t tmpfs -o mode=0755,nosuid,size=64m tmpfs "$r/dev"
mknod -m 666 "$r/dev/null" c 1 3
mknod -m 666 "$r/dev/zero" c 1 5
mknod -m 666 "$r/dev/full" c 1 7
mknod -m 666 "$r/dev/random" c 1 8
mknod -m 666 "$r/dev/urandom" c 1 9
mknod -m 666 "$r/dev/tty" c 5 0
ln -s /proc/self/fd "$r/dev/fd"
ln -s /proc/self/fd/0 "$r/dev/stdin"
ln -s /proc/self/fd/1 "$r/dev/stdout"
ln -s /proc/self/fd/2 "$r/dev/stderr"
mkdir -m 1777 "$r/dev/shm"
exec "$@"
`;

export interface SandboxRun {
  root: string;
  argv: string[];
  env: Record<string, string>;
  /** Each line of stdout and stderr, as it comes. */
  onLine: (line: string) => void;
  signal?: AbortSignal;
}

/** Resolves with the exit code; rejects with the abort reason once the process is gone. */
export async function runInSandbox(run: SandboxRun): Promise<number> {
  run.signal?.throwIfAborted();
  for (const dir of ["proc", "sys", "dev"]) await mkdir(join(run.root, dir), { recursive: true });
  const proc = Bun.spawn(
    [
      "unshare",
      "--mount",
      "--propagation=private",
      "--pid",
      // The child gets SIGKILL when unshare dies, and with it (PID 1 of the namespace) every scriptlet it started.
      "--kill-child",
      `--mount-proc=${join(run.root, "proc")}`,
      "sh",
      "-c",
      MOUNT_AND_EXEC,
      "sh",
      run.root,
      ...run.argv,
    ],
    { cwd: run.root, env: run.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  // unshare --fork ignores SIGTERM while it waits for its child; SIGKILL it, --kill-child does the rest.
  const kill = () => proc.kill("SIGKILL");
  run.signal?.addEventListener("abort", kill, { once: true });
  try {
    await Promise.all([forEachLine(proc.stdout, run.onLine), forEachLine(proc.stderr, run.onLine)]);
    const code = await proc.exited;
    run.signal?.throwIfAborted();
    return code;
  } finally {
    run.signal?.removeEventListener("abort", kill);
  }
}

