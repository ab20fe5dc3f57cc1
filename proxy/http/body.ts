/**
 * Message body framing: where a body ends, so that one connection can carry the next
 * message. Content-Length bodies pass through untouched; chunked bodies are decoded and
 * re-encoded as HAProxy does (chunk extensions dropped, trailers kept with lowercased
 * names), which also means a malformed chunk never reaches the other side.
 */
import type { Headers } from "./h1.js";
import { headerTokens } from "./h1.js";

export type Framing =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  /** Response body delimited by the server closing the connection. */
  | { kind: "close" };

export type FramingResult = { ok: true; framing: Framing } | { ok: false; reason: string };

const NONE: Framing = { kind: "none" };
const CHUNKED: Framing = { kind: "chunked" };
const CLOSE: Framing = { kind: "close" };

/** Parses one Content-Length value list ("5", "5, 5"); -1 when invalid or inconsistent. */
function contentLengthOf(h: Headers): number | "absent" | "invalid" {
  let value = -1;
  let seen = false;
  for (let i = 0; i < h.names.length; i++) {
    if (h.names[i] !== "content-length") continue;
    for (const part of h.values[i]!.split(",")) {
      const t = part.trim();
      if (!/^[0-9]{1,15}$/.test(t)) return "invalid";
      const n = Number(t);
      if (seen && n !== value) return "invalid";
      value = n;
      seen = true;
    }
  }
  return seen ? value : "absent";
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

/**
 * Request framing (RFC 9112 section 6). Transfer-Encoding wins over Content-Length, which is
 * then removed (HAProxy 2.6 does the same rather than rejecting); a Transfer-Encoding that
 * does not end in `chunked`, an invalid or inconsistent Content-Length are errors (400).
 * Fixes the headers in place.
 */
export function requestFraming(h: Headers, version: number): FramingResult {
  const te = headerTokens(h, "transfer-encoding");
  if (te.length > 0) {
    if (version < 11) return { ok: false, reason: "Transfer-Encoding in an HTTP/1.0 request" };
    if (te[te.length - 1] !== "chunked")
      return { ok: false, reason: "Transfer-Encoding does not end with chunked" };
    if (te.indexOf("chunked") !== te.length - 1)
      return { ok: false, reason: "chunked applied more than once" };
    removeAll(h, "content-length");
    return { ok: true, framing: CHUNKED };
  }
  const cl = contentLengthOf(h);
  if (cl === "invalid") return { ok: false, reason: "invalid or differing Content-Length" };
  if (cl === "absent") return { ok: true, framing: NONE };
  normaliseContentLength(h, cl);
  return { ok: true, framing: cl === 0 ? NONE : { kind: "length", length: cl } };
}

/** Response framing: no body for HEAD, 1xx, 204, 304; otherwise TE, CL, or close-delimited. */
export function responseFraming(h: Headers, status: number, method: string): FramingResult {
  const bodyless = method === "HEAD" || status < 200 || status === 204 || status === 304;
  const te = headerTokens(h, "transfer-encoding");
  if (te.length > 0) {
    removeAll(h, "content-length");
    if (bodyless) return { ok: true, framing: NONE };
    if (te[te.length - 1] !== "chunked") return { ok: true, framing: CLOSE };
    return { ok: true, framing: CHUNKED };
  }
  const cl = contentLengthOf(h);
  if (cl === "invalid") return { ok: false, reason: "invalid or differing Content-Length in response" };
  if (cl !== "absent") normaliseContentLength(h, cl);
  if (bodyless) return { ok: true, framing: NONE };
  if (cl === "absent") return { ok: true, framing: CLOSE };
  return { ok: true, framing: cl === 0 ? NONE : { kind: "length", length: cl } };
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
  feed(buf: Buffer, start: number, emit: Emit): FeedResult | { error: string; consumed: number };
  /** Body bytes seen so far (payload only, as HAProxy counts them for logs). */
  readonly bytes: number;
}

class LengthDecoder implements BodyDecoder {
  private remaining: number;
  bytes = 0;
  constructor(length: number) {
    this.remaining = length;
  }
  feed(buf: Buffer, start: number, emit: Emit): FeedResult {
    const avail = buf.length - start;
    if (avail <= 0) return { done: this.remaining === 0, consumed: 0 } as FeedResult;
    if (avail < this.remaining) {
      emit(start === 0 ? buf : buf.subarray(start));
      this.remaining -= avail;
      this.bytes += avail;
      return { done: false, consumed: avail };
    }
    const n = this.remaining;
    emit(start === 0 && n === buf.length ? buf : buf.subarray(start, start + n));
    this.remaining = 0;
    this.bytes += n;
    return { done: true, consumed: n };
  }
}

/** Reads until the connection closes (responses only). */
class CloseDecoder implements BodyDecoder {
  bytes = 0;
  feed(buf: Buffer, start: number, emit: Emit): FeedResult {
    const n = buf.length - start;
    if (n > 0) {
      emit(start === 0 ? buf : buf.subarray(start));
      this.bytes += n;
    }
    return { done: false, consumed: n };
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
  TrailerLine,
}

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = 10 + c;
  HEX[0x61 + c] = 10 + c;
}

/** Largest chunk size accepted (HAProxy refuses sizes that do not fit in 32 bits). */
const MAX_CHUNK = 0x7fffffff;
const MAX_TRAILERS = 16384;

class ChunkedDecoder implements BodyDecoder {
  private state = CS.Size;
  private size = 0;
  private digits = 0;
  private left = 0;
  private trailer = "";
  private trailers = "";
  bytes = 0;

  feed(buf: Buffer, start: number, emit: Emit): FeedResult {
    let i = start;
    const n = buf.length;
    while (i < n) {
      const c = buf[i]!;
      switch (this.state) {
        case CS.Size: {
          const d = HEX[c]!;
          if (d >= 0) {
            this.size = this.size * 16 + d;
            if (++this.digits > 8 || this.size > MAX_CHUNK)
              return { error: "chunk size too large", consumed: i - start };
            i++;
            continue;
          }
          if (this.digits === 0) return { error: "invalid chunk size", consumed: i - start };
          if (c === 0x3b) this.state = CS.Ext;
          else if (c === 0x20 || c === 0x09) this.state = CS.SizeWs;
          else if (c === 13) this.state = CS.SizeLf;
          else if (c === 10) {
            this.endSizeLine(emit);
          } else return { error: "invalid chunk size", consumed: i - start };
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
            this.endSizeLine(emit);
            i++;
          } else return { error: "invalid chunk size", consumed: i - start };
          continue;
        case CS.Ext: {
          // Skip the extension up to the end of line; refuse control characters.
          const lf = buf.indexOf(10, i);
          const stop = lf === -1 ? n : lf;
          for (let j = i; j < stop; j++) {
            const b = buf[j]!;
            if ((b < 0x20 && b !== 0x09 && b !== 13) || b === 0x7f)
              return { error: "invalid chunk extension", consumed: j - start };
          }
          if (lf === -1) {
            i = n;
            continue;
          }
          i = lf + 1;
          this.endSizeLine(emit);
          continue;
        }
        case CS.SizeLf:
          if (c !== 10) return { error: "invalid chunk size line end", consumed: i - start };
          i++;
          this.endSizeLine(emit);
          continue;
        case CS.Data: {
          const take = Math.min(this.left, n - i);
          emit(buf.subarray(i, i + take));
          this.left -= take;
          this.bytes += take;
          i += take;
          if (this.left === 0) {
            this.state = CS.DataCr;
          }
          continue;
        }
        case CS.DataCr:
          if (c === 13) {
            this.state = CS.DataLf;
            i++;
          } else if (c === 10) {
            this.state = CS.Size;
            emit("\r\n");
            i++;
          } else return { error: "missing CRLF after chunk data", consumed: i - start };
          continue;
        case CS.DataLf:
          if (c !== 10) return { error: "missing CRLF after chunk data", consumed: i - start };
          this.state = CS.Size;
          emit("\r\n");
          i++;
          continue;
        case CS.TrailerLine: {
          const lf = buf.indexOf(10, i);
          const stop = lf === -1 ? n : lf;
          this.trailer += buf.toString("latin1", i, stop);
          if (this.trailer.length + this.trailers.length > MAX_TRAILERS)
            return { error: "trailers too large", consumed: stop - start };
          if (lf === -1) {
            i = n;
            continue;
          }
          i = lf + 1;
          const line = this.trailer.endsWith("\r") ? this.trailer.slice(0, -1) : this.trailer;
          this.trailer = "";
          if (line === "") {
            emit(`0\r\n${this.trailers}\r\n`);
            return { done: true, consumed: i - start };
          }
          const colon = line.indexOf(":");
          if (colon <= 0 || /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(line.slice(0, colon)))
            return { error: "invalid trailer line", consumed: i - start };
          this.trailers += `${line.slice(0, colon).toLowerCase()}: ${line.slice(colon + 1).trim()}\r\n`;
          continue;
        }
      }
    }
    return { done: false, consumed: i - start };
  }

  private endSizeLine(emit: Emit): void {
    if (this.size === 0) {
      this.state = CS.TrailerLine;
      return;
    }
    emit(`${this.size.toString(16)}\r\n`);
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

/**
 * Wraps a close-delimited or length body into chunked encoding for a keep-alive HTTP/1.1
 * client (HAProxy does this when it must keep the client connection and the server sent
 * no length). Returns the emit function that encodes, and `end()` for the last chunk.
 */
export function chunkedEncoder(emit: Emit): { emit: Emit; end: () => void } {
  return {
    emit: (piece) => {
      const len = typeof piece === "string" ? Buffer.byteLength(piece, "latin1") : piece.length;
      if (len === 0) return;
      emit(`${len.toString(16)}\r\n`);
      emit(piece);
      emit("\r\n");
    },
    end: () => emit("0\r\n\r\n"),
  };
}
