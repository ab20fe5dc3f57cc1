/**
 * Message body framing: where a body ends, so that one connection can carry the next
 * message. Content-Length bodies pass through untouched. Chunked bodies are decoded and
 * re-encoded as HAProxy 2.6 does: what one read brought becomes one chunk (its size in
 * upper-case hex), extensions are dropped, trailers are parsed like headers (names lowercased,
 * folded lines joined). A read is decoded whole before anything of it is emitted, so a
 * malformed chunk never reaches the other side, not even the valid chunks before it.
 */
import type { Headers } from "./h1.js";
import { parseHeaderLines } from "./h1.js";

export type Framing =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  /** Response body delimited by the server closing the connection. */
  | { kind: "close" };

export type FramingResult =
  | {
      ok: true;
      framing: Framing;
      /**
       * The connection cannot carry another message after this one: a request or response
       * with both Content-Length and Transfer-Encoding, or chunked in HTTP/1.0 (HAProxy
       * closes the client side after such an exchange, the server side too).
       */
      forceClose: boolean;
    }
  | { ok: false; reason: string; status: 400 | 413 | 422 | 502 };

const NONE: Framing = { kind: "none" };
const CHUNKED: Framing = { kind: "chunked" };
const CLOSE: Framing = { kind: "close" };

/** Largest Content-Length HAProxy accepts (it parses into 64 bits; JS numbers stay exact below 2^53). */
const MAX_LENGTH = 2 ** 53 - 1;

