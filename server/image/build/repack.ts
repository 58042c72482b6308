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

/** The highest level each compressor takes as we call it (zstd without --ultra). */
const MAX_LEVEL: Record<RootfsSpec["compression"], number> = { zstd: 19, gzip: 9, xz: 9 };

/**
 * How the base's root will be packed (the request over the base's own spec) and what it will boot with; a
 * UserError for a level the compressor rejects or a squashfs the image's initrd cannot fetch.
 */
export function packPlan(osimage: string, base: ImageVersion, request: Omit<PackRequest, "base" | "promote">): { spec: RootfsSpec; kernelParams: string } {
  const current = specOf(rootfsOf(osimage, base, "repack"));
  const spec: RootfsSpec = { format: request.format ?? current.format, compression: request.compression ?? current.compression };
  if (request.level !== undefined) {
    const max = MAX_LEVEL[spec.compression];
    if (!Number.isInteger(request.level) || request.level < 1 || request.level > max) {
      throw new UserError(`packimage: ${spec.compression} levels go from 1 to ${max}, not ${request.level}`);
    }
    if (spec.format === "squashfs" && spec.compression === "xz") throw new UserError("packimage: mksquashfs takes no level for xz; leave --level out");
    spec.level = request.level;
  }
  return { spec, kernelParams: repackedKernelParams(osimage, base, spec.format) };
}

export async function repackImage(ctx: BuildContext, request: PackRequest): Promise<BuildOutcome> {
  const base = ctx.versions.resolve(ctx.osimage, request.base);
  const rootfs = rootfsOf(ctx.osimage, base, "repack");
  const { spec, kernelParams } = packPlan(ctx.osimage, base, request);
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
  if (!kernel || format === specOf(rootfsOf(osimage, base, "repack")).format) return base.manifest.kernelParams;
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
