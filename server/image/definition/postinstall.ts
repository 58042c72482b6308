// The osimage `postinstall` (and `tests`) attribute (rule 15): parsing it, and running one script.
import { accessSync, constants, statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { UserError } from "../../core/errors.ts";
import type { PostinstallStep } from "./types.ts";
import { forEachLine } from "../output-lines.ts";

/** `"a.sh, /opt/b.sh x y"` → two steps; relative scripts resolve against `baseDir` (the osimage folder). */
export function parsePostinstall(value: string, baseDir: string, origin: string): PostinstallStep[] {
  if (/\p{Cc}/u.test(value.replace(/[\t\r\n]/g, " "))) throw new UserError(`${origin}: control character in script list`);
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "")
    .map((item) => {
      const [script, ...args] = item.split(/\s+/);
      return { script: isAbsolute(script!) ? script! : resolve(baseDir, script!), args, origin };
    });
}

/** The variables xCAT's genimage exports to postinstall scripts. */
export const IMG_VARS = [
  "IMG_NAME",
  "IMG_ARCH",
  "IMG_OSVER",
  "IMG_KERNELVERSION",
  "IMG_PROFILE",
  "IMG_PKGLIST",
  "IMG_PKGDIR",
  "IMG_OTHERPKGLIST",
  "IMG_OTHERPKGDIR",
  "IMG_ROOTIMGDIR",
] as const;

export interface PostinstallContext {
  root: string;
  osvers: string;
  arch: string;
  profile: string;
  /** IMG_* values (missing ones are exported empty) plus osimage.environvar. */
  imgEnv: Record<string, string>;
  log: (line: string) => void;
  signal?: AbortSignal;
  /** Rewrites the argv before it runs (the builder wraps it to provide /proc, /sys, /dev for scripts that chroot). */
  wrap?: (argv: string[]) => string[];
}

/** Runs `script <root> <osvers> <arch> <profile> [args]` on the build host (not in a chroot: scripts `chroot "$1"` themselves). */
export async function runPostinstall(step: PostinstallStep, ctx: PostinstallContext): Promise<void> {
  const name = `${step.script} (${step.origin})`;
  let st;
  try {
    st = statSync(step.script);
  } catch {
    throw new UserError(`postinstall ${name}: no such file`);
  }
  if (!st.isFile()) throw new UserError(`postinstall ${name}: not a regular file`);
  try {
    accessSync(step.script, constants.X_OK);
  } catch {
    throw new UserError(`postinstall ${name}: not executable (chmod +x ${step.script})`);
  }
  if (ctx.signal?.aborted) throw new UserError(`postinstall ${name}: aborted`);

  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" };
  for (const key of IMG_VARS) env[key] = "";
  Object.assign(env, ctx.imgEnv);

  let proc;
  try {
    const argv = [step.script, ctx.root, ctx.osvers, ctx.arch, ctx.profile, ...step.args];
    proc = Bun.spawn(ctx.wrap ? ctx.wrap(argv) : argv, {
      cwd: dirname(step.script),
      env,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      // Its own process group, so an abort or leftover background jobs can be killed all together.
      detached: true,
    });
  } catch (err) {
    throw new UserError(`postinstall ${name}: cannot start: ${(err as Error).message}`);
  }
  const killGroup = () => {
    try {
      process.kill(-proc.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  let aborted = false;
  const onAbort = () => {
    aborted = true;
    killGroup();
  };
  ctx.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const streams = Promise.all([forEachLine(proc.stdout, ctx.log), forEachLine(proc.stderr, ctx.log)]);
    const code = await proc.exited;
    // A daemon the script left running would hold the output pipes (and the image) open forever.
    killGroup();
    await streams;
    if (aborted) throw new UserError(`postinstall ${name}: aborted`);
    if (proc.signalCode) throw new UserError(`postinstall ${name}: killed by ${proc.signalCode}`);
    if (code !== 0) throw new UserError(`postinstall ${name}: exited with code ${code}`);
  } finally {
    ctx.signal?.removeEventListener("abort", onAbort);
  }
}

