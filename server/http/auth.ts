import type { MiddlewareHandler } from "hono";
import type { TokenStore } from "../core/tokens.ts";

/** Every API call carries `Authorization: Bearer <token>`. */
export function requireToken(tokens: TokenStore): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      return c.json({ error: "missing bearer token: send 'Authorization: Bearer <token>' (provctl reads PROVCTL_TOKEN)" }, 401);
    }
    if (!tokens.verify(match[1]!)) return c.json({ error: "the token is not valid for this server" }, 401);
    await next();
  };
}
