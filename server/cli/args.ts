// Command-line parsing in xCAT's style: short and long flags anywhere, `attr=value` and noderange positionals.
import { UserError } from "../core/errors.ts";

export interface FlagSpec {
  /** e.g. ["-t", "--type"] */
  names: readonly string[];
  /** Takes a value (`-t node`, `--type=node`). */
  value?: boolean;
  help: string;
  /** Shown for a flag with a value, e.g. TYPE. */
  metavar?: string;
}

export interface ParsedArgs {
  /** Keyed by the first name of each flag given. */
  flags: Map<string, string | true>;
  positionals: string[];
}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[], command: string): ParsedArgs {
  const byName = new Map<string, FlagSpec>();
  for (const spec of specs) for (const name of spec.names) byName.set(name, spec);
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    // A leading '-' followed by a letter is a flag; '-n05' style exclusions are noderange terms and look different.
    const looksLikeFlag = /^--?[A-Za-z][A-Za-z-]*(=.*)?$/.test(arg) && (arg.startsWith("--") || arg.length === 2 || arg.includes("="));
    if (!looksLikeFlag) {
      positionals.push(arg);
      continue;
    }
    const [name, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const spec = byName.get(name);
    if (!spec) throw new UserError(`${command}: unknown option ${name} (see ${command} --help)`);
    const key = spec.names[0]!;
    if (!spec.value) {
      if (inline !== undefined) throw new UserError(`${command}: option ${name} takes no value`);
      flags.set(key, true);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UserError(`${command}: option ${name} needs a value${spec.metavar ? ` (${spec.metavar})` : ""}`);
    flags.set(key, value);
  }
  return { flags, positionals };
}

export function flagHelp(specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => [`${s.names.join(", ")}${s.value ? ` ${s.metavar ?? "VALUE"}` : ""}`, s.help] as const);
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, help]) => `  ${left.padEnd(width)}  ${help}`).join("\n");
}

/** `key=value` assignment (not a selector such as mgt==ipmi, which belongs to a noderange). */
export function isAssignment(arg: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_.-]*=/.test(arg) && !/^[^=]*(==|!=|=~|!~)/.test(arg);
}

export function isSelector(arg: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_.-]*(==|!=|=~|!~)/.test(arg);
}

export function assignments(args: readonly string[]): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf("=");
    const name = arg.slice(0, eq);
    if (name in attrs) throw new UserError(`attribute ${name} is given twice`);
    attrs[name] = arg.slice(eq + 1);
  }
  return attrs;
}
