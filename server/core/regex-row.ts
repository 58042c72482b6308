// xCAT "regex rows": a group value computed from each member's name (xcat_db/regexp_db.rst).
//   |node(\d+)|10.0.0.($1+0)|   match the name, substitute $N, evaluate the (arithmetic) parts
//   /\z/-bmc/                   s/// on the name (\z and \A are Perl's end and start anchors)
import { UserError } from "./errors.ts";

const PIPE_ROW = /^\|(.*)\|(.*)\|$/s;
const SLASH_ROW = /^\/(.*)\/(.*)\/$/s;

export function isRegexRow(value: string): boolean {
  return PIPE_ROW.test(value) || SLASH_ROW.test(value);
}

/** Throws a UserError if a regex row does not compile. */
export function checkRegexRow(attr: string, value: string): string {
  const parsed = parse(value);
  if (parsed) compile(attr, parsed.pattern);
  return value;
}

/** The value of a regex row for `node`, or undefined when the node's name does not match. */
export function applyRegexRow(value: string, node: string): string | undefined {
  const parsed = parse(value);
  if (!parsed) return value;
  const re = compile("", parsed.pattern);
  if (parsed.kind === "slash") return re.test(node) ? node.replace(re, parsed.replacement) : undefined;
  const match = re.exec(node);
  if (!match) return undefined;
  const substituted = parsed.replacement.replace(/\$(\d)/g, (_, i: string) => match[Number(i)] ?? "");
  return substituted.replace(/\(([\d\s+\-*/%]+)\)/g, (whole, expr: string) => evaluate(expr) ?? whole);
}

function parse(value: string): { kind: "pipe" | "slash"; pattern: string; replacement: string } | undefined {
  const pipe = PIPE_ROW.exec(value);
  if (pipe) return { kind: "pipe", pattern: pipe[1]!, replacement: pipe[2]! };
  const slash = SLASH_ROW.exec(value);
  if (slash) return { kind: "slash", pattern: slash[1]!, replacement: slash[2]! };
  return undefined;
}

function compile(attr: string, pattern: string): RegExp {
  try {
    return new RegExp(pattern.replaceAll("\\z", "$").replaceAll("\\A", "^"));
  } catch (e) {
    throw new UserError(`${attr}: invalid regular expression in regex row: ${(e as Error).message}`);
  }
}

/** Integer arithmetic on + - * / % only; anything else is left as written. */
function evaluate(expr: string): string | undefined {
  const tokens = expr.match(/\d+|[+\-*/%]/g);
  if (!tokens || tokens.join("") !== expr.replace(/\s+/g, "")) return undefined;
  let pos = 0;
  const term = (): number => {
    let value = Number(tokens[pos++]);
    while (tokens[pos] === "*" || tokens[pos] === "/" || tokens[pos] === "%") {
      const op = tokens[pos++];
      const rhs = Number(tokens[pos++]);
      value = op === "*" ? value * rhs : op === "/" ? Math.trunc(value / rhs) : value % rhs;
    }
    return value;
  };
  let value = term();
  while (tokens[pos] === "+" || tokens[pos] === "-") {
    const op = tokens[pos++];
    value = op === "+" ? value + term() : value - term();
  }
  return Number.isFinite(value) && pos === tokens.length ? String(value) : undefined;
}
