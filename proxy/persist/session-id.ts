/**
 * Where a learned session id is found, with HAProxy 1.4's `appsession` rules (the tutorial's
 * setup; HAProxy 2.x has no appsession to compare with):
 * - the server's `Set-Cookie: NAME=value` (name compared exactly, case-sensitive); the last
 *   one in the response wins;
 * - the client's `Cookie: NAME=value` (same comparison), every occurrence in order, so that
 *   the first one the table knows can be used;
 * - a path parameter `;name=value` (`mode path-parameters`, the default) or a query
 *   parameter `name=value` (`mode query-string`), the last one in the URL first; written as
 *   `appsession`, the name is compared case-insensitively and only on GET, HEAD and POST
 *   (HAProxy 1.4), written as `stick match urlp()` exactly and on every method (HAProxy 2.6,
 *   compared side by side);
 * ids are cut to `len` characters. With `prefix`, NAME only has to start the cookie name and
 * the id is what follows the prefix (`ASPSESSIONIDXX=v` -> `XX=v`).
 */
import type { LearnedSessionConfig } from "../config/model.js";

type IdRules = Pick<LearnedSessionConfig, "cookie" | "len" | "prefix" | "mode" | "appsession">;

/** The id a name=value pair carries for us, or undefined. */
function idFromPair(rules: IdRules, name: string, value: string, caseless: boolean): string | undefined {
  const want = rules.cookie;
  if (rules.prefix) {
    const head = name.slice(0, want.length);
    const same = caseless ? head.toLowerCase() === want.toLowerCase() : head === want;
    if (!same) return undefined;
    const id = `${name.slice(want.length)}=${value}`;
    return id.slice(0, rules.len);
  }
  const same = caseless ? name.toLowerCase() === want.toLowerCase() : name === want;
  if (!same) return undefined;
  const id = value.slice(0, rules.len);
  return id.length > 0 ? id : undefined;
}

/** The session id a response sets, from its Set-Cookie values. */
export function idFromSetCookies(rules: IdRules, setCookies: readonly string[]): string | undefined {
  let found: string | undefined;
  for (const v of setCookies) {
    const semi = v.indexOf(";");
    const pair = semi < 0 ? v : v.slice(0, semi);
    const eq = pair.indexOf("=");
    if (eq < 0) continue;
    const id = idFromPair(rules, pair.slice(0, eq).trim(), pair.slice(eq + 1).trim(), false);
    if (id !== undefined) found = id;
  }
  return found;
}

/** Every session id the request's Cookie headers carry, in order. */
export function idsFromCookies(rules: IdRules, cookieHeaders: readonly string[]): string[] {
  const ids: string[] = [];
  for (const h of cookieHeaders) {
    for (const item of h.split(/[;,]/)) {
      const eq = item.indexOf("=");
      if (eq < 0) continue;
      const id = idFromPair(rules, item.slice(0, eq).trim(), item.slice(eq + 1).trim(), false);
      if (id !== undefined) ids.push(id);
    }
  }
  return ids;
}

const URL_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "POST"]);

/** The session id in the request target's path parameters (or query string), if any. */
export function idFromUrl(rules: IdRules, method: string, target: string): string | undefined {
  const legacy = rules.appsession === true;
  if (legacy && !URL_METHODS.has(method)) return undefined;
  const pathParams = rules.mode === "path-parameters";
  const first = target.indexOf(pathParams ? ";" : "?");
  if (first < 0) return undefined;
  let end = target.length;
  // urlp(C,;) reads to the end of the target (a query string is part of the last value).
  if (pathParams && legacy) {
    const q = target.indexOf("?", first);
    if (q >= 0) end = q;
  }
  const sep = pathParams ? ";" : "&";
  // appsession: the last parameter is looked at first, as HAProxy 1.4 scanned backwards;
  // urlp(): the first one wins, `&` separating parameters too.
  const params = legacy
    ? target
        .slice(first + 1, end)
        .split(sep)
        .reverse()
    : target.slice(first + 1, end).split(/[;&]/);
  for (const p of params) {
    const eq = p.indexOf("=");
    if (eq < 0 && !rules.prefix) continue;
    const name = eq < 0 ? p : p.slice(0, eq);
    const value = eq < 0 ? "" : p.slice(eq + 1);
    const id = idFromPair(rules, name, value, legacy);
    if (id !== undefined) return id;
  }
  return undefined;
}

/** The first id the table knows (its server name), for a request carrying several ids. */
export function lookupFirst(
  get: (id: string) => string | undefined,
  ids: readonly string[],
): { id: string; server: string } | undefined {
  for (const id of ids) {
    const server = get(id);
    if (server !== undefined) return { id, server };
  }
  return undefined;
}
