/**
 * ACL evaluation: each condition of the model is compiled once, at start, into a closure
 * tree; per request only the fetches it names run. Semantics as HAProxy: an expression
 * matches when any fetched sample matches any pattern; named ACLs with several lines OR
 * their expressions; a condition is an OR of ANDs of (possibly negated) terms.
 */

import { PREDEFINED_ACLS } from "../config/acl.js";
import type { AclDef, AclExpr, Condition, IntPattern, Network } from "../config/model.js";
import type { Headers, ResponseHead } from "./h1.js";
import type { RequestInfo } from "./plan.js";

export interface AclContext {
  readonly req: RequestInfo;
  /**
   * The server's response head, in `http-response` rules. Request fetches find nothing then
   * (HAProxy's "incompatible" keywords never match there), response fetches nothing before.
   */
  readonly res?: ResponseHead;
  /** Usable servers of a backend by name (nbsrv); undefined name = the current backend. */
  nbsrv(backend: string | undefined): number;
}

export type Predicate = (ctx: AclContext) => boolean;

type Sample = string | number | boolean;
type Fetch = (ctx: AclContext) => Sample[] | undefined;

function headerValues(req: RequestInfo, name: string, split: boolean): string[] {
  return valuesOf(req.head.headers, name, split);
}

function valuesOf(h: Headers, name: string, split: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < h.names.length; i++) {
    if (h.names[i] !== name) continue;
    const v = h.values[i]!;
    if (!split) out.push(v);
    else for (const p of v.split(",")) out.push(p.trim());
  }
  return out;
}

function pickOcc(values: string[], occ: string | undefined): string[] {
  if (occ === undefined) return values;
  const n = Number(occ);
  if (!Number.isInteger(n) || n === 0) return values;
  const v = n > 0 ? values[n - 1] : values[values.length + n];
  return v === undefined ? [] : [v];
}

function cookieValues(req: RequestInfo, name: string | undefined): string[] {
  const out: string[] = [];
  for (const line of headerValues(req, "cookie", false)) {
    for (const part of line.split(";")) {
      const eq = part.indexOf("=");
      const k = (eq === -1 ? part : part.slice(0, eq)).trim();
      if (name === undefined || k === name) out.push(eq === -1 ? "" : part.slice(eq + 1).trim());
    }
  }
  return out;
}

function urlParam(req: RequestInfo, name: string, delim: string): string[] {
  const out: string[] = [];
  for (const part of req.query.split(delim || "&")) {
    const eq = part.indexOf("=");
    if ((eq === -1 ? part : part.slice(0, eq)) === name) out.push(eq === -1 ? "" : part.slice(eq + 1));
  }
  return out;
}

const one = (v: Sample | undefined): Sample[] | undefined => (v === undefined ? undefined : [v]);

/** Sample fetches by name; `args` are the fetch's arguments from the config. */
const FETCHERS: Record<string, (args: readonly string[]) => Fetch> = {
  path: () => (c) => [c.req.path],
  url: () => (c) => [c.req.head.uri],
  query: () => (c) => one(c.req.query === "" && !c.req.head.uri.includes("?") ? undefined : c.req.query),
  base: () => (c) => {
    const host = headerValues(c.req, "host", false);
    return [`${host[host.length - 1] ?? ""}${c.req.path}`];
  },
  method: () => (c) => [c.req.head.method],
  hdr: (a) => {
    const name = a[0]?.toLowerCase();
    if (name === undefined) return (c) => c.req.head.headers.values.slice();
    return (c) => pickOcc(headerValues(c.req, name, true), a[1]);
  },
  hdr_cnt: (a) => {
    const name = a[0]?.toLowerCase();
    return (c) => [
      name === undefined ? c.req.head.headers.names.length : headerValues(c.req, name, true).length,
    ];
  },
  hdr_val: (a) => {
    const name = a[0]!.toLowerCase();
    return (c) => {
      const v = pickOcc(headerValues(c.req, name, true), a[1] ?? "-1");
      const n = v.length ? Number.parseInt(v[0]!, 10) : Number.NaN;
      return Number.isNaN(n) ? undefined : [n];
    };
  },
  hdr_ip: (a) => {
    const name = a[0]!.toLowerCase();
    return (c) => pickOcc(headerValues(c.req, name, true), a[1] ?? "-1");
  },
  cook: (a) => (c) => {
    const v = cookieValues(c.req, a[0]);
    return v.length ? v : undefined;
  },
  url_param: (a) => (c) => {
    const v = urlParam(c.req, a[0]!, a[1] ?? "&");
    return v.length ? v : undefined;
  },
  "req.ver": () => (c) => [c.req.head.version === 10 ? "1.0" : "1.1"],
  "req.len": () => () => [0],
  "req.proto_http": () => () => [true],
  "req.rdp_cookie_cnt": () => () => [0],
  src: () => (c) => [c.req.srcIp],
  src_port: () => (c) => [c.req.srcPort],
  dst: () => () => undefined,
  dst_port: () => (c) => [c.req.dstPort],
  nbsrv: (a) => (c) => [c.nbsrv(a[0])],
  always_true: () => () => [true],
  always_false: () => () => [false],
  wait_end: () => () => [true],
};
FETCHERS["req.hdr"] = FETCHERS.hdr!;
FETCHERS["req.cook"] = FETCHERS.cook!;
FETCHERS.urlp = FETCHERS.url_param!;

