/**
 * The stats page: one table per proxy with its FRONTEND, servers and BACKEND rows, in the
 * spirit of HAProxy's page (same groups of columns, same spelling of statuses and check
 * results such as `L7OK/200 in 1ms`), written from scratch as plain HTML and CSS that reads
 * on a phone: the tables scroll sideways inside their box, the page does not.
 *
 * Pure: a snapshot in, a string out. Every value that comes from configuration or from the
 * network is escaped. The numbers are the CSV's (csv.ts computes each cell once).
 */
import type { StatsConfig } from "../config/model.js";
import type { ServerRuntime } from "../state.js";
import {
  checkDescription,
  checkSummary,
  columnIndex,
  type StatsRow,
  serverStatus,
  shownCheck,
  statsRows,
} from "./csv.js";
import type { HaStatus, StatsSnapshot } from "./snapshot.js";

export interface PageOptions {
  readonly stats: Pick<StatsConfig, "uri" | "hideVersion" | "showLegends" | "showNode" | "refresh">;
  /** `;up` in the request: servers not UP are hidden. */
  readonly hideDown?: boolean;
  /** `;norefresh` in the request. */
  readonly noRefresh?: boolean;
  /** `stats admin` allows this request: each backend gets the form that changes its servers. */
  readonly admin?: boolean;
  /** `;st=CODE` in the request: the outcome of the last admin action, shown on top. */
  readonly outcome?: string;
}

/** What the page says after an admin POST (`;st=CODE`), and how loudly. */
const OUTCOMES: Readonly<Record<string, readonly [string, string]>> = {
  DONE: ["act-up", "Action processed successfully."],
  PART: ["goingdown", "Action partially processed: some server names are unknown."],
  NONE: ["goingdown", "Nothing has changed."],
  ERRP: ["down", "Action not processed because of invalid parameters (unknown backend, servers or action)."],
  EXCD: ["down", "Action not processed: the form was too large. Retry with fewer servers at a time."],
  DENY: ["down", "Action denied."],
};

/** The admin actions the form offers (HAProxy's words; the health ones change nothing here). */
const ACTIONS: readonly (readonly [string, string])[] = [
  ["ready", "Set state to READY"],
  ["drain", "Set state to DRAIN"],
  ["maint", "Set state to MAINT"],
  ["shutdown", "Kill sessions"],
];

function outcomeHtml(o: PageOptions): string {
  const m = o.outcome !== undefined ? OUTCOMES[o.outcome] : undefined;
  if (m === undefined) return "";
  return `<p class="box ${m[0]}"><a href="${esc(o.stats.uri)}" title="Remove this message">[X]</a> ${esc(m[1])}</p>`;
}

/** The form of one backend: its servers to tick, an action, and a button (`stats admin`). */
function adminForm(group: readonly StatsRow[], uri: string): string {
  const servers = group.filter((r) => r.kind === "server" && r.server !== undefined);
  const backend = group.find((r) => r.kind === "backend");
  if (servers.length === 0 || backend === undefined) return "";
  return (
    `<form class="admin" method="post" action="${esc(uri)}"><input type="hidden" name="b" value="#${esc(backend.proxy.id)}">` +
    servers
      .map((r) => {
        const name = r.server!.cfg.name;
        return `<label><input type="checkbox" name="s" value="${esc(name)}"> ${esc(name)}</label> `;
      })
      .join("") +
    '<select name="action"><option value="">Choose an action</option>' +
    ACTIONS.map(([v, t]) => `<option value="${v}">${esc(t)}</option>`).join("") +
    '</select> <button type="submit">Apply</button></form>'
  );
}

const ESC: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** HTML-escapes text and attribute values. */
export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => ESC[c]!);
}

/** HAProxy's short durations: `42s`, `1m5s`, `3h12m`, `2d4h`. */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

/** Uptime as HAProxy prints it: `0d 0h05m10s`. */
export function uptime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => (n < 10 ? `0${n}` : String(n));
  return `${d}d ${h}h${pad(m)}m${pad(s % 60)}s`;
}

/** Thousands grouped with a narrow no-break space (`1 728 000`), as HAProxy's page does. */
function num(v: string): string {
  if (!/^\d{4,}$/.test(v)) return esc(v);
  return v.replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
}

// ---- cells ------------------------------------------------------------------------------

type Cell = string;

const td = (v: string, cls = "") => `<td${cls ? ` class="${cls}"` : ""}>${v}</td>`;

function field(r: StatsRow, name: string): string {
  return r.fields[columnIndex(name)] ?? "";
}

