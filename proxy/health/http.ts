/**
 * HTTP checks (`option httpchk`, `http-check expect`): the request bytes, computed once per
 * backend, and the verdict on what the server answered. Both match HAProxy 2.6 byte for byte
 * and word for word:
 *
 * - `option httpchk HEAD /login HTTP/1.0` sends exactly `HEAD /login HTTP/1.0\r\n\r\n`;
 *   header lines (1.4's `\r\nHost:\ x` in the version, or `http-check send hdr`) follow the
 *   request line with lowercased names, then `content-length` (the body's, or 0 for a method
 *   such as POST that expects one), and an HTTP/1.1 check ends with `connection: close`.
 * - Without `http-check expect`, 2xx and 3xx pass (L7OK); other statuses are L7STS with the
 *   reason phrase as info; a reply that is not a complete HTTP head is L7RSP.
 * - `expect string/rstring` look at the body only (the status is not checked).
 */
import type { HttpCheck, HttpCheckExpect } from "../config/model.js";
import type { CheckOutcome } from "./status.js";

/**
 * Methods HAProxy's HTTP/1 output sends without a body and without `content-length: 0`
 * (measured on 2.6.12: POST, PUT, PATCH, TRACE, CONNECT and unknown or lowercase methods
 * get `content-length: 0`).
 */
const BODYLESS_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "DELETE"]);

/**
 * The bytes of the check request: request line, the header lines (names lowercased), the
 * body's length, `connection: close` for HTTP/1.1, then the body.
 */
export function checkRequest(chk: HttpCheck): Buffer {
  let head = `${chk.method} ${chk.uri} ${chk.version}\r\n`;
  for (const [name, value] of chk.headers) head += `${name.toLowerCase()}: ${value}\r\n`;
  if (chk.body !== undefined) head += `content-length: ${Buffer.byteLength(chk.body, "latin1")}\r\n`;
  else if (!BODYLESS_METHODS.has(chk.method)) head += "content-length: 0\r\n";
  if (chk.version.toUpperCase() === "HTTP/1.1") head += "connection: close\r\n";
  return Buffer.from(`${head}\r\n${chk.body ?? ""}`, "latin1");
}

/** A parsed response head, or why it is not one yet. */
export type HeadParse =
  | { readonly kind: "incomplete" }
  | { readonly kind: "invalid" }
  | {
      readonly kind: "head";
      readonly code: number;
      readonly reason: string;
      /** Offset of the body in the buffer. */
      readonly bodyAt: number;
      /** Content-Length when given. */
      readonly length: number | undefined;
      readonly chunked: boolean;
    };

const STATUS_LINE = /^HTTP\/\d\.\d (\d{3})(?: (.*))?$/;

export function parseHead(buf: Buffer): HeadParse {
  const text = buf.toString("latin1");
  let end = text.indexOf("\r\n\r\n");
  let bodyAt = end + 4;
  const lf = text.indexOf("\n\n");
  if (lf >= 0 && (end < 0 || lf < end)) {
    end = lf;
    bodyAt = lf + 2;
  }
  if (end < 0) {
    // A status line that cannot become valid is already invalid.
    const firstLine = text.split(/\r?\n/, 1)[0] ?? "";
    if (text.includes("\n") && !STATUS_LINE.test(firstLine)) return { kind: "invalid" };
    return { kind: "incomplete" };
  }
  const lines = text.slice(0, end).split(/\r?\n/);
  const m = STATUS_LINE.exec(lines[0] ?? "");
  if (!m) return { kind: "invalid" };
  let length: number | undefined;
  let chunked = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) return { kind: "invalid" };
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-length") length = Number.parseInt(value, 10);
    else if (name === "transfer-encoding") chunked = /chunked/i.test(value);
  }
  return { kind: "head", code: Number(m[1]), reason: m[2] ?? "", bodyAt, length, chunked };
}

/** Expectations that need the body (string, rstring), so the checker reads until its end. */
export function needsBody(expect: HttpCheckExpect | undefined): boolean {
  return expect !== undefined && (expect.kind === "string" || expect.kind === "rstring");
}

/** A compiled `http-check expect`: the test on the status or the body. */
export interface Expectation {
  readonly needsBody: boolean;
  judge(code: number, reason: string, body: string): CheckOutcome;
}

const STATUS_OK = (code: number) => code >= 200 && code < 400;

function statusMatcher(value: string): (code: number) => boolean {
  const parts = value.split(",").map((p) => p.trim());
  const tests = parts.map((p) => {
    const dash = p.indexOf("-");
    if (dash > 0) {
      const lo = Number(p.slice(0, dash));
      const hi = Number(p.slice(dash + 1));
      return (c: number) => c >= lo && c <= hi;
    }
    const n = Number(p);
    return (c: number) => c === n;
  });
  return (c) => tests.some((t) => t(c));
}

const BODY_MISSING = "HTTP content check could not find a response body";
const BODY_NO_MATCH = "HTTP content check did not match";
const BODY_UNWANTED = "HTTP check matched unwanted content";

/** Compiles the expectation once per backend. */
export function compileExpect(expect: HttpCheckExpect | undefined): Expectation {
  const wrongStatus = (code: number, reason: string): CheckOutcome => ({
    status: "L7STS",
    code,
    info: reason,
  });
  const passed = (code: number): CheckOutcome => ({ status: "L7OK", code, info: "" });
  if (expect === undefined) {
    return {
      needsBody: false,
      judge: (code, reason) => (STATUS_OK(code) ? passed(code) : wrongStatus(code, reason)),
    };
  }
  const neg = expect.negate;
  if (expect.kind === "status" || expect.kind === "rstatus") {
    const test =
      expect.kind === "status"
        ? statusMatcher(expect.value)
        : (
            (re: RegExp) => (c: number) =>
              re.test(String(c))
          )(new RegExp(expect.value));
    return {
      needsBody: false,
      judge: (code, reason) => (test(code) !== neg ? passed(code) : wrongStatus(code, reason)),
    };
  }
  const match =
    expect.kind === "string"
      ? (
          (s: string) => (body: string) =>
            body.includes(s)
        )(expect.value)
      : (
          (re: RegExp) => (body: string) =>
            re.test(body)
        )(new RegExp(expect.value));
  return {
    needsBody: true,
    judge: (code, _reason, body) => {
      if (body.length === 0) return { status: "L7RSP", info: BODY_MISSING };
      const found = match(body);
      if (found && neg) return { status: "L7RSP", info: BODY_UNWANTED };
      if (!found && !neg) return { status: "L7RSP", info: BODY_NO_MATCH };
      return passed(code);
    },
  };
}

/** Decodes a chunked body as far as it goes; `done` once the last chunk was seen. */
export function dechunk(buf: Buffer): { body: Buffer; done: boolean } {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = buf.indexOf("\r\n", at, "latin1");
    if (eol < 0) return { body: Buffer.concat(parts), done: false };
    const size = Number.parseInt(buf.toString("latin1", at, eol).split(";")[0]!.trim(), 16);
    if (!Number.isFinite(size)) return { body: Buffer.concat(parts), done: true };
    if (size === 0) return { body: Buffer.concat(parts), done: true };
    const start = eol + 2;
    if (buf.length < start + size) {
      parts.push(buf.subarray(start));
      return { body: Buffer.concat(parts), done: false };
    }
    parts.push(buf.subarray(start, start + size));
    at = start + size + 2;
  }
}