/** Fetches that read the connection or the node, usable on both sides. */
const ANY_PHASE = new Set([
  "src",
  "src_port",
  "dst",
  "dst_port",
  "nbsrv",
  "always_true",
  "always_false",
  "wait_end",
]);

/** Response fetches: found only in `http-response` rules. */
const RESPONSE_FETCHERS: Record<string, (args: readonly string[]) => Fetch> = {
  status: () => (c) => [c.res!.status],
  "res.hdr": (a) => {
    const name = a[0]?.toLowerCase();
    if (name === undefined) return (c) => c.res!.headers.values.slice();
    return (c) => pickOcc(valuesOf(c.res!.headers, name, true), a[1]);
  },
  "res.hdr_cnt": (a) => {
    const name = a[0]?.toLowerCase();
    return (c) => [
      name === undefined ? c.res!.headers.names.length : valuesOf(c.res!.headers, name, true).length,
    ];
  },
  "res.ver": () => (c) => [c.res!.version === 10 ? "1.0" : "1.1"],
};
RESPONSE_FETCHERS.shdr = RESPONSE_FETCHERS["res.hdr"]!;

/** A fetch that finds nothing outside its phase (request fetches in response rules, ...). */
function phased(name: string, args: readonly string[]): Fetch | undefined {
  const res = RESPONSE_FETCHERS[name];
  if (res !== undefined) {
    const f = res(args);
    return (c) => (c.res === undefined ? undefined : f(c));
  }
  const make = FETCHERS[name];
  if (make === undefined) return undefined;
  const f = make(args);
  return ANY_PHASE.has(name) ? f : (c) => (c.res === undefined ? f(c) : undefined);
}

// ---- matching ------------------------------------------------------------------------------

export function parseIp(text: string): { family: 4 | 6; bytes: number[] } | undefined {
  const t = text.startsWith("::ffff:") && text.includes(".") ? text.slice(7) : text;
  if (t.includes(".")) {
    const parts = t.split(".");
    if (parts.length !== 4) return undefined;
    const bytes = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : 256));
    return bytes.every((b) => b <= 255) ? { family: 4, bytes } : undefined;
  }
  if (!t.includes(":")) return undefined;
  const [head = "", tail = ""] = t.split("::");
  const h = head ? head.split(":") : [];
  const tl = t.includes("::") ? (tail ? tail.split(":") : []) : [];
  const groups = t.includes("::") ? [...h, ...Array(8 - h.length - tl.length).fill("0"), ...tl] : h;
  if (groups.length !== 8) return undefined;
  const bytes: number[] = [];
  for (const g of groups) {
    const n = Number.parseInt(g, 16);
    if (Number.isNaN(n)) return undefined;
    bytes.push(n >> 8, n & 255);
  }
  return { family: 6, bytes };
}

