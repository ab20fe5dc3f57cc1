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
  /** 10 for HTTP/1.0 (and HTTP/0.x), 11 for HTTP/1.1 and above: what the semantics follow. */
  version: number;
  /**
   * The protocol as forwarded: `HTTP/1.0`, `HTTP/1.1` (HAProxy sends 1.1 for any 1.x above 1.0
   * and for 2.x and up), or an `HTTP/0.x` as received (HAProxy keeps it).
   */
  proto: string;
  /** The request line as received (for logs). */
  line: string;
  headers: Headers;
}

export interface ResponseHead {
  version: number;
  /** The protocol as forwarded (same rules as RequestHead.proto). */
  proto: string;
  status: number;
  /** The status code as received (HAProxy forwards `2000` as it came). */
  code: string;
  reason: string;
  headers: Headers;
}

export type ParseFailure = {
  ok: false;
  /** Why, for logs and tests. */
  reason: string;
  /** Byte offset where the error was seen (HAProxy reports it on `show errors`). */
  at: number;
  /** 400 for a malformed request head, 502 for a response; limits are 400 as HAProxy. */
  status: number;
};

export type ParseResult<T> = { ok: true; head: T; length: number } | ParseFailure | null;

// Character classes, as lookup tables (one array index per byte instead of regexps).
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/**
 * Bytes HAProxy 2.6 refuses in a header value: only CR and LF (NUL, other controls, DEL and
 * obs-text are forwarded as they came).
 */
const BADVAL = new Uint8Array(256);
BADVAL[0x0d] = 1;
BADVAL[0x0a] = 1;

/** Bytes allowed in a request target: 0x21..0x7e except `#` (no SP, CTL, DEL, non-ASCII). */
const URICHAR = new Uint8Array(256);
for (let c = 0x21; c <= 0x7e; c++) URICHAR[c] = 1;
URICHAR[0x23] = 0;

const LOWER: string[] = [];
for (let c = 0; c < 256; c++) LOWER.push(String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 32 : c));

/** Header names seen on every request, interned so the common case allocates no string. */
const COMMON_NAMES = [
  "host",
  "user-agent",
  "accept",
  "accept-encoding",
  "accept-language",
  "connection",
  "content-length",
  "content-type",
  "cookie",
  "transfer-encoding",
  "x-forwarded-for",
  "cache-control",
  "set-cookie",
  "date",
  "server",
  "expect",
  "upgrade",
  "referer",
  "origin",
  "authorization",
  "if-modified-since",
  "if-none-match",
  "etag",
  "last-modified",
  "location",
  "keep-alive",
  "vary",
];

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

const PROTO_10 = "HTTP/1.0";
const PROTO_11 = "HTTP/1.1";

/**
 * Reads `HTTP/d.d` at [s, e): 10 for 1.0 and 0.x, 11 for 1.1 and any other version; -1 when
 * it is not an HTTP version (HAProxy answers 400/502).
 */
function parseVersion(buf: Buffer, s: number, e: number): number {
  if (e - s !== 8) return -1;
  if (
    buf[s] !== 0x48 ||
    buf[s + 1] !== 0x54 ||
    buf[s + 2] !== 0x54 ||
    buf[s + 3] !== 0x50 ||
    buf[s + 4] !== 0x2f ||
    buf[s + 6] !== 0x2e
  )
    return -1;
  const maj = buf[s + 5]! - 0x30;
  const min = buf[s + 7]! - 0x30;
  if (maj < 0 || maj > 9 || min < 0 || min > 9) return -1;
  if (maj === 0 || (maj === 1 && min === 0)) return 10;
  return 11;
}

/** The protocol string forwarded for a version parsed at [s, s+8). */
function protoOf(buf: Buffer, s: number, version: number): string {
  if (version === 11) return PROTO_11;
  return buf[s + 5] === 0x31 ? PROTO_10 : buf.toString("latin1", s, s + 8);
}

/** A lowercased header name from buf[s, e), interned for the common names. */
function headerName(buf: Buffer, s: number, e: number): string {
  const len = e - s;
  for (let k = 0; k < COMMON_NAMES.length; k++) {
    const n = COMMON_NAMES[k]!;
    if (n.length !== len) continue;
    let j = 0;
    for (; j < len; j++) {
      const c = buf[s + j]!;
      if ((c >= 0x41 && c <= 0x5a ? c + 32 : c) !== n.charCodeAt(j)) break;
    }
    if (j === len) return n;
  }
  let name = "";
  for (let j = s; j < e; j++) name += LOWER[buf[j]!];
  return name;
}

