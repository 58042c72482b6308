// Strict request-body reading: bad JSON, unknown fields and wrong types get a 400 that says which.
import type { Context } from "hono";
import { UserError } from "../core/errors.ts";

export type Check<T> = (value: unknown, path: string) => T;

export async function readJson(c: Context, limitBytes = 16 * 1024 * 1024): Promise<unknown> {
  const text = await c.req.text();
  if (text.length > limitBytes) throw new UserError(`request body is larger than ${limitBytes} bytes`, 413);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`request body is not valid JSON: ${(e as Error).message}`);
  }
}

export const str: Check<string> = (v, path) => {
  if (typeof v !== "string") throw new UserError(`${path}: expected a string`);
  return v;
};

export const bool: Check<boolean> = (v, path) => {
  if (typeof v !== "boolean") throw new UserError(`${path}: expected true or false`);
  return v;
};

export const stringMap: Check<Record<string, string>> = (v, path) => {
  if (!isPlainObject(v)) throw new UserError(`${path}: expected an object of attribute: "value"`);
  for (const [key, value] of Object.entries(v)) str(value, `${path}.${key}`);
  return v as Record<string, string>;
};

export function oneOf<T extends string>(allowed: readonly T[]): Check<T> {
  return (v, path) => {
    if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
      throw new UserError(`${path}: expected one of ${allowed.join(", ")}`);
    }
    return v as T;
  };
}

export function arrayOf<T>(item: Check<T>, max = 100_000): Check<T[]> {
  return (v, path) => {
    if (!Array.isArray(v)) throw new UserError(`${path}: expected an array`);
    if (v.length > max) throw new UserError(`${path}: at most ${max} items`);
    return v.map((x, i) => item(x, `${path}[${i}]`));
  };
}

type Shape = Record<string, Check<unknown>>;
type Parsed<S extends Shape, Optional extends keyof S> = { [K in Exclude<keyof S, Optional>]: ReturnType<S[K]> } & {
  [K in Optional]?: ReturnType<S[K]>;
};

/** An object with exactly the fields of `shape`; those in `optional` may be absent. */
export function object<S extends Shape, O extends keyof S = never>(shape: S, optional: readonly O[] = []): Check<Parsed<S, O>> {
  return (v, path) => {
    if (!isPlainObject(v)) throw new UserError(`${path}: expected a JSON object`);
    const unknown = Object.keys(v).filter((k) => !(k in shape));
    if (unknown.length) throw new UserError(`${path}: unknown field(s) ${unknown.join(", ")} (expected ${Object.keys(shape).join(", ")})`);
    const out: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(shape)) {
      if (v[key] === undefined) {
        if (!(optional as readonly string[]).includes(key)) throw new UserError(`${path}: missing field '${key}'`);
        continue;
      }
      out[key] = check(v[key], `${path}.${key}`);
    }
    return out as Parsed<S, O>;
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