function isDigits(t: string): boolean {
  if (t.length === 0) return false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * The Content-Length of a head: its value, "absent", or "invalid" (not digits, empty, too
 * large, or differing values). `single` is true when one header with one value carried it
 * (HAProxy then forwards it as written, leading zeros included).
 */
function contentLengthOf(h: Headers): { value: number; single: boolean } | "absent" | "invalid" {
  let value = -1;
  let count = 0;
  for (let i = 0; i < h.names.length; i++) {
    if (h.names[i] !== "content-length") continue;
    const v = h.values[i]!;
    if (count === 0 && isDigits(v)) {
      const n = Number(v);
      if (n > MAX_LENGTH) return "invalid";
      value = n;
      count = 1;
      continue;
    }
    for (const part of v.split(",")) {
      const t = part.trim();
      if (!isDigits(t)) return "invalid";
      const n = Number(t);
      if (n > MAX_LENGTH || (count > 0 && n !== value)) return "invalid";
      value = n;
      count += 2; // more than one value: normalised
    }
  }
  return count === 0 ? "absent" : { value, single: count === 1 };
}

/** Keeps a single `content-length` header with the normalised value. */
function normaliseContentLength(h: Headers, value: number): void {
  let kept = false;
  for (let i = 0; i < h.names.length; i++) {
    if (h.names[i] !== "content-length") continue;
    if (!kept) {
      h.values[i] = String(value);
      kept = true;
    } else {
      h.names.splice(i, 1);
      h.values.splice(i, 1);
      i--;
    }
  }
}

function removeAll(h: Headers, name: string): void {
  for (let i = h.names.length - 1; i >= 0; i--) {
    if (h.names[i] === name) {
      h.names.splice(i, 1);
      h.values.splice(i, 1);
    }
  }
}

function hasHeader(h: Headers, name: string): boolean {
  return h.names.indexOf(name) !== -1;
}

/**
 * The codings of Transfer-Encoding as HAProxy 2.6 splits them: each comma-separated element
 * trimmed, an empty element counted as a coding of its own (so `,chunked` is "another
 * coding, then chunked"), except after the last comma (`chunked,` is plain chunked).
 */
function transferCodings(h: Headers): string[] {
  const out: string[] = [];
  for (let i = 0; i < h.names.length; i++) {
    if (h.names[i] !== "transfer-encoding") continue;
    const parts = h.values[i]!.split(",");
    for (let k = 0; k < parts.length; k++) {
      const t = parts[k]!.trim().toLowerCase();
      if (t === "" && k === parts.length - 1) continue;
      out.push(t);
    }
  }
  return out;
}

/**
 * Transfer-Encoding as HAProxy 2.6 reads it: "chunked" alone is the only coding it frames;
 * no coding at all is "empty"; a list not ending with chunked, or chunked twice, is
 * malformed; other codings before chunked are refused as unprocessable (422 for a request).
 */
function transferEncoding(h: Headers): "absent" | "empty" | "chunked" | "malformed" | "unsupported" {
  if (!hasHeader(h, "transfer-encoding")) return "absent";
  const te = transferCodings(h);
  if (te.length === 0) return "empty";
  if (te[te.length - 1] !== "chunked") return "malformed";
  if (te.indexOf("chunked") !== te.length - 1) return "malformed";
  return te.length === 1 ? "chunked" : "unsupported";
}

/** Methods HAProxy 2.6 refuses a body for in an HTTP/1.0 request (413). */
const NO_BODY_IN_HTTP10 = new Set(["GET", "HEAD", "DELETE"]);

/**
 * Request framing (RFC 9112 section 6, as HAProxy 2.6 applies it). Transfer-Encoding wins
 * over Content-Length, which is then removed and the connection closed after the exchange;
 * chunked is accepted in HTTP/1.0 too (same close). Fixes the headers in place.
 */
export function requestFraming(h: Headers, version: number, method: string): FramingResult {
  switch (transferEncoding(h)) {
    case "malformed":
    case "empty":
      return { ok: false, reason: "malformed Transfer-Encoding", status: 400 };
    case "unsupported":
      return { ok: false, reason: "Transfer-Encoding other than chunked", status: 422 };
    case "chunked": {
      // The Content-Length is dropped, but a malformed one still fails the request.
      const hadLength = hasHeader(h, "content-length");
      if (hadLength && contentLengthOf(h) === "invalid") {
        return { ok: false, reason: "invalid or differing Content-Length next to chunked", status: 400 };
      }
      if (version < 11 && NO_BODY_IN_HTTP10.has(method)) {
        return { ok: false, reason: `a body in an HTTP/1.0 ${method} request`, status: 413 };
      }
      if (hadLength) removeAll(h, "content-length");
      return { ok: true, framing: CHUNKED, forceClose: hadLength || version < 11 };
    }
    case "absent":
      break;
  }
  const cl = contentLengthOf(h);
  if (cl === "invalid") return { ok: false, reason: "invalid or differing Content-Length", status: 400 };
  if (cl === "absent") return { ok: true, framing: NONE, forceClose: false };
  if (cl.value > 0 && version < 11 && NO_BODY_IN_HTTP10.has(method)) {
    return { ok: false, reason: `a body in an HTTP/1.0 ${method} request`, status: 413 };
  }
  if (!cl.single) normaliseContentLength(h, cl.value);
  return {
    ok: true,
    framing: cl.value === 0 ? NONE : { kind: "length", length: cl.value },
    forceClose: false,
  };
}

/**
 * Response framing: no body for HEAD, 1xx, 204, 304; otherwise chunked, Content-Length, or
 * close-delimited. A 204 loses its Content-Length and Transfer-Encoding, as HAProxy sends it;
 * a Transfer-Encoding other than plain chunked is an invalid response (502).
 */
export function responseFraming(h: Headers, status: number, method: string, version: number): FramingResult {
  const bodyless = method === "HEAD" || status < 200 || status === 204 || status === 304;
  const te = transferEncoding(h);
  if (te === "malformed" || te === "unsupported")
    return { ok: false, reason: "Transfer-Encoding other than chunked in response", status: 502 };
  if (status === 204) {
    removeAll(h, "content-length");
    removeAll(h, "transfer-encoding");
    return { ok: true, framing: NONE, forceClose: false };
  }
  // An interim response has no body: a length there would mislead the client.
  if (status < 200) removeAll(h, "content-length");
  if (te === "chunked") {
    const hadLength = hasHeader(h, "content-length");
    if (hadLength && contentLengthOf(h) === "invalid") {
      return {
        ok: false,
        reason: "invalid or differing Content-Length next to chunked in response",
        status: 502,
      };
    }
    if (hadLength) removeAll(h, "content-length");
    return { ok: true, framing: bodyless ? NONE : CHUNKED, forceClose: hadLength || version < 11 };
  }
  if (te === "empty") {
    // HAProxy relays a response whose Transfer-Encoding names no coding up to the close,
    // its Content-Length dropped.
    removeAll(h, "content-length");
    return { ok: true, framing: bodyless ? NONE : CLOSE, forceClose: false };
  }
  const cl = contentLengthOf(h);
  if (cl === "invalid")
    return { ok: false, reason: "invalid or differing Content-Length in response", status: 502 };
  if (cl !== "absent" && !cl.single) normaliseContentLength(h, cl.value);
  if (bodyless) return { ok: true, framing: NONE, forceClose: false };
  if (cl === "absent") return { ok: true, framing: CLOSE, forceClose: false };
  return {
    ok: true,
    framing: cl.value === 0 ? NONE : { kind: "length", length: cl.value },
    forceClose: false,
  };
}

// ---- streaming decoders ----------------------------------------------------------------

/** Receives decoded output pieces, ready to write to the other side. */
export type Emit = (piece: Buffer | string) => void;

export type FeedResult =
  /** All of `buf` from `start` consumed; more is needed. */
  | { done: false; consumed: number }
  /** The body ended after `consumed` bytes; bytes after it belong to the next message. */
  | { done: true; consumed: number }
  | { error: string; consumed: number };

export interface BodyDecoder {
  /** Consumes body bytes from buf[start..], emitting what to forward. */
  feed(buf: Buffer, start: number, emit: Emit): FeedResult;
  /** Body bytes seen so far (payload only, as HAProxy counts them for logs). */
  readonly bytes: number;
}

// Results are reused objects: a decoder returns one per feed and the caller reads it at once.
function result(r: { done: boolean; consumed: number }, done: boolean, consumed: number): FeedResult {
  r.done = done;
  r.consumed = consumed;
  return r as FeedResult;
}

class LengthDecoder implements BodyDecoder {
  private remaining: number;
  bytes = 0;
  private readonly r = { done: false, consumed: 0 };
  constructor(length: number) {
    this.remaining = length;
  }
  feed(buf: Buffer, start: number, emit: Emit): FeedResult {
    const avail = buf.length - start;
    if (avail <= 0) return result(this.r, this.remaining === 0, 0);
    if (avail < this.remaining) {
      emit(start === 0 ? buf : buf.subarray(start));
      this.remaining -= avail;
      this.bytes += avail;
      return result(this.r, false, avail);
    }
    const n = this.remaining;
    emit(start === 0 && n === buf.length ? buf : buf.subarray(start, start + n));
    this.remaining = 0;
    this.bytes += n;
    return result(this.r, true, n);
  }
}

/** Reads until the connection closes (responses only). */
class CloseDecoder implements BodyDecoder {
  bytes = 0;
  private readonly r = { done: false, consumed: 0 };
  feed(buf: Buffer, start: number, emit: Emit): FeedResult {
    const n = buf.length - start;
    if (n > 0) {
      emit(start === 0 ? buf : buf.subarray(start));
      this.bytes += n;
    }
    return result(this.r, false, n);
  }
}

enum CS {
  Size,
  SizeWs,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  Trailers,
}

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = 10 + c;
  HEX[0x61 + c] = 10 + c;
}

