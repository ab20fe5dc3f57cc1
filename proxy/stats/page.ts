/**
 * Answers a request whose URI matched `stats uri`, as HAProxy 2.6 does (measured, see
 * README.md):
 * - the prefix is compared with the request URI, query string included (`stats uri
 *   /haproxy?stats` is common), only for GET, HEAD and POST; other methods go to a server;
 * - options are looked for anywhere after the prefix: `;csv`, `;typed`, `;json`,
 *   `;norefresh`, `;up`, `;no-maint`; `;json` wins over `;typed`, which wins over `;csv`,
 *   whatever their order;
 * - `stats auth`: a missing or wrong `Authorization: Basic` gets the 401 page with
 *   `www-authenticate: Basic realm="HAProxy Statistics"` (or `stats realm`);
 * - 200 with `cache-control: no-cache`, `content-type: text/html`, `text/plain` (CSV,
 *   typed) or `application/json`, and `refresh: N` (seconds) when `stats refresh` is set and
 *   `;norefresh` is not, on the CSV and the other forms too;
 * - POST: with `stats admin` allowing it, the form's `b` (backend name or `#id`), `s` (servers)
 *   and `action` are applied and answered with a 303 to `PREFIX;st=DONE|PART|NONE|ERRP`;
 *   without, refused with a 303 to `PREFIX;st=DENY`.
 * HEAD gets the same head without a body. The caller frames the body (content-length).
 */
import type { StatsConfig } from "../config/model.js";
import { ErrorReplies } from "../http/responses.js";
import { type RowOptions, statsCsv, statsRows } from "./csv.js";
import { statsHtml } from "./html.js";
import type { StatsSnapshot } from "./snapshot.js";
import { statsJson, statsTyped } from "./typed.js";

export const DEFAULT_STATS_REALM = "HAProxy Statistics";

const STATS_METHODS = new Set(["GET", "HEAD", "POST"]);

/** True when HAProxy would answer this request with its stats page. */
export function isStatsRequest(
  cfg: Pick<StatsConfig, "enabled" | "uri">,
  method: string,
  uri: string,
): boolean {
  return cfg.enabled && STATS_METHODS.has(method) && uri.startsWith(cfg.uri);
}

/** What the part of the URI after the stats prefix asks for. */
export interface StatsFlags {
  readonly csv: boolean;
  readonly typed: boolean;
  readonly json: boolean;
  readonly noRefresh: boolean;
  readonly hideDown: boolean;
  readonly hideMaint: boolean;
}

const FLAG_WORDS: readonly (readonly [keyof StatsFlags, string])[] = [
  ["csv", ";csv"],
  ["typed", ";typed"],
  ["json", ";json"],
  ["noRefresh", ";norefresh"],
  ["hideDown", ";up"],
  ["hideMaint", ";no-maint"],
];

export function statsFlags(rest: string): StatsFlags {
  const f: Record<keyof StatsFlags, boolean> = {
    csv: false,
    typed: false,
    json: false,
    noRefresh: false,
    hideDown: false,
    hideMaint: false,
  };
  for (const [k, word] of FLAG_WORDS) f[k] = rest.includes(word);
  return f;
}

export interface StatsRequest {
  readonly cfg: StatsConfig;
  readonly method: string;
  /** The request URI as received (path and query string). */
  readonly uri: string;
  /** The `Authorization` header, if any. */
  readonly authorization?: string;
  /** Built lazily: an unauthorised request never pays for it. */
  readonly snapshot: () => StatsSnapshot;
  /** The proxy's replies (its errorfiles), for the 401 page. */
  readonly replies?: ErrorReplies;
  /** A POST that `stats admin` allows: its form body and what applies an action. */
  readonly admin?: { readonly body: string; readonly apply: AdminApply };
  /** `stats admin` allows this request (the page shows the forms). */
  readonly adminAllowed?: boolean;
}

/**
 * Applies an admin action to the named servers of a backend (`#id` or its name). Returns
 * undefined when the backend is unknown, else how many servers were found and acted on.
 */
export type AdminApply = (
  backend: string,
  servers: readonly string[],
  action: AdminAction,
) => { found: number } | undefined;

/** The stats page's admin actions fulcrum carries out (health and agent ones change nothing). */
export type AdminAction = "ready" | "drain" | "maint" | "shutdown" | "none";

/** HAProxy 2.6's action words: the first three set the admin state, the rest act on checks. */
const ADMIN_ACTIONS: Readonly<Record<string, AdminAction>> = {
  ready: "ready",
  drain: "drain",
  maint: "maint",
  shutdown: "shutdown",
  dhlth: "none",
  ehlth: "none",
  hrunn: "none",
  hnolb: "none",
  hdown: "none",
  dagent: "none",
  eagent: "none",
  arunn: "none",
  adown: "none",
};

/** The outcome word of an admin POST, for `;st=`. */
export function adminOutcome(body: string, apply: AdminApply): "DONE" | "PART" | "NONE" | "ERRP" {
  const form = new URLSearchParams(body);
  const backend = form.get("b");
  const action = ADMIN_ACTIONS[form.get("action") ?? ""];
  const servers = form.getAll("s");
  if (backend === null || backend === "" || action === undefined) return "ERRP";
  if (servers.length === 0) return "NONE";
  const r = apply(backend, servers, action);
  if (r === undefined || r.found === 0) return "ERRP";
  if (r.found < servers.length) return "PART";
  return action === "none" ? "NONE" : "DONE";
}

