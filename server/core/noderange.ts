// The xCAT noderange engine (grammar and rules: /work/shared/notes/xcat.md §1 and §6). Pure: the caller
// supplies nodes, groups, attributes and files through a NoderangeContext.
import { NoderangeError } from "./noderange-error.ts";
import {
  ExpansionBudget,
  bracketNames,
  bracketSize,
  incrementRange,
  nameRange,
  numberRange,
  parseBrackets,
  parseIncrement,
  rangeSides,
  rangeSize,
  rangeValues,
  type NumberRange,
} from "./noderange-ranges.ts";
import {
  compileRegex,
  isParenthesised,
  noderangeOnFileLine,
  parseSelector,
  selectorPredicate,
  splitOutside,
  splitTerms,
  type Selector,
} from "./noderange-syntax.ts";

export { NoderangeError } from "./noderange-error.ts";
export { MAX_EXPANSION } from "./noderange-ranges.ts";

export interface NoderangeContext {
  /** Every defined node name. */
  nodes: readonly string[];
  /** Members of a static or dynamic group, or undefined when no such group exists. */
  groupMembers(group: string): readonly string[] | undefined;
  /**
   * Resolved (inherited) value of an attribute of a node, for selectors like mgt==ipmi, groups=~gpu;
   * undefined when unset. May throw NoderangeError for an attribute name it does not know.
   */
  attr(node: string, attr: string): string | undefined;
  /** Contents of a ^file; throw NoderangeError if unreadable. Absent means ^file is not allowed. */
  readFile?(path: string): string;
  /** Non-fatal notices, e.g. an empty static group. */
  warn?(message: string): void;
  /** site.excludenodes: a noderange always subtracted from the result; unknown names in it only warn. */
  excludeNodes?: string;
}

/** xCAT prefixes a bare number with XCAT_NODE_PREFIX, "node" by default: 10-12 is node10..node12. */
const BARE_NUMBER_PREFIX = "node";
/** Parentheses, ^file lines and generated names nest; this bounds recursion on hostile input. */
const MAX_NESTING = 64;
/** The unresolved-names error lists at most this many names, then counts the rest. */
const MAX_LISTED_UNRESOLVED = 1000;

/** Full evaluation against defined nodes/groups. Throws NoderangeError. Result deduplicated and sorted. */
export function expandNoderange(noderange: string, ctx: NoderangeContext): string[] {
  const evaluation = new Evaluation("resolve", ctx);
  const selected = evaluation.run(noderange);
  evaluation.failOnUnresolved();
  for (const node of siteExcludedNodes(ctx)) selected.delete(node);
  return sortNodeNames(selected);
}

/** Syntactic expansion for mkdef/chdef -o: ranges/brackets/+N/lists only, no existence check; regex, selectors, groups, ^file, @ and - are refused with a clear NoderangeError. */
export function expandNames(noderange: string): string[] {
  return sortNodeNames(new Evaluation("names").run(noderange));
}

/** xCAT's ordering of node names (see the note: string sort, node1 node10 node2). */
export function sortNodeNames(names: Iterable<string>): string[] {
  // Code-unit order, as Perl's plain `sort` of ASCII names.
  return Array.from(names).sort();
}

/** The ^file atoms a noderange refers to, so a remote CLI can read and send them. */
export function fileReferences(noderange: string): string[] {
  const paths = new Set<string>();
  collectFileReferences(noderange, paths, 0);
  return [...paths];
}

function collectFileReferences(noderange: string, paths: Set<string>, depth: number): void {
  checkNesting(depth, noderange);
  for (const term of splitTerms(noderange)) {
    for (const operand of splitOutside(term.replace(/^-/, ""), "@")) {
      if (isParenthesised(operand)) collectFileReferences(operand.slice(1, -1), paths, depth + 1);
      else if (operand.startsWith("^") && operand.length > 1) paths.add(operand.slice(1));
    }
  }
}

function checkNesting(depth: number, text: string): void {
  if (depth > MAX_NESTING) {
    const shown = text.length > 60 ? `${text.slice(0, 60)}...` : text;
    throw new NoderangeError(`Error: noderange nested more than ${MAX_NESTING} levels deep at ${shown}`);
  }
}

function siteExcludedNodes(ctx: NoderangeContext): Set<string> {
  const noderange = ctx.excludeNodes?.trim();
  if (!noderange) return new Set();
  const evaluation = new Evaluation("resolve", ctx);
  try {
    const excluded = evaluation.run(noderange);
    const unknown = evaluation.unresolvedNames();
    if (unknown.length > 0) ctx.warn?.(`Warning: site.excludenodes names unknown nodes or groups: ${unknown.join(",")}`);
    return excluded;
  } catch (error) {
    if (error instanceof NoderangeError) {
      throw new NoderangeError(error.message.replace(/^(Error: )?/, "Error: site.excludenodes: "));
    }
    throw error;
  }
}

