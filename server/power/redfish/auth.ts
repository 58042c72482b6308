// Basic credentials on every request, or one Redfish session (X-Auth-Token) that is deleted at the end.
import { BmcError } from "../driver.ts";
import { answerError } from "./errors.ts";
import { linkOf } from "./json.ts";
import type { Transport } from "./transport.ts";
import { linkPath } from "./url.ts";

export interface Authenticator {
  headers(): Record<string, string>;
  /** After a 401: logs in again if that can help; false means the 401 is final. */
  renew(): Promise<boolean>;
  /** Frees the session slot; never throws. */
  logout(signal?: AbortSignal): Promise<void>;
}

export interface Credentials {
  username: string;
  password: string;
}

export class BasicAuth implements Authenticator {
  private readonly header: string;

  constructor(credentials: Credentials) {
    this.header = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
  }

  headers(): Record<string, string> {
    return { Authorization: this.header };
  }

  async renew(): Promise<boolean> {
    return false;
  }

  async logout(): Promise<void> {}
}

export class SessionAuth implements Authenticator {
  private token: string | undefined;
  /** Where to DELETE the session; undefined when the BMC named it nowhere. */
  private location: string | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly sessionsPath: string,
    private readonly credentials: Credentials,
  ) {}

  /** The session's own URI, for tests and logs. */
  get sessionPath(): string | undefined {
    return this.location;
  }

  async login(): Promise<void> {
    const what = `POST ${this.sessionsPath} (login as ${this.credentials.username})`;
    const answer = await this.transport.send({
      method: "POST",
      path: this.sessionsPath,
      body: { UserName: this.credentials.username, Password: this.credentials.password },
    });
    if (answer.status === 401 || answer.status === 403) {
      throw new BmcError("auth", answerError(what, answer).message);
    }
    if (answer.status < 200 || answer.status >= 300) throw answerError(what, answer);
    const token = answer.headers.get("x-auth-token");
    if (!token) throw new BmcError("protocol", `${what}: HTTP ${answer.status} without an X-Auth-Token header`);
    this.token = token;
    // DMTF/python-redfish-library#172: some BMCs omit Location; the body's @odata.id names the session then.
    const named = answer.headers.get("location") ?? linkOf(answer.body);
    this.location = named === undefined ? undefined : linkPath(named);
  }

  headers(): Record<string, string> {
    return this.token ? { "X-Auth-Token": this.token } : {};
  }

  async renew(): Promise<boolean> {
    this.token = undefined;
    this.location = undefined;
    await this.login();
    return true;
  }

  async logout(signal?: AbortSignal): Promise<void> {
    const [token, location] = [this.token, this.location];
    this.token = undefined;
    this.location = undefined;
    if (!token || !location) return;
    try {
      await this.transport.send({ method: "DELETE", path: location, headers: { "X-Auth-Token": token }, signal });
    } catch {
      // Nothing more can be done from here; the BMC expires the session on its own timeout.
    }
  }
}
