// Small pieces every bench uses.

/** Reads a child's output as it comes (keeping pipes from filling up), handing text to `sink`. */
export async function drain(stream: ReadableStream<Uint8Array> | undefined | null | number, sink: (s: string) => void): Promise<void> {
  if (!stream || typeof stream === "number") return;
  const decoder = new TextDecoder();
  for await (const chunk of stream) sink(decoder.decode(chunk, { stream: true }));
}

/** This process's environment without variables a developer may have exported for the servers under test. */
export function envWithout(...prefixes: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !prefixes.some((p) => k.startsWith(p)))) as Record<string, string>;
}

export const pad = (s: string, n: number) => s.padEnd(n);
export const lpad = (s: string, n: number) => s.padStart(n);
