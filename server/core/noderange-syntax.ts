// Lexical helpers of the noderange grammar: splitting, parentheses, selectors, regexes, ^file lines.
import { NoderangeError } from "./noderange-error.ts";

const CLOSER_OF: Readonly<Record<string, string>> = { "[": "]", "(": ")" };

/** Splits `text` on `separator` wherever it stands outside every [] and (); throws on unbalanced brackets. */
export function splitOutside(text: string, separator: "," | "@"): string[] {
  const parts: string[] = [];
  const expectedClosers: string[] = [];
  let partStart = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    const closer = CLOSER_OF[char];
    if (closer !== undefined) {
      expectedClosers.push(closer);
    } else if (char === "]" || char === ")") {
      if (expectedClosers.pop() !== char) throw unbalanced(text, `"${char}" has no matching opening bracket`);
    } else if (char === separator && expectedClosers.length === 0) {
      parts.push(text.slice(partStart, i));
      partStart = i + 1;
    }
  }
  const unclosed = expectedClosers.at(-1);
  if (unclosed !== undefined) throw unbalanced(text, `a bracket is never closed with "${unclosed}"`);
  parts.push(text.slice(partStart));
  return parts;
}

function unbalanced(text: string, problem: string): NoderangeError {
  return new NoderangeError(`Error: unbalanced brackets in noderange ${text}: ${problem}`);
}

/** The comma-separated terms of a noderange. A single trailing comma is tolerated, as scripts joining lists leave one. */
export function splitTerms(noderange: string): string[] {
  if (noderange === "") throw new NoderangeError("Error: empty noderange");
  const terms = splitOutside(noderange, ",");
  if (terms.length > 1 && terms.at(-1) === "") terms.pop();
  // xCAT silently stops at an empty term and drops the rest of the noderange.
  if (terms.includes("")) throw new NoderangeError(`Error: empty term in noderange ${noderange}`);
  return terms;
}

/** True when `text` is one parenthesised group: "(a,b)" but not "(a)@(b)". Expects balanced text. */
export function isParenthesised(text: string): boolean {
  if (!text.startsWith("(") || !text.endsWith(")")) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    if (char === "(") depth++;
    else if (char === ")") depth--;
    if (depth === 0) return i === text.length - 1;
  }
  return false;
}

export type SelectorOperator = "==" | "!=" | "=~" | "!~";

export interface Selector {
  attr: string;
  operator: SelectorOperator;
  value: string;
}

const SELECTOR = /^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)(==|=~|!=|!~|=)(.*)$/s;

/** Parses `attr==v`, `attr=v`, `attr!=v`, `attr=~re`, `attr!~re`; undefined when `atom` is no selector. */
export function parseSelector(atom: string): Selector | undefined {
  const match = SELECTOR.exec(atom);
  if (!match) return undefined;
  const [, attr = "", rawOperator = "", value = ""] = match;
  const operator: SelectorOperator = rawOperator === "=" ? "==" : (rawOperator as SelectorOperator);
  const isRegex = operator === "=~" || operator === "!~";
  // xCAT strips one optional slash at each end of a regex value: os=~/^rh/ is os=~^rh.
  return { attr, operator, value: isRegex ? value.replace(/^\//, "").replace(/\/$/, "") : value };
}

/** A predicate over an attribute value (unset counts as ""). */
export function selectorPredicate(selector: Selector, atom: string): (value: string) => boolean {
  const { operator, value: expected } = selector;
  if (operator === "==") return (value) => value === expected;
  if (operator === "!=") return (value) => value !== expected;
  // Unanchored, like Perl's `$value =~ /$re/` in xCAT's nodesbycriteria: groups=~gpu matches "compute,gpu".
  const pattern = compileRegex(expected, atom);
  return operator === "=~" ? (value) => pattern.test(value) : (value) => !pattern.test(value);
}

/** Compiles a user regex, turning a syntax error into a NoderangeError that names the atom. */
export function compileRegex(source: string, atom: string): RegExp {
  try {
    return new RegExp(source);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new NoderangeError(`Error: invalid regular expression in ${atom}: ${reason}`);
  }
}

/** The noderange on one line of a ^file: "" for comments, "^" lines and blank lines. */
export function noderangeOnFileLine(line: string): string {
  // provd choice: leading blanks are skipped; xCAT would read an indented line as empty and drop it silently.
  const text = line.replace(/^[ \t]+/, "");
  if (text.startsWith("#") || text.startsWith("^")) return "";
  return text.split(/[ \t:]/, 1)[0] ?? "";
}
