/**
 * HAProxy 2.6's stats CSV (`stats uri PATH;csv`, `show stat`): its 128 columns in its order,
 * one row per FRONTEND, server and BACKEND, and for each kind of row the same columns left
 * empty as HAProxy leaves them. The column table is the single source: the header, the
 * rows and the HTML page all read it.
 *
 * Pure: a snapshot in, text out. Measured against haproxy 2.6.12 (see README.md).
 */
import type { ProxyModel, ServerModel } from "../config/model.js";
import type { BackendRuntime, Counters, FrontendRuntime, ServerRuntime } from "../state.js";
import { isUsable, rateRead } from "../state.js";
import { averageTime } from "./meter.js";
import type { StatsProxy, StatsSnapshot } from "./snapshot.js";

type Value = string | number | undefined;

interface FeCtx {
  readonly p: StatsProxy;
  readonly fe: FrontendRuntime;
  readonly c: Counters;
  readonly snap: StatsSnapshot;
  readonly legends: boolean;
}
interface BeCtx {
  readonly p: StatsProxy;
  readonly be: BackendRuntime;
  readonly c: Counters;
  readonly snap: StatsSnapshot;
  readonly legends: boolean;
}
interface SvCtx {
  readonly p: StatsProxy;
  readonly sv: ServerRuntime;
  readonly c: Counters;
  readonly snap: StatsSnapshot;
  readonly legends: boolean;
}

type Get<C> = ((ctx: C) => Value) | null;

interface Column {
  readonly name: string;
  readonly fe: Get<FeCtx>;
  readonly be: Get<BeCtx>;
  readonly sv: Get<SvCtx>;
}

// ---- helpers shared by several columns --------------------------------------------------

const zero = () => 0;
/** HAProxy keeps these dates in whole seconds and subtracts them: 1.9 s ago can read 2. */
const sec = (ms: number) => Math.floor(ms / 1000);
const secondsSince = (now: number, t: number) => Math.max(0, sec(now) - sec(t));
const lastSess = (now: number, t: number) => (t > 0 ? secondsSince(now, t) : -1);
const downtime = (now: number, total: number, since: number) =>
  sec(total) + (since > 0 ? secondsSince(now, since) : 0);
const ms = (v: number) => Math.round(v);
/** A time average of a backend or server row (stats/meter.ts `countTimes`). */
const avg = (x: { p: StatsProxy; c: Counters }, sum: number) =>
  averageTime(sum, x.p.cfg.mode === "http" ? x.c.reqTot : x.c.lbtot);
/** HTTP-only columns: empty on the rows of a TCP proxy, as HAProxy leaves them. */
const httpOnly =
  <C extends { p: StatsProxy }>(g: (x: C) => Value) =>
  (x: C): Value =>
    x.p.cfg.mode === "http" ? g(x) : undefined;

/** HAProxy's check status descriptions (the CSV's check_desc). */
export const CHECK_DESCRIPTIONS: Readonly<Record<string, string>> = {
  UNK: "Unknown",
  INI: "Initializing",
  SOCKERR: "Socket error",
  L4OK: "Layer4 check passed",
  L4TOUT: "Layer4 timeout",
  L4CON: "Layer4 connection problem",
  L6OK: "Layer6 check passed",
  L6TOUT: "Layer6 timeout",
  L6RSP: "Layer6 invalid response",
  L7TOUT: "Layer7 timeout",
  L7RSP: "Layer7 invalid response",
  L7OK: "Layer7 check passed",
  L7OKC: "Layer7 check conditionally passed",
  L7STS: "Layer7 wrong status",
};

/** Checks run and are not paused (HAProxy pauses them while a server is in MAINT). */
function checking(sv: ServerRuntime): boolean {
  return sv.cfg.check && sv.admin !== "maint";
}

/**
 * The status column of a server, spelled as HAProxy 2.6 does: `UP`, `UP 1/3` (going down:
 * checks left before DOWN), `DOWN`, `DOWN 1/2` (going up: successes so far / rise),
 * `DRAIN`, `DRAIN 2/3`, `NOLB` (disable-on-404), `NOLB 2/3`, `MAINT`, `no check`.
 */