export interface StatsReply {
  readonly status: number;
  readonly reason: string;
  /** In HAProxy's order, names in lower case; `content-length` only where HAProxy sends one. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  /** The connection closes after it whatever the client asked. */
  readonly closes?: boolean;
}

/** Whether `Authorization: Basic ...` names one of the `stats auth` users. */
export function statsAuthorized(cfg: Pick<StatsConfig, "auth">, authorization: string | undefined): boolean {
  if (cfg.auth.length === 0) return true;
  if (authorization === undefined) return false;
  const m = /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
  if (m === null) return false;
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return false;
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  return cfg.auth.some((a) => a.user === user && a.password === password);
}

const defaultReplies = new ErrorReplies();

/** The forms other than the HTML page: their content type and their text, from the same rows. */
interface TextForm {
  readonly contentType: string;
  readonly render: (snap: StatsSnapshot, o: RowOptions) => string;
}

const TEXT_FORMS: Readonly<Record<"csv" | "typed" | "json", TextForm>> = {
  csv: { contentType: "text/plain", render: statsCsv },
  typed: { contentType: "text/plain", render: (snap, o) => statsTyped(statsRows(snap, o)) },
  json: { contentType: "application/json", render: (snap, o) => statsJson(statsRows(snap, o)) },
};

/** The form asked for, in HAProxy's precedence (json, then typed, then csv); none: the page. */
function textForm(flags: StatsFlags): TextForm | undefined {
  if (flags.json) return TEXT_FORMS.json;
  if (flags.typed) return TEXT_FORMS.typed;
  return flags.csv ? TEXT_FORMS.csv : undefined;
}

/** The stats response for a request that `isStatsRequest` accepted. */
export function statsResponse(req: StatsRequest): StatsReply {
  const { cfg } = req;
  const head = req.method === "HEAD";
  if (!statsAuthorized(cfg, req.authorization)) {
    const realm = cfg.realm ?? DEFAULT_STATS_REALM;
    const p = (req.replies ?? defaultReplies).parts(401, [["www-authenticate", `Basic realm="${realm}"`]]);
    return {
      status: p.status,
      reason: p.reason,
      headers: p.headers,
      body: head ? Buffer.alloc(0) : p.body,
      closes: p.closes,
    };
  }
  const flags = statsFlags(req.uri.slice(cfg.uri.length));
  if (req.method === "POST") {
    const st = req.admin === undefined ? "DENY" : adminOutcome(req.admin.body, req.admin.apply);
    return {
      status: 303,
      reason: "See Other",
      headers: [
        ["cache-control", "no-cache"],
        ["content-type", "text/plain"],
        ["content-length", "0"],
        ["location", `${cfg.uri};st=${st}${flags.hideDown ? ";up" : ""}`],
      ],
      body: Buffer.alloc(0),
    };
  }
  const form = textForm(flags);
  const headers: [string, string][] = [
    ["cache-control", "no-cache"],
    ["content-type", form?.contentType ?? "text/html"],
  ];
  if (cfg.refresh !== undefined && !flags.noRefresh) {
    headers.push(["refresh", String(Math.floor(cfg.refresh / 1000))]);
  }
  if (head) return { status: 200, reason: "OK", headers, body: Buffer.alloc(0) };
  const outcome = /;st=([A-Z]{4})/.exec(req.uri.slice(cfg.uri.length))?.[1];
  const snap = req.snapshot();
  const text = form
    ? form.render(snap, { legends: cfg.showLegends, hideDown: flags.hideDown, hideMaint: flags.hideMaint })
    : statsHtml(snap, {
        stats: cfg,
        hideDown: flags.hideDown,
        noRefresh: flags.noRefresh,
        ...(req.adminAllowed ? { admin: true } : {}),
        ...(outcome !== undefined ? { outcome } : {}),
      });
  return { status: 200, reason: "OK", headers, body: Buffer.from(text, "utf8") };
}

/**
 * The whole response as bytes: status line, the reply's headers, `content-length` (HAProxy
 * streams the page chunked; a length is equivalent for clients), `connection: close` when
 * the connection ends, then the body (none for HEAD).
 */
export function serialiseStatsReply(r: StatsReply, o: { close?: boolean; head?: boolean } = {}): Buffer {
  let head = `HTTP/1.1 ${r.status} ${r.reason}\r\n`;
  let hasLength = false;
  for (const [n, v] of r.headers) {
    if (n === "content-length") hasLength = true;
    head += `${n}: ${v}\r\n`;
  }
  if (!hasLength && !o.head) head += `content-length: ${r.body.length}\r\n`;
  if (o.close || r.closes) head += "connection: close\r\n";
  head += "\r\n";
  const h = Buffer.from(head, "latin1");
  return o.head || r.body.length === 0 ? h : Buffer.concat([h, r.body]);
}