/** A numeric cell from the row's CSV field; empty fields print as nothing. */
function n(r: StatsRow, name: string): Cell {
  return td(num(field(r, name)));
}

/** State class of a row, for its colour (see the legend). */
function rowClass(r: StatsRow): string {
  if (r.kind === "frontend") return "fe";
  if (r.kind === "backend") return field(r, "status") === "UP" ? "be" : "down";
  const sv = r.server!;
  const st = serverStatus(sv);
  if (st === "MAINT") return "maint";
  if (st.startsWith("DRAIN")) return "drain";
  if (st.startsWith("NOLB")) return "nolb";
  if (st === "no check") return "nocheck";
  if (st === "UP") return sv.cfg.backup ? "bck-up" : "act-up";
  if (st.startsWith("UP ")) return "goingdown";
  if (st.startsWith("DOWN ")) return "goingup";
  return "down";
}

function lastSessCell(r: StatsRow): Cell {
  const v = field(r, "lastsess");
  if (v === "") return td("");
  return td(v === "-1" ? "?" : humanDuration(Number(v)));
}

function serverName(r: StatsRow, legends: boolean): string {
  const sv = r.server!;
  const name = `<span class="name">${esc(sv.cfg.name)}</span>`;
  if (!legends) return name;
  const addr = field(r, "addr");
  const cookie = field(r, "cookie");
  const info = [
    `${sv.cfg.backup ? "backup" : "active"} server`,
    addr && `address ${addr}`,
    cookie && `cookie ${cookie}`,
  ]
    .filter(Boolean)
    .join(", ");
  return `${name}<span class="legend">${esc(info)}</span>`;
}

function checkCell(sv: ServerRuntime): Cell {
  if (!sv.cfg.check || sv.admin === "maint") return td("");
  const info = shownCheck(sv).info;
  const title = `${checkDescription(sv)}${info ? `: ${info}` : ""}`;
  return td(`<span title="${esc(title)}">${esc(checkSummary(sv))}</span>`, "chk");
}

function statusCell(r: StatsRow): Cell {
  const status = field(r, "status");
  if (r.kind === "frontend") return td(esc(status), "st");
  const since = Number(field(r, "lastchg"));
  return td(`${esc(humanDuration(since))} ${esc(status)}`, "st");
}

function rowHtml(r: StatsRow, legends: boolean): string {
  const label =
    r.kind === "frontend" ? "Frontend" : r.kind === "backend" ? "Backend" : serverName(r, legends);
  const sv = r.server;
  const isSrv = r.kind === "server";
  const cells: Cell[] = [
    `<th scope="row">${label}</th>`,
    // Queue
    n(r, "qcur"),
    n(r, "qmax"),
    td(isSrv ? num(field(r, "qlimit")) || "-" : ""),
    // Session rate
    n(r, "rate"),
    n(r, "rate_max"),
    td(r.kind === "frontend" ? num(field(r, "rate_lim")) : ""),
    // Sessions
    n(r, "scur"),
    n(r, "smax"),
    td(num(field(r, "slim")) || (isSrv ? "-" : "")),
    n(r, "stot"),
    n(r, "lbtot"),
    lastSessCell(r),
    // Bytes
    n(r, "bin"),
    n(r, "bout"),
    // Denied
    n(r, "dreq"),
    n(r, "dresp"),
    // Errors
    n(r, "ereq"),
    n(r, "econ"),
    n(r, "eresp"),
    // Warnings
    n(r, "wretr"),
    n(r, "wredis"),
    // Server
    statusCell(r),
    sv ? checkCell(sv) : td(""),
    td(r.kind === "frontend" ? "" : `${num(field(r, "weight"))}/${num(field(r, "uweight"))}`),
    td(sv ? (sv.cfg.backup ? "-" : "Y") : num(field(r, "act"))),
    td(sv ? (sv.cfg.backup ? "Y" : "-") : num(field(r, "bck"))),
    td(sv ? (sv.cfg.check ? num(field(r, "chkfail")) : "") : ""),
    td(num(field(r, "chkdown"))),
    td(field(r, "downtime") === "" ? "" : esc(humanDuration(Number(field(r, "downtime"))))),
    td(sv ? "-" : ""),
  ];
  return `<tr class="${rowClass(r)}">${cells.join("")}</tr>`;
}

