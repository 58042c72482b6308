// The iPXE script templates, embedded in the binary.
import autoexec from "./autoexec.ipxe.eta" with { type: "text" };
import discovery from "./discovery.ipxe.eta" with { type: "text" };
import localboot from "./localboot.ipxe.eta" with { type: "text" };
import netboot from "./netboot.ipxe.eta" with { type: "text" };
import offline from "./offline.ipxe.eta" with { type: "text" };
import shell from "./shell.ipxe.eta" with { type: "text" };

export const TEMPLATES = { autoexec, discovery, localboot, netboot, offline, shell } as const;
export type TemplateName = keyof typeof TEMPLATES;
