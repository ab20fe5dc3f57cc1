/**
 * How the lab sees each node from the outside, as a user or an operator would: redis PING,
 * web-demo's /health, a load balancer's own stats page (CSV for servers and counters, the
 * HTML page for its HA role).
 *
 * The role is read in ONE place (`ROLE_SOURCE` below). HAProxy's CSV has a fixed set of
 * columns that fulcrum reproduces exactly, so the role is not a CSV column: for now it is
 * read from the stats page's "High availability" box ("this node: lb1 <strong>MASTER</strong>").
 * When ha/ settles on the final field, change `ROLE_SOURCE`, nothing else.
 */
import { connect } from "node:net";
import { httpRequest } from "./http.js";

/** keepalived's words, as the node shows them; the last three are the lab's own (SERVING: no
 *  ha section; FROZEN: the process is SIGSTOPped; UNREACHABLE: nothing tells). */
export type Role = "MASTER" | "BACKUP" | "INIT" | "FAULT" | "STOPPED" | "SERVING" | "FROZEN" | "UNREACHABLE";

/** Where the role is read: the stats page (HTML), the pattern's first group is the role. */
export const ROLE_SOURCE = {
  path: "/haproxy-stats",
  pattern: /this node: [^<]*<strong>([A-Z]+)<\/strong>/,
} as const;

/** How a node's page names its peer, the peer's role and the age of its last advert. */
export const PEER_PATTERN =
  /peer: ([^ <]+) <strong>([A-Z]+)<\/strong>(?:, last advert (?:([0-9.]+)s ago|never))?/;

export interface PeerView {
  readonly name: string;
  readonly role: Role;
  /** Age of the peer's last advert (undefined: not shown or never heard). */
  readonly ageMs?: number;
}

/** The peer's name and role as a node's stats page shows them. */
export function peerFromPage(html: string): PeerView | undefined {
  const m = PEER_PATTERN.exec(html);
  if (!m) return undefined;
  const age = m[3] === undefined ? undefined : Math.round(Number(m[3]) * 1000);
  return {
    name: m[1]!,
    role: m[2] as Role,
    ...(age !== undefined && Number.isFinite(age) ? { ageMs: age } : {}),
  };
}

/** The role shown on a stats page; undefined when the page has no HA box (no ha section). */
export function roleFromPage(html: string): Role | undefined {
  const m = ROLE_SOURCE.pattern.exec(html);
  return m ? (m[1] as Role) : undefined;
}

export interface ServerHealth {
  readonly name: string;
  /** CSV status: UP, DOWN, UP 1/2, MAINT, no check ... */
  readonly status: string;
}

export interface CsvFacts {
  readonly servers: readonly ServerHealth[];
  /** The service frontend's counters (web_proxy). */
  readonly requests: number;
  readonly reqRate: number;
  readonly errors: number;
  readonly http5xx: number;
}

/** Reads the rows of HAProxy's CSV into objects keyed by column name. */
export function parseStatsCsv(text: string): Record<string, string>[] {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const header = lines[0];
  if (header === undefined || !header.startsWith("# ")) return [];
  const names = header.slice(2).split(",");
  return lines.slice(1).map((line) => {
    const cells = line.split(",");
    const row: Record<string, string> = {};
    names.forEach((n, i) => {
      if (n !== "") row[n] = cells[i] ?? "";
    });
    return row;
  });
}

const num = (v: string | undefined) => (v === undefined || v === "" ? 0 : Number(v) || 0);

/** The facts the lab shows from a node's CSV: server health and the service's counters. */
export function csvFacts(text: string, proxy = "web_proxy"): CsvFacts {
  const rows = parseStatsCsv(text).filter((r) => r.pxname === proxy);
  const fe = rows.find((r) => r.svname === "FRONTEND");
  const be = rows.find((r) => r.svname === "BACKEND");
  return {
    servers: rows
      .filter((r) => r.svname !== "FRONTEND" && r.svname !== "BACKEND")
      .map((r) => ({ name: r.svname ?? "?", status: r.status ?? "?" })),
    requests: num(fe?.req_tot),
    reqRate: num(fe?.req_rate),
    errors: num(fe?.ereq) + num(be?.econ) + num(be?.eresp),
    http5xx: num(fe?.hrsp_5xx),
  };
}

export interface LbProbe {
  readonly reachable: boolean;
  /** The node's HA role, SERVING for a node without an ha section, UNREACHABLE. */
  readonly role: Role;
  readonly facts?: CsvFacts;
  /** The peer as this node sees it (its adverts). */
  readonly peer?: PeerView;
  readonly error?: string;
}

/** A load balancer's own stats listener (127.0.0.1:PORT). */
export async function probeLb(port: number, timeoutMs = 500): Promise<LbProbe> {
  const [page, csv] = await Promise.all([
    httpRequest({ port, path: ROLE_SOURCE.path, timeoutMs }),
    httpRequest({ port, path: "/haproxy-stats;csv", timeoutMs }),
  ]);
  if (!page.ok || page.status !== 200) {
    const error = page.ok ? `stats page answered ${page.status}` : `${page.failure}: ${page.message}`;
    return { reachable: false, role: "UNREACHABLE", error };
  }
  const role = roleFromPage(page.body) ?? "SERVING";
  const facts = csv.ok && csv.status === 200 ? csvFacts(csv.body) : undefined;
  const peer = peerFromPage(page.body);
  return { reachable: true, role, ...(facts ? { facts } : {}), ...(peer ? { peer } : {}) };
}

export interface WebProbe {
  readonly up: boolean;
  readonly store?: string;
  readonly redis?: string;
  readonly error?: string;
}

export async function probeWeb(port: number, timeoutMs = 500): Promise<WebProbe> {
  const r = await httpRequest({ port, path: "/health", timeoutMs });
  if (!r.ok) return { up: false, error: `${r.failure}: ${r.message}` };
  try {
    const body = JSON.parse(r.body) as { store?: string; redis?: string };
    return {
      up: r.status === 200,
      ...(body.store ? { store: body.store } : {}),
      ...(body.redis ? { redis: body.redis } : {}),
      ...(r.status !== 200 ? { error: `/health answered ${r.status}` } : {}),
    };
  } catch {
    return { up: false, error: `/health answered ${r.status} without JSON` };
  }
}

/** PING over a fresh connection (AUTH first when the URL has a password). */
export function redisPing(url: string, timeoutMs = 500): Promise<boolean> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.resolve(false);
  }
  const port = Number(u.port || 6379);
  const auth =
    u.password !== ""
      ? `AUTH ${u.username !== "" ? `${decodeURIComponent(u.username)} ` : ""}${decodeURIComponent(u.password)}\r\n`
      : "";
  return new Promise<boolean>((resolve) => {
    let got = "";
    const sock = connect({ host: u.hostname.replace(/^\[|\]$/g, ""), port });
    const done = (v: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on("error", () => done(false));
    sock.on("connect", () => sock.write(`${auth}PING\r\n`));
    sock.setEncoding("utf8").on("data", (d: string) => {
      got += d;
      if (got.includes("+PONG")) done(true);
      else if (got.includes("-")) done(false);
    });
  });
}
