// The EL builder's pure parts: step order, dnf command lines, failure messages, rpm -qa parsing. No tools needed.
import { describe, expect, test } from "vitest";
import { UserError } from "../../../server/core/errors.ts";
import type { ResolvedDefinition } from "../../../server/image/definition/types.ts";
import { dnfArgv, type DnfSetup } from "../../../server/image/el/dnf-args.ts";
import { dnfFailure, notFound } from "../../../server/image/el/dnf-failure.ts";
import { planDnfSteps } from "../../../server/image/el/dnf-plan.ts";
import { parseRpmList } from "../../../server/image/el/rpm-list.ts";
import { elDefinition, pass } from "../fixtures/definition.ts";

const MIRRORS = ["http://mirror.example/9/BaseOS/x86_64/os/", "/install/rhels9/x86_64"];
const def = (more: Partial<ResolvedDefinition>) => elDefinition({ mirrors: MIRRORS, ...more });

const setup: DnfSetup = {
  root: "/build/root",
  releasever: "9",
  configFile: "/tmp/home/dnf.conf",
  cacheDirFromRoot: "../cache",
  logDirFromRoot: "../../tmp/home/log",
  gpgKeys: ["https://mirror.example/RPM-GPG-KEY", "/etc/pki/key"],
};

describe("planDnfSteps", () => {
  test("pkglist passes, then otherpkglist erase before / install / erase after, then the kernel; empty steps dropped", () => {
    const steps = planDnfSteps(
      def({
        otherpkgdir: "/install/post/otherpkgs",
        pkglist: [pass(["bash", "@Core"], { env: { A: "1" } }), pass([]), pass(["vim"])],
        otherpkglist: [pass(["tool", "x"], { eraseBefore: ["junk"], eraseAfter: ["extra"], repoOf: { tool: "sub dir", x: "other" } })],
        kernelPackage: "kernel",
      }),
    );
    expect(steps.map((s) => [s.label, s.command, s.packages, s.repos.map((r) => r.id)])).toEqual([
      ["pkglist pass 1", "install", ["bash", "@Core"], ["mirror0", "mirror1"]],
      ["pkglist pass 3", "install", ["vim"], ["mirror0", "mirror1"]],
      ["otherpkglist pass 1 (erase before)", "remove", ["junk"], []],
      ["otherpkglist pass 1", "install", ["tool", "x"], ["mirror0", "mirror1", "otherpkg-other", "otherpkg-sub_dir"]],
      ["otherpkglist pass 1 (erase after)", "remove", ["extra"], []],
      ["kernel", "install", ["kernel"], ["mirror0", "mirror1"]],
    ]);
    expect(steps[0]!.env).toEqual({ A: "1" });
    expect(steps[3]!.repos.slice(2).map((r) => r.url)).toEqual([
      "file:///install/post/otherpkgs/other",
      "file:///install/post/otherpkgs/sub%20dir",
    ]);
  });

  test("installing without mirrors, or dir/pkg entries without otherpkgdir, are the definition's errors", () => {
    expect(() => planDnfSteps(def({ mirrors: [], pkglist: [pass(["bash"])] }))).toThrow(UserError);
    expect(planDnfSteps(def({ mirrors: [], otherpkglist: [pass([], { eraseBefore: ["x"] })] }))).toHaveLength(1);
    expect(() => planDnfSteps(def({ otherpkglist: [pass(["tool"], { repoOf: { tool: "sub" } })] }))).toThrow(
      "otherpkglist pass 1: sub/ entries need otherpkgdir, which is not set",
    );
  });
});

describe("dnfArgv", () => {
  test("remote repositories are GPG-checked with the given keys, local ones are not; packages follow --", () => {
    const [step] = planDnfSteps(def({ pkglist: [pass(["@Server with GUI", "-odd"])] }));
    const argv = dnfArgv(setup, step!);
    expect(argv.slice(0, 4)).toEqual(["dnf", "-y", "--config=/tmp/home/dnf.conf", "--installroot=/build/root"]);
    expect(argv).toEqual(
      expect.arrayContaining([
        "--noplugins",
        "--setopt=reposdir=/dev/null",
        "--setopt=cachedir=../cache",
        "--setopt=keepcache=True",
        "--setopt=install_weak_deps=False",
        "--releasever=9",
        "--repofrompath=mirror0,http://mirror.example/9/BaseOS/x86_64/os/",
        "--repo=mirror0",
        "--setopt=mirror0.gpgcheck=True",
        "--setopt=mirror0.gpgkey=https://mirror.example/RPM-GPG-KEY,file:///etc/pki/key",
        "--repofrompath=mirror1,file:///install/rhels9/x86_64",
        "--repo=mirror1",
        "--setopt=mirror1.gpgcheck=False",
      ]),
    );
    expect(argv.some((a) => a.startsWith("--setopt=mirror1.gpgkey"))).toBe(false);
    expect(argv.slice(-4)).toEqual(["install", "--", "@Server with GUI", "-odd"]);
  });
});

describe("dnfFailure", () => {
  const step = planDnfSteps(def({ pkglist: [pass(["a"])] }))[0]!;

  test("names every package and group dnf could not find", () => {
    const lines = [
      "No match for argument: nosuch",
      "All matches were filtered out by modular filtering for argument: filtered",
      "Module or Group 'Some Group' is not available.",
      "No match for argument: nosuch",
      "Error: Unable to find a match: nosuch filtered",
    ];
    expect(notFound(lines)).toEqual(["nosuch", "filtered", "@Some Group"]);
    const err = dnfFailure(step, 1, lines);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe(
      "pkglist pass 1: not found in the repositories " +
        "(mirror0 = http://mirror.example/9/BaseOS/x86_64/os/, mirror1 = file:///install/rhels9/x86_64): nosuch, filtered, @Some Group",
    );
  });

  test("a missing key and other failures", () => {
    expect(dnfFailure(step, 1, ["Public key for a-1-1.noarch.rpm is not installed", "Error: GPG check FAILED"]).message).toMatch(
      /^pkglist pass 1: GPG check failed, no trusted key for a-1-1.noarch.rpm \(/,
    );
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i}`);
    const message = dnfFailure(step, 1, lines).message;
    expect(message).toMatch(/^pkglist pass 1: dnf install failed \(exit 1\) \(mirror0 = .*\):\nline 15\n/);
    expect(message.endsWith("\nline 29")).toBe(true);
  });
});

test("parseRpmList: epochs kept, gpg-pubkey dropped, sorted", () => {
  const out = [
    "zlib\t1.2.11-40.el9\tx86_64",
    "gpg-pubkey\t5a6340b3-6229229e\t(none)",
    "tool\t2:0.5-1\tnoarch",
    "glibc\t2.34-100.el9\ti686",
    "glibc\t2.34-100.el9\tx86_64",
    "",
  ].join("\n");
  expect(parseRpmList(out)).toEqual([
    { name: "glibc", version: "2.34-100.el9", arch: "i686" },
    { name: "glibc", version: "2.34-100.el9", arch: "x86_64" },
    { name: "tool", version: "2:0.5-1", arch: "noarch" },
    { name: "zlib", version: "1.2.11-40.el9", arch: "x86_64" },
  ]);
});
