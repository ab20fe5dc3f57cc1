/**
 * HAProxy 2.6's log lines, byte for byte: `option httplog`, `option tcplog`, and the
 * "Connect from" line HAProxy writes when a proxy logs without either option.
 *
 * Pure: values in, a string out (no syslog header: syslog.ts frames it). What depends only
 * on the frontend (its name, the capture names and lengths) is prepared once by
 * `httpLogFormatter(frontend)`; `formatHttpLog(rec)` is the same without captures.
 *
 *   %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc
 *   %sq/%bq %hr %hs %{+Q}r
 */
import { logDate } from "./date.js";

/** Headers as the request path keeps them: parallel name and value lists, in order. */
export interface HeaderList {
  readonly names: readonly string[];
  readonly values: readonly string[];
}

/** The fields of one HTTP log line, as the request path measured them. */
export interface HttpLogRecord {
  readonly clientIp: string;
  readonly clientPort: number;
  /** %tr: epoch ms the first byte of the request arrived (the accept date for a first request). */
  readonly acceptDate: number;
  readonly frontend: string;
  /** The backend that handled the request (the frontend's name when none was chosen). */
  readonly backend: string;
  /** Server name, `<NOSRV>` before any server, `<STATS>` for the stats page. */
  readonly server: string;
  /** HAProxy's timers in ms, -1 where the phase was never reached. */
  readonly tr: number;
  readonly tw: number;
  readonly tc: number;
  /** Tr (server response time): named trs because tr is taken. */
  readonly trs: number;
  readonly ta: number;
  readonly status: number;
  /** Bytes sent to the client, headers included (%B). */
  readonly bytesOut: number;
  /**
   * `option logasap`: logged once the response headers went out, so Ta and the bytes are
   * what they were then, with HAProxy's `+` in front.
   */
  readonly asap: boolean;
  /** Four letters, see `terminationState`. */
  readonly termination: string;
  readonly actconn: number;
  readonly feconn: number;
  readonly beconn: number;
  readonly srvconn: number;
  readonly retries: number;
  /** The request was redispatched after retries: `+` before the retry count. */
  readonly redispatched: boolean;
  readonly srvQueue: number;
  readonly backendQueue: number;
  /** The request line as received (without CRLF). Ignored when `badRequest`. */
  readonly requestLine: string;
  /** The request never parsed: logged as `"<BADREQ>"`, without capture blocks. */
  readonly badRequest: boolean;
  /** Where captures are read from (`capture request header`, `capture cookie`). */
  readonly requestHeaders?: HeaderList;
  readonly responseHeaders?: HeaderList;
}

/** What a frontend captures (`capture cookie`, `capture request|response header`). */
export interface CaptureConfig {
  readonly name: string;
  readonly captureCookie?: { readonly name: string; readonly len: number };
  readonly captureRequestHeaders: readonly { readonly name: string; readonly len: number }[];
  readonly captureResponseHeaders: readonly { readonly name: string; readonly len: number }[];
}

/** HAProxy keeps at most this many characters of the request line (tune.http.logurilen - 1). */
export const REQUEST_LINE_MAX = 1023;

// ---- escaping (section 8.6 "Non-printable characters") ----------------------------------

const HEX = "0123456789ABCDEF";

function escapeTable(extra: string): boolean[] {
  const t: boolean[] = [];
  for (let c = 0; c < 256; c++) t.push(c < 32 || c > 126);
  for (const ch of extra) t[ch.charCodeAt(0)] = true;
  return t;
}

/** Request line: non-printables, `"` and `#`. */
const URI_ESCAPES = escapeTable('"#');
/** Captured headers: also `{`, `|`, `}`, which delimit the capture blocks. */
const HEADER_ESCAPES = escapeTable('"#{|}');

function hex(byte: number): string {
  return `#${HEX[byte >> 4]}${HEX[byte & 15]}`;
}

/** `#XX` for each byte HAProxy would not log as is; characters above 0xFF as their UTF-8 bytes. */
export function logEscape(s: string, table: readonly boolean[] = URI_ESCAPES): string {
  let i = 0;
  const n = s.length;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 255 || table[c]) break;
  }
  if (i === n) return s;
  let out = s.slice(0, i);
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) {
      const cp = s.codePointAt(i) ?? c;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), "utf8")) out += hex(b);
    } else if (table[c]) {
      out += hex(c);
    } else {
      out += s[i];
    }
  }
  return out;
}

