// Customize: unpack an image version, run a command inside it (or a shell), pack the result as a new version.
import { UserError } from "../../core/errors.ts";
import { insideImage } from "../chroot.ts";
import { runCommand } from "../run-command.ts";
import type { BuildContext, BuildOutcome } from "./pipeline.ts";
import { rootfsOf, specOf, storeReworked, unpackVersion } from "./rework.ts";

export async function customizeImage(ctx: BuildContext, request: { base: string; command: string[]; promote: boolean; interactive?: boolean }): Promise<BuildOutcome> {
  if (!request.command.length && !request.interactive) throw new UserError("customize needs a command to run inside the image, or --shell");
  const base = ctx.versions.resolve(ctx.osimage, request.base);
  const rootfs = rootfsOf(ctx.osimage, base, "customize");
  const started = performance.now();
  const root = await unpackVersion(ctx, base, rootfs);

  ctx.stage("building", "command");
  if (request.interactive) {
    if (!ctx.shell) throw new UserError("interactive customize is not available here");
    const code = await ctx.shell(root);
    ctx.log(`the shell exited with ${code}`);
    if (code !== 0) throw new UserError(`the shell exited with ${code}; nothing was stored (leave it with 'exit 0' to keep the changes)`);
  } else {
    ctx.log(`running in the image: ${request.command.join(" ")}`);
    await runCommand(insideImage(root, request.command), { ...ctx, what: `the customize command (${request.command[0]})` });
  }

  return storeReworked(ctx, base, root, {
    origin: "customize",
    spec: specOf(rootfs),
    kernelParams: base.manifest.kernelParams,
    // An interactive session is never "the same input" twice.
    input: request.interactive ? `shell ${Date.now()}` : request.command,
    builder: { customizedFrom: base.id, command: request.interactive ? "(interactive shell)" : request.command.join(" ") },
    promote: request.promote,
    started,
  });
}
