// Packs a root tree into the rootfs artifact: squashfs (zstd level 3 unless asked otherwise) or a sorted cpio.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { ResolvedDefinition } from "../definition/types.ts";
import { runCommand } from "../run-command.ts";
import { shellQuote } from "../shell.ts";

export interface PackedRootfs {
  path: string;
  file: string;
  format: string;
  compression: string;
}

/** The kernel and initrd are served on their own; shipping them again inside the rootfs only slows boots. */
const LEFT_OUT = ["boot/vmlinuz*", "boot/initrd.img*", "boot/initramfs-*"];

export async function packRootfs(
  root: string,
  outDir: string,
  spec: ResolvedDefinition["rootfs"],
  sourceDateEpoch: number,
  opts: { log: (line: string) => void; signal?: AbortSignal },
): Promise<PackedRootfs> {
  const env = { SOURCE_DATE_EPOCH: String(sourceDateEpoch) };
  const threads = String(availableParallelism());
  if (spec.format === "squashfs") {
    const file = "rootfs.squashfs";
    const path = join(outDir, file);
    const level = spec.level ?? (spec.compression === "zstd" ? 3 : undefined);
    const comp = [`-comp`, spec.compression, ...(level !== undefined && spec.compression !== "xz" ? ["-Xcompression-level", String(level)] : [])];
    const argv = ["mksquashfs", root, path, ...comp, "-processors", threads, "-noappend", "-no-progress", "-quiet", "-wildcards", "-e", ...LEFT_OUT];
    await runCommand(argv, { ...opts, env, what: "mksquashfs" });
    return { path, file, format: "squashfs", compression: spec.compression };
  }
  const ext = { zstd: "zst", gzip: "gz", xz: "xz" }[spec.compression];
  const file = `rootfs.cpio.${ext}`;
  const path = join(outDir, file);
  const compressor = {
    zstd: `zstd -q -${spec.level ?? 3} -T${threads}`,
    gzip: `pigz -n -${spec.level ?? 6} -p ${threads}`,
    xz: `xz -${spec.level ?? 6} -T${threads} --check=crc32`,
  }[spec.compression];
  const skip = LEFT_OUT.map((p) => `! -path ${shellQuote(`./${p}`)}`).join(" ");
  // Sorted names and --reproducible make the archive depend on the tree alone.
  const script = `cd ${shellQuote(root)} && find . -xdev ${skip} -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --reproducible --quiet | ${compressor} > ${shellQuote(path)}`;
  // bash, not sh: dash has no pipefail, and a failing find or cpio must fail the build.
  await runCommand(["bash", "-c", `set -o pipefail; ${script}`], { ...opts, env, what: "cpio packing" });
  return { path, file, format: "cpio", compression: spec.compression };
}

/** Every file's mtime at most SOURCE_DATE_EPOCH, so a rebuild of the same packages packs identically. */
export async function clampMtimes(root: string, sourceDateEpoch: number, opts: { log: (line: string) => void; signal?: AbortSignal }): Promise<void> {
  const argv = ["find", root, "-xdev", "-newermt", `@${sourceDateEpoch}`, "-exec", "touch", "--no-create", "-h", "-d", `@${sourceDateEpoch}`, "{}", "+"];
  await runCommand(argv, { ...opts, what: "clamping file times" });
}
