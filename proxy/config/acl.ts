/**
 * ACLs and conditions: `acl NAME FETCH [flags] [operator] VALUES...`, anonymous `{ ... }`,
 * `if|unless` with `!`, `||` (or `or`) and AND by juxtaposition, and HAProxy's predefined
 * ACLs. The fetch table says which sample fetches exist, their type and arguments; derived
 * names such as `path_beg` or `hdr_sub(host)` are a fetch plus a match method. Pure.
 */
import { ConfigError } from "../errors.js";
import { didYouMean } from "./hint.js";
import type {
  AclDef,
  AclExpr,
  Condition,
  CondTerm,
  IntPattern,
  MatchMethod,
  Network,
  SourceLoc,
} from "./model.js";
import { parseNetwork } from "./net.js";

export type SampleType = "str" | "int" | "ip" | "bool";

export interface FetchRow {
  readonly name: string;
  readonly type: SampleType;
  readonly minArgs: number;
  readonly maxArgs: number;
  /** Argument shape for the docs, e.g. "(<header>[,<occ>])". */
  readonly argDoc: string;
  readonly doc: string;
  /** Names of derived ACL keywords allowed (`path` -> path_beg, path_end ...). */
  readonly derived?: boolean;
}

function fetch(
  name: string,
  type: SampleType,
  argDoc: string,
  minArgs: number,
  maxArgs: number,
  doc: string,
  derived = false,
): FetchRow {
  return { name, type, argDoc, minArgs, maxArgs, doc, derived };
}

/** The sample fetches usable in ACLs. */
export const FETCHES: readonly FetchRow[] = [
  fetch("path", "str", "", 0, 0, "request path, without the query string", true),
  fetch("url", "str", "", 0, 0, "request URI as received (path and query string)", true),
  fetch("query", "str", "", 0, 0, "query string, without the '?'"),
  fetch("base", "str", "", 0, 0, "Host header value followed by the path", true),
  fetch("method", "str", "", 0, 0, "request method (GET, POST, ...)"),
  fetch(
    "hdr",
    "str",
    "([<name>[,<occ>]])",
    0,
    2,
    "value of a request header (last occurrence by default)",
    true,
  ),
  fetch("req.hdr", "str", "([<name>[,<occ>]])", 0, 2, "same as hdr"),
  fetch("hdr_cnt", "int", "([<name>])", 0, 1, "number of occurrences of a request header"),
  fetch("hdr_val", "int", "(<name>[,<occ>])", 1, 2, "request header value as an integer"),
  fetch("hdr_ip", "ip", "(<name>[,<occ>])", 1, 2, "request header value as an IP address"),
  fetch("req.cook", "str", "([<name>])", 0, 1, "value of a request cookie", true),
  fetch("cook", "str", "([<name>])", 0, 1, "same as req.cook", true),
  fetch("url_param", "str", "(<name>[,<delim>])", 1, 2, "value of a URL parameter", true),
  fetch("urlp", "str", "(<name>[,<delim>])", 1, 2, "same as url_param", true),
  fetch("req.ver", "str", "", 0, 0, "HTTP version of the request, e.g. 1.1"),
  fetch("req.len", "int", "", 0, 0, "bytes of request data buffered"),
  fetch("req.proto_http", "bool", "", 0, 0, "the request is valid HTTP"),
  fetch("req.rdp_cookie_cnt", "int", "([<name>])", 0, 1, "number of RDP cookies (never any in HTTP)"),
  fetch("src", "ip", "", 0, 0, "client address"),
  fetch("src_port", "int", "", 0, 0, "client port"),
  fetch("dst", "ip", "", 0, 0, "address the client connected to"),
  fetch("dst_port", "int", "", 0, 0, "port the client connected to"),
  fetch("nbsrv", "int", "([<backend>])", 0, 1, "usable servers in a backend (the current one by default)"),
  fetch("status", "int", "", 0, 0, "status code of the response (http-response rules only)"),
  fetch(
    "res.hdr",
    "str",
    "([<name>[,<occ>]])",
    0,
    2,
    "value of a response header, last occurrence by default (http-response rules only)",
  ),
  fetch("shdr", "str", "([<name>[,<occ>]])", 0, 2, "same as res.hdr", true),
  fetch("res.hdr_cnt", "int", "([<name>])", 0, 1, "number of occurrences of a response header"),
  fetch("res.ver", "str", "", 0, 0, "HTTP version of the response, e.g. 1.1"),
  fetch("always_true", "bool", "", 0, 0, "always true"),
  fetch("always_false", "bool", "", 0, 0, "always false"),
  fetch("wait_end", "bool", "", 0, 0, "true once the inspection delay ends"),
];

