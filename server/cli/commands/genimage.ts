import { basename, resolve } from "node:path";
import { UserError } from "../../core/errors.ts";
import type { Job } from "../../image/build/jobs.ts";
import type { Command, CommandIO } from "../command.ts";
import { isDefinitionFolder, uploadDefinition } from "../images/definition-upload.ts";
import { followJob } from "../images/follow-job.ts";
import { attachShell } from "../images/shell-client.ts";

const FOLLOW_FLAGS = [
  { names: ["--detach", "-d"], help: "print the job id and return at once (follow it with provctl jobs ID --follow)" },
  { names: ["--verbose", "-V"], help: "print the build log instead of a progress line" },
];

export const genimage: Command = {
  name: "genimage",
  summary: "build a new version of an osimage (genimage + packimage) and follow the job",
  usage: ["genimage OSIMAGE|DIR [--force] [--detach] [--verbose]"],
  flags: [{ names: ["--force", "-f"], help: "build even if the definition is unchanged (e.g. to pick up new packages)" }, ...FOLLOW_FLAGS],
  details: `Builds the osimage's root (mmdebstrap for Debian, dnf --installroot for EL) from its definition,
applies synclists, postinstall scripts and the exlist, packs kernel, initrd and a squashfs (or cpio) rootfs,
runs the definition's validation tests inside the image, and stores an immutable version named by its
content hash. 'latest' moves to the new version only if its tests pass.

With a folder (osimages/compute) the definition and the parents beside it are imported first.
An unchanged definition is not rebuilt: the existing version is reported.

Examples:
  provctl genimage osimages/compute
  provctl genimage compute --force --detach`,
  async run(args, io) {
    const target = args.positionals[0];
    if (!target || args.positionals.length > 1) throw new UserError("genimage: give one osimage name or definition folder, e.g. genimage osimages/compute");
    const name = isDefinitionFolder(target) ? basename(resolve(target)) : target;
    if (isDefinitionFolder(target)) await uploadDefinition(io, target);
    const job = await io.client().post<Job>(`/api/v1/osimages/${encodeURIComponent(name)}/builds`, { force: args.flags.has("--force") });
    return finishJob(io, job, args.flags);
  },
};

export const defimport: Command = {
  name: "defimport",
  summary: "import osimage definition folders (osimage.toml, pkglists, scripts) into the server",
  usage: ["defimport DIR [DIR ...]"],
  flags: [],
  details: `Each folder is named after its osimage and holds osimage.toml plus the files it names. Parents named
in osimage.toml that sit in sibling folders are imported first. Afterwards lsdef -t osimage shows them.

Example:
  provctl defimport osimages/*`,
  async run(args, io) {
    if (!args.positionals.length) throw new UserError("defimport: give one or more definition folders, e.g. defimport osimages/compute");
    for (const dir of args.positionals) await uploadDefinition(io, dir);
    return 0;
  },
};

export const customize: Command = {
  name: "customize",
  summary: "run a command inside an image version and store the result as a new version",
  usage: ["customize OSIMAGE[@VERSION] [--promote] [--detach] -- COMMAND [ARG ...]", "customize OSIMAGE[@VERSION] --shell [--promote]"],
  flags: [
    { names: ["--promote"], help: "move 'latest' to the new version if its validation passes" },
    { names: ["--shell", "-s"], help: "an interactive shell inside the image instead of a command; 'exit 0' keeps the changes" },
    ...FOLLOW_FLAGS,
  ],
  details: `Unpacks the version (default latest), runs COMMAND inside it (chroot, with /proc, /sys and /dev),
packs the result and stores it as a new version whose parent is the original; the original is never changed.

With --shell you get a terminal inside the unpacked image instead; leaving it with 'exit 0' packs the result,
any other exit status (or a dropped connection) stores nothing.

Examples:
  provctl customize compute@latest -- apt-get install -y htop
  provctl customize compute@3f9a2c1d --shell`,
  async run(args, io) {
    const [ref, ...command] = args.positionals;
    const interactive = args.flags.has("--shell");
    if (!ref || (!command.length && !interactive)) {
      throw new UserError("customize: give an image and a command after --, e.g. customize compute -- apt-get install -y htop (or --shell)");
    }
    if (interactive && command.length) throw new UserError("customize: give a command or --shell, not both");
    const [osimage, base] = ref.split("@");
    const job = await io.client().post<Job>(`/api/v1/osimages/${encodeURIComponent(osimage!)}/customize`, {
      ...(base ? { base } : {}),
      ...(interactive ? { interactive } : { command }),
      promote: args.flags.has("--promote"),
    });
    if (interactive) {
      io.err(`job ${job.id}: unpacking ${ref}; the shell starts when it is ready ('exit 0' keeps the changes, 'exit 1' drops them)`);
      const reason = await attachShell(io.client(), job.id);
      io.err(`shell ${reason}; packing the new version`);
    }
    return finishJob(io, job, interactive ? new Map([...args.flags].filter(([k]) => k !== "--detach")) : args.flags);
  },
};