/**
 * Parses header lines from `pos` up to `limit` (the end of the available bytes). Names are
 * lowercased; values are trimmed of surrounding blanks; an obsolete folded line is joined to
 * the header before it with its line break turned into spaces, as HAProxy does. Returns the
 * offset just after the empty line, -1 when more bytes are needed, or the failure.
 */
export function parseHeaderLines(
  buf: Buffer,
  pos: number,
  limit: number,
  headers: Headers,
  maxHeaders: number,
): ParseFailure | number {
  while (pos < limit) {
    const eol = buf.indexOf(10, pos);
    if (eol === -1 || eol >= limit) {
      // Incomplete line: check what is there so a bad byte is answered at once.
      return checkPartialHeader(buf, pos, limit) ?? -1;
    }
    let lineEnd = eol;
    if (lineEnd > pos && buf[lineEnd - 1] === 13) lineEnd--;
    if (lineEnd === pos) return eol + 1; // the empty line
    const first = buf[pos]!;
    if (first === 0x20 || first === 0x09) return fail("folded line without a header before it", pos);
    // name
    let i = pos;
    while (i < lineEnd && TCHAR[buf[i]!] === 1) i++;
    if (i === lineEnd) return fail("header line without colon", pos);
    if (buf[i] !== 0x3a)
      return fail(
        buf[i] === 0x20 || buf[i] === 0x09
          ? "space before colon in header name"
          : "invalid character in header name",
        i,
      );
    if (i === pos) return fail("empty header name", pos);
    // HTX keeps a name's length in one byte.
    if (i - pos > MAX_NAME) return fail("header name too long", pos);
    const name = headerName(buf, pos, i);
    i++;
    // value, possibly continued on folded lines
    let end = lineEnd;
    let next = eol + 1;
    let folded = false;
    while (next < limit && (buf[next] === 0x20 || buf[next] === 0x09)) {
      const feol = buf.indexOf(10, next);
      if (feol === -1 || feol >= limit) return checkPartialHeader(buf, next, limit) ?? -1;
      folded = true;
      end = feol > next && buf[feol - 1] === 13 ? feol - 1 : feol;
      next = feol + 1;
    }
    // A complete line with nothing after it yet: the next line may still be a fold.
    if (next >= limit) return -1;
    while (i < end && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
    let ve = end;
    while (ve > i && (buf[ve - 1] === 0x20 || buf[ve - 1] === 0x09)) ve--;
    let value: string;
    if (folded) {
      let v = "";
      for (let j = i; j < ve; j++) {
        const c = buf[j]!;
        if (c === 13 || c === 10) {
          // CR only before LF; LF only at a fold.
          if (c === 13 && buf[j + 1] !== 10) return fail("invalid character in header value", j);
          v += " ";
        } else v += String.fromCharCode(c);
      }
      value = v;
    } else {
      for (let j = i; j < ve; j++) {
        if (BADVAL[buf[j]!] === 1) return fail("invalid character in header value", j);
      }
      value = buf.toString("latin1", i, ve);
    }
    // tune.http.maxhdr counts the list's end marker: one header fewer fits.
    if (headers.names.length >= maxHeaders - 1) return fail("too many headers", pos);
    headers.names.push(name);
    headers.values.push(value);
    pos = next;
  }
  return -1;
}

/** An incomplete header line: a failure when what arrived is already invalid, else undefined. */
function checkPartialHeader(buf: Buffer, pos: number, limit: number): ParseFailure | undefined {
  let i = pos;
  if (i < limit && (buf[i] === 0x20 || buf[i] === 0x09)) return undefined;
  while (i < limit && TCHAR[buf[i]!] === 1) i++;
  if (i >= limit || buf[i] === 13) return undefined;
  if (buf[i] === 0x3a) return i === pos ? fail("empty header name", pos) : undefined;
  return fail(
    buf[i] === 0x20 || buf[i] === 0x09
      ? "space before colon in header name"
      : "invalid character in header name",
    i,
  );
}

export interface HeadLimits {
  /** Largest head accepted, bytes (HAProxy: bufsize - maxrewrite). */
  maxHead: number;
  /** Most header lines (tune.http.maxhdr). */
  maxHeaders: number;
}

/** HAProxy's request-line parser: the method, then blanks, the target, blanks, the version. */
interface RequestLine {
  method: string;
  uri: string;
  version: number;
  proto: string;
  /** Offset of the line's LF. */
  eol: number;
  /** Offset of the line's end (CR or LF). */
  end: number;
}

function isBlank(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * HAProxy's request-target scan starts with a word-at-a-time skip over bytes it considers
 * plain (its little-endian fast path), then checks byte by byte. The fast path's arithmetic
 * lets some non-ASCII bytes through depending on their neighbours; this reproduces it so the
 * same targets are accepted and refused. Returns where the byte-by-byte check starts.
 */
function uriFastPath(buf: Buffer, p: number, end: number): number {
  while (p + 4 <= end) {
    let x = (buf.readInt32LE(p) - 0x24242424) | 0;
    if ((x & 0x80808080) !== 0) break;
    x = (x - 0x5b5b5b5b) | 0;
    if ((x & 0x80808080) === 0) break;
    p += 4;
  }
  return p;
}

/**
 * Parses the request line from s; `avail` is the end of the received bytes. Returns the line,
 * null when more bytes are needed (nothing invalid so far), or the failure.
 */
function parseRequestLine(buf: Buffer, s: number, avail: number): RequestLine | ParseFailure | null {
  let lf = buf.indexOf(10, s);
  if (lf >= avail) lf = -1;
  const stop = lf === -1 ? avail : lf;
  let i = s;
  while (i < stop && TCHAR[buf[i]!] === 1) i++;
  if (i === stop) return lf === -1 ? null : fail("invalid request method", i);
  if (i === s || !isBlank(buf[i])) return fail("invalid request method", i);
  const method = buf.toString("latin1", s, i);
  while (i < stop && isBlank(buf[i])) i++;
  if (i === stop) return lf === -1 ? null : fail("empty request target", i);
  const us = i;
  i = uriFastPath(buf, i, avail);
  while (i < stop && URICHAR[buf[i]!] === 1) i++;
  if (i === stop) return lf === -1 ? null : fail("request line without HTTP version", i);
  if (!isBlank(buf[i])) {
    const c = buf[i]!;
    return fail(c === 13 ? "request line without HTTP version" : "invalid character in request target", i);
  }
  const uri = buf.toString("latin1", us, i);
  while (i < stop && isBlank(buf[i])) i++;
  if (lf === -1) {
    // Partial version: check the bytes so far against "HTTP/d.d".
    const want = "HTTP/";
    for (let k = 0; i + k < stop && k < 8; k++) {
      const c = buf[i + k]!;
      const ok = k < 5 ? c === want.charCodeAt(k) : k === 6 ? c === 0x2e : c >= 0x30 && c <= 0x39;
      if (!ok) return fail("invalid HTTP version", i + k);
    }
    if (stop - i > 9 || (stop - i === 9 && buf[i + 8] !== 13)) return fail("invalid HTTP version", i + 8);
    return null;
  }
  const end = lf > i && buf[lf - 1] === 13 ? lf - 1 : lf;
  const version = parseVersion(buf, i, end);
  if (version === -1) return fail("invalid HTTP version", i);
  return { method, uri, version, proto: protoOf(buf, i, version), eol: lf, end };
}

/** Longest header name HAProxy's HTX can hold. */
const MAX_NAME = 255;

/**
 * The room a parsed head takes in HAProxy's HTX buffer, which must fit in bufsize - maxrewrite:
 * a fixed part (the buffer's and the start line's descriptors), an 8-byte index entry per
 * block (start line, each header, end of headers), the start line's three words, each name
 * and value, and the end-of-headers byte. Measured on haproxy 2.6 at the limit: with one
 * `Host: a` header the longest accepted URI is 15250 bytes where the raw head is 15277.
 */
const HTX_HEAD_FIXED = 68;
const HTX_BLOCK = 8;
function htxHeadSize(w1: string, w2: string, w3: string, h: Headers): number {
  let n = HTX_HEAD_FIXED + HTX_BLOCK * (2 + h.names.length) + w1.length + w2.length + w3.length + 1;
  for (let i = 0; i < h.names.length; i++) n += h.names[i]!.length + h.values[i]!.length;
  return n;
}

/**
 * Parses a request head from buf[start..]. Returns null when incomplete (and nothing seen so
 * far is invalid, and it is under the limit), a failure, or the head with its length in
 * bytes (from `start`, leading empty lines included). Invalid bytes are answered as soon as
 * they arrive, as HAProxy's incremental parser does.
 */
export function parseRequestHead(buf: Buffer, start: number, limits: HeadLimits): ParseResult<RequestHead> {
  let s = start;
  // HAProxy skips empty lines before a request line.
  while (s < buf.length && (buf[s] === 13 || buf[s] === 10)) s++;
  const avail = Math.min(buf.length, s + limits.maxHead);
  const rl = parseRequestLine(buf, s, avail);
  if (rl === null) {
    if (buf.length - s >= limits.maxHead) return fail("request line too long", start + limits.maxHead);
    return null;
  }
  if ("ok" in rl) return rl;
  const headers: Headers = { names: [], values: [] };
  const r = parseHeaderLines(buf, rl.eol + 1, avail, headers, limits.maxHeaders);
  if (typeof r !== "number") return r;
  if (r === -1) {
    if (buf.length - s >= limits.maxHead) return fail("request head too large", start + limits.maxHead);
    return null;
  }
  const head: RequestHead = {
    method: rl.method,
    uri: rl.uri,
    version: rl.version,
    proto: rl.proto,
    line: buf.toString("latin1", s, rl.end),
    headers,
  };
  if (htxHeadSize(head.method, head.uri, "HTTP/1.1", headers) > limits.maxHead) {
    return fail("request head too large", s);
  }
  const bad = checkRequest(head);
  if (bad !== null) return fail(bad, s);
  return { ok: true, head, length: r - start };
}

// ---- checks HAProxy's H1 layer makes on a whole request head ------------------------------

const DEFAULT_PORTS: Readonly<Record<string, string>> = { http: "80", https: "443" };

/** `scheme://authority...` of an absolute-form target, or undefined. */
function absoluteParts(uri: string): { scheme: string; authority: string; rest: string } | undefined {
  const sep = uri.indexOf("://");
  if (sep <= 0 || uri.charCodeAt(0) === 47) return undefined;
  const scheme = uri.slice(0, sep);
  for (let i = 0; i < scheme.length; i++) {
    const c = scheme.charCodeAt(i) | 0x20;
    if (
      !(
        (c >= 0x61 && c <= 0x7a) ||
        (i > 0 && (c === 0x2b || c === 0x2d || c === 0x2e || (c >= 0x30 && c <= 0x39)))
      )
    )
      return undefined;
  }
  const from = sep + 3;
  const end = authorityEnd(uri, from);
  return { scheme: scheme.toLowerCase(), authority: uri.slice(from, end), rest: uri.slice(end) };
}

/** Where an authority starting at `from` ends: at the first '/', '?' or '#'. */
function authorityEnd(uri: string, from: number): number {
  let end = from;
  while (end < uri.length && uri[end] !== "/" && uri[end] !== "?" && uri[end] !== "#") end++;
  return end;
}

/** `user:pass@host` -> `host`, as HAProxy compares an authority with Host. */
function withoutUserinfo(authority: string): string {
  const at = authority.lastIndexOf("@");
  return at === -1 ? authority : authority.slice(at + 1);
}

/** `host:80` -> `host` for an http(s) default port. */
function withoutDefaultPort(authority: string, scheme: string): string {
  const port = DEFAULT_PORTS[scheme];
  if (port === undefined) return authority;
  const colon = authority.lastIndexOf(":");
  if (colon === -1 || authority.indexOf("]", colon) !== -1) return authority;
  return authority.slice(colon + 1) === port ? authority.slice(0, colon) : authority;
}

function hasToken(h: Headers, name: string, token: string): boolean {
  for (let i = 0; i < h.names.length; i++) {
    if (h.names[i] !== name) continue;
    const v = h.values[i]!;
    let from = 0;
    while (from <= v.length) {
      let comma = v.indexOf(",", from);
      if (comma === -1) comma = v.length;
      if (v.slice(from, comma).trim().toLowerCase() === token) return true;
      from = comma + 1;
    }
  }
  return false;
}

/**
 * What HAProxy's H1 layer refuses (400) or rewrites in a parsed request: several Host headers
 * with different values (identical ones are merged), an absolute-form target whose authority
 * differs from Host, the default port of an http/https absolute target (removed from the
 * target and from Host), a WebSocket upgrade without a valid Sec-WebSocket-Key. Returns the
 * reason of a refusal, or null.
 */
function checkRequest(head: RequestHead): string | null {
  const h = head.headers;
  let host: string | undefined;
  for (let i = 0; i < h.names.length; i++) {
    if (h.names[i] !== "host") continue;
    if (host === undefined) {
      host = h.values[i]!;
      continue;
    }
    if (h.values[i] !== host) return "several Host headers with different values";
    h.names.splice(i, 1);
    h.values.splice(i, 1);
    i--;
  }
  const c0 = head.uri.charCodeAt(0);
  if (c0 !== 47 && c0 !== 42 && head.method !== "CONNECT") {
    const abs = absoluteParts(head.uri);
    if (abs === undefined) {
      // Neither origin-form, asterisk nor absolute-form: HAProxy reads the target up to its
      // first '/', '?' or '#' as an authority (userinfo dropped) that Host must match, so
      // `GET foo/x` with `Host: foo` (or no Host) passes and `GET ?x` or `GET http:/x` not.
      const authority = withoutUserinfo(head.uri.slice(0, authorityEnd(head.uri, 0)));
      if (authority === "") return "invalid request target";
      if (host !== undefined && host.toLowerCase() !== authority.toLowerCase()) {
        return "request target's authority differs from Host";
      }
    } else {
      // An absolute target whose path does not start with '/' (`http://h?x`): refused.
      if (abs.rest !== "" && abs.rest[0] !== "/") return "invalid request target";
      const authority = withoutDefaultPort(withoutUserinfo(abs.authority), abs.scheme);
      if (
        host !== undefined &&
        withoutDefaultPort(host, abs.scheme).toLowerCase() !== authority.toLowerCase()
      )
        return "absolute target's authority differs from Host";
      if (authority !== abs.authority && !abs.authority.includes("@")) {
        head.uri = `${head.uri.slice(0, head.uri.indexOf("://") + 3)}${authority}${abs.rest}`;
        for (let i = 0; i < h.names.length; i++) if (h.names[i] === "host") h.values[i] = authority;
      }
    }
  }
  if (hasToken(h, "upgrade", "websocket") && hasToken(h, "connection", "upgrade")) {
    const key = getHeader(h, "sec-websocket-key");
    if (key === undefined || key.length !== 24) return "WebSocket upgrade without a valid Sec-WebSocket-Key";
  }
  return null;
}

/** Parses a response head from buf[start..], same conventions as parseRequestHead (502s). */
export function parseResponseHead(buf: Buffer, start: number, limits: HeadLimits): ParseResult<ResponseHead> {
  const s = start;
  const avail = Math.min(buf.length, s + limits.maxHead);
  const lf = buf.indexOf(10, s);
  if (lf === -1 || lf >= avail) {
    if (buf.length - s >= limits.maxHead) return fail("response head too large", s + limits.maxHead, 502);
    return null;
  }
  const le = lf > s && buf[lf - 1] === 13 ? lf - 1 : lf;
  if (le - s < 9 || !isBlank(buf[s + 8])) return fail("invalid status line", s, 502);
  const version = parseVersion(buf, s, s + 8);
  if (version < 0) return fail("invalid HTTP version in status line", s, 502);
  let i = s + 9;
  while (i < le && isBlank(buf[i])) i++;
  const cs = i;
  let status = 0;
  while (i < le && buf[i]! >= 0x30 && buf[i]! <= 0x39) {
    status = status * 10 + (buf[i]! - 0x30);
    i++;
  }
  // HAProxy takes any run of digits; fulcrum refuses codes below 100 (see README).
  if (i === cs || status < 100 || status > 99999) return fail("invalid status code", cs, 502);
  if (i < le && !isBlank(buf[i])) return fail("invalid status code", i, 502);
  const code = buf.toString("latin1", cs, i);
  while (i < le && isBlank(buf[i])) i++;
  for (let j = i; j < le; j++) {
    if (BADVAL[buf[j]!] === 1) return fail("invalid character in reason phrase", j, 502);
  }
  const reason = le > i ? buf.toString("latin1", i, le) : "";
  const headers: Headers = { names: [], values: [] };
  const r = parseHeaderLines(buf, lf + 1, avail, headers, limits.maxHeaders);
  if (typeof r !== "number") return { ...r, status: 502 };
  if (r === -1) {
    if (buf.length - s >= limits.maxHead) return fail("response head too large", s + limits.maxHead, 502);
    return null;
  }
  if (htxHeadSize("HTTP/1.1", code, reason, headers) > limits.maxHead) {
    return fail("response head too large", s, 502);
  }
  return {
    ok: true,
    head: { version, proto: protoOf(buf, s, version), status, code, reason, headers },
    length: r - start,
  };
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
