// A cap on sessions open at once (each holds a socket): a fan-out over thousands of BMCs queues here,
// within each caller's time budget, instead of running out of file descriptors.
import { abortError } from "./abort.ts";

export class Slots {
  private inUse = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly max: number) {}

  /** Resolves to the function that gives the slot back (call it once). */
  async acquire(signal: AbortSignal, doing: string): Promise<() => void> {
    if (signal.aborted) throw abortError(signal, doing);
    if (this.inUse < this.max) {
      this.inUse++;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const at = this.waiting.indexOf(grant);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(abortError(signal, `${doing} (waiting for one of ${this.max} session slots)`));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(grant);
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so inUse stays as it is.
      if (next !== undefined) next();
      else this.inUse--;
    };
  }
}