const FETCH_BY_NAME: ReadonlyMap<string, FetchRow> = new Map(FETCHES.map((f) => [f.name, f]));

/** Suffixes of derived ACL keywords, as HAProxy names them. */
export const DERIVED_SUFFIX: ReadonlyMap<string, MatchMethod> = new Map<string, MatchMethod>([
  ["_beg", "beg"],
  ["_end", "end"],
  ["_sub", "sub"],
  ["_reg", "reg"],
  ["_dir", "dir"],
  ["_dom", "dom"],
  ["_len", "len"],
]);

const DEFAULT_MATCH: Readonly<Record<SampleType, MatchMethod>> = {
  str: "str",
  int: "int",
  ip: "ip",
  bool: "bool",
};

/** Match methods each sample type accepts with `-m`. */
const ALLOWED_MATCH: Readonly<Record<SampleType, readonly MatchMethod[]>> = {
  str: ["found", "bool", "str", "sub", "reg", "beg", "end", "dir", "dom", "len", "bin"],
  int: ["found", "bool", "int"],
  ip: ["found", "ip"],
  bool: ["found", "bool", "int"],
};

export const MATCH_DOCS: readonly (readonly [MatchMethod, string])[] = [
  ["found", "the sample exists (no pattern)"],
  ["bool", "the sample is true / non-zero (no pattern)"],
  ["int", "integer equal to, or compared with eq/ne/lt/le/gt/ge, or within a range a:b"],
  ["ip", "address within one of the networks"],
  ["bin", "hexadecimal binary string equality"],
  ["len", "length compared as an integer"],
  ["str", "exact string"],
  ["sub", "substring"],
  ["reg", "regular expression"],
  ["beg", "prefix"],
  ["end", "suffix"],
  ["dir", "slash-delimited component"],
  ["dom", "dot-delimited component"],
];

const INT_OPS = new Set(["eq", "ne", "lt", "le", "gt", "ge"]);

/** A fetch as written, resolved: `hdr_beg(host)` -> hdr ["host"], match beg. */
interface FetchRef {
  readonly row: FetchRow;
  readonly args: string[];
  readonly derivedMatch?: MatchMethod;
}

/** What the ACL parser reports back to the caller while it works. */
export interface AclHooks {
  /** A backend named in a fetch argument (`nbsrv(NAME)`), checked once all are known. */
  backendRef?(name: string, loc: SourceLoc): void;
  warn?(loc: SourceLoc, message: string): void;
}

function resolveFetch(word: string, loc: SourceLoc): FetchRef {
  const m = /^([A-Za-z0-9_.]+)(?:\((.*)\))?(.*)$/.exec(word);
  if (!m) throw new ConfigError(loc, `invalid sample fetch '${word}'`);
  const [, name, argText, rest] = m;
  if (rest) {
    throw new ConfigError(
      loc,
      rest.startsWith(",")
        ? `converters ('${rest}') are not supported yet`
        : `invalid sample fetch '${word}'`,
    );
  }
  const args = argText === undefined || argText === "" ? [] : argText.split(",");
  let row = FETCH_BY_NAME.get(name!);
  let derivedMatch: MatchMethod | undefined;
  if (!row) {
    const us = name!.lastIndexOf("_");
    const base = us > 0 ? FETCH_BY_NAME.get(name!.slice(0, us)) : undefined;
    const method = us > 0 ? DERIVED_SUFFIX.get(name!.slice(us)) : undefined;
    if (base?.derived && method) {
      row = base;
      derivedMatch = method;
    }
  }
  if (!row) {
    throw new ConfigError(loc, `unknown fetch method '${name}' in ACL expression`, closestFetchHint(name!));
  }
  if (args.length < row.minArgs || args.length > row.maxArgs) {
    throw new ConfigError(
      loc,
      `fetch '${row.name}' expects arguments ${row.argDoc || "(none)"}, got '${word}'`,
    );
  }
  return derivedMatch ? { row, args, derivedMatch } : { row, args };
}