/** Chunk sizes must stay below 2^52 (HAProxy refuses a 14th significant hex digit). */
const MAX_CHUNK = 2 ** 52;
/** Largest trailer block accepted (HAProxy: it must fit its buffer). */
const MAX_TRAILERS = 15360;
const TRAILER_LIMITS = 101;

class ChunkedDecoder implements BodyDecoder {
  private state = CS.Size;
  private size = 0;
  private digits = 0;
  private left = 0;
  private trailers: Buffer | null = null;
  bytes = 0;
  /** Data slices of the current feed, emitted as one chunk when the feed ends well. */
  private readonly slices: Buffer[] = [];
  private pendingBytes = 0;

  feed(buf: Buffer, start: number, emit: Emit): FeedResult {
    const slices = this.slices;
    slices.length = 0;
    this.pendingBytes = 0;
    const r = this.decode(buf, start);
    if ("error" in r) {
      slices.length = 0;
      return r;
    }
    if (this.pendingBytes > 0) {
      emit(`${this.pendingBytes.toString(16).toUpperCase()}\r\n`);
      for (const s of slices) emit(s);
      emit("\r\n");
      slices.length = 0;
    }
    if (r.done) emit(this.lastChunk());
    return r;
  }

  private take(buf: Buffer, from: number, to: number): void {
    this.slices.push(buf.subarray(from, to));
    this.pendingBytes += to - from;
    this.bytes += to - from;
  }

