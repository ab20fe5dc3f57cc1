/**
 * Cookie persistence (`cookie NAME insert ...`): the codec and the decisions, without I/O.
 *
 * Request side: HAProxy parses each Cookie header item by item (`;` and `,` both separate
 * items, double quotes protect a value), tightens `name = value` to `name=value`, picks the
 * server from our cookie, and with `insert indirect` removes our cookie (and the `$Path`-style
 * attributes that follow it) while leaving the other cookies as they were. The removal
 * rules, reproduced here and recorded byte for byte from HAProxy 2.6:
 *   `a=1; SRV=A; b=2` -> `a=1; b=2`     `SRV=A; b=2` -> `b=2`     `a=1; SRV=A` -> `a=1`
 *   `a=1;SRV=A;b=2`  -> `a=1; b=2`     `a=1, SRV=A; b=2` -> `a=1; b=2` (the delimiter after
 *   the removed cookie is kept, followed by one space)   `a=1 ; SRV=A` -> `a=1 `
 *   `SRV=A` alone -> the header is removed.
 *
 * Response side: the server's own Set-Cookie for NAME is removed in insert mode (kept with
 * `preserve`), and the insert string, prepared once per server, is appended when the client
 * had no valid cookie (or its dates need refreshing). The letters are the log's 3rd and 4th
 * termination-state characters (HAProxy's "8.5 Session state at disconnection").
 */
import type { CookieConfig } from "../config/model.js";
import type { BackendRuntime, ServerRuntime } from "../state.js";
import { decodeDate, encodeNow, encodeQuad } from "./dates.js";

/** 3rd letter: N none, I invalid, D server down, V valid, E expired (maxidle), O old (maxlife). */
export type ClientCookieState = "N" | "I" | "D" | "V" | "E" | "O";
/** 4th letter: N none, I inserted, U updated (dates), P provided by the server, D deleted. */
export type ServerCookieState = "N" | "I" | "U" | "P" | "D";

/** Everything derived from `cookie` and the servers' `cookie` values, computed once. */
export interface CookiePlan {
  readonly cfg: CookieConfig;
  readonly name: string;
  /** Seconds (HAProxy counts these in seconds); 0 when not set. */
  readonly maxidle: number;
  readonly maxlife: number;
  /** Servers in declaration order with their cookie value. */
  readonly servers: readonly { readonly server: ServerRuntime; readonly value: string | undefined }[];
  /** The Set-Cookie value for a server, without dates: before and after where dates go. */
  readonly inserts: ReadonlyMap<ServerRuntime, { readonly head: string; readonly tail: string }>;
}

const EXPIRED = "; Expires=Thu, 01-Jan-1970 00:00:01 GMT";

/** Prepares the cookie strings of a backend (undefined when it has no `cookie` line). */
export function compileCookie(backend: BackendRuntime): CookiePlan | undefined {
  const cfg = backend.cfg.cookie;
  if (!cfg) return undefined;
  let attrs = "; path=/";
  for (const d of cfg.domains) attrs += `; domain=${d}`;
  if (cfg.httponly) attrs += "; HttpOnly";
  if (cfg.secure) attrs += "; Secure";
  for (const a of cfg.attrs) attrs += `; ${a}`;
  const inserts = new Map<ServerRuntime, { head: string; tail: string }>();
  for (const s of backend.servers) {
    // A server without a cookie value makes the client forget any cookie it had.
    inserts.set(
      s,
      s.cfg.cookie === undefined
        ? { head: `${cfg.name}=`, tail: `${EXPIRED}${attrs}` }
        : { head: `${cfg.name}=${s.cfg.cookie}`, tail: attrs },
    );
  }
  return {
    cfg,
    name: cfg.name,
    maxidle: cfg.maxidle ? Math.round(cfg.maxidle / 1000) : 0,
    maxlife: cfg.maxlife ? Math.round(cfg.maxlife / 1000) : 0,
    servers: backend.servers.map((s) => ({ server: s, value: s.cfg.cookie })),
    inserts,
  };
}