const TABLE_HEAD =
  "<thead><tr><th></th>" +
  '<th colspan="3">Queue</th><th colspan="3">Session rate</th><th colspan="6">Sessions</th>' +
  '<th colspan="2">Bytes</th><th colspan="2">Denied</th><th colspan="3">Errors</th>' +
  '<th colspan="2">Warnings</th><th colspan="9">Server</th></tr><tr><th></th>' +
  [
    "Cur",
    "Max",
    "Limit",
    "Cur",
    "Max",
    "Limit",
    "Cur",
    "Max",
    "Limit",
    "Total",
    "LbTot",
    "Last",
    "In",
    "Out",
    "Req",
    "Resp",
    "Req",
    "Conn",
    "Resp",
    "Retr",
    "Redis",
    "Status",
    "LastChk",
    "Wght",
    "Act",
    "Bck",
    "Chk",
    "Dwn",
    "Dwntme",
    "Thrtle",
  ]
    .map((h) => `<th>${h}</th>`)
    .join("") +
  "</tr></thead>";

// ---- the page ---------------------------------------------------------------------------

const STYLE = `
*{box-sizing:border-box}
body{margin:0;padding:.5rem;font:13px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;background:#fafafa}
h1{font-size:1.3rem;margin:.2rem 0}h1 small{font-weight:normal;color:#555;font-size:.9rem}
h2{font-size:1.05rem;margin:1.2rem 0 .3rem;padding:.2rem .4rem;background:#2f4858;color:#fff;border-radius:3px}
.box{background:#fff;border:1px solid #ddd;border-radius:4px;padding:.5rem .7rem;margin:.5rem 0}
.cols{display:flex;flex-wrap:wrap;gap:.5rem}.cols>.box{flex:1 1 18rem}
ul.plain{list-style:none;margin:0;padding:0}ul.plain li{margin:.1rem 0}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;border:1px solid #ccc;border-radius:4px;background:#fff}
table{border-collapse:collapse;white-space:nowrap;font-variant-numeric:tabular-nums}
th,td{padding:.15rem .35rem;border:1px solid #e2e2e2;text-align:right}
thead th{background:#eef1f4;text-align:center;font-weight:600}
tbody th{text-align:left;position:sticky;left:0;background:inherit;font-weight:600}
.fe,.be{background:#e6eef7}.act-up{background:#c9f0c9}.bck-up{background:#b7dcf5}
.goingdown{background:#f9e79f}.goingup{background:#f5cba7}.down{background:#f1a7a7}
.maint{background:#c9c9f0}.drain{background:#d7c2ef}.nocheck{background:#eaeaea}.nolb{background:#f6c28b}
td.st,td.chk{text-align:left}
.legend{display:block;font-weight:normal;color:#444;font-size:.85em}
.swatch{display:inline-block;width:.9em;height:.9em;border:1px solid #999;vertical-align:middle;margin-right:.3em}
.warn{color:#8a1c1c;font-weight:600}
form.admin{margin:.3rem 0 .8rem}form.admin label{white-space:nowrap;margin-right:.4rem}
a{color:#1d5fa7}
ul.summary{display:none;list-style:none;margin:0 0 .4rem;padding:0}
ul.summary li{padding:.3rem .5rem;margin:.15rem 0;border-radius:3px;border:1px solid #ddd}
@media (max-width:600px){body{padding:.3rem;font-size:12px}h1{font-size:1.1rem}ul.summary{display:block}}
`;

const LEGEND: readonly [string, string][] = [
  ["act-up", "active UP"],
  ["bck-up", "backup UP"],
  ["goingdown", "UP, going down"],
  ["goingup", "DOWN, going up"],
  ["down", "DOWN"],
  ["nocheck", "not checked"],
  ["maint", "MAINT (maintenance)"],
  ["drain", "DRAIN (no new sessions)"],
  ["nolb", "NOLB (answers 404: sticky sessions only)"],
];

function haBlock(ha: HaStatus): string {
  const peer = ha.peer;
  const mismatch =
    peer?.configChecksum !== undefined &&
    peer.configChecksum !== "" &&
    peer.configChecksum !== ha.configChecksum;
  const age =
    peer?.lastAdvertMs === undefined ? "never" : `${(Math.max(0, peer.lastAdvertMs) / 1000).toFixed(1)}s ago`;
  return (
    '<div class="box ha"><strong>High availability</strong><ul class="plain">' +
    `<li>this node: ${esc(ha.node)} <strong>${esc(ha.role)}</strong>, priority ${esc(ha.priority)}, epoch ${esc(ha.epoch)}</li>` +
    (peer
      ? `<li>peer: ${esc(peer.name)} <strong>${esc(peer.role)}</strong>, last advert ${esc(age)}</li>`
      : "<li>peer: none known</li>") +
    (ha.reason ? `<li>${esc(ha.reason)}</li>` : "") +
    (mismatch
      ? `<li class="warn">configuration differs from the peer's (checksum ${esc(ha.configChecksum.slice(0, 12))} here, ${esc(peer!.configChecksum!.slice(0, 12))} there)</li>`
      : "") +
    "</ul></div>"
  );
}

