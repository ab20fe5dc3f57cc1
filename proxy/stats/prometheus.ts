/**
 * `http-request use-service prometheus-exporter`: the Prometheus text format under the metric
 * names, labels and state sets of HAProxy 2.6's exporter, so dashboards and alerts written for
 * HAProxy read fulcrum unchanged. The frontend, backend and server metrics are read from the
 * stats CSV rows (csv.ts, already matched column for column), so both views always agree; the
 * process metrics come from the node; `fulcrum_ha_*` adds the HA pair's role and transitions.
 *
 * Written here rather than with prom-client: the values already live in the CSV rows (a
 * registry would copy them), and the exporter answers synchronously inside the request path.
 * Pure: a snapshot in, text out. Order as HAProxy's: metric by metric, each over every object.
 */
import { columnIndex, type StatsRow, statsRows } from "./csv.js";
import { INFO_FIELDS, type ProcessFigures } from "./info.js";
import type { StatsSnapshot } from "./snapshot.js";

export type { ProcessFigures };

type Kind = "frontend" | "backend" | "server";
type MetricType = "gauge" | "counter";

/** One metric read from a CSV column; `seconds` turns the column's milliseconds into seconds. */
interface ColumnMetric {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly column: string;
  readonly seconds?: boolean;
}

/** A metric that is not one column: it writes its own samples for one row. */
interface CustomMetric {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly samples: (row: StatsRow, labels: string, rows: readonly StatsRow[]) => string[];
  /** Samples go label value first, then object (HAProxy's order for the `code` label). */
  readonly byLabel?: boolean;
}

type Metric = ColumnMetric | CustomMetric;

const SERVER_STATES = ["DOWN", "UP", "MAINT", "DRAIN", "NOLB"] as const;
const CHECK_STATES = [
  "HANA",
  "SOCKERR",
  "L4OK",
  "L4TOUT",
  "L4CON",
  "L6OK",
  "L6TOUT",
  "L6RSP",
  "L7TOUT",
  "L7RSP",
  "L7OK",
  "L7OKC",
  "L7STS",
  "PROCERR",
  "PROCTOUT",
  "PROCOK",
] as const;
const RESPONSE_CODES = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"] as const;

const field = (row: StatsRow, column: string): string => row.fields[columnIndex(column)] ?? "";

/** The exporter's reading of the CSV status column: `UP 1/3` is still UP, `DOWN 1/2` DOWN. */
function serverState(row: StatsRow): (typeof SERVER_STATES)[number] {
  const s = field(row, "status");
  if (s.startsWith("MAINT")) return "MAINT";
  if (s === "DRAIN") return "DRAIN";
  if (s === "NOLB") return "NOLB";
  if (s.startsWith("UP") || s === "no check") return "UP";
  return "DOWN";
}

/** The last check's status without the CSV's "check in progress" marker. */
function checkState(row: StatsRow): string {
  return field(row, "check_status").replace(/^\* /, "");
}

const checked = (row: StatsRow): boolean =>
  row.server?.cfg.check === true && field(row, "check_status") !== "";

function stateSet(name: string, labels: string, states: readonly string[], current: (s: string) => number) {
  return states.map((s) => `${name}{${labels},state="${s}"} ${current(s)}`);
}

const httpResponses =
  (name: string) =>
  (row: StatsRow, labels: string): string[] =>
    RESPONSE_CODES.map((code) => `${name}{${labels},code="${code}"} ${number(field(row, `hrsp_${code}`))}`);

const serversOf = (row: StatsRow, rows: readonly StatsRow[]) =>
  rows.filter((r) => r.kind === "server" && r.proxy === row.proxy);

// ---- the tables, in HAProxy 2.6's order --------------------------------------------------

const c = (name: string, type: MetricType, column: string, help: string, seconds?: boolean): ColumnMetric =>
  seconds ? { name, type, column, help, seconds } : { name, type, column, help };