  private decode(buf: Buffer, start: number): FeedResult {
    let i = start;
    const n = buf.length;
    while (i < n) {
      const c = buf[i]!;
      switch (this.state) {
        case CS.Size: {
          const d = HEX[c]!;
          if (d >= 0) {
            this.size = this.size * 16 + d;
            this.digits++;
            if (this.size >= MAX_CHUNK) return { error: "chunk size too large", consumed: i - start };
            i++;
            continue;
          }
          if (this.digits === 0) return { error: "invalid chunk size", consumed: i - start };
          if (c === 0x3b) this.state = CS.Ext;
          else if (c === 0x20 || c === 0x09) this.state = CS.SizeWs;
          else if (c === 13) this.state = CS.SizeLf;
          else if (c === 10) this.endSizeLine();
          else return { error: "invalid chunk size", consumed: i - start };
          i++;
          continue;
        }
        case CS.SizeWs:
          if (c === 0x20 || c === 0x09) i++;
          else if (c === 0x3b) {
            this.state = CS.Ext;
            i++;
          } else if (c === 13) {
            this.state = CS.SizeLf;
            i++;
          } else if (c === 10) {
            this.endSizeLine();
            i++;
          } else return { error: "invalid chunk size", consumed: i - start };
          continue;
        case CS.Ext: {
          // HAProxy skips a chunk extension up to the end of the line, whatever it holds.
          const lf = buf.indexOf(10, i);
          if (lf === -1) {
            i = n;
            continue;
          }
          i = lf + 1;
          this.endSizeLine();
          continue;
        }
        case CS.SizeLf:
          if (c !== 10) return { error: "invalid chunk size line end", consumed: i - start };
          i++;
          this.endSizeLine();
          continue;
        case CS.Data: {
          const take = Math.min(this.left, n - i);
          this.take(buf, i, i + take);
          this.left -= take;
          i += take;
          if (this.left === 0) this.state = CS.DataCr;
          continue;
        }
        case CS.DataCr:
          if (c === 13) {
            this.state = CS.DataLf;
            i++;
          } else if (c === 10) {
            this.state = CS.Size;
            i++;
          } else return { error: "missing CRLF after chunk data", consumed: i - start };
          continue;
        case CS.DataLf:
          if (c !== 10) return { error: "missing CRLF after chunk data", consumed: i - start };
          this.state = CS.Size;
          i++;
          continue;
        case CS.Trailers: {
          const r = this.trailerBlock(buf, i);
          if (r === -1) return { done: false, consumed: n - start };
          if (r < -1) return { error: "invalid trailers", consumed: n - start };
          return { done: true, consumed: r - start };
        }
      }
    }
    return { done: false, consumed: i - start };
  }

  /**
   * Accumulates the trailer block (from `i`). Returns the offset in `buf` just after the
   * empty line, -1 when more is needed, -2 when it is invalid or too large.
   */
  private trailerBlock(buf: Buffer, i: number): number {
    const prev = this.trailers === null ? 0 : this.trailers.length;
    const block = prev === 0 ? buf.subarray(i) : Buffer.concat([this.trailers!, buf.subarray(i)]);
    // An empty trailer block is the last-chunk's line end alone.
    if (block.length >= 1 && block[0] === 10) return i + 1 - prev;
    if (block.length >= 2 && block[0] === 13 && block[1] === 10) return i + 2 - prev;
    const h: Headers = { names: [], values: [] };
    const r = parseHeaderLines(block, 0, block.length, h, TRAILER_LIMITS);
    if (typeof r !== "number") return -2;
    if (r === -1) {
      if (block.length > MAX_TRAILERS) return -2;
      this.trailers = Buffer.from(block);
      return -1;
    }
    let out = "";
    for (let k = 0; k < h.names.length; k++) out += `${h.names[k]}: ${h.values[k]}\r\n`;
    this.trailerText = out;
    return i + r - prev;
  }

  private trailerText = "";

  private lastChunk(): string {
    return `0\r\n${this.trailerText}\r\n`;
  }

  private endSizeLine(): void {
    if (this.size === 0) {
      this.state = CS.Trailers;
      return;
    }
    this.left = this.size;
    this.size = 0;
    this.digits = 0;
    this.state = CS.Data;
  }
}

export function createDecoder(f: Framing): BodyDecoder | null {
  switch (f.kind) {
    case "none":
      return null;
    case "length":
      return new LengthDecoder(f.length);
    case "chunked":
      return new ChunkedDecoder();
    case "close":
      return new CloseDecoder();
  }
}
