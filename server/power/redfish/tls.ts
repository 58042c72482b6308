// Maps a BMC's TLS policy to Bun's fetch options.
import type { BmcTarget } from "../driver.ts";

export type FetchTls = NonNullable<BunFetchRequestInit["tls"]>;

export function fetchTls(policy: BmcTarget["tls"]): FetchTls {
  switch (policy?.mode ?? "verify") {
    case "verify":
      return { rejectUnauthorized: true };
    case "insecure":
      return { rejectUnauthorized: false };
    case "pinned":
      // The chain must end at the pinned CA; the name is not checked because BMC certificates rarely carry the
      // address they are reached at (factory CN, DHCP-assigned IP), and the pin already identifies this BMC.
      return {
        rejectUnauthorized: true,
        ca: policy?.mode === "pinned" ? policy.caPem : undefined,
        checkServerIdentity: () => undefined,
      };
  }
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|EPROTO|TLS|SSL/;

export function isTlsFailure(code: string | undefined): boolean {
  return code !== undefined && TLS_CODES.test(code);
}