// ---- termination state (section 8.5) ----------------------------------------------------

/** First letter: what ended the session. */
export type FirstEvent = "C" | "S" | "P" | "L" | "R" | "I" | "D" | "U" | "K" | "c" | "s" | "-";
/** Second letter: where the session was when it ended. */
export type SessionPhase = "R" | "Q" | "C" | "H" | "D" | "L" | "T" | "-";
/** Third letter: the persistence cookie the client sent. */
export type ClientCookieFlag = "N" | "I" | "D" | "V" | "E" | "O" | "U" | "-";
/** Fourth letter: what happened to the persistence cookie in the response. */
export type ServerCookieFlag = "N" | "I" | "U" | "P" | "R" | "D" | "-";

export interface TerminationParts {
  readonly firstEvent: FirstEvent;
  readonly phase: SessionPhase;
  /** `-` when the backend has no `cookie` (HAProxy prints `-` for both). */
  readonly clientCookie?: ClientCookieFlag;
  readonly serverCookie?: ServerCookieFlag;
}

/** The four letters of `%tsc`, e.g. `--NI`, `SC--`, `sH--`, `LRNN`. */
export function terminationState(p: TerminationParts): string {
  return `${p.firstEvent}${p.phase}${p.clientCookie ?? "-"}${p.serverCookie ?? "-"}`;
}

/**
 * The first two letters HAProxy logs for each way a request ends with an error, keyed by
 * fulcrum's error codes (proxy/errors.ts). A server timeout during the body is `sD` and a
 * client abort depends on the phase: the caller adjusts the phase letter when it knows more.
 */
export const TERMINATION_BY_ERROR: Readonly<Record<string, `${FirstEvent}${SessionPhase}`>> = {
  FUL_BAD_REQUEST: "PR",
  FUL_URI_TOO_LONG: "PR",
  FUL_HEADERS_TOO_LARGE: "PR",
  FUL_PAYLOAD_TOO_LARGE: "PR",
  FUL_REQUEST_TIMEOUT: "cR",
  FUL_NO_SERVER: "SC",
  FUL_QUEUE_TIMEOUT: "sQ",
  FUL_CONNECT_FAILED: "SC",
  FUL_CONNECT_TIMEOUT: "sC",
  FUL_SERVER_TIMEOUT: "sH",
  FUL_BAD_RESPONSE: "PH",
  FUL_SERVER_ABORT: "SH",
  FUL_CLIENT_ABORT: "CD",
};

// ---- captures ---------------------------------------------------------------------------

/** Value of the last header called `lname` (lower case), or undefined. */
function lastHeader(h: HeaderList | undefined, lname: string): string | undefined {
  if (h === undefined) return undefined;
  for (let i = h.names.length - 1; i >= 0; i--) {
    const n = h.names[i]!;
    if (n.length === lname.length && n.toLowerCase() === lname) return h.values[i];
  }
  return undefined;
}

/**
 * `capture cookie NAME len N`: the first cookie whose name starts with NAME, as
 * `name=value`, cut to N characters. Looked for in `Cookie` (request) or `Set-Cookie`
 * (response) headers, in order.
 */
function captureCookie(h: HeaderList | undefined, header: string, prefix: string, len: number): string {
  if (h === undefined) return "-";
  for (let i = 0; i < h.names.length; i++) {
    if (h.names[i]!.toLowerCase() !== header) continue;
    const value = h.values[i]!;
    const parts = header === "cookie" ? value.split(";") : [value.split(";")[0] ?? ""];
    for (const raw of parts) {
      const c = raw.trim();
      if (c.startsWith(prefix) && c.includes("=")) return c.slice(0, len);
    }
  }
  return "-";
}

// ---- the line ---------------------------------------------------------------------------

function timer(ms: number): string {
  return ms < 0 ? "-1" : String(Math.round(ms));
}