export function serverStatus(sv: ServerRuntime): string {
  const { cfg } = sv;
  if (sv.admin === "maint") return "MAINT";
  if (sv.inheritedMaint && cfg.track) return `MAINT (via ${cfg.track.backend}/${cfg.track.server})`;
  const top = cfg.rise + cfg.fall - 1;
  if (sv.up) {
    const goingDown = cfg.check && sv.health < top;
    const left = `${sv.health - cfg.rise + 1}/${cfg.fall}`;
    if (sv.admin === "drain") return goingDown ? `DRAIN ${left}` : "DRAIN";
    if (sv.stopping) return goingDown ? `NOLB ${left}` : "NOLB";
    if (goingDown) return `UP ${left}`;
    // A tracking server shows its state as a checked one does (its tracked server's).
    return cfg.check || cfg.track ? "UP" : "no check";
  }
  if (cfg.check && sv.health > 0) return `DOWN ${sv.health}/${cfg.rise}`;
  return "DOWN";
}

/** The last check as the CSV and the page show it. */
export interface ShownCheck {
  readonly status: string;
  readonly code: number | undefined;
  readonly durationMs: number | undefined;
  readonly info: string;
}

/**
 * While a check runs HAProxy 2.6 shows the last status with a `* ` prefix, code 0 for a status
 * that has a code, no text, and the last duration (measured: `* L7STS`, 0, 506, "" during a
 * slow check after a 503; `* INI` with no code nor duration before the first result).
 */
export function shownCheck(sv: ServerRuntime): ShownCheck {
  const r = sv.lastCheck;
  const status = r?.status ?? "INI";
  if (sv.checkRunning) {
    return {
      status: `* ${status}`,
      code: r?.code !== undefined ? 0 : undefined,
      durationMs: r?.durationMs,
      info: "",
    };
  }
  return { status, code: r?.code, durationMs: r?.durationMs, info: r?.info ?? "" };
}

/** What the page prints for the last check: `L7OK/200 in 1ms`, `L4CON in 0ms`, `INI`, `* L7STS/0 in 5ms`. */
export function checkSummary(sv: ServerRuntime): string {
  const r = shownCheck(sv);
  const code = r.code !== undefined ? `/${r.code}` : "";
  const dur = r.durationMs !== undefined ? ` in ${Math.round(r.durationMs)}ms` : "";
  return `${r.status}${code}${dur}`;
}

export function checkDescription(sv: ServerRuntime): string {
  const r = sv.lastCheck;
  if (r === undefined) return CHECK_DESCRIPTIONS.INI!;
  return CHECK_DESCRIPTIONS[r.status] ?? r.desc;
}

