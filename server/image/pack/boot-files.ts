// The kernel and initrd a built root carries in /boot, copied out world-readable (dracut writes 0600).
import { copyFileSync, chmodSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../../core/errors.ts";

export interface BootFiles {
  kernelVersion: string;
  kernel: string;
  initrd: string;
}

export function extractBootFiles(root: string, outDir: string): BootFiles {
  const boot = join(root, "boot");
  const names = readdirSync(boot);
  const versions = names
    .filter((n) => n.startsWith("vmlinuz-"))
    .map((n) => n.slice("vmlinuz-".length))
    .sort(compareVersions);
  const kernelVersion = versions.at(-1);
  if (!kernelVersion) throw new UserError(`the image has no kernel in /boot: is the kernel package set (kernel = "linux-image-amd64")?`, 422);
  const initrdName = [`initrd.img-${kernelVersion}`, `initramfs-${kernelVersion}.img`].find((n) => names.includes(n));
  if (!initrdName) throw new UserError(`the image has kernel ${kernelVersion} but no initrd for it in /boot (did the initramfs tool fail?)`, 422);
  const kernel = join(outDir, "vmlinuz");
  const initrd = join(outDir, "initrd.img");
  copyFileSync(join(boot, `vmlinuz-${kernelVersion}`), kernel);
  copyFileSync(join(boot, initrdName), initrd);
  chmodSync(kernel, 0o644);
  chmodSync(initrd, 0o644);
  return { kernelVersion, kernel, initrd };
}

function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}