// ---- request side ----------------------------------------------------------------------

export interface CookieRequest {
  /** The server our cookie designates and that may take the request (HAProxy's SF_DIRECT). */
  readonly server: ServerRuntime | undefined;
  readonly state: ClientCookieState;
  /** Dates found in a valid cookie, seconds (0 when absent or discarded). */
  readonly lastDate: number;
  readonly firstDate: number;
  /**
   * The Cookie header values to forward, in order (a header emptied by the removal is left
   * out); undefined when nothing changed.
   */
  readonly forward: readonly string[] | undefined;
}

export interface CookieRequestOptions {
  /** `option persist`: a cookie for a DOWN server still sends the request there. */
  readonly persist: boolean;
  /** Whether a server may take cookie holders: UP and not in maint (drain keeps them). */
  readonly acceptsCookie?: (s: ServerRuntime) => boolean;
}

/** A server keeps its cookie holders unless it is DOWN or in maint (drain and weight 0 keep them). */
export function acceptsCookieHolders(s: ServerRuntime): boolean {
  return s.up && s.admin !== "maint";
}

interface Txn {
  server: ServerRuntime | undefined;
  state: ClientCookieState;
  lastDate: number;
  firstDate: number;
}

const isSp = (c: string | undefined) => c === " " || c === "\t";
const isDelim = (c: string | undefined) => c === ";" || c === ",";

/** End of a cookie value: the next `;` or `,` outside double quotes. */
function valueEnd(s: string, from: number, end: number): number {
  let quoted = false;
  let escaped = false;
  for (let i = from; i < end; i++) {
    const c = s[i];
    if (escaped) escaped = false;
    else if (quoted) {
      if (c === "\\") escaped = true;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ";" || c === ",") return i;
  }
  return end;
}

/**
 * Reads our cookie from the request's Cookie headers and prepares what to forward. `nowSec` is
 * the current Unix time in seconds (for maxidle/maxlife).
 */
export function readRequestCookies(
  plan: CookiePlan,
  cookieHeaders: readonly string[],
  nowSec: number,
  opts: CookieRequestOptions,
): CookieRequest {
  const txn: Txn = { server: undefined, state: "N", lastDate: 0, firstDate: 0 };
  const remove = plan.cfg.mode === "insert" && plan.cfg.indirect;
  const accepts = opts.acceptsCookie ?? acceptsCookieHolders;
  let changed = false;
  const forward: string[] = [];
  for (const h of cookieHeaders) {
    const out = processHeader(h, plan, txn, nowSec, remove, opts.persist, accepts);
    if (out !== h) changed = true;
    if (out !== null) forward.push(out);
  }
  return {
    server: txn.server,
    state: txn.state,
    lastDate: txn.lastDate,
    firstDate: txn.firstDate,
    forward: changed ? forward : undefined,
  };
}