// Runs of metrics that come in the same order for several kinds of row.
const SESSIONS: readonly Metric[] = [
  c("current_sessions", "gauge", "scur", "Sessions open now."),
  c("max_sessions", "gauge", "smax", "Most sessions open at once since the start."),
];
const TRAFFIC: readonly Metric[] = [
  c("sessions_total", "counter", "stot", "Sessions since the start."),
  c("bytes_in_total", "counter", "bin", "Request bytes since the start."),
  c("bytes_out_total", "counter", "bout", "Response bytes since the start."),
];
const QUEUE: readonly Metric[] = [
  c("current_queue", "gauge", "qcur", "Requests waiting in the queue now."),
  c("max_queue", "gauge", "qmax", "Longest queue since the start."),
];
const SERVER_ERRORS: readonly Metric[] = [
  c("connection_errors_total", "counter", "econ", "Failed connections to servers since the start."),
  c("response_errors_total", "counter", "eresp", "Invalid or aborted server responses since the start."),
  c("retry_warnings_total", "counter", "wretr", "Connection retries since the start."),
  c("redispatch_warnings_total", "counter", "wredis", "Redispatches to another server since the start."),
];
const COMPRESSION: readonly Metric[] = [
  c("http_comp_bytes_in_total", "counter", "comp_in", "Bytes given to the HTTP compressor since the start."),
  c("http_comp_bytes_out_total", "counter", "comp_out", "Bytes out of the HTTP compressor since the start."),
  c("http_comp_bytes_bypassed_total", "counter", "comp_byp", "Bytes that skipped HTTP compression."),
  c("http_comp_responses_total", "counter", "comp_rsp", "HTTP responses compressed since the start."),
];
const ABORTS: readonly Metric[] = [
  c("client_aborts_total", "counter", "cli_abrt", "Transfers aborted by the client."),
  c("server_aborts_total", "counter", "srv_abrt", "Transfers aborted by the server."),
];
const TIMES: readonly Metric[] = [
  c("last_session_seconds", "gauge", "lastsess", "Seconds since the last session (-1: none yet)."),
  c("queue_time_average_seconds", "gauge", "qtime", "Average queue time over recent requests.", true),
  c("connect_time_average_seconds", "gauge", "ctime", "Average connect time over recent requests.", true),
  c("response_time_average_seconds", "gauge", "rtime", "Average response time over recent requests.", true),
  c("total_time_average_seconds", "gauge", "ttime", "Average total time over recent requests.", true),
  c("failed_header_rewriting_total", "counter", "wrew", "Header rewrites that failed."),
  c("connection_attempts_total", "counter", "connect", "Connection attempts to servers."),
  c("connection_reuses_total", "counter", "reuse", "Requests sent on a reused server connection."),
];
const CACHE: readonly Metric[] = [
  c("http_cache_lookups_total", "counter", "cache_lookups", "HTTP cache lookups."),
  c("http_cache_hits_total", "counter", "cache_hits", "HTTP cache hits."),
];
const MAXIMA: readonly Metric[] = [
  c("max_queue_time_seconds", "gauge", "qtime_max", "Longest queue time seen.", true),
  c("max_connect_time_seconds", "gauge", "ctime_max", "Longest connect time seen.", true),
  c("max_response_time_seconds", "gauge", "rtime_max", "Longest response time seen.", true),
  c("max_total_time_seconds", "gauge", "ttime_max", "Longest total time seen.", true),
  c("internal_errors_total", "counter", "eint", "Internal errors since the start."),
];