const METHODS = ["squashfs", "cpio"] as const;
/** xCAT spells parallel gzip "pigz"; it is gzip to us (and packed with pigz anyway). */
const COMPRESSORS: Record<string, "zstd" | "gzip" | "xz"> = { zstd: "zstd", gzip: "gzip", pigz: "gzip", xz: "xz" };

export const packimage: Command = {
  name: "packimage",
  summary: "pack an image version's root another way (squashfs or cpio, compression) as a new version",
  usage: ["packimage OSIMAGE[@VERSION] [-m squashfs|cpio] [-c zstd|gzip|xz] [--level N] [--promote] [--detach]"],
  flags: [
    { names: ["-m", "--method"], value: true, metavar: "METHOD", help: "squashfs (fetched over HTTP by the initrd) or cpio (the whole root as the initramfs, in RAM)" },
    { names: ["-c", "--compress"], value: true, metavar: "COMPRESS", help: "zstd, gzip (or pigz) or xz" },
    { names: ["--level", "-l"], value: true, metavar: "N", help: "compression level (zstd 1–19, gzip and xz 1–9)" },
    { names: ["--promote"], help: "move 'latest' to the new version if its validation passes" },
    ...FOLLOW_FLAGS,
  ],
  details: `Unpacks the version (default latest) and packs the same root again as a new version whose parent is the
original; nothing is built or installed again. Unset options keep the version's own. Kernel parameters follow the
format: a cpio rootfs boots with rdinit=/sbin/init and needs RAM for the whole root (the tmpfs root gets half of it);
a squashfs needs live-boot or dracut-live in the image's initrd.

Examples:
  provctl packimage compute -m cpio -c zstd
  provctl packimage compute@3f9a2c1d -m squashfs -c xz --promote`,
  async run(args, io) {
    const [ref, ...rest] = args.positionals;
    if (!ref || rest.length) throw new UserError("packimage: give one image, e.g. packimage compute -m cpio");
    const method = args.flags.get("-m");
    const compress = args.flags.get("-c");
    const level = args.flags.get("--level");
    if (typeof method === "string" && !(METHODS as readonly string[]).includes(method)) throw new UserError(`packimage: unknown method '${method}' (expected squashfs or cpio)`);
    if (typeof compress === "string" && !COMPRESSORS[compress]) throw new UserError(`packimage: unknown compression '${compress}' (expected zstd, gzip, pigz or xz)`);
    if (typeof level === "string" && !/^\d+$/.test(level)) throw new UserError(`packimage: --level takes a whole number, not '${level}'`);
    if (method === undefined && compress === undefined && level === undefined) throw new UserError("packimage: say how to pack it: -m squashfs|cpio, -c zstd|gzip|xz or --level N");
    const [osimage, base] = ref.split("@");
    const job = await io.client().post<Job>(`/api/v1/osimages/${encodeURIComponent(osimage!)}/packimage`, {
      ...(base ? { base } : {}),
      ...(typeof method === "string" ? { format: method } : {}),
      ...(typeof compress === "string" ? { compression: COMPRESSORS[compress] } : {}),
      ...(typeof level === "string" ? { level: Number(level) } : {}),
      promote: args.flags.has("--promote"),
    });
    return finishJob(io, job, args.flags);
  },
};

async function finishJob(io: CommandIO, job: Job, flags: Map<string, string | true>): Promise<number> {
  if (flags.has("--detach")) {
    io.out(`job ${job.id}`);
    return 0;
  }
  io.err(`job ${job.id}: ${job.kind} ${job.osimage}`);
  const end = await followJob(io, job.id, { verbose: flags.has("--verbose") });
  if (end.state === "success") {
    io.out(`${end.osimage}@${end.version}`);
    return 0;
  }
  io.err(`${end.osimage}: Error: job ${end.id} ${end.state}: ${end.error ?? "no reason recorded"} (log: provctl jobs ${end.id} --log)`);
  return 1;
}
