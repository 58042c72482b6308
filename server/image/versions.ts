// Image versions of each osimage, their aliases (`latest`, releases) and the moves of those aliases.
import { and, asc, desc, eq, sql } from "drizzle-orm";
import { type Db, atomically } from "../db/open.ts";
import { imageAliasHistory, imageAliases, imageVersions } from "../db/schema.ts";
import { UserError } from "../core/errors.ts";
import type { ObjectStore } from "../core/objects.ts";
import type { Manifest } from "./manifest.ts";

export const LATEST = "latest";
const ALIAS_NAME = /^[A-Za-z][\w.-]{0,63}$/;

export type Validation = "passed" | "failed" | "untested";

export interface ImageVersion {
  osimage: string;
  id: string;
  inputHash: string;
  /** build: genimage; customize: a command or shell run inside the parent; pack: the parent packed another way. */
  origin: "build" | "customize" | "pack";
  parent?: string;
  manifest: Manifest;
  validation: Validation;
  validationLog: string;
  createdAt: number;
  aliases: string[];
}

/** `compute`, `compute@latest`, `compute@3f9a…` (an id or a unique id prefix of 6+ characters). */
export function parseImageRef(ref: string): { osimage: string; version?: string } {
  const at = ref.indexOf("@");
  if (at < 0) return { osimage: ref };
  const osimage = ref.slice(0, at);
  const version = ref.slice(at + 1);
  if (!osimage || !version) throw new UserError(`'${ref}' is not an image reference: expected NAME or NAME@VERSION (an id or an alias such as latest)`);
  return { osimage, version };
}

export class ImageVersions {
  constructor(
    private readonly db: Db,
    private readonly store: ObjectStore,
  ) {}

  /** Stores a version; a version with the same id already stored is kept as it was (ids name contents). */
  add(version: Omit<ImageVersion, "aliases" | "createdAt">): ImageVersion {
    atomically(this.db, () => {
      this.db
        .insert(imageVersions)
        .values({ ...version, parent: version.parent ?? null, manifest: version.manifest as unknown as Record<string, unknown>, createdAt: Date.now() })
        .onConflictDoNothing()
        .run();
    });
    this.store.generation++;
    return this.get(version.osimage, version.id)!;
  }

  list(osimage?: string): ImageVersion[] {
    const query = this.db.select().from(imageVersions);
    // rowid breaks ties: versions stored within one millisecond stay in the order they were added.
    const rows = (osimage ? query.where(eq(imageVersions.osimage, osimage)) : query).orderBy(asc(imageVersions.createdAt), sql`rowid`).all();
    const aliases = this.aliasesByVersion(osimage);
    return rows.map((r) => ({
      osimage: r.osimage,
      id: r.id,
      inputHash: r.inputHash,
      origin: r.origin as ImageVersion["origin"],
      parent: r.parent ?? undefined,
      manifest: r.manifest as unknown as Manifest,
      validation: r.validation as Validation,
      validationLog: r.validationLog,
      createdAt: r.createdAt,
      aliases: aliases.get(`${r.osimage}@${r.id}`) ?? [],
    }));
  }

  get(osimage: string, id: string): ImageVersion | undefined {
    return this.list(osimage).find((v) => v.id === id);
  }

  /** The version built from exactly these inputs, if any: an unchanged definition is not rebuilt. */
  findByInput(osimage: string, inputHash: string): ImageVersion | undefined {
    return this.list(osimage)
      .reverse()
      .find((v) => v.inputHash === inputHash);
  }

