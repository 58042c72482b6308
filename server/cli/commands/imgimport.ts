import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { basename } from "node:path";
import { UserError } from "../../core/errors.ts";
import { assignments, isAssignment } from "../args.ts";
import type { Command, CommandIO } from "../command.ts";
import { printWarnings } from "../common.ts";
import { Progress, counted, formatBytes } from "../progress.ts";

const KINDS = ["kernel", "initrd", "rootfs"] as const;

export const imgimport: Command = {
  name: "imgimport",
  summary: "register an osimage from existing kernel, initrd and rootfs files",
  usage: ["imgimport OSIMAGE --kernel FILE --initrd FILE [--rootfs FILE] [attr=value ...]"],
  flags: [
    { names: ["--kernel"], value: true, metavar: "FILE", help: "kernel (vmlinuz)" },
    { names: ["--initrd"], value: true, metavar: "FILE", help: "initial ramdisk" },
    { names: ["--rootfs"], value: true, metavar: "FILE", help: "root filesystem image (squashfs, cpio…), optional" },
  ],
  details: `Files are uploaded to the server, stored under their sha256 and never changed; the osimage is created
(provmethod=netboot) if it does not exist. Attributes such as osvers, osarch, profile, addkcmdline are set too.
On an existing osimage, only the files given are replaced. Nothing is registered unless every upload succeeds.

Example:
  provctl imgimport debian12-compute --kernel vmlinuz --initrd initrd.img osvers=debian12 osarch=x86_64 profile=compute`,
  async run(args, io) {
    const name = args.positionals.find((a) => !isAssignment(a));
    if (!name) throw new UserError("imgimport: say which osimage, e.g. imgimport compute --kernel vmlinuz --initrd initrd.img");
    const attrs = assignments(args.positionals.filter((a) => a !== name));
    const files: Partial<Record<(typeof KINDS)[number], { sha256: string; fileName: string }>> = {};
    for (const kind of KINDS) {
      const path = args.flags.get(`--${kind}`);
      if (typeof path !== "string") continue;
      if (!existsSync(path) || !statSync(path).isFile()) throw new UserError(`--${kind} ${path}: no such file`);
      files[kind] = { sha256: await upload(io, kind, path), fileName: basename(path) };
    }
    if (!Object.keys(files).length) throw new UserError("imgimport: give at least one of --kernel, --initrd, --rootfs");
    const result = await io.client().post<{ artifacts: Array<{ kind: string; sha256: string; size: number }>; warnings?: string[] }>(
      `/api/v1/osimages/${encodeURIComponent(name)}/artifacts`,
      { ...files, ...(Object.keys(attrs).length ? { attrs } : {}) },
    );
    printWarnings(io, result.warnings);
    for (const a of result.artifacts) io.out(`${name}: ${a.kind} sha256:${a.sha256} ${formatBytes(a.size)}`);
    return 0;
  },
};

async function upload(io: CommandIO, kind: string, path: string): Promise<string> {
  const size = statSync(path).size;
  const hash = createHash("sha256");
  const hashing = new Progress(`hashing ${kind}`, size);
  for await (const chunk of counted(Bun.file(path).stream(), (n) => hashing.update(n))) hash.update(chunk);
  hashing.done();
  const sha256 = hash.digest("hex");
  const sending = new Progress(`uploading ${kind}`, size);
  await io.client().upload("/api/v1/blobs", counted(Bun.file(path).stream(), (n) => sending.update(n)), size, { "x-sha256": sha256 });
  sending.done();
  return sha256;
}