/** "resolve" checks names against the context; "names" only generates names for objects about to be created. */
type Mode = "resolve" | "names";

/** A line of a ^file being evaluated, for messages. */
interface FileLine {
  path: string;
  line: number;
}

/** One evaluation: collects unresolved names, warnings and the expansion budget across all its terms. */
class Evaluation {
  private readonly nodes: ReadonlySet<string>;
  private readonly unresolved = new Set<string>();
  private readonly warned = new Set<string>();
  private readonly openFiles: string[] = [];
  private readonly budget = new ExpansionBudget();

  constructor(
    private readonly mode: Mode,
    private readonly ctx?: NoderangeContext,
  ) {
    this.nodes = new Set(ctx?.nodes ?? []);
  }

  run(noderange: string): Set<string> {
    return this.evaluate(noderange, 0);
  }

  unresolvedNames(): string[] {
    return [...this.unresolved];
  }

  failOnUnresolved(): void {
    const names = this.unresolvedNames();
    if (names.length === 0) return;
    const listed = names.slice(0, MAX_LISTED_UNRESOLVED).join(",");
    const more = names.length > MAX_LISTED_UNRESOLVED ? ` (and ${names.length - MAX_LISTED_UNRESOLVED} more)` : "";
    throw new NoderangeError(`Error: Invalid nodes and/or groups in noderange: ${listed}${more}`);
  }

  /** Unions and intersections left to right; exclusions are subtracted after all unions. */
  private evaluate(noderange: string, depth: number, fileLine?: FileLine): Set<string> {
    checkNesting(depth, noderange);
    const included = new Set<string>();
    const excluded = new Set<string>();
    for (const term of splitTerms(noderange)) {
      if (term.startsWith("-")) addAll(excluded, this.resolveExclusion(term, noderange, depth, fileLine));
      else addAll(included, this.resolveAtom(term, depth));
    }
    for (const node of excluded) included.delete(node);
    return included;
  }

  private resolveExclusion(term: string, noderange: string, depth: number, fileLine?: FileLine): string[] {
    const excluded = term.slice(1);
    if (this.mode === "names") throw refusedInNames("an exclusion", term);
    if (fileLine) {
      throw new NoderangeError(
        `Error: ^${fileLine.path} line ${fileLine.line}: ${term} would exclude nothing; exclusions are not allowed inside a node file`,
      );
    }
    if (excluded === "") throw new NoderangeError(`Error: "-" with nothing to exclude in noderange ${noderange}`);
    if (excluded.startsWith("^")) {
      throw new NoderangeError(
        `Error: ${term}: a ^file cannot be excluded directly (xCAT would apply the "-" to the next term); write -(${excluded})`,
      );
    }
    return this.resolveAtom(excluded, depth);
  }

  /** Atom resolution in xCAT's order: node, ( ), @, ^file, group, selector, digits, /regex, [ ], +, range. */
  private resolveAtom(atom: string, depth: number): string[] {
    checkNesting(depth, atom);
    if (this.nodes.has(atom)) return [atom];
    if (isParenthesised(atom)) return this.resolveParenthesised(atom, depth);
    const operands = splitOutside(atom, "@");
    if (operands.length > 1) return this.resolveIntersection(atom, operands, depth);
    if (atom.startsWith("^")) return this.resolveFile(atom, depth);
    const members = this.groupMembers(atom);
    if (members) return [...members];
    const selector = parseSelector(atom);
    if (selector) return this.resolveSelector(selector, atom);
    if (/^\d+$/.test(atom)) return this.resolveAtom(BARE_NUMBER_PREFIX + atom, depth + 1);
    if (atom.startsWith("/")) return this.resolveRegex(atom);
    if (atom.includes("[")) return this.resolveBrackets(atom, depth);
    if (atom.includes("+")) return this.resolveIncrement(atom, depth);
    if (atom.includes("-") || atom.includes(":")) return this.resolveRange(atom, depth);
    return this.unresolvedAtom(atom);
  }

  private resolveParenthesised(atom: string, depth: number): string[] {
    if (this.mode === "names") throw refusedInNames("a parenthesised noderange", atom);
    const inner = atom.slice(1, -1);
    if (inner === "") throw new NoderangeError(`Error: empty parentheses in noderange ${atom}`);
    return [...this.evaluate(inner, depth + 1)];
  }

  private resolveIntersection(atom: string, operands: readonly string[], depth: number): string[] {
    if (this.mode === "names") throw refusedInNames("an intersection", atom);
    if (operands.includes("")) throw new NoderangeError(`Error: "@" needs a noderange on both sides in ${atom}`);
    const [first = "", ...others] = operands;
    let result = new Set(this.resolveAtom(first, depth + 1));
    for (const operand of others) {
      const mask = new Set(this.resolveAtom(operand, depth + 1));
      result = new Set([...result].filter((node) => mask.has(node)));
    }
    return [...result];
  }

