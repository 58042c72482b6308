// Syntactic name generation: dash/colon ranges, [..] brackets and +N increments, with Perl `..` padding.
import { NoderangeError } from "./noderange-error.ts";

/** The most names one evaluation may generate from ranges, so n[1-999999999] cannot exhaust memory. */
export const MAX_EXPANSION = 100_000;

/** Counts generated names over a whole evaluation and stops it at the cap. */
export class ExpansionBudget {
  private used = 0n;

  constructor(private readonly limit: number = MAX_EXPANSION) {}

  charge(count: bigint, atom: string): void {
    this.used += count;
    if (this.used > BigInt(this.limit)) {
      throw new NoderangeError(
        `Error: noderange ${atom} expands to more than ${this.limit} names; split it into smaller noderanges`,
      );
    }
  }
}

/** Consecutive numbers, each zero-padded to `width` digits. */
export interface NumberRange {
  first: bigint;
  last: bigint;
  width: number;
}

export function rangeSize(range: NumberRange): bigint {
  return range.last - range.first + 1n;
}

export function rangeValues(range: NumberRange): string[] {
  const values: string[] = [];
  for (let value = range.first; value <= range.last; value++) values.push(value.toString().padStart(range.width, "0"));
  return values;
}

/**
 * Perl's `"start".."end"` over digit strings. A start with a leading zero increments as a string and keeps
 * its width; otherwise iteration is numeric (node[1-010] is node1..node10). Where Perl returns an empty or
 * runaway sequence (xCAT: node[001-10] is empty, n[05-03] is n05..n99), provd reports the term instead.
 * `label` names the offending term in messages.
 */
export function numberRange(start: string, end: string, label: string): NumberRange {
  const first = BigInt(start);
  const last = BigInt(end);
  if (first > last) throw new NoderangeError(`Error: reversed range ${label}: the start is after the end`);
  if (!start.startsWith("0")) return { first, last, width: 0 };
  if (start.length > end.length) {
    throw new NoderangeError(
      `Error: mismatched zero-padding in ${label}: the start ${start} is wider than the end ${end}, so the range is empty`,
    );
  }
  if (end.length > start.length && end.startsWith("0")) {
    throw new NoderangeError(
      `Error: mismatched zero-padding in ${label}: the end ${end} is padded wider than the start ${start}, so the end is never reached`,
    );
  }
  return { first, last, width: start.length };
}

/** Text between brackets, or a bracket's alternatives. */
export type BracketSegment = { literal: string } | { ranges: NumberRange[] };

const BRACKET_ITEM = /^(\d+)(?:[-:](\d+))?$/;

/** Parses `prefix[items]rest[items]...` into segments; `atom` must hold at least one "[". */
export function parseBrackets(atom: string): BracketSegment[] {
  const segments: BracketSegment[] = [];
  let rest = atom;
  for (let open = rest.indexOf("["); open >= 0; open = rest.indexOf("[")) {
    const close = rest.indexOf("]", open);
    if (close < 0) throw new NoderangeError(`Error: unbalanced brackets in noderange ${atom}: "[" is never closed`);
    segments.push({ literal: rest.slice(0, open) });
    segments.push({ ranges: parseBracketItems(rest.slice(open + 1, close), atom) });
    rest = rest.slice(close + 1);
  }
  segments.push({ literal: rest });
  return segments;
}

function parseBracketItems(spec: string, atom: string): NumberRange[] {
  const items = spec.split(",");
  return items.map((item) => {
    const match = BRACKET_ITEM.exec(item);
    if (!match) {
      throw new NoderangeError(
        `Error: invalid bracket range in ${atom}: "${item}" is not a number or a number range such as 01-10`,
      );
    }
    const [, start = "", end = start] = match;
    return numberRange(start, end, items.length === 1 ? atom : `${item} in ${atom}`);
  });
}

export function bracketSize(segments: readonly BracketSegment[]): bigint {
  let size = 1n;
  for (const segment of segments) {
    if ("ranges" in segment) size *= segment.ranges.reduce((sum, range) => sum + rangeSize(range), 0n);
  }
  return size;
}

/** Every name of a bracket pattern; the first bracket varies slowest, as in xCAT. */
export function bracketNames(segments: readonly BracketSegment[]): string[] {
  let names = [""];
  for (const segment of segments) {
    if ("literal" in segment) {
      names = names.map((name) => name + segment.literal);
    } else {
      const values = segment.ranges.flatMap(rangeValues);
      names = names.flatMap((name) => values.map((value) => name + value));
    }
  }
  return names;
}

/** A range between two names that differ in exactly one group of digits. */
export interface NameRange {
  prefix: string;
  start: string;
  end: string;
  suffix: string;
}

/** The two sides of `a-b` or `a:b`; undefined when the atom is no range (an even number of "-", several ":"). */
export function rangeSides(atom: string): { left: string; right: string } | undefined {
  const sides = atom.includes(":") ? atom.split(":") : splitAtMiddleDash(atom);
  if (sides?.length !== 2) return undefined;
  const [left = "", right = ""] = sides;
  return left === "" || right === "" ? undefined : { left, right };
}

/** `x01-eth-x03-eth` splits at its middle dash; an even count of dashes cannot be split evenly. */
function splitAtMiddleDash(atom: string): string[] | undefined {
  const dashes = atom.split("-");
  const dashCount = dashes.length - 1;
  if (dashCount % 2 === 0) return undefined;
  const half = (dashCount + 1) / 2;
  return [dashes.slice(0, half).join("-"), dashes.slice(half).join("-")];
}

/** Where `left` and `right` differ: one digit group, with identical text around it; else undefined. */
export function nameRange(left: string, right: string): NameRange | undefined {
  const leftParts = left.split(/(\d+)/);
  const rightParts = right.split(/(\d+)/);
  if (leftParts.length !== rightParts.length) return undefined;
  for (let i = 0; i < leftParts.length; i++) {
    if (leftParts[i] === rightParts[i]) continue;
    const isDigitGroup = i % 2 === 1;
    const suffix = leftParts.slice(i + 1).join("");
    if (!isDigitGroup || suffix !== rightParts.slice(i + 1).join("")) return undefined;
    return { prefix: leftParts.slice(0, i).join(""), start: leftParts[i] ?? "", end: rightParts[i] ?? "", suffix };
  }
  return undefined;
}

/** `node09+3` or `n01.domain+2`: the number before the "+" and an optional ".domain" after it. */
export interface Increment {
  prefix: string;
  start: string;
  step: bigint;
  suffix: string;
}

const INCREMENT = /^([^+]*?)(\d+)(\.[^+]+)?\+(\d+)$/s;

export function parseIncrement(atom: string): Increment | undefined {
  const match = INCREMENT.exec(atom);
  if (!match) return undefined;
  const [, prefix = "", start = "", suffix = "", step = "0"] = match;
  return { prefix, start, step: BigInt(step), suffix };
}

/** The numbers an increment covers; padded like Perl `"09".."11"`, so it can never be reversed. */
export function incrementRange(increment: Increment): NumberRange {
  const first = BigInt(increment.start);
  return { first, last: first + increment.step, width: increment.start.length };
}