function addr(s: ServerModel): string {
  return s.host.includes(":") ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`;
}

const effective = (s: ServerRuntime) => s.effectiveWeight;
/** The weight the operator set, whatever a slowstart ramp makes of it now. */
const userWeight = (s: ServerRuntime) => s.userWeight ?? s.cfg.weight;

function usableWeight(
  servers: readonly ServerRuntime[],
  backup: boolean,
  weight: (s: ServerRuntime) => number,
): number {
  let w = 0;
  for (const s of servers) if (s.cfg.backup === backup && isUsable(s)) w += weight(s);
  return w;
}

function countUsable(servers: readonly ServerRuntime[], backup: boolean): number {
  let n = 0;
  for (const s of servers) if (s.cfg.backup === backup && isUsable(s)) n++;
  return n;
}

/** Backend weight: the active servers' if any is usable, else the backups'. */
/**
 * The weight the backend serves with: its usable active servers', else (running on backup)
 * the first usable backup's alone, or every usable backup's with `option allbackups`.
 */
function backendWeight(be: BackendRuntime, weight: (s: ServerRuntime) => number = effective): number {
  if (countUsable(be.servers, false) > 0) return usableWeight(be.servers, false, weight);
  if (be.cfg.options.allbackups) return usableWeight(be.servers, true, weight);
  const first = be.servers.find((s) => s.cfg.backup && isUsable(s));
  return first === undefined ? 0 : weight(first);
}

/** A backend with servers is UP while one of them can take traffic; one without is UP. */
export function backendStatus(be: BackendRuntime): "UP" | "DOWN" {
  if (be.servers.length === 0) return "UP";
  return be.servers.some(isUsable) ? "UP" : "DOWN";
}

function frontendSlim(x: FeCtx): number {
  return x.p.cfg.maxconn || x.snap.globalMaxconn;
}

// ---- the column table (HAProxy 2.6.12 order) --------------------------------------------

function col(name: string, fe: Get<FeCtx>, be: Get<BeCtx>, sv: Get<SvCtx>): Column {
  return { name, fe, be, sv };
}

/** One getter for all three kinds of row, reading the row's counters. */
function all(f: (c: Counters) => Value): [Get<FeCtx>, Get<BeCtx>, Get<SvCtx>] {
  return [(x) => f(x.c), (x) => f(x.c), (x) => f(x.c)];
}

/** `all`, empty on a TCP proxy's rows. */
function allHttp(f: (c: Counters) => Value): [Get<FeCtx>, Get<BeCtx>, Get<SvCtx>] {
  return [httpOnly((x: FeCtx) => f(x.c)), httpOnly((x: BeCtx) => f(x.c)), httpOnly((x: SvCtx) => f(x.c))];
}

const CHECK =
  <T>(f: (x: SvCtx) => T) =>
  (x: SvCtx) =>
    checking(x.sv) ? f(x) : undefined;

const H1_EXTRA: readonly Column[] = [
  ["h1_open_connections", (x: FeCtx) => x.fe.conns, (x: BeCtx) => x.c.scur],
  ["h1_open_streams", (x: FeCtx) => x.c.scur, zero],
  ["h1_total_connections", (x: FeCtx) => x.c.stot, (x: BeCtx) => x.c.connect],
  ["h1_total_streams", (x: FeCtx) => x.c.reqTot, (x: BeCtx) => x.c.connect + x.c.reuse],
  ["h1_bytes_in", (x: FeCtx) => x.c.bytesIn, (x: BeCtx) => x.c.bytesOut],
  ["h1_bytes_out", (x: FeCtx) => x.c.bytesOut, (x: BeCtx) => x.c.bytesIn],
  ["h1_spliced_bytes_in", zero, zero],
  ["h1_spliced_bytes_out", zero, zero],
].map(([name, fe, be]) =>
  // A TCP proxy's streams never reach the HTTP/1 layer: its h1 counters stay 0.
  col(
    name as string,
    (x: FeCtx) => (x.p.cfg.mode === "http" ? (fe as (x: FeCtx) => Value)(x) : 0),
    (x: BeCtx) => (x.p.cfg.mode === "http" ? (be as (x: BeCtx) => Value)(x) : 0),
    null,
  ),
);

const H2_NAMES = [
  "h2_headers_rcvd",
  "h2_data_rcvd",
  "h2_settings_rcvd",
  "h2_rst_stream_rcvd",
  "h2_goaway_rcvd",
  "h2_detected_conn_protocol_errors",
  "h2_detected_strm_protocol_errors",
  "h2_rst_stream_resp",
  "h2_goaway_resp",
  "h2_open_connections",
  "h2_backend_open_streams",
  "h2_total_connections",
  "h2_backend_total_streams",
];

export const COLUMNS: readonly Column[] = [
  col(
    "pxname",
    (x) => x.p.cfg.name,
    (x) => x.p.cfg.name,
    (x) => x.p.cfg.name,
  ),
  col(
    "svname",
    () => "FRONTEND",
    () => "BACKEND",
    (x) => x.sv.cfg.name,
  ),
  col(
    "qcur",
    null,
    (x) => x.c.qcur,
    (x) => x.c.qcur,
  ),
  col(
    "qmax",
    null,
    (x) => x.c.qmax,
    (x) => x.c.qmax,
  ),
  col("scur", ...all((c) => c.scur)),
  col("smax", ...all((c) => c.smax)),
  col(
    "slim",
    frontendSlim,
    (x) => x.p.fullconn ?? x.p.cfg.fullconn,
    (x) => x.sv.cfg.maxconn || undefined,
  ),
  col("stot", ...all((c) => c.stot)),
  col("bin", ...all((c) => c.bytesIn)),
  col("bout", ...all((c) => c.bytesOut)),
  col(
    "dreq",
    (x) => x.c.dreq,
    (x) => x.c.dreq,
    null,
  ),
  col("dresp", ...all((c) => c.dresp)),
  col("ereq", (x) => x.c.ereq, null, null),
  col(
    "econ",
    null,
    (x) => x.c.econ,
    (x) => x.c.econ,
  ),
  col(
    "eresp",
    null,
    (x) => x.c.eresp,
    (x) => x.c.eresp,
  ),
  col(
    "wretr",
    null,
    (x) => x.c.wretr,
    (x) => x.c.wretr,
  ),
  col(
    "wredis",
    null,
    (x) => x.c.wredis,
    (x) => x.c.wredis,
  ),
  col(
    "status",
    (x) => (x.p.stopped ? "STOP" : "OPEN"),
    (x) => backendStatus(x.be),
    (x) => serverStatus(x.sv),
  ),
  col(
    "weight",
    null,
    // HAProxy prints the effective weight rounded up (a slowstart ramp runs in 1/16 steps).
    (x) => Math.ceil(backendWeight(x.be)),
    (x) => Math.ceil(x.sv.effectiveWeight),
  ),
  col(
    "act",
    null,
    (x) => countUsable(x.be.servers, false),
    (x) => (x.sv.cfg.backup ? 0 : 1),
  ),
  col(
    "bck",
    null,
    (x) => countUsable(x.be.servers, true),
    (x) => (x.sv.cfg.backup ? 1 : 0),
  ),
  col("chkfail", null, null, (x) => (x.sv.cfg.check ? x.sv.chkfail : undefined)),
  col(
    "chkdown",
    null,
    (x) => x.be.chkdown,
    (x) => (x.sv.cfg.check ? x.sv.chkdown : undefined),
  ),
  col(
    "lastchg",
    null,
    (x) => secondsSince(x.snap.now, x.be.lastChange || x.snap.startedAt),
    (x) => secondsSince(x.snap.now, x.sv.lastChange || x.snap.startedAt),
  ),
  col(
    "downtime",
    null,
    (x) => (x.be.servers.length > 0 ? downtime(x.snap.now, x.be.downTime, x.be.downSince) : undefined),
    (x) => (x.sv.cfg.check ? downtime(x.snap.now, x.sv.downTime, x.sv.downSince) : undefined),
  ),
  col("qlimit", null, null, (x) => x.sv.cfg.maxqueue || undefined),
  col(
    "pid",
    () => 1,
    () => 1,
    () => 1,
  ),
  col(
    "iid",
    (x) => x.p.cfg.id,
    (x) => x.p.cfg.id,
    (x) => x.p.cfg.id,
  ),
  col("sid", zero, zero, (x) => x.sv.cfg.id),
  // During a slowstart ramp (UP, ready, below the operator's weight), the share of the weight
  // in force, in percent rounded down as HAProxy shows it (6, 31, 56, 81 for a 4 s ramp).
  col("throttle", null, null, (x) => {
    const w = userWeight(x.sv);
    const e = x.sv.effectiveWeight;
    return x.sv.up && x.sv.admin === "ready" && w > 0 && e > 0 && e < w
      ? Math.floor((100 * e) / w)
      : undefined;
  }),
  col(
    "lbtot",
    null,
    (x) => x.c.lbtot,
    (x) => x.c.lbtot,
  ),
  col("tracked", null, null, (x) =>
    x.sv.cfg.track ? `${x.sv.cfg.track.backend}/${x.sv.cfg.track.server}` : undefined,
  ),
  col(
    "type",
    () => 0,
    () => 1,
    () => 2,
  ),
  col(
    "rate",
    (x) => rateRead(x.c.sessRate, x.snap.now),
    (x) => rateRead(x.c.sessRate, x.snap.now),
    (x) => rateRead(x.c.sessRate, x.snap.now),
  ),
  col("rate_lim", zero, null, null),
  col("rate_max", ...all((c) => c.rateMax)),
  col(
    "check_status",
    null,
    null,
    CHECK((x) => shownCheck(x.sv).status),
  ),
  col(
    "check_code",
    null,
    null,
    CHECK((x) => shownCheck(x.sv).code),
  ),
  col(
    "check_duration",
    null,
    null,
    CHECK((x) => (x.sv.lastCheck?.durationMs !== undefined ? ms(x.sv.lastCheck.durationMs) : undefined)),
  ),
  col("hrsp_1xx", ...allHttp((c) => c.hrsp[0])),
  col("hrsp_2xx", ...allHttp((c) => c.hrsp[1])),
  col("hrsp_3xx", ...allHttp((c) => c.hrsp[2])),
  col("hrsp_4xx", ...allHttp((c) => c.hrsp[3])),
  col("hrsp_5xx", ...allHttp((c) => c.hrsp[4])),
  col("hrsp_other", ...allHttp((c) => c.hrsp[5])),
  col("hanafail", null, null, null),
  col("req_rate", (x) => rateRead(x.c.reqRate, x.snap.now), null, null),
  col("req_rate_max", (x) => x.c.reqRateMax, null, null),
  col(
    "req_tot",
    (x) => x.c.reqTot,
    httpOnly((x) => x.c.reqTot),
    httpOnly((x) => x.c.reqTot),
  ),
  col(
    "cli_abrt",
    null,
    (x) => x.c.cliAbrt,
    (x) => x.c.cliAbrt,
  ),
  col(
    "srv_abrt",
    null,
    (x) => x.c.srvAbrt,
    (x) => x.c.srvAbrt,
  ),
  col("comp_in", zero, zero, null),
  col("comp_out", zero, zero, null),
  col("comp_byp", zero, zero, null),
  col("comp_rsp", zero, zero, null),
  col(
    "lastsess",
    null,
    (x) => lastSess(x.snap.now, x.c.lastSess),
    (x) => lastSess(x.snap.now, x.c.lastSess),
  ),
  col(
    "last_chk",
    null,
    null,
    CHECK((x) => shownCheck(x.sv).info),
  ),
  col("last_agt", null, null, null),
  col(
    "qtime",
    null,
    (x) => avg(x, x.c.qtime),
    (x) => avg(x, x.c.qtime),
  ),
  col(
    "ctime",
    null,
    (x) => avg(x, x.c.ctime),
    (x) => avg(x, x.c.ctime),
  ),
  col(
    "rtime",
    null,
    (x) => avg(x, x.c.rtime),
    (x) => avg(x, x.c.rtime),
  ),
  col(
    "ttime",
    null,
    (x) => avg(x, x.c.ttime),
    (x) => avg(x, x.c.ttime),
  ),
  col("agent_status", null, null, null),
  col("agent_code", null, null, null),
  col("agent_duration", null, null, null),
  col(
    "check_desc",
    null,
    null,
    CHECK((x) => checkDescription(x.sv)),
  ),
  col("agent_desc", null, null, null),
  col(
    "check_rise",
    null,
    null,
    CHECK((x) => x.sv.cfg.rise),
  ),
  col(
    "check_fall",
    null,
    null,
    CHECK((x) => x.sv.cfg.fall),
  ),
  col(
    "check_health",
    null,
    null,
    CHECK((x) => x.sv.health),
  ),
  col("agent_rise", null, null, null),
  col("agent_fall", null, null, null),
  col("agent_health", null, null, null),
  col("addr", null, null, (x) => (x.legends ? addr(x.sv.cfg) : undefined)),
  col(
    "cookie",
    null,
    (x) => (x.legends ? x.p.cfg.cookie?.name : undefined),
    (x) => (x.legends ? x.sv.cfg.cookie : undefined),
  ),
  col(
    "mode",
    (x) => x.p.cfg.mode,
    (x) => x.p.cfg.mode,
    (x) => x.p.cfg.mode,
  ),
  col("algo", null, (x) => (x.legends ? x.p.cfg.balance.algo : undefined), null),
  col("conn_rate", (x) => rateRead(x.c.sessRate, x.snap.now), null, null),
  col("conn_rate_max", (x) => x.c.rateMax, null, null),
  col("conn_tot", (x) => x.c.stot, null, null),
  col(
    "intercepted",
    httpOnly((x) => x.c.intercepted),
    null,
    null,
  ),
  col("dcon", zero, null, null),
  col("dses", zero, null, null),
  col("wrew", zero, zero, zero),
  col(
    "connect",
    null,
    (x) => x.c.connect,
    (x) => x.c.connect,
  ),
  col(
    "reuse",
    null,
    (x) => x.c.reuse,
    (x) => x.c.reuse,
  ),
  col("cache_lookups", httpOnly(zero), httpOnly(zero), null),
  col("cache_hits", httpOnly(zero), httpOnly(zero), null),
  col("srv_icur", null, null, zero),
  col("src_ilim", null, null, null),
  col(
    "qtime_max",
    null,
    (x) => ms(x.c.qtimeMax),
    (x) => ms(x.c.qtimeMax),
  ),
  col(
    "ctime_max",
    null,
    (x) => ms(x.c.ctimeMax),
    (x) => ms(x.c.ctimeMax),
  ),
  col(
    "rtime_max",
    null,
    (x) => ms(x.c.rtimeMax),
    (x) => ms(x.c.rtimeMax),
  ),
  col(
    "ttime_max",
    null,
    (x) => ms(x.c.ttimeMax),
    (x) => ms(x.c.ttimeMax),
  ),
  col("eint", zero, zero, zero),
  col("idle_conn_cur", null, null, zero),
  col("safe_conn_cur", null, null, zero),
  col("used_conn_cur", null, null, (x) => x.sv.active),
  col("need_conn_est", null, null, zero),
  col(
    "uweight",
    null,
    (x) => backendWeight(x.be, userWeight),
    (x) => userWeight(x.sv),
  ),
  col("agg_server_status", null, zero, null),
  col("agg_server_check_status", null, zero, null),
  col("agg_check_status", null, zero, null),
  col(
    "-",
    () => "-",
    () => "-",
    () => "-",
  ),
  col("ssl_sess", zero, zero, zero),
  col("ssl_reused_sess", zero, zero, zero),
  col("ssl_failed_handshake", zero, zero, zero),
  ...H2_NAMES.map((n) => col(n, zero, zero, null)),
  ...H1_EXTRA,
];

/** `# pxname,svname,...,h1_spliced_bytes_out,` exactly as HAProxy 2.6 (trailing comma included). */
export const CSV_HEADER = `# ${COLUMNS.map((c) => c.name).join(",")},\n`;

// ---- rows -------------------------------------------------------------------------------

export type RowKind = "frontend" | "server" | "backend";

/** One computed row: the CSV's fields (empty string where HAProxy leaves the cell empty). */
export interface StatsRow {
  readonly kind: RowKind;
  readonly proxy: ProxyModel;
  readonly server?: ServerRuntime;
  readonly fields: readonly string[];
}

export interface RowOptions {
  /** `stats show-legends` (HTTP) or the CLI: fill addr, cookie and algo. */
  readonly legends: boolean;
  /** `;up`: leave out servers that are not UP (MAINT included). */
  readonly hideDown?: boolean;
  /** `;no-maint`: leave out servers in MAINT. */
  readonly hideMaint?: boolean;
}

const INDEX = new Map(COLUMNS.map((c, i) => [c.name, i]));

/** Index of a column by name (throws on a name HAProxy 2.6 does not have). */
export function columnIndex(name: string): number {
  const i = INDEX.get(name);
  if (i === undefined) throw new Error(`no stats column '${name}'`);
  return i;
}

function cell(v: Value): string {
  return v === undefined ? "" : String(v);
}

function fill<C>(kind: "fe" | "be" | "sv", ctx: C): string[] {
  return COLUMNS.map((c) => {
    const g = c[kind] as Get<C>;
    return g === null ? "" : cell(g(ctx));
  });
}

function serverShown(sv: ServerRuntime, o: RowOptions): boolean {
  if (o.hideDown && (!sv.up || sv.admin === "maint")) return false;
  if (o.hideMaint && sv.admin === "maint") return false;
  return true;
}

/** Every row in HAProxy's order: per proxy, FRONTEND, then its servers, then BACKEND. */
export function statsRows(snap: StatsSnapshot, o: RowOptions): StatsRow[] {
  const rows: StatsRow[] = [];
  const legends = o.legends;
  for (const p of snap.proxies) {
    if (p.frontend) {
      const fe = p.frontend;
      rows.push({
        kind: "frontend",
        proxy: p.cfg,
        fields: fill<FeCtx>("fe", { p, fe, c: fe.counters, snap, legends }),
      });
    }
    if (p.backend) {
      const be = p.backend;
      for (const sv of be.servers) {
        if (!serverShown(sv, o)) continue;
        rows.push({
          kind: "server",
          proxy: p.cfg,
          server: sv,
          fields: fill<SvCtx>("sv", { p, sv, c: sv.counters, snap, legends }),
        });
      }
      rows.push({
        kind: "backend",
        proxy: p.cfg,
        fields: fill<BeCtx>("be", { p, be, c: be.counters, snap, legends }),
      });
    }
  }
  return rows;
}

/** HAProxy's CSV quoting: quotes only around a cell with a comma, a quote or a line break. */
export function csvCell(s: string): string {
  return /[\n\r,"]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The whole CSV document: header, then each row with HAProxy's trailing comma. */
export function statsCsv(snap: StatsSnapshot, o: RowOptions): string {
  let out = CSV_HEADER;
  for (const r of statsRows(snap, o)) out += `${r.fields.map(csvCell).join(",")},\n`;
  return out;
}
