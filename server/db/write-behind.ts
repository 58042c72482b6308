// Batches writes from hot paths (DHCP, TFTP, HTTP boot) into one transaction every few milliseconds.
export class WriteBehind<T> {
  private pending: T[] = [];
  private timer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly write: (items: T[]) => void,
    private readonly delayMs = 100,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  push(item: T): void {
    this.pending.push(item);
    this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending.length) return;
    const items = this.pending;
    this.pending = [];
    try {
      this.write(items);
    } catch (error) {
      this.onError(error);
    }
  }
}