export function inNetwork(ip: { family: 4 | 6; bytes: number[] }, net: Network): boolean {
  if (ip.family !== net.family) return false;
  let bits = net.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((ip.bytes[i] ?? 0) & mask) !== ((net.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

function intMatch(n: number, p: IntPattern): boolean {
  switch (p.op) {
    case "eq":
      return n === p.value;
    case "ne":
      return n !== p.value;
    case "lt":
      return n < p.value;
    case "le":
      return n <= p.value;
    case "gt":
      return n > p.value;
    case "ge":
      return n >= p.value;
    case "range":
      return n >= p.value && n <= (p.max ?? Number.POSITIVE_INFINITY);
  }
}

function delimited(sample: string, pattern: string, delims: string): boolean {
  let from = 0;
  for (;;) {
    const i = sample.indexOf(pattern, from);
    if (i === -1) return false;
    const before = i === 0 || delims.includes(sample[i - 1]!);
    const after = i + pattern.length === sample.length || delims.includes(sample[i + pattern.length]!);
    if (before && after) return true;
    from = i + 1;
  }
}

/** Builds the per-sample matcher of an expression (patterns prepared once). */
function matcher(e: AclExpr): (s: Sample) => boolean {
  const ci = e.ignoreCase;
  const pats = ci ? e.strings.map((p) => p.toLowerCase()) : e.strings;
  const norm = (s: Sample): string => (ci ? String(s).toLowerCase() : String(s));
  switch (e.match) {
    case "found":
      return () => true;
    case "bool":
      return (s) => (typeof s === "number" ? s !== 0 : typeof s === "string" ? s !== "" : s);
    case "int":
      return (s) => {
        const n = typeof s === "number" ? s : Number.parseInt(String(s), 10);
        return !Number.isNaN(n) && e.ints.some((p) => intMatch(n, p));
      };
    case "len":
      return (s) => e.ints.some((p) => intMatch(String(s).length, p));
    case "ip":
      return (s) => {
        const ip = parseIp(String(s));
        return ip !== undefined && e.networks.some((n) => inNetwork(ip, n));
      };
    case "str":
    case "bin": {
      const set = new Set(pats);
      return (s) => set.has(norm(s));
    }
    case "beg":
      return (s) => {
        const v = norm(s);
        return pats.some((p) => v.startsWith(p));
      };
    case "end":
      return (s) => {
        const v = norm(s);
        return pats.some((p) => v.endsWith(p));
      };
    case "sub":
      return (s) => {
        const v = norm(s);
        return pats.some((p) => v.includes(p));
      };
    case "dir":
      return (s) => {
        const v = norm(s);
        return pats.some((p) => delimited(v, p, "/"));
      };
    case "dom":
      return (s) => {
        const v = norm(s);
        return pats.some((p) => delimited(v, p, "/.?"));
      };
    case "reg": {
      const res = e.regexes.map((r) => new RegExp(r, ci ? "i" : ""));
      return (s) => {
        const v = String(s);
        return res.some((r) => r.test(v));
      };
    }
  }
}

export function compileExpr(e: AclExpr): Predicate {
  const fetch = phased(e.fetch, e.args);
  if (fetch === undefined) throw new Error(`fetch '${e.fetch}' has no runtime implementation`);
  const match = matcher(e);
  if (e.match === "found") return (c) => (fetch(c)?.length ?? 0) > 0;
  return (c) => {
    const samples = fetch(c);
    if (samples === undefined) return false;
    for (const s of samples) if (match(s)) return true;
    return false;
  };
}

/** Compiles a condition against a proxy's named ACLs. */
export function compileCondition(cond: Condition, acls: ReadonlyMap<string, AclDef>): Predicate {
  const named = new Map<string, Predicate>();
  const namedPredicate = (name: string): Predicate => {
    let p = named.get(name);
    if (p) return p;
    const def = acls.get(name);
    if (def) {
      const parts = def.exprs.map(compileExpr);
      p = (c) => parts.some((x) => x(c));
    } else {
      const pre = PREDEFINED_ACLS.get(name);
      if (!pre) throw new Error(`unknown ACL '${name}'`);
      p = compileExpr(pre);
    }
    named.set(name, p);
    return p;
  };
  const groups = cond.anyOf.map((terms) =>
    terms.map((t) => {
      const p = t.kind === "named" ? namedPredicate(t.name) : compileExpr(t.expr);
      return t.negate ? (c: AclContext) => !p(c) : p;
    }),
  );
  const any: Predicate = (c) => groups.some((g) => g.every((p) => p(c)));
  return cond.polarity === "if" ? any : (c) => !any(c);
}
