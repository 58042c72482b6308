// `find -path` globs: fnmatch(3) without FNM_PATHNAME or FNM_PERIOD, so `*` and `?` match `/` and leading dots.
import { UserError } from "../../core/errors.ts";

type ClassItem = [lo: number, hi: number];
type Token =
  | { t: "lit"; c: number }
  | { t: "any" }
  | { t: "star" }
  | { t: "class"; negate: boolean; items: ClassItem[] };

// POSIX classes in the C locale, as code point ranges.
const POSIX: Record<string, ClassItem[]> = {
  alpha: [[65, 90], [97, 122]],
  digit: [[48, 57]],
  alnum: [[48, 57], [65, 90], [97, 122]],
  upper: [[65, 90]],
  lower: [[97, 122]],
  space: [[9, 13], [32, 32]],
  blank: [[9, 9], [32, 32]],
  punct: [[33, 47], [58, 64], [91, 96], [123, 126]],
  print: [[32, 126]],
  graph: [[33, 126]],
  cntrl: [[0, 31], [127, 127]],
  xdigit: [[48, 57], [65, 70], [97, 102]],
};

function tokenize(glob: string): Token[] {
  const cp = Array.from(glob, (ch) => ch.codePointAt(0)!);
  const tokens: Token[] = [];
  let i = 0;
  while (i < cp.length) {
    const c = cp[i]!;
    if (c === 42 /* * */) {
      if (tokens.at(-1)?.t !== "star") tokens.push({ t: "star" });
      i++;
    } else if (c === 63 /* ? */) {
      tokens.push({ t: "any" });
      i++;
    } else if (c === 91 /* [ */) {
      const parsed = parseClass(cp, i, glob);
      if (parsed) {
        tokens.push(parsed.token);
        i = parsed.end;
      } else {
        tokens.push({ t: "lit", c });
        i++;
      }
    } else if (c === 92 /* \ */ && i + 1 < cp.length) {
      tokens.push({ t: "lit", c: cp[i + 1]! });
      i += 2;
    } else {
      tokens.push({ t: "lit", c });
      i++;
    }
  }
  return tokens;
}

/** A bracket expression starting at cp[start] === "[", or undefined when unterminated (then "[" is literal). */
function parseClass(cp: number[], start: number, glob: string): { token: Token; end: number } | undefined {
  let i = start + 1;
  let negate = false;
  if (cp[i] === 33 /* ! */ || cp[i] === 94 /* ^ */) {
    negate = true;
    i++;
  }
  const items: ClassItem[] = [];
  let first = true;
  while (i < cp.length) {
    let c = cp[i]!;
    if (c === 93 /* ] */ && !first) return { token: { t: "class", negate, items }, end: i + 1 };
    first = false;
    if (c === 91 && cp[i + 1] === 58 /* [: */) {
      const close = findClassEnd(cp, i + 2);
      if (close !== undefined) {
        const name = String.fromCodePoint(...cp.slice(i + 2, close));
        const ranges = POSIX[name];
        if (!ranges) throw new UserError(`glob ${JSON.stringify(glob)}: unknown character class [:${name}:]`);
        items.push(...ranges);
        i = close + 2;
        continue;
      }
    }
    if (c === 92 /* \ */ && i + 1 < cp.length) c = cp[++i]!;
    i++;
    if (cp[i] === 45 /* - */ && i + 1 < cp.length && cp[i + 1] !== 93) {
      let hi = cp[i + 1]!;
      i += 2;
      if (hi === 92 && i < cp.length) hi = cp[i++]!;
      if (c <= hi) items.push([c, hi]); // a reversed range matches nothing, as in glibc
    } else {
      items.push([c, c]);
    }
  }
  return undefined;
}

function findClassEnd(cp: number[], from: number): number | undefined {
  for (let j = from; j + 1 < cp.length; j++) {
    if (cp[j] === 58 && cp[j + 1] === 93) return j;
    if (!((cp[j]! >= 97 && cp[j]! <= 122) || (cp[j]! >= 65 && cp[j]! <= 90))) return undefined;
  }
  return undefined;
}

function escapeCp(c: number): string {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ? String.fromCodePoint(c) : `\\u{${c.toString(16)}}`;
}

/** The glob as an anchored regular expression (for display and interop; `matchGlob` is the backtracking-safe matcher). */
export function globToRegExp(glob: string): RegExp {
  const body = tokenize(glob)
    .map((tok) => {
      switch (tok.t) {
        case "lit":
          return escapeCp(tok.c);
        case "any":
          return ".";
        case "star":
          return ".*";
        case "class":
          return `[${tok.negate ? "^" : ""}${tok.items.map(([lo, hi]) => (lo === hi ? escapeCp(lo) : `${escapeCp(lo)}-${escapeCp(hi)}`)).join("")}]`;
      }
    })
    .join("");
  return new RegExp(`^${body}$`, "su");
}

export type GlobMatcher = (path: string) => boolean;

/**
 * A matcher in O(path × glob) time: on a mismatch it only goes back to the last `*`, which is enough because `*`
 * matches every character. A regular expression with many stars backtracks exponentially on a near miss.
 */
export function compileGlob(glob: string): GlobMatcher {
  const tokens = tokenize(glob);
  return (path) => {
    const s = Array.from(path, (ch) => ch.codePointAt(0)!);
    let p = 0;
    let t = 0;
    let starT = -1;
    let starP = 0;
    while (p < s.length) {
      const tok = tokens[t];
      if (tok && tok.t === "star") {
        starT = t++;
        starP = p;
      } else if (tok && matchOne(tok, s[p]!)) {
        t++;
        p++;
      } else if (starT >= 0) {
        t = starT + 1;
        p = ++starP;
      } else {
        return false;
      }
    }
    while (tokens[t]?.t === "star") t++;
    return t === tokens.length;
  };
}

function matchOne(tok: Exclude<Token, { t: "star" }>, c: number): boolean {
  switch (tok.t) {
    case "lit":
      return tok.c === c;
    case "any":
      return true;
    case "class":
      return tok.items.some(([lo, hi]) => c >= lo && c <= hi) !== tok.negate;
  }
}

/** The literal text a glob starts with, up to its first wildcard. */
export function literalPrefix(glob: string): string {
  let out = "";
  for (const tok of tokenize(glob)) {
    if (tok.t !== "lit") break;
    out += String.fromCodePoint(tok.c);
  }
  return out;
}