const FRONTEND: readonly Metric[] = [
  ...SESSIONS,
  c("limit_sessions", "gauge", "slim", "The configured session limit (maxconn)."),
  ...TRAFFIC,
  c("requests_denied_total", "counter", "dreq", "Requests denied by rules since the start."),
  c("responses_denied_total", "counter", "dresp", "Responses denied by rules since the start."),
  c("request_errors_total", "counter", "ereq", "Invalid requests since the start."),
  {
    name: "status",
    type: "gauge",
    help: "Whether the frontend listens, as a state set.",
    samples: (row, labels) =>
      stateSet("haproxy_frontend_status", labels, ["DOWN", "UP"], (s) =>
        Number((field(row, "status") === "OPEN") === (s === "UP")),
      ),
  },
  c("limit_session_rate", "gauge", "rate_lim", "The configured session rate limit per second."),
  c("max_session_rate", "gauge", "rate_max", "Highest sessions per second seen since the start."),
  {
    name: "http_responses_total",
    type: "counter",
    help: "HTTP responses by status class since the start.",
    samples: httpResponses("haproxy_frontend_http_responses_total"),
    byLabel: true,
  },
  c(
    "http_requests_rate_max",
    "gauge",
    "req_rate_max",
    "Highest HTTP requests per second seen since the start.",
  ),
  c("http_requests_total", "counter", "req_tot", "HTTP requests since the start."),
  ...COMPRESSION,
  c("connections_rate_max", "gauge", "conn_rate_max", "Highest connections per second seen since the start."),
  c("connections_total", "counter", "conn_tot", "Connections accepted since the start."),
  c("intercepted_requests_total", "counter", "intercepted", "Requests answered by the node itself."),
  c("denied_connections_total", "counter", "dcon", "Connections refused by tcp-request rules."),
  c("denied_sessions_total", "counter", "dses", "Sessions refused by tcp-request rules."),
  c("failed_header_rewriting_total", "counter", "wrew", "Header rewrites that failed."),
  ...CACHE,
  c("internal_errors_total", "counter", "eint", "Internal errors since the start."),
];

const BACKEND: readonly Metric[] = [
  ...QUEUE,
  ...SESSIONS,
  c("limit_sessions", "gauge", "slim", "The backend's fullconn."),
  ...TRAFFIC,
  c("requests_denied_total", "counter", "dreq", "Requests denied by rules since the start."),
  c("responses_denied_total", "counter", "dresp", "Responses denied by rules since the start."),
  ...SERVER_ERRORS,
  {
    name: "status",
    type: "gauge",
    help: "Whether the backend has a usable server, as a state set.",
    samples: (row, labels) =>
      stateSet("haproxy_backend_status", labels, ["DOWN", "UP"], (s) =>
        Number(field(row, "status").startsWith("UP") === (s === "UP")),
      ),
  },
  c("weight", "gauge", "weight", "Sum of the effective weights of the usable servers."),
  c("active_servers", "gauge", "act", "Active servers that are UP with a weight."),
  c("backup_servers", "gauge", "bck", "Backup servers that are UP with a weight."),
  c("check_up_down_total", "counter", "chkdown", "UP to DOWN transitions since the start."),
  c("check_last_change_seconds", "gauge", "lastchg", "Seconds since the last state change."),
  c("downtime_seconds_total", "counter", "downtime", "Seconds spent DOWN since the start."),
  c("loadbalanced_total", "counter", "lbtot", "Times a server was chosen by load balancing."),
  c("max_session_rate", "gauge", "rate_max", "Highest sessions per second seen since the start."),
  {
    name: "http_responses_total",
    type: "counter",
    help: "HTTP responses by status class since the start.",
    samples: httpResponses("haproxy_backend_http_responses_total"),
    byLabel: true,
  },
  c("http_requests_total", "counter", "req_tot", "HTTP requests since the start."),
  ...ABORTS,
  ...COMPRESSION,
  ...TIMES,
  ...CACHE,
  ...MAXIMA,
  c("uweight", "gauge", "uweight", "Sum of the configured weights of the usable servers."),
  {
    name: "agg_server_status",
    type: "gauge",
    help: "How many of the backend's servers are in each state.",
    samples: (row, labels, rows) => {
      const states = serversOf(row, rows).map(serverState);
      return stateSet("haproxy_backend_agg_server_status", labels, SERVER_STATES, (s) =>
        states.reduce((n, x) => n + Number(x === s), 0),
      );
    },
  },
  {
    name: "agg_server_check_status",
    type: "gauge",
    help: "Deprecated name of agg_server_status, kept as HAProxy 2.6 keeps it.",
    samples: (row, labels, rows) => {
      const states = serversOf(row, rows).map(serverState);
      return stateSet("haproxy_backend_agg_server_check_status", labels, SERVER_STATES, (s) =>
        states.reduce((n, x) => n + Number(x === s), 0),
      );
    },
  },
  {
    name: "agg_check_status",
    type: "gauge",
    help: "How many of the backend's checked servers had each last check result.",
    samples: (row, labels, rows) => {
      const states = serversOf(row, rows).filter(checked).map(checkState);
      return stateSet("haproxy_backend_agg_check_status", labels, CHECK_STATES, (s) =>
        states.reduce((n, x) => n + Number(x === s), 0),
      );
    },
  },
];

