// SessionService: X-Auth-Token sessions with a slot limit, as scarce as on real BMCs.
import { randomBytes } from "node:crypto";

export interface Session {
  id: string;
  token: string;
  username: string;
  path: string;
}

export const SESSIONS_PATH = "/redfish/v1/SessionService/Sessions";

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private next = 1;
  /** Every session ever created, for assertions (deleted ones included). */
  readonly created: Session[] = [];

  constructor(readonly max: number) {}

  /** A new session, or undefined when every slot is taken. */
  create(username: string): Session | undefined {
    if (this.sessions.size >= this.max) return undefined;
    const id = `${this.next++}${randomBytes(4).toString("hex").toUpperCase()}`;
    const session = { id, token: randomBytes(16).toString("hex"), username, path: `${SESSIONS_PATH}/${id}` };
    this.sessions.set(id, session);
    this.created.push(session);
    return session;
  }

  byToken(token: string | null): Session | undefined {
    if (!token) return undefined;
    for (const session of this.sessions.values()) if (session.token === token) return session;
    return undefined;
  }

  byId(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  delete(id: string): boolean {
    return this.sessions.delete(id);
  }

  list(): Session[] {
    return [...this.sessions.values()];
  }

  /** Drops every session, as a BMC does on timeout or reboot: the next request with a token gets 401. */
  expireAll(): void {
    this.sessions.clear();
  }

  resource(session: Session): Record<string, unknown> {
    return {
      "@odata.type": "#Session.v1_6_0.Session",
      "@odata.id": session.path,
      Id: session.id,
      Name: "User Session",
      UserName: session.username,
    };
  }

  collection(): Record<string, unknown> {
    const members = this.list().map((s) => ({ "@odata.id": s.path }));
    return {
      "@odata.type": "#SessionCollection.SessionCollection",
      "@odata.id": SESSIONS_PATH,
      Name: "Session Collection",
      "Members@odata.count": members.length,
      Members: members,
    };
  }
}
