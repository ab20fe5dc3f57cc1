/**
 * The process-wide figures: `show info` prints them under HAProxy 2.6's names and in its order,
 * and the exporter's `haproxy_process_*` metrics read the same rows, so the two cannot disagree.
 * One table (`INFO_FIELDS`): a row per `show info` line, with the metric HAProxy's exporter
 * gives it, if any. Pure: figures in, lines out; output.ts `processFigures` gathers them.
 *
 * Rows whose value is a constant say why: a feature fulcrum does not have (SSL, pipes and
 * splicing, compression, peers, resolvers, log receiving, rate limits) reads as HAProxy reads it
 * when the feature is unused. HAProxy lines fulcrum has no true figure for are left out rather
 * than filled: Release_date (fulcrum has none), Run_queue (Node does not expose its queue) and
 * BytesOutRate (the bytes are counted per frontend, not as they are sent).
 */

import type { FieldType } from "./csv.js";

/** Process-wide figures a node has. */
export interface ProcessFigures {
  readonly version: string;
  readonly pid: number;
  readonly uptimeSec: number;
  readonly startTimeSec: number;
  /** Open file descriptors allowed (the soft RLIMIT_NOFILE), 0 where unknown. */
  readonly fdLimit: number;
  /** Memory the process holds for its data, and the part in use (bytes). */
  readonly poolAllocBytes: number;
  readonly poolUsedBytes: number;
  readonly maxconn: number;
  readonly currentConnections: number;
  readonly connectionsTotal: number;
  readonly requestsTotal: number;
  readonly connRate: number;
  readonly connRateMax: number;
  readonly sessRate: number;
  readonly sessRateMax: number;
  /** Timers, sockets and other handles the event loop is keeping (HAProxy's tasks). */
  readonly tasks: number;
  /** Share of the time since the last reading the event loop spent waiting (0-100). */
  readonly idlePct: number;
  readonly hostname: string;
  readonly stopping: boolean;
  /** Listeners, connections and runtime API sessions open (HAProxy's jobs). */
  readonly jobs: number;
  readonly listeners: number;
  readonly droppedLogs: number;
  readonly bytesOut: number;
}

type MetricType = "gauge" | "counter";

/** A `show info` line; `metric`: HAProxy's exporter's `haproxy_process_<name>` for it. */
export interface InfoField {
  readonly name: string;
  /** HAProxy's field number in `show info typed` and `json` (its place among its own lines). */
  readonly pos: number;
  /** Origin, nature and scope letters, and the type, as `show info typed` prints them. */
  readonly letters: string;
  readonly type: FieldType;
  readonly value: (p: ProcessFigures) => number | string;
  readonly metric?: {
    readonly name: string;
    readonly type: MetricType;
    readonly help: string;
    /** The value goes in this label, the sample is 1 (`build_info{version="..."} 1`). */
    readonly label?: string;
  };
}

const MB = 1024 * 1024;

