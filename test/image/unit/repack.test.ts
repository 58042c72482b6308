// packimage's kernel parameters: what a version packed another way needs to boot, decided from what its initrd has.
import { describe, expect, test } from "vitest";
import { repackedKernelParams } from "../../../server/image/build/repack.ts";
import type { Manifest, ManifestArtifact } from "../../../server/image/manifest.ts";
import type { ImageVersion } from "../../../server/image/versions.ts";

const artifact = (type: ManifestArtifact["type"], extra: Partial<ManifestArtifact> = {}): ManifestArtifact =>
  ({ type, file: type, size: 1, sha256: "0".repeat(64), ...extra }) as ManifestArtifact;

function version(opts: { kernel: boolean; format: "squashfs" | "cpio"; packages: string[]; kernelParams: string }): ImageVersion {
  const artifacts = [
    ...(opts.kernel ? [artifact("kernel"), artifact("initrd")] : []),
    artifact("rootfs", { format: opts.format, compression: "zstd" }),
  ];
  const manifest = { artifacts, kernelParams: opts.kernelParams, packages: opts.packages.map((name) => ({ name, version: "1", arch: "amd64" })) } as unknown as Manifest;
  return { osimage: "compute", id: "0123456789abcdef", inputHash: "", origin: "build", manifest, validation: "passed", validationLog: "", createdAt: 0, aliases: [] };
}

describe("packimage kernel parameters", () => {
  test("a squashfs image packed as cpio boots the root as its initramfs", () => {
    const live = version({ kernel: true, format: "squashfs", packages: ["live-boot"], kernelParams: "boot=live fetch={rootfs_url}" });
    expect(repackedKernelParams("compute", live, "cpio")).toBe("rdinit=/sbin/init");
  });

  test("a cpio image packed as squashfs is fetched by whatever its initrd has: live-boot, else dracut-live", () => {
    const withLiveBoot = version({ kernel: true, format: "cpio", packages: ["systemd", "live-boot"], kernelParams: "rdinit=/sbin/init" });
    expect(repackedKernelParams("compute", withLiveBoot, "squashfs")).toBe("boot=live fetch={rootfs_url}");
    const withDracut = version({ kernel: true, format: "cpio", packages: ["dracut", "dracut-live"], kernelParams: "rdinit=/sbin/init" });
    expect(repackedKernelParams("compute", withDracut, "squashfs")).toMatch(/^root=live:\{rootfs_url\} /);
  });

  test("an initrd that cannot fetch a squashfs is refused, saying what to do", () => {
    const plain = version({ kernel: true, format: "cpio", packages: ["systemd"], kernelParams: "rdinit=/sbin/init" });
    expect(() => repackedKernelParams("compute", plain, "squashfs")).toThrow(
      /compute@0123456789abcdef cannot boot from a squashfs: its initrd has neither live-boot nor dracut-live.*provctl genimage compute/,
    );
  });

  test("the same format, or no kernel at all, keeps the version's own parameters", () => {
    const live = version({ kernel: true, format: "squashfs", packages: ["live-boot"], kernelParams: "boot=live fetch={rootfs_url}" });
    expect(repackedKernelParams("compute", live, "squashfs")).toBe("boot=live fetch={rootfs_url}");
    const kernelless = version({ kernel: false, format: "cpio", packages: [], kernelParams: "" });
    expect(repackedKernelParams("compute", kernelless, "squashfs")).toBe("");
  });
});
