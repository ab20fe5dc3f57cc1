/**
 * The byte count HAProxy 2.6 logs as `%B` and adds to the stats' `bout`: not the bytes on
 * the wire but the size of the response in HAProxy's internal HTTP representation (HTX),
 * as it entered the response channel. Measured on haproxy 2.6 (see README.md):
 *
 *   start line   20 + len(version) + len(status code) + len(reason)
 *   each header  len(name) + len(value)          (no ": ", no CRLF, value trimmed)
 *   end of head  1
 *   body         payload bytes (chunk sizes and CRLFs not counted)
 *
 * so `HTTP/1.1 200 OK` + `content-length: 3` + `ok\n` counts 20+13 + 15 + 1 + 3 = 52 where
 * the wire carries 41 bytes. Headers HAProxy adds on the way out (Set-Cookie insert,
 * Cache-Control, Connection) are not counted: the count is taken as the server's response
 * arrives. Errors the HTTP parser answers itself (400 on a bad request, 408) count 0.
 *
 * Pure.
 */

/** Fixed size of HTX's start-line block (flags, status/method, three lengths). */
export const HTX_START_LINE = 20;
/** The end-of-headers block. */
export const HTX_EOH = 1;

export interface HeaderLists {
  readonly names: readonly string[];
  readonly values: readonly string[];
}

/** HTX size of a response head: status line parts and headers as received. */
export function htxResponseHeadSize(
  version: number,
  status: number,
  reason: string,
  headers: HeaderLists,
): number {
  const n = HTX_START_LINE + (version === 10 ? 8 : 8) + String(status).length + reason.length + HTX_EOH;
  return n + headersSize(headers);
}

/**
 * Name and value lengths of every header, as HAProxy's HTTP/1 parser keeps them: it takes the
 * `keep-alive` and `close` tokens out of `Connection` (and the header out when nothing is left).
 */
function headersSize(headers: HeaderLists): number {
  let n = 0;
  for (let i = 0; i < headers.names.length; i++) {
    const name = headers.names[i]!;
    const value = name === "connection" ? connectionKept(headers.values[i]!) : headers.values[i]!;
    if (name === "connection" && value === "") continue;
    n += name.length + value.length;
  }
  return n;
}

function connectionKept(value: string): string {
  return value
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "" && !/^(keep-alive|close)$/i.test(t))
    .join(", ");
}

/** HTX size of a request head as received (the stats' `bin` counts it, body bytes added). */
export function htxRequestHeadSize(method: string, uri: string, headers: HeaderLists): number {
  return HTX_START_LINE + method.length + uri.length + 8 + HTX_EOH + headersSize(headers);
}

const sizes = new WeakMap<Buffer, number>();

/**
 * HTX size of a complete response the node produced itself (an error page, the stats page),
 * read back from its bytes; `connection` headers are left out (HAProxy adds them when it
 * writes the message, after counting). Cached per buffer: error pages are prepared once.
 */
export function htxSizeOfRaw(bytes: Buffer): number {
  const cached = sizes.get(bytes);
  if (cached !== undefined) return cached;
  const end = bytes.indexOf("\r\n\r\n");
  if (end === -1) return bytes.length;
  const lines = bytes.toString("latin1", 0, end).split("\r\n");
  const status = lines[0] ?? "";
  const sp1 = status.indexOf(" ");
  const sp2 = status.indexOf(" ", sp1 + 1);
  const code = sp2 === -1 ? status.slice(sp1 + 1) : status.slice(sp1 + 1, sp2);
  const reason = sp2 === -1 ? "" : status.slice(sp2 + 1);
  let n = HTX_START_LINE + (sp1 === -1 ? status.length : sp1) + code.length + reason.length + HTX_EOH;
  let length = -1;
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!;
    const colon = l.indexOf(":");
    if (colon === -1) continue;
    const name = l.slice(0, colon).trim().toLowerCase();
    const value = l.slice(colon + 1).trim();
    if (name === "content-length") length = Number(value);
    if (name === "connection") continue;
    n += name.length + value.length;
  }
  const body = bytes.length - (end + 4);
  n += length >= 0 ? Math.min(length, body) : body;
  sizes.set(bytes, n);
  return n;
}