function uptime(sec: number): string {
  const d = Math.floor(sec / 86400);
  const h = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d}d ${h}h${pad(m)}m${pad(sec % 60)}s`;
}

/** A row before it is numbered (`numbered`). */
type Row = Omit<InfoField, "pos"> | Gap;

/** A line HAProxy 2.6 prints that fulcrum leaves out: it keeps its number (see the top). */
interface Gap {
  readonly gap: string;
}

function gap(name: string): Gap {
  return { gap: name };
}

/** `spec` is what haproxy 2.6.12's `show info typed` prints for the line: `MCP:u32`. */
function field(
  name: string,
  spec: string,
  value: InfoField["value"],
  metric?: [name: string, type: MetricType, help: string],
): Row {
  const [letters = "", type] = spec.split(":");
  const base = { name, letters, type: type as FieldType, value };
  return metric === undefined
    ? base
    : { ...base, metric: { name: metric[0], type: metric[1], help: metric[2] } };
}

/** A feature fulcrum does not have: HAProxy's figure when it is unused. */
function unused(name: string, spec: string, metric?: [name: string, type: MetricType, help: string]): Row {
  return field(name, spec, () => 0, metric);
}

/** Numbers the rows as HAProxy numbers its lines, then drops the gaps. */
function numbered(rows: readonly Row[]): InfoField[] {
  const out: InfoField[] = [];
  rows.forEach((r, pos) => {
    if (!("gap" in r)) out.push({ ...r, pos });
  });
  return out;
}

export const INFO_FIELDS: readonly InfoField[] = numbered([
  field("Name", "POS:str", () => "fulcrum"),
  field("Version", "POS:str", (p) => p.version),
  gap("Release_date"),
  // One event loop, one process: what HAProxy prints for `nbthread 1`.
  field("Nbthread", "CGS:u32", () => 1, [
    "nbthread",
    "gauge",
    "Threads serving (fulcrum runs one event loop).",
  ]),
  field("Nbproc", "CGS:u32", () => 1, ["nbproc", "gauge", "Worker processes (always 1)."]),
  field("Process_num", "KGP:u32", () => 1, ["relative_process_id", "gauge", "This worker's number (1)."]),
  field("Pid", "SGP:u32", (p) => p.pid),
  field("Uptime", "MDP:str", (p) => uptime(p.uptimeSec)),
  field("Uptime_sec", "MDP:u32", (p) => p.uptimeSec, [
    "uptime_seconds",
    "gauge",
    "Seconds since this process started.",
  ]),
  // No memory limit (HAProxy's -m) exists: 0 is "none", as HAProxy without -m.
  field("Memmax_MB", "CLP:u32", () => 0),
  field("PoolAlloc_MB", "MGP:u32", (p) => Math.floor(p.poolAllocBytes / MB)),
  field("PoolUsed_MB", "MGP:u32", (p) => Math.floor(p.poolUsedBytes / MB)),
  // Node fails the process on memory exhaustion: no allocation fails and goes on.
  field("PoolFailed", "MCP:u32", () => 0, [
    "pool_failures_total",
    "counter",
    "Failed memory allocations (none).",
  ]),
  field("Ulimit-n", "CLP:u32", (p) => p.fdLimit, ["max_fds", "gauge", "Open file descriptors allowed."]),
  // fulcrum sets no socket budget of its own: the descriptors allowed bound it.
  field("Maxsock", "CLP:u32", (p) => p.fdLimit, ["max_sockets", "gauge", "Sockets the process may open."]),
  field("Maxconn", "CLP:u32", (p) => p.maxconn, ["max_connections", "gauge", "The global maxconn."]),
  field("Hard_maxconn", "CLP:u32", (p) => p.maxconn, [
    "hard_max_connections",
    "gauge",
    "The global maxconn.",
  ]),
  field("CurrConns", "MGP:u32", (p) => p.currentConnections, [
    "current_connections",
    "gauge",
    "Client connections open now.",
  ]),
  field("CumConns", "MCP:u32", (p) => p.connectionsTotal, [
    "connections_total",
    "counter",
    "Connections accepted since the start (the runtime API's too).",
  ]),
  field("CumReq", "MCP:u32", (p) => p.requestsTotal, [
    "requests_total",
    "counter",
    "Streams since the start: HTTP requests, TCP sessions, runtime API connections.",
  ]),
  // No SSL in fulcrum (TLS ends before it).
  unused("MaxSslConns", "MMP:u32", [
    "max_ssl_connections",
    "gauge",
    "SSL connections allowed (no SSL in fulcrum).",
  ]),
  unused("CurrSslConns", "MGP:u32", [
    "current_ssl_connections",
    "gauge",
    "SSL connections open (no SSL in fulcrum).",
  ]),
  unused("CumSslConns", "MCP:u32", [
    "ssl_connections_total",
    "counter",
    "SSL connections (no SSL in fulcrum).",
  ]),
  // No pipes: fulcrum does not splice.
  unused("Maxpipes", "CLP:u32", ["max_pipes", "gauge", "Pipes allowed (fulcrum does not splice)."]),
  unused("PipesUsed", "MGP:u32", ["pipes_used_total", "counter", "Pipes in use (fulcrum does not splice)."]),
  unused("PipesFree", "MGP:u32", ["pipes_free_total", "counter", "Pipes free (fulcrum does not splice)."]),
  field("ConnRate", "MRP:u32", (p) => p.connRate, [
    "current_connection_rate",
    "gauge",
    "Client connections accepted per second.",
  ]),
  // No `maxconnrate` / `maxsessrate` / `maxsslrate` in fulcrum: 0, no limit.
  unused("ConnRateLimit", "CLP:u32", ["limit_connection_rate", "gauge", "Connection rate limit (none)."]),
  field("MaxConnRate", "MMP:u32", (p) => p.connRateMax, [
    "max_connection_rate",
    "gauge",
    "Highest connections per second seen.",
  ]),
  field("SessRate", "MRP:u32", (p) => p.sessRate, ["current_session_rate", "gauge", "Sessions per second."]),
  unused("SessRateLimit", "CLP:u32", ["limit_session_rate", "gauge", "Session rate limit (none)."]),
  field("MaxSessRate", "MRP:u32", (p) => p.sessRateMax, [
    "max_session_rate",
    "gauge",
    "Highest sessions per second seen.",
  ]),
  unused("SslRate", "MRP:u32", ["current_ssl_rate", "gauge", "SSL sessions per second (no SSL in fulcrum)."]),
  unused("SslRateLimit", "CLP:u32", [
    "limit_ssl_rate",
    "gauge",
    "SSL session rate limit (no SSL in fulcrum).",
  ]),
  unused("MaxSslRate", "MMP:u32", [
    "max_ssl_rate",
    "gauge",
    "Highest SSL sessions per second (no SSL in fulcrum).",
  ]),
  unused("SslFrontendKeyRate", "MGP:u32", ["current_frontend_ssl_key_rate", "gauge", "No SSL in fulcrum."]),
  unused("SslFrontendMaxKeyRate", "MMP:u32", ["max_frontend_ssl_key_rate", "gauge", "No SSL in fulcrum."]),
  unused("SslFrontendSessionReuse_pct", "MGP:u32", ["frontend_ssl_reuse", "gauge", "No SSL in fulcrum."]),
  unused("SslBackendKeyRate", "MRP:u32", ["current_backend_ssl_key_rate", "gauge", "No SSL in fulcrum."]),
  unused("SslBackendMaxKeyRate", "MMP:u32", ["max_backend_ssl_key_rate", "gauge", "No SSL in fulcrum."]),
  unused("SslCacheLookups", "MCP:u32", ["ssl_cache_lookups_total", "counter", "No SSL in fulcrum."]),
  unused("SslCacheMisses", "MCP:u32", ["ssl_cache_misses_total", "counter", "No SSL in fulcrum."]),
  // No HTTP compression in fulcrum.
  unused("CompressBpsIn", "MRP:u32", ["http_comp_bytes_in_total", "counter", "No compression in fulcrum."]),
  unused("CompressBpsOut", "MRP:u32", ["http_comp_bytes_out_total", "counter", "No compression in fulcrum."]),
  unused("CompressBpsRateLim", "CLP:u32", ["limit_http_comp", "gauge", "No compression in fulcrum."]),
  // HAProxy's zlib lines (ZlibMemUsage, MaxZlibMemUsage) only show when built with zlib; its
  // Debian build (the reference) has libslz, so they are not printed there either.
  gap("ZlibMemUsage"),
  gap("MaxZlibMemUsage"),
  field("Tasks", "MGP:u32", (p) => p.tasks, [
    "current_tasks",
    "gauge",
    "Timers, sockets and handles the event loop keeps.",
  ]),
  gap("Run_queue"),
  field("Idle_pct", "MaP:u32", (p) => p.idlePct, [
    "idle_time_percent",
    "gauge",
    "Share of the time the event loop waited, since the last reading.",
  ]),
  field("node", "COS:str", (p) => p.hostname),
  // HAProxy's `description` line is printed only when the global `description` is set.
  gap("description"),
  field("Stopping", "MGP:u32", (p) => (p.stopping ? 1 : 0), [
    "stopping",
    "gauge",
    "1 while the process is stopping.",
  ]),
  field("Jobs", "MGP:u32", (p) => p.jobs, [
    "jobs",
    "gauge",
    "Listeners, connections and runtime API sessions open.",
  ]),
  // Every job of fulcrum ends on a stop.
  field("Unstoppable Jobs", "MGP:u32", () => 0, [
    "unstoppable_jobs",
    "gauge",
    "Jobs a stop does not end (none).",
  ]),
  field("Listeners", "MGP:u32", (p) => p.listeners, [
    "listeners",
    "gauge",
    "Listening sockets now (the stats sockets included).",
  ]),
  // No peers section in fulcrum (its HA pair is not HAProxy's peers protocol).
  unused("ActivePeers", "MGP:u32", ["active_peers", "gauge", "Peers (no peers section in fulcrum)."]),
  unused("ConnectedPeers", "MGP:u32", [
    "connected_peers",
    "gauge",
    "Peers connected (no peers section in fulcrum).",
  ]),
  field("DroppedLogs", "MGP:u32", (p) => p.droppedLogs, [
    "dropped_logs_total",
    "counter",
    "Log lines dropped since the start.",
  ]),
  // No busy polling in an event loop.
  unused("BusyPolling", "MGP:u32", ["busy_polling_enabled", "gauge", "Busy polling (never in fulcrum)."]),
  // No resolvers section: addresses are resolved once at start, a failure stops the start.
  // HAProxy's exporter has it as a counter named without `_total`, which the text format's
  // rules forbid: the exporter leaves this constant out.
  unused("FailedResolutions", "MGP:u32"),
  field("TotalBytesOut", "MGP:u64", (p) => p.bytesOut, [
    "bytes_out_total",
    "counter",
    "Bytes sent to clients since the start.",
  ]),
  // HAProxy's spelling. fulcrum does not splice.
  unused("TotalSplicdedBytesOut", "MGP:u64", ["spliced_bytes_out_total", "counter", "Spliced bytes (none)."]),
  gap("BytesOutRate"),
  // No `debug dev` commands in fulcrum's runtime API.
  unused("DebugCommandsIssued", "MGP:u32"),
  // fulcrum receives no logs (no log-forward section).
  unused("CumRecvLogs", "MCP:u32", ["recv_logs_total", "counter", "Log lines received (no log-forward)."]),
  {
    name: "Build info",
    letters: "POS",
    type: "str",
    value: (p) => p.version,
    metric: { name: "build_info", type: "gauge", help: "The version that runs.", label: "version" },
  },
  field("Memmax_bytes", "CLP:u32", () => 0, ["max_memory_bytes", "gauge", "Memory limit (none)."]),
  field("PoolAlloc_bytes", "MGP:u64", (p) => p.poolAllocBytes, [
    "pool_allocated_bytes",
    "gauge",
    "Memory held: V8's heap and the Buffers outside it.",
  ]),
  field("PoolUsed_bytes", "MGP:u64", (p) => p.poolUsedBytes, [
    "pool_used_bytes",
    "gauge",
    "Memory in use: V8's heap used and the Buffers outside it.",
  ]),
  field("Start_time_sec", "MDP:u32", (p) => p.startTimeSec, [
    "start_time_seconds",
    "gauge",
    "When the process started (Unix time).",
  ]),
  // No experimental or unsafe feature was used (HAProxy's taint flags).
  field("Tainted", "SGP:str", () => 0),
]);

/** `show info`'s answer. */
export function infoText(p: ProcessFigures): string {
  return INFO_FIELDS.map((f) => `${f.name}: ${f.value(p)}\n`).join("");
}