  /** Resolves an alias, a full id or a unique id prefix; `undefined` version means `latest`. */
  resolve(osimage: string, version = LATEST): ImageVersion {
    const versions = this.list(osimage);
    const aliased = versions.find((v) => v.aliases.includes(version));
    if (aliased) return aliased;
    const exact = versions.find((v) => v.id === version);
    if (exact) return exact;
    const byPrefix = version.length >= 6 ? versions.filter((v) => v.id.startsWith(version)) : [];
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) throw new UserError(`${osimage}@${version} is ambiguous: ${byPrefix.map((v) => v.id).join(", ")}`);
    if (!versions.length) throw new UserError(`osimage ${osimage} has no built versions yet: provctl genimage ${osimage}`, 404);
    if (version === LATEST) throw new UserError(`osimage ${osimage} has no 'latest' version (no build passed validation): provctl images ${osimage}`, 404);
    throw new UserError(`osimage ${osimage} has no version or alias '${version}' (provctl images ${osimage} lists them)`, 404);
  }

  /** Points `alias` at a version (promote), recording the move for rollback. */
  setAlias(osimage: string, alias: string, id: string): void {
    if (!ALIAS_NAME.test(alias)) throw new UserError(`'${alias}' is not a valid alias name (letters, digits, '.', '_', '-'; starting with a letter)`);
    if (!this.get(osimage, id)) throw new UserError(`osimage ${osimage} has no version ${id}`, 404);
    const now = Date.now();
    atomically(this.db, () => {
      this.db
        .insert(imageAliases)
        .values({ osimage, alias, version: id, updatedAt: now })
        .onConflictDoUpdate({ target: [imageAliases.osimage, imageAliases.alias], set: { version: id, updatedAt: now } })
        .run();
      this.db.insert(imageAliasHistory).values({ osimage, alias, version: id, at: now }).run();
    });
    this.store.generation++;
  }

  /** Moves `alias` back to the version it pointed at before its current one. Returns that version's id. */
  rollback(osimage: string, alias = LATEST): { from: string; to: string } {
    const current = this.aliasTarget(osimage, alias);
    if (!current) throw new UserError(`osimage ${osimage} has no alias '${alias}' to roll back`, 404);
    const moves = this.db
      .select()
      .from(imageAliasHistory)
      .where(and(eq(imageAliasHistory.osimage, osimage), eq(imageAliasHistory.alias, alias)))
      .orderBy(desc(imageAliasHistory.seq))
      .all();
    const known = new Set(this.list(osimage).map((v) => v.id));
    const previous = moves.find((m) => m.version !== current && known.has(m.version));
    if (!previous) throw new UserError(`${osimage}@${alias} has never pointed at another existing version; nothing to roll back to`, 409);
    atomically(this.db, () => {
      this.setAlias(osimage, alias, previous.version);
      // The move we undo, and the rollback itself, leave the history: a second rollback steps further back.
      this.db.delete(imageAliasHistory).where(and(eq(imageAliasHistory.osimage, osimage), eq(imageAliasHistory.alias, alias), eq(imageAliasHistory.version, current))).run();
    });
    return { from: current, to: previous.version };
  }

  removeAlias(osimage: string, alias: string): void {
    if (alias === LATEST) throw new UserError(`'latest' cannot be removed; promote another version or roll back`);
    this.db.delete(imageAliases).where(and(eq(imageAliases.osimage, osimage), eq(imageAliases.alias, alias))).run();
    this.store.generation++;
  }

  aliasTarget(osimage: string, alias: string): string | undefined {
    return this.db
      .select()
      .from(imageAliases)
      .where(and(eq(imageAliases.osimage, osimage), eq(imageAliases.alias, alias)))
      .get()?.version;
  }

  /** Deletes versions no alias and no node refers to (never the newest, so a build just made is not lost). */
  prune(osimage: string, referenced: ReadonlySet<string>, dryRun: boolean): string[] {
    const versions = this.list(osimage);
    const newest = versions.at(-1)?.id;
    const doomed = versions.filter((v) => !v.aliases.length && !referenced.has(v.id) && v.id !== newest).map((v) => v.id);
    if (!dryRun && doomed.length) {
      atomically(this.db, () => {
        for (const id of doomed) this.db.delete(imageVersions).where(and(eq(imageVersions.osimage, osimage), eq(imageVersions.id, id))).run();
      });
      this.store.generation++;
    }
    return doomed;
  }

  private aliasesByVersion(osimage?: string): Map<string, string[]> {
    const query = this.db.select().from(imageAliases);
    const rows = (osimage ? query.where(eq(imageAliases.osimage, osimage)) : query).orderBy(asc(imageAliases.alias)).all();
    const map = new Map<string, string[]>();
    for (const r of rows) {
      const key = `${r.osimage}@${r.version}`;
      map.set(key, [...(map.get(key) ?? []), r.alias]);
    }
    return map;
  }
}
