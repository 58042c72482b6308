// Boot files over HTTP: Content-Length always, HEAD, single byte ranges (206/416), strong ETag, no redirects.

export interface ServedFile {
  path: string;
  size: number;
  etag: string;
}

export type Range = { start: number; end: number } | "unsatisfiable" | undefined;

/** Parses one `bytes=a-b`, `bytes=a-` or `bytes=-n` range; several ranges are answered whole, as RFC 9110 allows. */
export function parseRange(header: string | undefined, size: number): Range {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return header.includes(",") ? undefined : "unsatisfiable";
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || start > end) return "unsatisfiable";
  return { start, end };
}

export function fileResponse(request: Request, file: ServedFile): Response {
  const headers = new Headers({
    "accept-ranges": "bytes",
    "content-type": "application/octet-stream",
    etag: `"${file.etag}"`,
    "cache-control": "public, max-age=31536000, immutable",
  });
  const range = parseRange(request.headers.get("range") ?? undefined, file.size);
  const head = request.method === "HEAD";
  if (range === "unsatisfiable") {
    headers.set("content-range", `bytes */${file.size}`);
    headers.set("content-length", "0");
    return new Response(null, { status: 416, headers });
  }
  const { start, end } = range ?? { start: 0, end: file.size - 1 };
  const length = file.size === 0 ? 0 : end - start + 1;
  headers.set("content-length", String(length));
  if (range) headers.set("content-range", `bytes ${start}-${end}/${file.size}`);
  const status = range ? 206 : 200;
  if (head) return new Response(null, { status, headers });
  const body = range ? Bun.file(file.path).slice(start, end + 1) : Bun.file(file.path);
  return new Response(body, { status, headers });
}