/** One Cookie header: returns its new value, or null when it must be removed. */
function processHeader(
  header: string,
  plan: CookiePlan,
  txn: Txn,
  nowSec: number,
  remove: boolean,
  persist: boolean,
  accepts: (s: ServerRuntime) => boolean,
): string | null {
  let s = header;
  let end = s.length;
  let prev = 0;
  let delFrom = -1;
  let preserve = false;

  /** Removes what lies between `delFrom` and the delimiter `next` (HAProxy's del_hdr_value). */
  const deleteSpan = (next: number): number => {
    let cut: number;
    let insert: string;
    let resume: number;
    if (delFrom === 0) {
      resume = next < end ? next + 1 : next;
      while (resume < end && isSp(s[resume])) resume++;
      cut = 0;
      insert = "";
    } else {
      cut = delFrom;
      while (cut > 0 && isSp(s[cut - 1])) cut--;
      delFrom = cut;
      resume = next + 1;
      insert = s[next]! + (cut + 1 < next ? " " : "");
      while (resume < end && isSp(s[resume])) resume++;
    }
    s = s.slice(0, cut) + insert + s.slice(resume);
    const delta = cut + insert.length - resume;
    end += delta;
    return delta;
  };

  while (prev < end) {
    let attBeg = prev < end && isDelim(s[prev]) ? prev + 1 : prev;
    while (attBeg < end && isSp(s[attBeg])) attBeg++;
    let equal = attBeg;
    let attEnd = attBeg;
    while (equal < end) {
      const c = s[equal];
      if (c === "=" || c === ";" || c === ",") break;
      equal++;
      if (isSp(c)) continue;
      attEnd = equal;
    }
    let valBeg: number;
    let valEnd: number;
    let next: number;
    if (equal < end && s[equal] === "=") {
      valBeg = equal + 1;
      while (valBeg < end && isSp(s[valBeg])) valBeg++;
      next = valueEnd(s, valBeg, end);
      valEnd = next;
      while (valEnd > valBeg && isSp(s[valEnd - 1])) valEnd--;
    } else {
      valBeg = valEnd = next = equal;
    }

    // `$Version`, `$Path`...: attributes, removed with the cookie they follow.
    if (s[attBeg] === "$") {
      prev = next;
      continue;
    }

    if (equal === next) {
      // A value-less item is not ours: keep it, and flush a pending removal before it.
      preserve = true;
      if (delFrom >= 0) {
        const delta = deleteSpan(prev);
        next += delta;
        prev = delFrom;
        delFrom = -1;
      }
      prev = next;
      continue;
    }

    // Tighten spaces around '=' (HAProxy rewrites them away in every cookie).
    if (attEnd !== equal || valBeg > equal + 1) {
      const name = s.slice(attBeg, attEnd);
      const rest = s.slice(valBeg);
      const before = s.length;
      s = `${s.slice(0, attBeg)}${name}=${rest}`;
      const delta = s.length - before;
      end += delta;
      equal = attEnd;
      valBeg = equal + 1;
      valEnd += delta;
      next += delta;
    }

    if (attEnd - attBeg === plan.name.length && s.startsWith(plan.name, attBeg)) {
      judgeOurCookie(plan, txn, s.slice(valBeg, valEnd), nowSec, persist, accepts);
      if (delFrom < 0 && remove) delFrom = prev;
    } else {
      preserve = true;
      if (delFrom >= 0) {
        const delta = deleteSpan(prev);
        next += delta;
        prev = delFrom;
        delFrom = -1;
      }
    }
    prev = next;
  }

  if (delFrom >= 0) {
    s = preserve ? s.slice(0, delFrom) : "";
  }
  if (s.length === 0 && header.length > 0 && delFrom >= 0) return null;
  return s;
}

/** Evaluates one occurrence of our cookie: `VALUE[|last[|first]]`. */
function judgeOurCookie(
  plan: CookiePlan,
  txn: Txn,
  value: string,
  nowSec: number,
  persist: boolean,
  accepts: (s: ServerRuntime) => boolean,
): void {
  // Once a server is chosen, later occurrences change nothing (HAProxy 2.6: `SRV=B; SRV=C`
  // goes to B and logs V).
  if (txn.server !== undefined) return;
  let id = value;
  let discarded = false;
  const bar = value.indexOf("|");
  if (bar >= 0) {
    id = value.slice(0, bar);
    const afterBar = value.slice(bar + 1);
    const last = decodeDate(afterBar);
    if (last > 0) txn.lastDate = last;
    const bar2 = afterBar.indexOf("|");
    if (bar2 >= 0) {
      const first = decodeDate(afterBar.slice(bar2 + 1));
      if (first > 0) txn.firstDate = first;
    }
  }
  // Too old (maxlife) is checked before too idle (maxidle); a date more than a day in the
  // future is refused too. Either way the cookie is ignored and the dates forgotten.
  if (
    txn.firstDate &&
    plan.maxlife &&
    (nowSec - txn.firstDate > plan.maxlife || txn.firstDate - nowSec > 86400)
  ) {
    txn.state = "O";
    txn.firstDate = txn.lastDate = 0;
    discarded = true;
  } else if (
    txn.lastDate &&
    plan.maxidle &&
    (nowSec - txn.lastDate > plan.maxidle || txn.lastDate - nowSec > 86400)
  ) {
    txn.state = "E";
    txn.firstDate = txn.lastDate = 0;
    discarded = true;
  }
  // An empty value never designates a server (a cookie-less server's cookie is empty).
  let found: ServerRuntime | undefined;
  if (!discarded && id.length > 0) {
    for (const c of plan.servers) {
      if (c.value !== id) continue;
      const ok = accepts(c.server);
      if (ok || persist) {
        found = c.server;
        txn.state = ok ? "V" : "D";
        break;
      }
      txn.state = "D";
    }
  }
  if (found) {
    txn.server = found;
    return;
  }
  if (txn.state !== "D" && txn.state !== "E" && txn.state !== "O") txn.state = "I";
}