function closestFetchHint(name: string): string | undefined {
  const names = FETCHES.flatMap((f) =>
    f.derived ? [f.name, ...[...DERIVED_SUFFIX.keys()].map((s) => f.name + s)] : [f.name],
  );
  return didYouMean(name, names);
}

/** Parses `FETCH [flags] [op] VALUES...` (the words after an ACL's name, or inside `{ }`). */
export function parseAclExpr(words: readonly string[], loc: SourceLoc, hooks: AclHooks = {}): AclExpr {
  const first = words[0];
  if (first === undefined) throw new ConfigError(loc, "missing fetch method in ACL expression");
  const ref = resolveFetch(first, loc);
  if (ref.row.name === "nbsrv" && ref.args[0] !== undefined) hooks.backendRef?.(ref.args[0], loc);
  let ignoreCase = false;
  let match: MatchMethod | undefined = ref.derivedMatch;
  let explicitEnd = false;
  let i = 1;
  for (; i < words.length; i++) {
    const w = words[i]!;
    if (w === "--") {
      explicitEnd = true;
      i++;
      break;
    }
    if (w === "-i") ignoreCase = true;
    else if (w === "-n" || w === "-M") {
      // -n: no DNS resolution (fulcrum never resolves patterns); -M: map file semantics, harmless.
    } else if (w === "-m") {
      const name = words[++i];
      if (name === undefined) throw new ConfigError(loc, "missing match method after '-m'");
      if (!MATCH_DOCS.some(([m]) => m === name)) {
        throw new ConfigError(
          loc,
          `unknown matching method '${name}'`,
          `use one of ${MATCH_DOCS.map(([m]) => m).join(", ")}`,
        );
      }
      match = name as MatchMethod;
    } else if (w === "-f") {
      throw new ConfigError(
        loc,
        "pattern files ('-f') are not supported yet",
        "write the patterns on the line",
      );
    } else if (w === "-u") {
      throw new ConfigError(loc, "ACL unique ids ('-u') are not supported yet");
    } else if (w.startsWith("-") && w.length > 1 && !/^-\d/.test(w)) {
      throw new ConfigError(loc, `unknown ACL flag '${w}'`, "flags are -i, -m METHOD, -n and --");
    } else break;
  }
  match ??= DEFAULT_MATCH[ref.row.type];
  if (!ALLOWED_MATCH[ref.row.type].includes(match)) {
    throw new ConfigError(
      loc,
      `match method '${match}' cannot be used with fetch '${ref.row.name}' (a ${ref.row.type})`,
    );
  }
  const values = words.slice(i);
  const expr = {
    fetch: ref.row.name,
    args: ref.args,
    match,
    ignoreCase,
    strings: [] as string[],
    ints: [] as IntPattern[],
    networks: [] as Network[],
    regexes: [] as string[],
    loc,
  };
  if (match === "found" || match === "bool") {
    if (values.length > 0)
      throw new ConfigError(loc, `match method '${match}' takes no pattern, got '${values[0]}'`);
    return expr;
  }
  if (values.length === 0 && !explicitEnd) {
    hooks.warn?.(
      loc,
      `ACL expression '${first}' has no pattern, so it never matches (add '--' if intended, or use '-m found' to test existence)`,
    );
  }
  if (match === "int" || match === "len") expr.ints.push(...parseIntPatterns(values, loc));
  else if (match === "ip") expr.networks.push(...values.map((v) => parseIpPattern(v, loc)));
  else if (match === "reg") {
    for (const v of values) {
      try {
        new RegExp(v, ignoreCase ? "i" : "");
      } catch (err) {
        throw new ConfigError(loc, `regex '${v}' is invalid (${(err as Error).message})`);
      }
      expr.regexes.push(v);
    }
  } else if (match === "bin") {
    for (const v of values) {
      if (!/^([0-9A-Fa-f]{2})*$/.test(v))
        throw new ConfigError(loc, `'${v}' is not a hexadecimal binary string`);
      expr.strings.push(v.toLowerCase());
    }
  } else expr.strings.push(...values);
  return expr;
}

