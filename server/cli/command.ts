import type { FlagSpec, ParsedArgs } from "./args.ts";
import type { ApiClient } from "./client.ts";

export interface CommandIO {
  out(text: string): void;
  err(text: string): void;
  stdin(): Promise<string>;
  client(): ApiClient;
}

export interface Command {
  name: string;
  summary: string;
  usage: string[];
  flags: FlagSpec[];
  /** Extra help: semantics and examples. */
  details?: string;
  /** Returns the exit code. */
  run(args: ParsedArgs, io: CommandIO): Promise<number>;
}
