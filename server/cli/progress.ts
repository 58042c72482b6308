// A one-line progress display for long work, on a terminal only (scripts and logs get the final line alone).
export class Progress {
  private lastDraw = 0;
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number): void {
    if (!this.stream.isTTY) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && done < this.total) return;
    this.lastDraw = now;
    const percent = this.total ? Math.floor((done / this.total) * 100) : 100;
    this.stream.write(`\r${this.label}: ${percent}% (${formatBytes(done)} of ${formatBytes(this.total)})\x1b[K`);
  }

  done(): void {
    if (this.stream.isTTY) this.stream.write("\r\x1b[K");
  }
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit ? value.toFixed(1) : value} ${units[unit]}`;
}

/** Passes a stream through, reporting bytes seen. */
export function counted(stream: ReadableStream<Uint8Array>, onBytes: (total: number) => void): ReadableStream<Uint8Array> {
  let total = 0;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        total += chunk.length;
        onBytes(total);
        controller.enqueue(chunk);
      },
    }),
  );
}