  /** Each line of the file is a noderange of its own, added to the result. */
  private resolveFile(atom: string, depth: number): string[] {
    if (this.mode === "names") throw refusedInNames("a ^file", atom);
    const path = atom.slice(1);
    const ctx = this.ctx;
    if (path === "") throw new NoderangeError(`Error: "^" without a file name in noderange`);
    if (!ctx?.readFile) throw new NoderangeError(`Error: ^${path}: node files are not allowed here`);
    if (this.openFiles.includes(path)) throw new NoderangeError(`Error: ^${path} refers to itself`);
    const lines = ctx.readFile(path).split(/\r?\n/);
    const nodes = new Set<string>();
    this.openFiles.push(path);
    try {
      lines.forEach((line, index) => {
        const noderange = noderangeOnFileLine(line);
        if (noderange !== "") addAll(nodes, this.evaluate(noderange, depth + 1, { path, line: index + 1 }));
      });
    } finally {
      this.openFiles.pop();
    }
    return [...nodes];
  }

  /** Members of a group, or undefined when `atom` is not a group (always, for new names). */
  private groupMembers(atom: string): readonly string[] | undefined {
    if (this.mode === "names" || !this.ctx) return undefined;
    const members = this.ctx.groupMembers(atom);
    if (members?.length === 0) this.warnOnce(`Warning: group ${atom} has no members`);
    return members;
  }

  private resolveSelector(selector: Selector, atom: string): string[] {
    const ctx = this.ctx;
    if (this.mode === "names" || !ctx) throw refusedInNames("an attribute selector", atom);
    const matches = selectorPredicate(selector, atom);
    return ctx.nodes.filter((node) => matches(ctx.attr(node, selector.attr) ?? ""));
  }

  /** Anchored at both ends and matched against node names only, never group names. */
  private resolveRegex(atom: string): string[] {
    if (this.mode === "names" || !this.ctx) throw refusedInNames("a regular expression", atom);
    const source = atom.slice(1);
    if (source === "") throw new NoderangeError(`Error: empty regular expression in noderange ${atom}`);
    compileRegex(source, atom);
    // The group keeps "a|b" whole; xCAT's bare ^a|b$ would match "a..." or "...b".
    const pattern = compileRegex(`^(?:${source})$`, atom);
    return this.ctx.nodes.filter((node) => pattern.test(node));
  }

  private resolveBrackets(atom: string, depth: number): string[] {
    const segments = parseBrackets(atom);
    this.budget.charge(bracketSize(segments), atom);
    return this.resolveGenerated(bracketNames(segments), depth);
  }

  private resolveIncrement(atom: string, depth: number): string[] {
    const increment = parseIncrement(atom);
    if (!increment) return this.unresolvedAtom(atom);
    const bare = increment.prefix === "" && increment.suffix === "";
    const prefix = bare ? BARE_NUMBER_PREFIX : increment.prefix;
    return this.resolveNumbered(prefix, incrementRange(increment), increment.suffix, atom, depth);
  }

  /** `n01-n10`, `n01:n10`: only one group of digits may differ between the sides. */
  private resolveRange(atom: string, depth: number): string[] {
    const sides = rangeSides(atom);
    if (!sides) return this.unresolvedAtom(atom);
    if (sides.left === sides.right) return this.resolveAtom(sides.left, depth + 1);
    const range = nameRange(sides.left, sides.right);
    if (!range) return this.unresolvedAtom(atom);
    const numbers = numberRange(range.start, range.end, atom);
    return this.resolveNumbered(range.prefix, numbers, range.suffix, atom, depth);
  }

  private resolveNumbered(prefix: string, numbers: NumberRange, suffix: string, atom: string, depth: number): string[] {
    this.budget.charge(rangeSize(numbers), atom);
    return this.resolveGenerated(
      rangeValues(numbers).map((value) => prefix + value + suffix),
      depth,
    );
  }

  /** Generated names resolve like typed atoms, so rack[1-3] may name groups rack1..rack3. */
  private resolveGenerated(names: readonly string[], depth: number): string[] {
    return names.flatMap((name) => this.resolveAtom(name, depth + 1));
  }

  private unresolvedAtom(atom: string): string[] {
    if (this.mode === "names") return [atom];
    this.unresolved.add(atom);
    return [];
  }

  private warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.ctx?.warn?.(message);
  }
}

function refusedInNames(form: string, atom: string): NoderangeError {
  return new NoderangeError(
    `Error: ${atom} is ${form}, which only selects existing objects; name new objects with names, lists and ranges such as n[01-10]`,
  );
}

function addAll(target: Set<string>, names: Iterable<string>): void {
  for (const name of names) target.add(name);
}
