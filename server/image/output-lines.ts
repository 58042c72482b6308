// The output of a build tool, script or package manager as lines for the job log.
/** A tool printing without newlines (a progress bar, a binary by mistake) must not grow one line without bound. */
const MAX_LINE = 16 * 1024;

/** Calls `onLine` for each line of `stream`: split at \n, \r\n and lone \r (progress bars redraw with \r). */
export async function forEachLine(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split(/\r?\n|\r(?!$)/);
    pending = lines.pop()!;
    for (const line of lines) onLine(line);
    while (pending.length > MAX_LINE) {
      onLine(pending.slice(0, MAX_LINE));
      pending = pending.slice(MAX_LINE);
    }
  }
  pending += decoder.decode();
  pending = pending.replace(/\r$/, "");
  if (pending) onLine(pending);
}
