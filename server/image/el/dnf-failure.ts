// Turns a failed dnf run into a message the author of the definition can act on.
import { UserError } from "../../core/errors.ts";
import type { DnfStep } from "./dnf-plan.ts";

const TAIL_LINES = 15;

const NOT_FOUND: [RegExp, (m: RegExpMatchArray) => string][] = [
  [/^No match for argument: (.+)$/, (m) => m[1]!],
  [/^All matches were filtered out by \S+ filtering for argument: (.+)$/, (m) => m[1]!],
  [/^Module or Group '(.+)' (?:is not available|does not exist)\.$/, (m) => `@${m[1]!}`],
];

/** Packages and groups dnf could not find, in the order it reported them. */
export function notFound(lines: string[]): string[] {
  const names: string[] = [];
  for (const line of lines) {
    for (const [re, name] of NOT_FOUND) {
      const m = line.trim().match(re);
      if (m && !names.includes(name(m))) names.push(name(m));
    }
  }
  return names;
}

export function dnfFailure(step: DnfStep, code: number, lines: string[]): UserError {
  const where = step.repos.map((r) => `${r.id} = ${r.url}`).join(", ");
  const missing = notFound(lines);
  if (missing.length > 0) {
    return new UserError(`${step.label}: not found in the repositories (${where}): ${missing.join(", ")}`);
  }
  const unsigned = lines.map((l) => l.match(/^Public key for (.+) is not installed/)?.[1]).filter((f) => f !== undefined);
  if (unsigned.length > 0) {
    return new UserError(
      `${step.label}: GPG check failed, no trusted key for ${unsigned.join(", ")} (${where}); ` +
        "remote repositories need the key that signs their packages",
    );
  }
  const tail = lines.filter((l) => l.trim() !== "").slice(-TAIL_LINES);
  const repos = where ? ` (${where})` : "";
  return new UserError(`${step.label}: dnf ${step.command} failed (exit ${code})${repos}:\n${tail.join("\n")}`);
}
