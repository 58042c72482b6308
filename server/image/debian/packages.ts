// The packages installed in a Debian root, read from its dpkg database, for the manifest.
import { join } from "node:path";
import type { InstalledPackage } from "../manifest.ts";
import { commandOutput } from "../run-command.ts";

export async function debianPackages(root: string): Promise<InstalledPackage[]> {
  const out = await commandOutput(["dpkg-query", `--admindir=${join(root, "var/lib/dpkg")}`, "-W", "-f", "${db:Status-Abbrev}\\t${Package}\\t${Version}\\t${Architecture}\\n"]);
  return out
    .split("\n")
    // Removed packages whose config files remain are listed too; only installed ones ("ii") count.
    .filter((line) => line.startsWith("ii"))
    .map((line) => {
      const [, name = "", version = "", arch = ""] = line.split("\t");
      return { name, version, arch };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}