const SERVER: readonly Metric[] = [
  ...QUEUE,
  ...SESSIONS,
  c("limit_sessions", "gauge", "slim", "The server's maxconn (NaN: none)."),
  ...TRAFFIC,
  c("responses_denied_total", "counter", "dresp", "Responses denied by rules since the start."),
  ...SERVER_ERRORS,
  {
    name: "status",
    type: "gauge",
    help: "The server's state, as a state set.",
    samples: (row, labels) => {
      const now = serverState(row);
      return stateSet("haproxy_server_status", labels, SERVER_STATES, (s) => Number(s === now));
    },
  },
  c("weight", "gauge", "weight", "The server's effective weight."),
  c("check_failures_total", "counter", "chkfail", "Failed health checks since the start."),
  c("check_up_down_total", "counter", "chkdown", "UP to DOWN transitions since the start."),
  c("check_last_change_seconds", "gauge", "lastchg", "Seconds since the last state change."),
  c("downtime_seconds_total", "counter", "downtime", "Seconds spent DOWN since the start."),
  c("queue_limit", "gauge", "qlimit", "The server's maxqueue (NaN: none)."),
  c("current_throttle", "gauge", "throttle", "Slowstart throttle in percent (NaN: not starting)."),
  c("loadbalanced_total", "counter", "lbtot", "Times the server was chosen by load balancing."),
  c("max_session_rate", "gauge", "rate_max", "Highest sessions per second seen since the start."),
  {
    name: "check_status",
    type: "gauge",
    help: "The last health check's result, as a state set.",
    samples: (row, labels) => {
      if (!checked(row)) return [];
      const now = checkState(row);
      return stateSet("haproxy_server_check_status", labels, CHECK_STATES, (s) => Number(s === now));
    },
  },
  {
    name: "check_code",
    type: "gauge",
    help: "The last health check's layer 5-7 code (0: none).",
    samples: (row, labels) =>
      checked(row) ? [`haproxy_server_check_code{${labels}} ${Number(field(row, "check_code") || 0)}`] : [],
  },
  {
    name: "check_duration_seconds",
    type: "gauge",
    help: "How long the last health check took.",
    samples: (row, labels) =>
      checked(row)
        ? [`haproxy_server_check_duration_seconds{${labels}} ${seconds(field(row, "check_duration"))}`]
        : [],
  },
  {
    name: "http_responses_total",
    type: "counter",
    help: "HTTP responses by status class since the start.",
    samples: httpResponses("haproxy_server_http_responses_total"),
    byLabel: true,
  },
  ...ABORTS,
  ...TIMES,
  c("idle_connections_current", "gauge", "srv_icur", "Idle connections kept for reuse now."),
  c("idle_connections_limit", "gauge", "src_ilim", "Limit on idle connections (NaN: none)."),
  ...MAXIMA,
  c(
    "unsafe_idle_connections_current",
    "gauge",
    "idle_conn_cur",
    "Idle connections not safe for any request.",
  ),
  c("safe_idle_connections_current", "gauge", "safe_conn_cur", "Idle connections safe for any request."),
  c("used_connections_current", "gauge", "used_conn_cur", "Connections in use now."),
  c("need_connections_current", "gauge", "need_conn_est", "Estimated connections needed."),
  c("uweight", "gauge", "uweight", "The server's configured weight."),
];

// ---- formatting -------------------------------------------------------------------------

/** An empty CSV cell is NaN, as in HAProxy's exporter. */
function number(cell: string): string {
  return cell === "" ? "NaN" : cell;
}

