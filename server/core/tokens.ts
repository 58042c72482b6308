// API bearer tokens: shown once when made, stored as sha256 only.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Db } from "../db/open.ts";
import { apiTokens } from "../db/schema.ts";

const hash = (token: string) => createHash("sha256").update(token).digest();

export class TokenStore {
  private readonly configured?: Buffer;

  constructor(
    private readonly db: Db,
    configuredToken?: string,
  ) {
    if (configuredToken) this.configured = hash(configuredToken);
  }

  /** Makes the first admin token when none exists and none was configured; returns it so it can be shown once. */
  ensureAdminToken(): string | undefined {
    if (this.configured || this.db.select({ id: apiTokens.id }).from(apiTokens).limit(1).all().length) return undefined;
    return this.create("admin");
  }

  create(name: string): string {
    const token = `pvd_${randomBytes(24).toString("base64url")}`;
    this.db.insert(apiTokens).values({ name, hash: hash(token).toString("hex"), createdAt: Date.now() }).run();
    return token;
  }

  verify(token: string): boolean {
    const candidate = hash(token);
    if (this.configured && timingSafeEqual(candidate, this.configured)) return true;
    const rows = this.db.select({ hash: apiTokens.hash }).from(apiTokens).all();
    return rows.some((row) => timingSafeEqual(candidate, Buffer.from(row.hash, "hex")));
  }
}
