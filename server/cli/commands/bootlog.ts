import { UserError } from "../../core/errors.ts";
import type { BootEvent } from "../../core/boot-log.ts";
import type { Command } from "../command.ts";
import { OUTPUT_FLAGS, noderangePayload, wantsJson } from "../common.ts";

export const bootlog: Command = {
  name: "bootlog",
  summary: "a node's boot timeline: DHCP, TFTP, script, kernel, initrd, rootfs",
  usage: ["bootlog NODE"],
  flags: OUTPUT_FLAGS,
  async run(args, io) {
    const [node, ...rest] = args.positionals;
    if (!node || rest.length) throw new UserError("bootlog: give one node name");
    const { events } = await io.client().get<{ events: BootEvent[] }>(`/api/v1/nodes/${encodeURIComponent(node)}/bootlog`);
    if (wantsJson(args)) io.out(JSON.stringify(events, null, 2));
    else if (!events.length) io.out(`${node}: no boot events yet`);
    else io.out(events.map((e) => `${new Date(e.at).toISOString()}  ${e.kind.padEnd(12)}  ${e.detail}`).join("\n"));
    return 0;
  },
};

export const nodestat: Command = {
  name: "nodestat",
  summary: "each node's latest boot step",
  usage: ["nodestat NODERANGE"],
  flags: OUTPUT_FLAGS,
  async run(args, io) {
    const [range, ...rest] = args.positionals;
    if (!range || rest.length) throw new UserError("nodestat: give one noderange");
    const { nodes } = await io.client().post<{ nodes: Array<{ node: string; last?: BootEvent }> }>("/api/v1/nodestat", noderangePayload(range));
    if (wantsJson(args)) io.out(JSON.stringify(nodes, null, 2));
    else io.out(nodes.map(({ node, last }) => `${node}: ${last ? `${last.kind} ${last.detail} (${ago(last.at)})` : "no boot events"}`).join("\n"));
    return 0;
  },
};

export const nodediscoverls: Command = {
  name: "nodediscoverls",
  summary: "machines that asked to boot but are no node yet",
  usage: ["nodediscoverls"],
  flags: OUTPUT_FLAGS,
  details: "Make one a node with: provctl mkdef NAME groups=… mac=MAC",
  async run(args, io) {
    const { machines } = await io.client().get<{ machines: Array<{ mac: string; arch?: string; uuid?: string; ip?: string; lastSeen: number }> }>("/api/v1/discovered");
    if (wantsJson(args)) io.out(JSON.stringify(machines, null, 2));
    else if (machines.length) {
      io.out(["MAC                ARCH        IP               UUID                                  LAST SEEN", ...machines.map((m) => `${m.mac}  ${(m.arch ?? "-").padEnd(10)}  ${(m.ip ?? "-").padEnd(15)}  ${(m.uuid ?? "-").padEnd(36)}  ${new Date(m.lastSeen).toISOString()}`)].join("\n"));
    }
    return 0;
  },
};

function ago(at: number): string {
  const s = Math.max(0, Math.round((Date.now() - at) / 1000));
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : new Date(at).toISOString();
}