/** Milliseconds -> seconds with six decimals, HAProxy's exporter's spelling. */
function seconds(cell: string): string {
  return cell === "" ? "NaN" : (Number(cell) / 1000).toFixed(6);
}

/** A label value escaped as the text format requires (backslash, quote, line feed). */
function label(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labelsOf(row: StatsRow): string {
  const px = `proxy="${label(row.proxy.name)}"`;
  return row.kind === "server" ? `${px},server="${label(row.server!.cfg.name)}"` : px;
}

function section(out: string[], kind: Kind, metrics: readonly Metric[], all: readonly StatsRow[]): void {
  const rows = all.filter((r) => r.kind === kind);
  if (rows.length === 0) return;
  for (const m of metrics) {
    const name = `haproxy_${kind}_${m.name}`;
    let lines: string[];
    if ("column" in m) {
      lines = rows.map((row) => {
        const v = field(row, m.column);
        return `${name}{${labelsOf(row)}} ${m.seconds ? seconds(v) : number(v)}`;
      });
    } else {
      const per = rows.map((row) => m.samples(row, labelsOf(row), all));
      lines = m.byLabel ? (per[0] ?? []).flatMap((_, i) => per.map((p) => p[i]!)) : per.flat();
    }
    if (lines.length === 0) continue;
    out.push(`# HELP ${name} ${m.help}`, `# TYPE ${name} ${m.type}`, ...lines);
  }
}

/** The process metrics: `show info`'s rows that HAProxy's exporter gives a metric, in its order. */
function processSection(out: string[], p: ProcessFigures): void {
  for (const f of INFO_FIELDS) {
    const m = f.metric;
    if (m === undefined) continue;
    const name = `haproxy_process_${m.name}`;
    const v = f.value(p);
    const sample = m.label !== undefined ? `${name}{${m.label}="${label(String(v))}"} 1` : `${name} ${v}`;
    out.push(`# HELP ${name} ${m.help}`, `# TYPE ${name} ${m.type}`, sample);
  }
}

const HA_ROLES = ["INIT", "BACKUP", "MASTER", "FAULT", "STOPPED"] as const;

function haSection(out: string[], snap: StatsSnapshot): void {
  const ha = snap.ha;
  if (ha === undefined) return;
  const l = `node="${label(ha.node)}"`;
  out.push(
    "# HELP fulcrum_ha_role This node's role in the HA pair, as a state set.",
    "# TYPE fulcrum_ha_role gauge",
    ...stateSet("fulcrum_ha_role", l, HA_ROLES, (s) => Number(s === ha.role)),
    "# HELP fulcrum_ha_transitions_total Role changes since the start.",
    "# TYPE fulcrum_ha_transitions_total counter",
    `fulcrum_ha_transitions_total{${l}} ${ha.transitions}`,
    "# HELP fulcrum_ha_epoch The lease epoch this node holds or last saw.",
    "# TYPE fulcrum_ha_epoch gauge",
    `fulcrum_ha_epoch{${l}} ${ha.epoch}`,
    "# HELP fulcrum_ha_priority This node's configured priority.",
    "# TYPE fulcrum_ha_priority gauge",
    `fulcrum_ha_priority{${l}} ${ha.priority}`,
  );
  const peer = ha.peer;
  if (peer?.lastAdvertMs !== undefined) {
    out.push(
      "# HELP fulcrum_ha_peer_advert_age_seconds Age of the peer's last advert.",
      "# TYPE fulcrum_ha_peer_advert_age_seconds gauge",
      `fulcrum_ha_peer_advert_age_seconds{${l},peer="${label(peer.name)}"} ${(peer.lastAdvertMs / 1000).toFixed(3)}`,
    );
  }
}

/** The whole exposition. */
export function prometheusText(snap: StatsSnapshot, proc: ProcessFigures): string {
  const rows = statsRows(snap, { legends: false });
  const out: string[] = [];
  processSection(out, proc);
  section(out, "frontend", FRONTEND, rows);
  section(out, "backend", BACKEND, rows);
  section(out, "server", SERVER, rows);
  haSection(out, snap);
  return `${out.join("\n")}\n`;
}
