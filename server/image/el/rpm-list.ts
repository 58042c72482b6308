// The packages installed in a root, from its own rpm database.

export interface InstalledPackage {
  name: string;
  /** `[epoch:]version-release`, the epoch only when the package has one. */
  version: string;
  arch: string;
}

const QUERY_FORMAT = "%{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\t%{ARCH}\\n";

export async function listInstalled(root: string): Promise<InstalledPackage[]> {
  // --dbpath explicitly: Debian's rpm would look for the database under ~/.rpmdb.
  const proc = Bun.spawn(["rpm", "-qa", "--root", root, "--dbpath", "/var/lib/rpm", "--qf", QUERY_FORMAT], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" },
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`rpm -qa --root ${root} failed (exit ${code}): ${err.trim()}`);
  return parseRpmList(out);
}

export function parseRpmList(out: string): InstalledPackage[] {
  return out
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const [name = "", version = "", arch = ""] = line.split("\t");
      return { name, version, arch };
    })
    // Keys imported for gpgcheck show up as gpg-pubkey "packages"; they are trust settings, not software.
    .filter((p) => p.name !== "gpg-pubkey")
    .sort((a, b) => cmp(a.name, b.name) || cmp(a.arch, b.arch) || cmp(a.version, b.version));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
