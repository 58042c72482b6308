import { UserError } from "../../core/errors.ts";
import type { Command, CommandIO } from "../command.ts";
import { formatBytes } from "../progress.ts";

interface VersionSummary {
  osimage: string;
  id: string;
  origin: string;
  parent?: string;
  validation: string;
  createdAt: number;
  aliases: string[];
  nodes: string[];
  kernelVersion?: string;
  artifacts: Array<{ type: string; file: string; size: number; sha256: string; format?: string; compression?: string }>;
  packages: number;
}

function rootfsPacking(v: VersionSummary): string {
  const rootfs = v.artifacts.find((a) => a.type === "rootfs");
  return rootfs ? `${rootfs.format ?? "squashfs"} ${rootfs.compression ?? ""}`.trim() : "no rootfs";
}

export const images: Command = {
  name: "images",
  summary: "list image versions with their aliases, validation and the nodes booting each",
  usage: ["images [OSIMAGE] [-o json]"],
  flags: [{ names: ["-o", "--output"], value: true, metavar: "FORMAT", help: "json for the full records" }],
  details: `Nodes follow 'latest' unless pinned (nodeset n01 osimage=compute@<id or alias>).

Example:
  provctl images compute`,
  async run(args, io) {
    const osimage = args.positionals[0];
    const list = await io.client().get<VersionSummary[]>(`/api/v1/images${osimage ? `?osimage=${encodeURIComponent(osimage)}` : ""}`);
    if (args.flags.get("-o") === "json") {
      io.out(JSON.stringify(list, null, 2));
      return 0;
    }
    if (!list.length) {
      io.err(osimage ? `${osimage}: no built versions (provctl genimage ${osimage})` : "no built image versions");
      return 0;
    }
    const rows = list.map((v) => [
      `${v.osimage}@${v.id}`,
      v.aliases.join(",") || "-",
      v.validation,
      new Date(v.createdAt).toISOString().slice(0, 16).replace("T", " "),
      formatBytes(v.artifacts.reduce((n, a) => n + a.size, 0)),
      v.origin === "customize"
        ? `customized from ${v.parent}`
        : v.origin === "pack"
          ? `repacked from ${v.parent} as ${rootfsPacking(v)}`
          : `${v.packages} packages${v.kernelVersion ? `, kernel ${v.kernelVersion}` : ""}`,
      v.nodes.length ? v.nodes.join(",") : "-",
    ]);
    table(io, ["VERSION", "ALIASES", "VALIDATION", "BUILT (UTC)", "SIZE", "CONTENTS", "NODES"], rows);
    return 0;
  },
};

export const imgpromote: Command = {
  name: "imgpromote",
  summary: "point 'latest' (or another alias) at an image version",
  usage: ["imgpromote OSIMAGE@VERSION [--alias NAME]"],
  flags: [{ names: ["--alias", "-a"], value: true, metavar: "NAME", help: "alias to move (default latest), e.g. a release name" }],
  details: `Nodes that follow latest boot the promoted version on their next boot; pinned nodes stay.

Example:
  provctl imgpromote compute@3f9a2c1d --alias stable`,
  async run(args, io) {
    const ref = args.positionals[0];
    if (!ref?.includes("@")) throw new UserError("imgpromote: give OSIMAGE@VERSION, e.g. imgpromote compute@3f9a2c1d");
    const [osimage, version] = ref.split("@");
    const alias = (args.flags.get("--alias") as string | undefined) ?? "latest";
    const v = await io.client().post<VersionSummary>(`/api/v1/osimages/${encodeURIComponent(osimage!)}/aliases`, { alias, version });
    io.out(`${osimage}@${alias}: ${v.id}`);
    return 0;
  },
};

export const imgrollback: Command = {
  name: "imgrollback",
  summary: "move 'latest' (or another alias) back to the version it pointed at before",
  usage: ["imgrollback OSIMAGE [--alias NAME]"],
  flags: [{ names: ["--alias", "-a"], value: true, metavar: "NAME", help: "alias to move back (default latest)" }],
  async run(args, io) {
    const osimage = args.positionals[0];
    if (!osimage) throw new UserError("imgrollback: give the osimage, e.g. imgrollback compute");
    const alias = (args.flags.get("--alias") as string | undefined) ?? "latest";
    const r = await io.client().post<{ from: string; to: string }>(`/api/v1/osimages/${encodeURIComponent(osimage)}/rollback`, { alias });
    io.out(`${osimage}@${alias}: ${r.to} (was ${r.from})`);
    return 0;
  },
};

export const imgprune: Command = {
  name: "imgprune",
  summary: "delete image versions no alias and no node refers to, and their files",
  usage: ["imgprune OSIMAGE [--dry-run]"],
  flags: [{ names: ["--dry-run", "-n"], help: "only list what would be deleted" }],
  details: "The newest version is always kept, as are versions any alias or node (pinned or following latest) uses.",
  async run(args, io) {
    const osimage = args.positionals[0];
    if (!osimage) throw new UserError("imgprune: give the osimage, e.g. imgprune compute");
    const dryRun = args.flags.has("--dry-run");
    const r = await io.client().post<{ removed: string[]; freedBytes: number }>(`/api/v1/osimages/${encodeURIComponent(osimage)}/prune`, { dryRun });
    for (const id of r.removed) io.out(`${osimage}@${id}: ${dryRun ? "would be removed" : "removed"}`);
    if (!dryRun) io.err(`${r.removed.length} versions removed, ${formatBytes(r.freedBytes)} freed`);
    return 0;
  },
};

export function table(io: CommandIO, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows]) io.out(r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  "));
}