// ---- response side ---------------------------------------------------------------------

export interface CookieResponseInput {
  readonly method: string;
  /** What the request side found. */
  readonly request: CookieRequest;
  /** The server that answered. */
  readonly server: ServerRuntime;
  /** The request went to the server its cookie designated (false after a redispatch). */
  readonly direct: boolean;
  /** The server's Set-Cookie header values, in order. */
  readonly setCookies: readonly string[];
  /** The response is cacheable (see cacheable.ts); only consulted with `nocache`. */
  readonly cacheable: boolean;
  readonly nowSec: number;
}

export interface CookieResponse {
  /** Indexes in `setCookies` of the server's cookies to drop (ours, in insert mode). */
  readonly remove: readonly number[];
  /** A Set-Cookie value to append after every other header, when one is inserted. */
  readonly insert: string | undefined;
  /** Append `Cache-Control: private` after the inserted cookie (`nocache`). */
  readonly cachePrivate: boolean;
  readonly state: ServerCookieState;
}

/** The cookie name of a Set-Cookie value (text before the first '=', trimmed). */
function setCookieName(v: string): string {
  const eq = v.indexOf("=");
  const semi = v.indexOf(";");
  const stop = eq < 0 ? (semi < 0 ? v.length : semi) : semi >= 0 && semi < eq ? semi : eq;
  return v.slice(0, stop).trim();
}

export function decideResponseCookie(plan: CookiePlan, r: CookieResponseInput): CookieResponse {
  const remove: number[] = [];
  let found = false;
  let state: ServerCookieState = "N";
  r.setCookies.forEach((v, i) => {
    if (setCookieName(v) !== plan.name) return;
    found = true;
    if (plan.cfg.preserve) {
      state = "P";
      return;
    }
    if (plan.cfg.mode === "insert") {
      remove.push(i);
      state = "D";
    }
  });

  const { lastDate, firstDate } = r.request;
  const refresh =
    !r.direct ||
    ((plan.maxidle > 0 || lastDate > 0) && (lastDate === 0 || lastDate < r.nowSec)) ||
    (plan.maxlife > 0 && firstDate === 0) ||
    (plan.maxlife === 0 && firstDate > 0);
  const wanted =
    plan.cfg.mode === "insert" &&
    !(found && plan.cfg.preserve) &&
    refresh &&
    (!plan.cfg.postonly || r.method === "POST");
  if (!wanted) return { remove, insert: undefined, cachePrivate: false, state };

  const parts = plan.inserts.get(r.server);
  if (!parts) return { remove, insert: undefined, cachePrivate: false, state };
  let dates = "";
  if (r.server.cfg.cookie !== undefined && (plan.maxidle > 0 || plan.maxlife > 0)) {
    dates = `|${encodeNow(r.nowSec)}`;
    if (plan.maxlife > 0) dates += `|${firstDate ? encodeQuad(firstDate >>> 2) : encodeNow(r.nowSec)}`;
  }
  return {
    remove,
    insert: `${parts.head}${dates}${parts.tail}`,
    cachePrivate: plan.cfg.nocache && r.cacheable,
    state: r.server.cfg.cookie !== undefined && r.direct ? "U" : "I",
  };
}
