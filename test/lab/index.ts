// The PXE boot lab in one import: an isolated segment, the cached payload, QEMU VMs and the reference server.
import { netnsUnavailable } from "./netns.ts";
import { payloadUnavailable } from "./payload.ts";
import { firmwareUnavailable } from "./qemu.ts";
import { referenceUnavailable } from "./reference.ts";

export * from "./netns.ts";
export * from "./payload.ts";
export * from "./qemu.ts";
export * from "./reference.ts";

/**
 * Why this machine cannot run a boot test, or undefined if it can: for `describe.skipIf(reason)` with the reason in
 * the title. Checks root and a real namespace + tap, QEMU and both firmwares, the payload's inputs, and with
 * `reference` also dnsmasq and the iPXE binaries.
 */
export function labUnavailable(options: { reference?: boolean } = {}): string | undefined {
  return (
    netnsUnavailable() ??
    firmwareUnavailable() ??
    payloadUnavailable() ??
    (options.reference ? referenceUnavailable() : undefined)
  );
}
