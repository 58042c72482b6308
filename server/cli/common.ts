// Pieces the object commands share: object types, noderange payloads with ^file contents, result messages.
import { readFileSync } from "node:fs";
import { OBJECT_TYPES, type ObjectType, objectType } from "../core/attributes.ts";
import { UserError } from "../core/errors.ts";
import type { ListedObject } from "../core/inventory.ts";
import { fileReferences } from "../core/noderange.ts";
import type { FlagSpec, ParsedArgs } from "./args.ts";
import type { CommandIO } from "./command.ts";

export const PLURAL: Record<ObjectType, string> = { node: "nodes", group: "groups", osimage: "osimages", network: "networks" };

export const TYPE_FLAG: FlagSpec = { names: ["-t", "--type"], value: true, metavar: "TYPE", help: `object type: ${OBJECT_TYPES.join(", ")} (default node)` };
export const OBJECTS_FLAG: FlagSpec = { names: ["-o", "--objects"], value: true, metavar: "NAMES", help: "object names or noderange (instead of a positional)" };

export function typeOf(args: ParsedArgs): ObjectType {
  const t = args.flags.get("-t");
  return typeof t === "string" ? objectType(t) : "node";
}

/** A noderange and the contents of the ^files it names, read here because the server may be elsewhere. */
export function noderangePayload(noderange: string): { range: string; files: Record<string, string> } {
  const files: Record<string, string> = {};
  for (const path of fileReferences(noderange)) {
    try {
      files[path] = readFileSync(path, "utf8");
    } catch (e) {
      throw new UserError(`cannot read node list file ${path}: ${(e as Error).message}`);
    }
  }
  return { range: noderange, files };
}

export function printWarnings(io: CommandIO, warnings: readonly string[] | undefined): void {
  for (const w of warnings ?? []) io.err(`Warning: ${w}`);
}

export function definitionsMessage(count: number, verb: "created or modified" | "removed"): string {
  return `${count} object definitions have been ${verb}.`;
}

export async function query(io: CommandIO, type: ObjectType, range: string | undefined): Promise<ListedObject[]> {
  const body = range === undefined ? { type } : { type, ...noderangePayload(range) };
  const { objects } = await io.client().post<{ objects: ListedObject[] }>("/api/v1/query", body);
  return objects;
}

/** `-o json` asks for JSON; xCAT's `-o NAMES` still names objects. */
export function wantsJson(args: ParsedArgs): boolean {
  return args.flags.get("-o") === "json" || args.flags.get("--json") === true;
}

export const JSON_FLAG: FlagSpec = { names: ["--json"], help: "JSON output (also -o json)" };

/** For commands where -o only means the output format. */
export const OUTPUT_FLAGS: FlagSpec[] = [{ names: ["-o"], value: true, metavar: "json", help: "-o json: JSON output" }, JSON_FLAG];
