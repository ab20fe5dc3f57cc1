/**
 * HTTP/1 message heads, parsed strictly and by hand.
 *
 * Why by hand: fulcrum must answer exactly as HAProxy 2.6 does (header names lowercased on
 * output, its own 400 for each malformed input, no headers added by a library, framing
 * rules such as "Transfer-Encoding wins over Content-Length"), and the head parser is on
 * the hot path. Node's http server and undici each add, rename or refuse headers in ways
 * that cannot be turned off. Inputs are checked character by character against RFC 9110
 * token rules; anything doubtful is rejected, never guessed.
 */

/** Lowercased header names and their values, in arrival order (duplicates kept). */
export interface Headers {
  names: string[];
  values: string[];
}

export interface RequestHead {
  method: string;
  uri: string;
  /** 10 for HTTP/1.0, 11 for HTTP/1.1. */
  version: number;
  /** The request line as received (for logs). */
  line: string;
  headers: Headers;
}

export interface ResponseHead {
  version: number;
  status: number;
  reason: string;
  headers: Headers;
}

export type ParseFailure = {
  ok: false;
  /** Why, for logs and tests. */
  reason: string;
  /** Byte offset where the error was seen (HAProxy reports it on `show errors`). */
  at: number;
  /** 400 for a malformed head; 414/431-style limits are decided by the caller. */
  status: number;
};

export type ParseResult<T> = { ok: true; head: T; length: number } | ParseFailure | null;

// Character classes, as lookup tables (one array index per byte instead of regexps).
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** Bytes allowed in a header value: VCHAR, obs-text, SP, HTAB (no CR, LF, NUL, other CTLs). */
const VCHAR = new Uint8Array(256);
for (let c = 0x20; c <= 0xff; c++) VCHAR[c] = 1;
VCHAR[0x7f] = 0;
VCHAR[0x09] = 1;

/** Bytes allowed in a request target: visible characters and obs-text (no SP, no CTL). */
const URICHAR = new Uint8Array(256);
for (let c = 0x21; c <= 0xff; c++) URICHAR[c] = 1;
URICHAR[0x7f] = 0;

const LOWER: string[] = [];
for (let c = 0; c < 256; c++) LOWER.push(String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 32 : c));

/**
 * Finds the end of a head (the empty line) in `buf` from `start`. Returns the offset just
 * after it, or -1 when more bytes are needed. Accepts CRLF and bare LF line ends, as HAProxy.
 */
export function findHeadEnd(buf: Buffer, start: number): number {
  let i = buf.indexOf(10, start);
  while (i !== -1) {
    const next = i + 1;
    if (next < buf.length) {
      const b = buf[next];
      if (b === 10) return next + 1;
      if (b === 13) {
        if (next + 1 >= buf.length) return -1;
        if (buf[next + 1] === 10) return next + 2;
      }
    } else {
      return -1;
    }
    i = buf.indexOf(10, next);
  }
  return -1;
}

function fail(reason: string, at: number, status = 400): ParseFailure {
  return { ok: false, reason, at, status };
}

/** Reads `HTTP/x.y` at [s, e); returns 10, 11 (or 9 for other 1.x / 2.x majors), -1 when invalid. */
function parseVersion(buf: Buffer, s: number, e: number): number {
  if (e - s !== 8) return -1;
  if (
    buf[s] !== 0x48 ||
    buf[s + 1] !== 0x54 ||
    buf[s + 2] !== 0x54 ||
    buf[s + 3] !== 0x50 ||
    buf[s + 4] !== 0x2f
  )
    return -1;
  const maj = buf[s + 5]! - 0x30;
  const dot = buf[s + 6];
  const min = buf[s + 7]! - 0x30;
  if (maj < 0 || maj > 9 || min < 0 || min > 9 || dot !== 0x2e) return -1;
  if (maj !== 1) return -2;
  return min === 0 ? 10 : 11;
}

/**
 * Parses header lines from `pos` until the empty line ending at `end`. Names are lowercased.
 * Returns null on success (headers filled in), or the failure.
 */