function links(o: PageOptions): string {
  const base = o.stats.uri;
  const keep = o.noRefresh ? ";norefresh" : "";
  const toggle = o.hideDown
    ? `<a href="${esc(base + keep)}">Show all servers</a>`
    : `<a href="${esc(`${base};up${keep}`)}">Hide DOWN servers</a>`;
  const refresh =
    o.stats.refresh !== undefined
      ? o.noRefresh
        ? ` · <a href="${esc(base + (o.hideDown ? ";up" : ""))}">Enable refresh</a>`
        : ` · <a href="${esc(`${base}${o.hideDown ? ";up" : ""};norefresh`)}">Disable refresh</a>`
      : "";
  return (
    `<ul class="plain"><li>${toggle}${refresh}</li>` +
    `<li><a href="${esc(base + (o.hideDown ? ";up" : "") + keep)}">Refresh now</a> · ` +
    `<a href="${esc(`${base};csv${keep}`)}">CSV export</a></li></ul>`
  );
}

/** Consecutive rows of the same proxy, in order. */
function byProxy(rows: readonly StatsRow[]): StatsRow[][] {
  const out: StatsRow[][] = [];
  for (const r of rows) {
    const last = out.at(-1);
    if (last !== undefined && last[0]!.proxy.name === r.proxy.name) last.push(r);
    else out.push([r]);
  }
  return out;
}

/**
 * What an operator looks for first, without scrolling sideways: each server's status, check
 * result and weight. Shown only on narrow screens (the table holds the same values).
 */
function summaryHtml(group: readonly StatsRow[]): string {
  const servers = group.filter((r) => r.kind === "server");
  if (servers.length === 0) return "";
  const items = servers.map((r) => {
    const sv = r.server!;
    const chk = sv.cfg.check && sv.admin !== "maint" ? ` · ${esc(checkSummary(sv))}` : "";
    return (
      `<li class="${rowClass(r)}"><strong>${esc(sv.cfg.name)}</strong> ` +
      `<span class="st">${esc(serverStatus(sv))}</span>${chk} · weight ${esc(field(r, "weight"))}</li>`
    );
  });
  return `<ul class="summary">${items.join("")}</ul>`;
}

/** The whole stats page. */
export function statsHtml(snap: StatsSnapshot, o: PageOptions): string {
  const rows = statsRows(snap, { legends: o.stats.showLegends, hideDown: o.hideDown ?? false });
  const version = o.stats.hideVersion ? "" : ` <small>version ${esc(snap.version)}</small>`;
  const node = o.stats.showNode !== undefined ? o.stats.showNode || snap.nodeName || "" : "";
  const up = uptime((snap.now - snap.startedAt) / 1000);
  let html =
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>Statistics Report for fulcrum${node ? ` on ${esc(node)}` : ""}</title><style>${STYLE}</style></head><body>` +
    `<h1>fulcrum${version}</h1>` +
    outcomeHtml(o) +
    `<p>Statistics Report for pid ${esc(snap.pid)}${node ? ` on ${esc(node)}` : ""}</p>` +
    '<div class="cols"><div class="box"><strong>General process information</strong><ul class="plain">' +
    `<li>pid = ${esc(snap.pid)}</li><li>uptime = ${esc(up)}</li>` +
    `<li>system limits: maxconn = ${esc(snap.globalMaxconn)}</li>` +
    (snap.actconn !== undefined ? `<li>current conns = ${esc(snap.actconn)}</li>` : "") +
    "</ul></div>";
  if (snap.ha) html += haBlock(snap.ha);
  html +=
    '<div class="box"><strong>Legend</strong><ul class="plain">' +
    LEGEND.map(([cls, text]) => `<li><span class="swatch ${cls}"></span>${esc(text)}</li>`).join("") +
    '</ul></div><div class="box"><strong>Display</strong>' +
    links(o) +
    "</div></div>";
  for (const group of byProxy(rows)) {
    const name = group[0]!.proxy.name;
    html +=
      `<h2 id="${esc(name)}"><a href="#${esc(name)}" style="color:inherit">${esc(name)}</a></h2>` +
      summaryHtml(group) +
      `<div class="scroll"><table>${TABLE_HEAD}<tbody>` +
      group.map((r) => rowHtml(r, o.stats.showLegends)).join("") +
      "</tbody></table></div>" +
      (o.admin ? adminForm(group, o.stats.uri) : "");
  }
  html += "</body></html>\n";
  return html;
}
