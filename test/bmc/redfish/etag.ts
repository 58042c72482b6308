// ETags of the system resource and the If-Match rules of the configured mode and quirks.
import type { IfMatchMode, Quirk } from "./options.ts";
import { baseError } from "./replies.ts";

export class EtagRules {
  constructor(
    private readonly mode: IfMatchMode,
    private readonly quirks: ReadonlySet<Quirk>,
  ) {}

  /** The ETag for a resource version; undefined when the BMC sends none. */
  etag(version: number): string | undefined {
    if (this.quirks.has("no-etag")) return undefined;
    if (this.quirks.has("etag-empty")) return '""';
    return `W/"${version}"`;
  }

  /** An error answer when the If-Match header does not allow this PATCH, else undefined. */
  check(ifMatch: string | null, version: number): Response | undefined {
    if (ifMatch !== null && this.quirks.has("etag-broken")) return failed();
    if (ifMatch !== null && this.quirks.has("etag-empty") && /^(W\/)?""$/.test(ifMatch.trim())) return failed();
    if (ifMatch === null) {
      if (this.mode === "require") {
        return baseError(428, "PreconditionRequired", "A precondition header or annotation is required to change this resource.");
      }
      return this.mode === "strict" ? failed() : undefined;
    }
    if (this.mode === "none") return undefined;
    const accepted = this.quirks.has("etag-strong-only") ? [`"${version}"`] : [`"${version}"`, `W/"${version}"`];
    const sent = ifMatch.split(",").map((tag) => tag.trim());
    return sent.includes("*") || sent.some((tag) => accepted.includes(tag)) ? undefined : failed();
  }
}

function failed(): Response {
  return baseError(412, "PreconditionFailed", "The ETag supplied did not match the ETag required to change this resource.");
}