function parseHeaderLines(
  buf: Buffer,
  pos: number,
  end: number,
  headers: Headers,
  maxHeaders: number,
): ParseFailure | null {
  while (pos < end) {
    const eol = buf.indexOf(10, pos);
    if (eol === -1 || eol >= end) return fail("header line without end", pos);
    let lineEnd = eol;
    if (lineEnd > pos && buf[lineEnd - 1] === 13) lineEnd--;
    if (lineEnd === pos) return null; // the empty line
    const first = buf[pos]!;
    if (first === 0x20 || first === 0x09) return fail("obsolete header line folding", pos);
    // name
    let i = pos;
    let name = "";
    while (i < lineEnd) {
      const c = buf[i]!;
      if (c === 0x3a) break;
      if (TCHAR[c] === 0)
        return fail(
          c === 0x20 || c === 0x09 ? "space before colon in header name" : "invalid character in header name",
          i,
        );
      name += LOWER[c];
      i++;
    }
    if (i === lineEnd) return fail("header line without colon", pos);
    if (i === pos) return fail("empty header name", pos);
    i++;
    // value: trim OWS both sides
    while (i < lineEnd && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
    let ve = lineEnd;
    while (ve > i && (buf[ve - 1] === 0x20 || buf[ve - 1] === 0x09)) ve--;
    for (let j = i; j < ve; j++) {
      if (VCHAR[buf[j]!] === 0) return fail("invalid character in header value", j);
    }
    if (headers.names.length >= maxHeaders) return fail("too many headers", pos);
    headers.names.push(name);
    headers.values.push(buf.toString("latin1", i, ve));
    pos = eol + 1;
  }
  return null;
}

export interface HeadLimits {
  /** Largest head accepted, bytes (HAProxy: bufsize - maxrewrite). */
  maxHead: number;
  /** Most header lines (tune.http.maxhdr). */
  maxHeaders: number;
}

/**
 * Parses a request head from buf[start..]. Returns null when incomplete (and under the
 * limit), a failure, or the head with its length in bytes (from `start`, leading empty
 * lines included).
 */
export function parseRequestHead(buf: Buffer, start: number, limits: HeadLimits): ParseResult<RequestHead> {
  let s = start;
  // HAProxy skips empty lines before a request line.
  while (s < buf.length && (buf[s] === 13 || buf[s] === 10)) s++;
  const end = findHeadEnd(buf, s);
  if (end === -1) {
    if (buf.length - s > limits.maxHead) return fail("request head too large", start + limits.maxHead);
    return null;
  }
  if (end - s > limits.maxHead) return fail("request head too large", start + limits.maxHead);
  const eol = buf.indexOf(10, s);
  let le = eol;
  if (le > s && buf[le - 1] === 13) le--;
  // method
  let i = s;
  while (i < le && TCHAR[buf[i]!] === 1) i++;
  if (i === s || i >= le || buf[i] !== 0x20) return fail("invalid request method", i);
  const method = buf.toString("latin1", s, i);
  i++;
  const us = i;
  while (i < le && URICHAR[buf[i]!] === 1) i++;
  if (i === us) return fail("empty or invalid request target", i);
  if (i >= le || buf[i] !== 0x20)
    return fail(i >= le ? "missing HTTP version" : "invalid character in request target", i);
  const uri = buf.toString("latin1", us, i);
  const version = parseVersion(buf, i + 1, le);
  if (version === -1) return fail("invalid HTTP version", i + 1);
  if (version === -2) return fail("unsupported HTTP version", i + 1, 505);
  const headers: Headers = { names: [], values: [] };
  const err = parseHeaderLines(buf, eol + 1, end, headers, limits.maxHeaders);
  if (err) return err;
  return {
    ok: true,
    head: { method, uri, version, line: buf.toString("latin1", s, le), headers },
    length: end - start,
  };
}

/** Parses a response head from buf[start..], same conventions as parseRequestHead. */
export function parseResponseHead(buf: Buffer, start: number, limits: HeadLimits): ParseResult<ResponseHead> {
  const s = start;
  const end = findHeadEnd(buf, s);
  if (end === -1) {
    if (buf.length - s > limits.maxHead) return fail("response head too large", s + limits.maxHead, 502);
    return null;
  }
  if (end - s > limits.maxHead) return fail("response head too large", s + limits.maxHead, 502);
  const eol = buf.indexOf(10, s);
  let le = eol;
  if (le > s && buf[le - 1] === 13) le--;
  if (le - s < 12 || buf[s + 8] !== 0x20) return fail("invalid status line", s, 502);
  const version = parseVersion(buf, s, s + 8);
  if (version < 0) return fail("invalid HTTP version in status line", s, 502);
  const d0 = buf[s + 9]! - 0x30;
  const d1 = buf[s + 10]! - 0x30;
  const d2 = buf[s + 11]! - 0x30;
  if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9)
    return fail("invalid status code", s + 9, 502);
  if (le > s + 12 && buf[s + 12] !== 0x20) return fail("invalid status line", s + 12, 502);
  for (let j = s + 13; j < le; j++) {
    if (VCHAR[buf[j]!] === 0) return fail("invalid character in reason phrase", j, 502);
  }
  const status = d0 * 100 + d1 * 10 + d2;
  const reason = le > s + 13 ? buf.toString("latin1", s + 13, le) : "";
  const headers: Headers = { names: [], values: [] };
  const err = parseHeaderLines(buf, eol + 1, end, headers, limits.maxHeaders);
  if (err) return { ...err, status: 502 };
  return { ok: true, head: { version, status, reason, headers }, length: end - start };
}

// ---- header helpers ----------------------------------------------------------------------

export function headerIndex(h: Headers, name: string, from = 0): number {
  const n = h.names;
  for (let i = from; i < n.length; i++) if (n[i] === name) return i;
  return -1;
}

export function getHeader(h: Headers, name: string): string | undefined {
  const i = headerIndex(h, name);
  return i === -1 ? undefined : h.values[i];
}

export function removeHeaderAt(h: Headers, i: number): void {
  h.names.splice(i, 1);
  h.values.splice(i, 1);
}

export function removeHeader(h: Headers, name: string): void {
  for (let i = h.names.length - 1; i >= 0; i--) if (h.names[i] === name) removeHeaderAt(h, i);
}

/** Comma-separated tokens of every `name` header, lowercased and trimmed. */
export function headerTokens(h: Headers, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < h.names.length; i++) {
    if (h.names[i] !== name) continue;
    for (const part of h.values[i]!.split(",")) {
      const t = part.trim().toLowerCase();
      if (t) out.push(t);
    }
  }
  return out;
}

/** Serialises a head's header block (`name: value\r\n` each, then the empty line). */
export function serialiseHeaders(h: Headers): string {
  let out = "";
  const n = h.names;
  const v = h.values;
  for (let i = 0; i < n.length; i++) out += `${n[i]}: ${v[i]}\r\n`;
  return `${out}\r\n`;
}
