// Interactive customize: a shell inside an unpacked image, relayed over a WebSocket to `provctl customize --shell`.
// The job and the client meet here in either order; the shell runs on a pseudo-terminal made by `script`.
import type { Subprocess } from "bun";
import { UserError } from "../../core/errors.ts";
import { withImageMounts } from "../chroot.ts";
import { shellQuote } from "../shell.ts";

/** What the HTTP layer hands over: a WebSocket, seen as something to send to and close. */
export interface ShellClient {
  send(data: Uint8Array | string): void;
  close(code?: number, reason?: string): void;
}

interface Pending {
  root?: string;
  client?: ShellClient;
  size: { rows: number; cols: number };
  proc?: Subprocess<"pipe", "pipe", "inherit">;
  /** Keystrokes sent while the image was still being unpacked, replayed once the shell starts. */
  early: (string | Uint8Array)[];
  done: (exitCode: number) => void;
  fail: (error: Error) => void;
}

const ATTACH_TIMEOUT_MS = 10 * 60_000;

export class ShellSessions {
  private readonly sessions = new Map<number, Pending>();

  /** Called by the job once the root is unpacked; resolves with the shell's exit code. */
  run(jobId: number, root: string, log: (line: string) => void, signal: AbortSignal): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const existing = this.sessions.get(jobId);
      const timer = setTimeout(() => finish(() => reject(new UserError("no shell client attached within 10 minutes; nothing was changed"))), ATTACH_TIMEOUT_MS);
      const finish = (then: () => void) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        const s = this.sessions.get(jobId);
        s?.proc?.kill("SIGHUP");
        this.sessions.delete(jobId);
        then();
      };
      const onAbort = () => finish(() => reject(signal.reason ?? new UserError("cancelled")));
      signal.addEventListener("abort", onAbort, { once: true });
      const session: Pending = existing ?? { size: { rows: 24, cols: 80 }, early: [], done: () => {}, fail: () => {} };
      session.root = root;
      session.done = (code) => finish(() => resolve(code));
      session.fail = (error) => finish(() => reject(error));
      this.sessions.set(jobId, session);
      log("waiting for the shell client (provctl customize --shell attaches to it)");
      this.startIfReady(jobId);
    });
  }

  /** Called when a client connects; false if the job has no shell to attach to. */
  attach(jobId: number, client: ShellClient, size: { rows: number; cols: number }, expectsShell: boolean): boolean {
    const existing = this.sessions.get(jobId);
    if (existing?.client || !expectsShell) return false;
    const session: Pending = existing ?? { size, early: [], done: () => {}, fail: () => {} };
    session.client = client;
    session.size = size;
    this.sessions.set(jobId, session);
    this.startIfReady(jobId);
    return true;
  }

  input(jobId: number, data: string | Uint8Array): void {
    const session = this.sessions.get(jobId);
    if (!session) return;
    if (!session.proc) {
      if (session.early.length < 10_000) session.early.push(data);
      return;
    }
    session.proc.stdin.write(data);
    session.proc.stdin.flush();
  }

  /** The client went away: the shell is ended and the job fails, so half-done work is never stored. */
  detach(jobId: number): void {
    const session = this.sessions.get(jobId);
    if (!session) return;
    session.client = undefined;
    if (session.proc) session.fail(new UserError("the shell client disconnected before the shell ended; nothing was stored"));
  }

  private startIfReady(jobId: number): void {
    const s = this.sessions.get(jobId);
    if (!s?.root || !s.client || s.proc) return;
    const { rows, cols } = s.size;
    // `script` gives the shell a terminal (job control, prompts, editors); the size is the client's.
    const shell = `stty rows ${rows} cols ${cols} 2>/dev/null; if [ -x /bin/bash ]; then exec /bin/bash -il; else exec /bin/sh -i; fi`;
    const inImage = ["env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "TERM=xterm", "chroot", s.root, "/bin/sh", "-c", shell];
    // `script` (the host's) gives the shell a terminal: prompts, job control, editors. The size is the client's.
    const proc = Bun.spawn(withImageMounts(s.root, ["script", "-qfec", inImage.map(shellQuote).join(" "), "/dev/null"]), {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
    });
    s.proc = proc;
    for (const data of s.early.splice(0)) proc.stdin.write(data);
    proc.stdin.flush();
    const client = s.client;
    const relayed = (async () => {
      for await (const chunk of proc.stdout) client.send(chunk);
    })();
    void Promise.all([proc.exited, relayed]).then(([code]) => {
      // The job learns the outcome before the socket closes, so the close is not taken for a dropped client.
      s.done(code);
      client.close(1000, `exit ${code}`);
    });
  }
}
