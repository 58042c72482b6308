// packimage: the same root packed another way (squashfs ↔ cpio, another compression) as a new version, without
// building it again. A cpio rootfs boots as the initramfs itself (the whole root in RAM, as Warewulf does); a
// squashfs one needs the image's initrd to fetch it, which only live-boot or dracut's live module can.
import { UserError } from "../../core/errors.ts";
import type { ImageVersion } from "../versions.ts";
import { type BuildContext, type BuildOutcome, kernelParamsFor } from "./pipeline.ts";
import { type RootfsSpec, rootfsOf, specOf, storeReworked, unpackVersion } from "./rework.ts";

export interface PackRequest {
  base: string;
  /** Unset fields keep the base version's. */
  format?: RootfsSpec["format"];
  compression?: RootfsSpec["compression"];
  level?: number;
  promote: boolean;
}

export async function repackImage(ctx: BuildContext, request: PackRequest): Promise<BuildOutcome> {
  const base = ctx.versions.resolve(ctx.osimage, request.base);
  const rootfs = rootfsOf(ctx.osimage, base, "repack");
  const current = specOf(rootfs);
  const spec: RootfsSpec = {
    format: request.format ?? current.format,
    compression: request.compression ?? current.compression,
    ...(request.level === undefined ? {} : { level: request.level }),
  };
  const kernelParams = repackedKernelParams(ctx.osimage, base, spec.format);
  const started = performance.now();
  const root = await unpackVersion(ctx, base, rootfs);
  const how = `${spec.format} ${spec.compression}${spec.level === undefined ? "" : ` level ${spec.level}`}`;
  ctx.log(`packing ${ctx.osimage}@${base.id} as ${how}`);
  return storeReworked(ctx, base, root, {
    origin: "pack",
    spec,
    kernelParams,
    input: spec,
    builder: { repackedFrom: base.id, packing: how },
    promote: request.promote,
    started,
  });
}

/** What the new version boots with: the base's own when the format stays, else what the new format needs. */
export function repackedKernelParams(osimage: string, base: ImageVersion, format: RootfsSpec["format"]): string {
  const kernel = base.manifest.artifacts.some((a) => a.type === "kernel");
  const was = base.manifest.artifacts.find((a) => a.type === "rootfs")?.format ?? "squashfs";
  if (!kernel || format === was) return base.manifest.kernelParams;
  const packages = new Set(base.manifest.packages.map((p) => p.name));
  const netrootTool = packages.has("live-boot") ? "live-boot" : packages.has("dracut-live") ? "dracut" : undefined;
  if (format === "squashfs" && netrootTool === undefined) {
    throw new UserError(
      `${osimage}@${base.id} cannot boot from a squashfs: its initrd has neither live-boot nor dracut-live to fetch one. ` +
        `Keep it as cpio, or build it with rootfs = "squashfs" (provctl genimage ${osimage})`,
      422,
    );
  }
  return kernelParamsFor({ kernelPackage: "(built)", rootfs: { format, compression: "zstd" }, netrootTool: netrootTool ?? "live-boot" });
}