function parseIpPattern(v: string, loc: SourceLoc): Network {
  const n = parseNetwork(v);
  if (!n.ok) {
    const hint = /^[A-Za-z]/.test(v)
      ? "host names in ACL patterns are not supported yet: write the address"
      : undefined;
    throw new ConfigError(loc, n.reason, hint);
  }
  return n.value;
}

function intOf(text: string, loc: SourceLoc): number {
  if (!/^-?\d+$/.test(text)) throw new ConfigError(loc, `'${text}' is not an integer pattern`);
  return Number(text);
}

function parseIntPatterns(values: readonly string[], loc: SourceLoc): IntPattern[] {
  const out: IntPattern[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (INT_OPS.has(v)) {
      const next = values[++i];
      if (next === undefined) throw new ConfigError(loc, `missing value after operator '${v}'`);
      out.push({ op: v as IntPattern["op"], value: intOf(next, loc) });
      continue;
    }
    const range = /^(-?\d*):(-?\d*)$/.exec(v);
    if (range) {
      const [, lo, hi] = range;
      if (lo === "" && hi === "") throw new ConfigError(loc, `invalid range '${v}'`);
      if (lo === "") out.push({ op: "le", value: intOf(hi!, loc) });
      else if (hi === "") out.push({ op: "ge", value: intOf(lo!, loc) });
      else out.push({ op: "range", value: intOf(lo!, loc), max: intOf(hi!, loc) });
      continue;
    }
    out.push({ op: "eq", value: intOf(v, loc) });
  }
  return out;
}

// ---- predefined ACLs ---------------------------------------------------------------------

const PREDEFINED_LOC: SourceLoc = { file: "<predefined>", line: 0 };

/** HAProxy's built-in ACLs and the expressions they stand for, as written in a config. */
export const PREDEFINED_ACL_SOURCES: readonly (readonly [string, readonly string[]])[] = [
  ["FALSE", ["always_false"]],
  ["HTTP", ["req.proto_http"]],
  ["HTTP_1.0", ["req.ver", "1.0"]],
  ["HTTP_1.1", ["req.ver", "1.1"]],
  ["HTTP_CONTENT", ["hdr_val(content-length)", "gt", "0"]],
  ["HTTP_URL_ABS", ["url_reg", "^[^/:]*://"]],
  ["HTTP_URL_SLASH", ["url_beg", "/"]],
  ["HTTP_URL_STAR", ["url", "*"]],
  ["LOCALHOST", ["src", "127.0.0.1/8", "::1"]],
  ["METH_CONNECT", ["method", "CONNECT"]],
  ["METH_DELETE", ["method", "DELETE"]],
  ["METH_GET", ["method", "GET", "HEAD"]],
  ["METH_HEAD", ["method", "HEAD"]],
  ["METH_OPTIONS", ["method", "OPTIONS"]],
  ["METH_POST", ["method", "POST"]],
  ["METH_PUT", ["method", "PUT"]],
  ["METH_TRACE", ["method", "TRACE"]],
  ["RDP_COOKIE", ["req.rdp_cookie_cnt", "gt", "0"]],
  ["REQ_CONTENT", ["req.len", "gt", "0"]],
  ["TRUE", ["always_true"]],
  ["WAIT_END", ["wait_end"]],
];