/** Formats `option httplog` lines for one frontend; captures prepared once. */
export function httpLogFormatter(fe: CaptureConfig): (rec: HttpLogRecord) => string {
  const feField = ` ${fe.name} `;
  const cookie = fe.captureCookie;
  const reqCaps = fe.captureRequestHeaders.map((c) => ({ lname: c.name.toLowerCase(), len: c.len }));
  const resCaps = fe.captureResponseHeaders.map((c) => ({ lname: c.name.toLowerCase(), len: c.len }));
  const block = (caps: typeof reqCaps, h: HeaderList | undefined): string => {
    let out = "{";
    for (let i = 0; i < caps.length; i++) {
      const c = caps[i]!;
      if (i > 0) out += "|";
      const v = lastHeader(h, c.lname);
      if (v !== undefined) out += logEscape(v.slice(0, c.len), HEADER_ESCAPES);
    }
    return `${out}} `;
  };
  return (rec) => {
    const captured = cookie !== undefined && !rec.badRequest;
    const cc = captured ? captureCookie(rec.requestHeaders, "cookie", cookie.name, cookie.len) : "-";
    const cs = captured ? captureCookie(rec.responseHeaders, "set-cookie", cookie.name, cookie.len) : "-";
    let caps = "";
    if (!rec.badRequest) {
      if (reqCaps.length > 0) caps += block(reqCaps, rec.requestHeaders);
      if (resCaps.length > 0) caps += block(resCaps, rec.responseHeaders);
    }
    const line = rec.badRequest ? "<BADREQ>" : logEscape(rec.requestLine.slice(0, REQUEST_LINE_MAX));
    return (
      `${rec.clientIp}:${rec.clientPort} [${logDate(rec.acceptDate)}]${feField}${rec.backend}/${rec.server} ` +
      `${timer(rec.tr)}/${timer(rec.tw)}/${timer(rec.tc)}/${timer(rec.trs)}/${rec.asap ? "+" : ""}${timer(rec.ta)} ` +
      `${rec.status} ${rec.asap ? "+" : ""}${rec.bytesOut} ${cc} ${cs} ${rec.termination} ` +
      `${rec.actconn}/${rec.feconn}/${rec.beconn}/${rec.srvconn}/${rec.redispatched ? "+" : ""}${rec.retries} ` +
      `${rec.srvQueue}/${rec.backendQueue} ${caps}"${line}"`
    );
  };
}

const noCaptures = new Map<string, (rec: HttpLogRecord) => string>();

/** One `option httplog` line for a frontend without captures (see `httpLogFormatter`). */
export function formatHttpLog(rec: HttpLogRecord): string {
  let f = noCaptures.get(rec.frontend);
  if (f === undefined) {
    f = httpLogFormatter({ name: rec.frontend, captureRequestHeaders: [], captureResponseHeaders: [] });
    noCaptures.set(rec.frontend, f);
  }
  return f(rec);
}

/** `option tcplog`: `%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq`. */
export function formatTcpLog(
  rec: Omit<HttpLogRecord, "tr" | "trs" | "status" | "requestLine" | "badRequest">,
): string {
  return (
    `${rec.clientIp}:${rec.clientPort} [${logDate(rec.acceptDate)}] ${rec.frontend} ${rec.backend}/${rec.server} ` +
    `${timer(rec.tw)}/${timer(rec.tc)}/${timer(rec.ta)} ${rec.bytesOut} ${rec.termination.slice(0, 2)} ` +
    `${rec.actconn}/${rec.feconn}/${rec.beconn}/${rec.srvconn}/${rec.redispatched ? "+" : ""}${rec.retries} ` +
    `${rec.srvQueue}/${rec.backendQueue}`
  );
}

/**
 * What HAProxy logs at accept time for a proxy with `log` but neither `option httplog` nor
 * `option tcplog`: `Connect from 10.0.1.2:33312 to 10.0.3.31:8012 (www/HTTP)`.
 */
export function formatConnectLog(c: {
  readonly clientIp: string;
  readonly clientPort: number;
  readonly localIp: string;
  readonly localPort: number;
  readonly frontend: string;
  readonly mode: "http" | "tcp";
}): string {
  return `Connect from ${c.clientIp}:${c.clientPort} to ${c.localIp}:${c.localPort} (${c.frontend}/${c.mode.toUpperCase()})`;
}
