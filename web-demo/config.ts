/**
 * What the web-demo derives from its options, once, before it serves: the cookie secret, the
 * Redis address (plain or Sentinel), the session cookie settings. Pure: no I/O, no clock.
 */
import { FulcrumError } from "../proxy/errors.js";

export type StoreKind = "memory" | "redis";
export const STORE_KINDS: readonly StoreKind[] = ["memory", "redis"];

/** The cookie the tutorial's `appsession JSESSIONID` learns and `cookie SRV` sits next to. */
export const SESSION_COOKIE = "JSESSIONID";
/** The tutorial's `appsession ... timeout 3h`: a session idle this long expires (rolling). */
export const SESSION_MAX_AGE_MS = 3 * 60 * 60 * 1000;
/** Redis key prefix: the lab's Redis also holds the HA lease and sticky tables. */
export const SESSION_KEY_PREFIX = "fulcrum:websess:";
/** How many characters of the session id pages and /whoami show. */
export const SESSION_ID_SHOWN = 8;

/** Public on purpose: every instance must share it, and a demo must start with no setup. */
export const DEMO_SECRET = "fulcrum-web-demo-public-secret-change-me";

export interface ResolvedSecret {
  secret: string;
  /** The one-line warning to print when the public demo secret is used. */
  warning?: string;
}

/** `--secret`, else `FULCRUM_SESSION_SECRET`, else the public demo secret with a warning. */
export function resolveSecret(flag: string | undefined, env: string | undefined): ResolvedSecret {
  for (const [value, source] of [
    [flag, "--secret"],
    [env, "FULCRUM_SESSION_SECRET"],
  ] as const) {
    if (value === undefined) continue;
    if (value.length === 0) {
      throw new FulcrumError(
        "FUL_USAGE",
        `${source} is empty: give a non-empty secret shared by every server`,
      );
    }
    return { secret: value };
  }
  return {
    secret: DEMO_SECRET,
    warning:
      "no --secret or FULCRUM_SESSION_SECRET given: signing session cookies with the public demo secret (fine on loopback, not elsewhere)",
  };
}

export interface RedisNode {
  host: string;
  port: number;
}

export type RedisTarget =
  | { kind: "redis"; url: string }
  | {
      kind: "sentinel";
      name: string;
      nodes: RedisNode[];
      username?: string;
      password?: string;
      database?: number;
    };

const PLAIN_SCHEMES = ["redis:", "rediss:", "unix:"];
const SENTINEL_SCHEMES = ["redis-sentinel:", "sentinel:"];

/**
 * `redis://[user:pass@]host:port[/db]` (also rediss://) is handed to the client as is;
 * `redis-sentinel://[user:pass@]host:port[,host:port…]/MASTER_NAME[/db]` names the Sentinels
 * to ask and the monitored master's name (default port 26379).
 */
export function parseRedisUrl(url: string): RedisTarget {
  const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined && PLAIN_SCHEMES.includes(scheme)) return { kind: "redis", url };
  if (scheme !== undefined && SENTINEL_SCHEMES.includes(scheme)) return parseSentinelUrl(url, scheme);
  throw new FulcrumError(
    "FUL_USAGE",
    `invalid Redis URL "${url}": use redis://HOST:PORT or redis-sentinel://HOST:PORT[,HOST:PORT]/MASTER`,
  );
}

function parseSentinelUrl(url: string, scheme: string): RedisTarget {
  const rest = url.slice(scheme.length + 2);
  const slash = rest.indexOf("/");
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? [] : rest.slice(slash + 1).split("/");
  const at = authority.lastIndexOf("@");
  const hosts = at < 0 ? authority : authority.slice(at + 1);
  const bad = (why: string) =>
    new FulcrumError(
      "FUL_USAGE",
      `invalid Sentinel URL "${url}": ${why} (redis-sentinel://HOST:PORT[,HOST:PORT]/MASTER)`,
    );
  const name = path[0] ? decodeURIComponent(path[0]) : "";
  if (name === "") throw bad("the master name is missing");
  const nodes = hosts.split(",").map((h) => parseNode(h, bad));
  const target: RedisTarget = { kind: "sentinel", name, nodes };
  if (at >= 0) {
    const [user, pass] = splitOnce(authority.slice(0, at), ":");
    if (pass !== undefined) {
      if (user !== "") target.username = decodeURIComponent(user);
      target.password = decodeURIComponent(pass);
    } else {
      target.password = decodeURIComponent(user);
    }
  }
  if (path[1] !== undefined && path[1] !== "") {
    const db = Number(path[1]);
    if (!Number.isInteger(db) || db < 0) throw bad(`"${path[1]}" is not a database number`);
    target.database = db;
  }
  return target;
}

function parseNode(text: string, bad: (why: string) => Error): RedisNode {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(text);
  if (!m?.[1]) throw bad(`"${text}" is not HOST:PORT`);
  const host = m[1].replace(/^\[|\]$/g, "");
  const port = m[2] === undefined ? 26379 : Number(m[2]);
  if (port < 1 || port > 65535) throw bad(`port ${port} is out of range`);
  return { host, port };
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  return url.replace(
    /\/\/([^@/]*)@/,
    (_m, auth: string) => `//${auth.includes(":") ? `${auth.split(":")[0]}:***` : "***"}@`,
  );
}

/**
 * Delay before the next reconnection attempt: short at first (a restarted Redis is back in
 * milliseconds), doubling, capped so a Redis that returns is noticed within half a second.
 */
export function reconnectDelay(retries: number, capMs = 500): number {
  return Math.min(25 * 2 ** Math.min(retries, 10), capMs);
}