/** The predefined ACLs as expressions (what a condition naming them evaluates). */
export const PREDEFINED_ACLS: ReadonlyMap<string, AclExpr> = new Map(
  PREDEFINED_ACL_SOURCES.map(([name, words]) => [name, parseAclExpr(words, PREDEFINED_LOC)] as const),
);

const ACL_NAME = /^[A-Za-z0-9_.:-]+$/;

/** `acl NAME ...`: adds an expression to the proxy's ACL table (same name = OR). */
export function addNamedAcl(
  acls: Map<string, AclDef>,
  words: readonly string[],
  loc: SourceLoc,
  hooks: AclHooks = {},
): void {
  const name = words[0];
  if (name === undefined) throw new ConfigError(loc, "'acl' expects an ACL name and an expression");
  if (!ACL_NAME.test(name)) {
    throw new ConfigError(loc, `invalid ACL name '${name}'`, "use letters, digits, '-', '_', '.' and ':'");
  }
  const expr = parseAclExpr(words.slice(1), loc, hooks);
  const prev = acls.get(name);
  acls.set(name, { name, exprs: [...(prev?.exprs ?? []), expr] });
}

/**
 * `if|unless TERMS`: terms are ACL names (optionally `!NAME` or `! NAME`) or `{ expr }`,
 * juxtaposed for AND, separated by `||` / `or` for OR. Named ACLs must already be declared
 * in the proxy (or be predefined), as in HAProxy.
 */
export function parseCondition(
  words: readonly string[],
  loc: SourceLoc,
  acls: ReadonlyMap<string, AclDef>,
  hooks: AclHooks = {},
): Condition {
  const polarity = words[0];
  if (polarity !== "if" && polarity !== "unless") {
    throw new ConfigError(loc, `expected 'if' or 'unless' before a condition, got '${polarity ?? ""}'`);
  }
  const anyOf: CondTerm[][] = [];
  let group: CondTerm[] = [];
  let negate = false;
  for (let i = 1; i < words.length; i++) {
    let w = words[i]!;
    if (w === "||" || w === "or") {
      if (group.length === 0 || negate)
        throw new ConfigError(loc, `'${w}' must follow an ACL in the condition`);
      anyOf.push(group);
      group = [];
      continue;
    }
    if (w === "!") {
      negate = !negate;
      continue;
    }
    while (w.startsWith("!")) {
      negate = !negate;
      w = w.slice(1);
    }
    if (w === "{") {
      const close = words.indexOf("}", i + 1);
      if (close < 0) throw new ConfigError(loc, "missing '}' to close the anonymous ACL");
      const inner = words.slice(i + 1, close);
      if (inner.length === 0) throw new ConfigError(loc, "empty anonymous ACL '{ }'");
      group.push({ kind: "anon", expr: parseAclExpr(inner, loc, hooks), negate });
      negate = false;
      i = close;
      continue;
    }
    if (w === "}") throw new ConfigError(loc, "unexpected '}' in condition");
    if (!acls.has(w) && !PREDEFINED_ACLS.has(w)) {
      throw new ConfigError(loc, `no such ACL: '${w}'`, aclHint(w, acls));
    }
    group.push({ kind: "named", name: w, negate });
    negate = false;
  }
  if (negate) throw new ConfigError(loc, "'!' must be followed by an ACL");
  if (group.length === 0) {
    throw new ConfigError(
      loc,
      anyOf.length ? "missing ACL after '||'" : `missing condition after '${polarity}'`,
    );
  }
  anyOf.push(group);
  return { polarity, anyOf, loc };
}

function aclHint(name: string, acls: ReadonlyMap<string, AclDef>): string {
  return (
    didYouMean(name, [...acls.keys(), ...PREDEFINED_ACLS.keys()]) ??
    "declare it with 'acl NAME FETCH VALUES' before this line"
  );
}
