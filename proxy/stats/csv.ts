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

export type Value = string | number | undefined;

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

/** The field types of HAProxy's typed output (`show stat typed`). */
export type FieldType = "u32" | "u64" | "s32" | "str";

/**
 * How `show stat typed` and the JSON forms describe a column on each kind of row: HAProxy's
 * origin, nature and scope letters (`MCP`: metric, counter, process) and its field type.
 */
export interface FieldTags {
  readonly fe: string;
  readonly be: string;
  readonly sv: string;
  readonly type: FieldType;
}

interface Column {
  readonly name: string;
  /** HAProxy's field number in the typed forms; none for the CSV's `-` separator. */
  readonly pos: number | undefined;
  /** Undefined for the `-` separator, which is no field. */
  readonly tags: FieldTags | undefined;
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

/**
 * HAProxy numbers its fields, not the CSV's cells: the `-` cell only separates its own
 * fields (0..102) from its modules' (ssl, h2, h1, numbered on from 103).
 */
function numbered(cols: readonly Column[]): Column[] {
  let pos = 0;
  return cols.map((c) => (c.tags === undefined ? c : { ...c, pos: pos++ }));
}

/**
 * `spec` is what haproxy 2.6.12's `show stat typed` prints for the column, `TAGS:TYPE`
 * (`MCP:u64`), then the rows whose letters differ (`MRP:u32 be=MGP`: `rate` is a rate on a
 * frontend and a server, a gauge on a backend). Letters for a kind of row HAProxy leaves
 * empty are the column's usual ones: they are never printed. "" for the `-` separator.
 */
function parseSpec(spec: string): FieldTags | undefined {
  if (spec === "") return undefined;
  const [base = "", ...overrides] = spec.split(" ");
  const [tags = "", type] = base.split(":");
  const t = { fe: tags, be: tags, sv: tags, type: type as FieldType };
  for (const o of overrides) {
    const [kind, letters = ""] = o.split("=");
    t[kind as "fe" | "be" | "sv"] = letters;
  }
  return t;
}

/** Columns are numbered once the table is built (`numbered`): `pos` is filled there. */
function col(name: string, spec: string, fe: Get<FeCtx>, be: Get<BeCtx>, sv: Get<SvCtx>): Column {
  return { name, pos: undefined, tags: parseSpec(spec), fe, be, sv };
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
  ["h1_open_connections", "MGP:u64", (x: FeCtx) => x.fe.conns, (x: BeCtx) => x.c.scur],
  ["h1_open_streams", "MGP:u64", (x: FeCtx) => x.c.scur, zero],
  ["h1_total_connections", "MCP:u64", (x: FeCtx) => x.c.stot, (x: BeCtx) => x.c.connect],
  ["h1_total_streams", "MCP:u64", (x: FeCtx) => x.c.reqTot, (x: BeCtx) => x.c.connect + x.c.reuse],
  ["h1_bytes_in", "MCP:u64", (x: FeCtx) => x.c.bytesIn, (x: BeCtx) => x.c.bytesOut],
  ["h1_bytes_out", "MCP:u64", (x: FeCtx) => x.c.bytesOut, (x: BeCtx) => x.c.bytesIn],
  ["h1_spliced_bytes_in", "MCP:u64", zero, zero],
  ["h1_spliced_bytes_out", "MCP:u64", zero, zero],
].map(([name, spec, fe, be]) =>
  // A TCP proxy's streams never reach the HTTP/1 layer: its h1 counters stay 0.
  col(
    name as string,
    spec as string,
    (x: FeCtx) => (x.p.cfg.mode === "http" ? (fe as (x: FeCtx) => Value)(x) : 0),
    (x: BeCtx) => (x.p.cfg.mode === "http" ? (be as (x: BeCtx) => Value)(x) : 0),
    null,
  ),
);

/** The h2 module's columns and their typed spec (see `parseSpec`): always 0 (no HTTP/2). */
const H2_COLUMNS: readonly (readonly [string, string])[] = [
  ["h2_headers_rcvd", "MCP:u64"],
  ["h2_data_rcvd", "MCP:u64"],
  ["h2_settings_rcvd", "MCP:u64"],
  ["h2_rst_stream_rcvd", "MCP:u64"],
  ["h2_goaway_rcvd", "MCP:u64"],
  ["h2_detected_conn_protocol_errors", "MCP:u64"],
  ["h2_detected_strm_protocol_errors", "MCP:u64"],
  ["h2_rst_stream_resp", "MCP:u64"],
  ["h2_goaway_resp", "MCP:u64"],
  ["h2_open_connections", "MGP:u64"],
  ["h2_backend_open_streams", "MGP:u64"],
  ["h2_total_connections", "MCP:u64"],
  ["h2_backend_total_streams", "MCP:u64"],
];

export const COLUMNS: readonly Column[] = numbered([
  col(
    "pxname",
    "KNS:str",
    (x) => x.p.cfg.name,
    (x) => x.p.cfg.name,
    (x) => x.p.cfg.name,
  ),
  col(
    "svname",
    "KNS:str",
    () => "FRONTEND",
    () => "BACKEND",
    (x) => x.sv.cfg.name,
  ),
  col(
    "qcur",
    "MGP:u32",
    null,
    (x) => x.c.qcur,
    (x) => x.c.qcur,
  ),
  col(
    "qmax",
    "MMP:u32",
    null,
    (x) => x.c.qmax,
    (x) => x.c.qmax,
  ),
  col("scur", "MGP:u32", ...all((c) => c.scur)),
  col("smax", "MMP:u32", ...all((c) => c.smax)),
  col(
    "slim",
    "CLP:u32",
    frontendSlim,
    (x) => x.p.fullconn ?? x.p.cfg.fullconn,
    (x) => x.sv.cfg.maxconn || undefined,
  ),
  col("stot", "MCP:u64", ...all((c) => c.stot)),
  col("bin", "MCP:u64", ...all((c) => c.bytesIn)),
  col("bout", "MCP:u64", ...all((c) => c.bytesOut)),
  col(
    "dreq",
    "MCP:u64",
    (x) => x.c.dreq,
    (x) => x.c.dreq,
    null,
  ),
  col("dresp", "MCP:u64", ...all((c) => c.dresp)),
  col("ereq", "MCP:u64", (x) => x.c.ereq, null, null),
  col(
    "econ",
    "MCP:u64",
    null,
    (x) => x.c.econ,
    (x) => x.c.econ,
  ),
  col(
    "eresp",
    "MCP:u64",
    null,
    (x) => x.c.eresp,
    (x) => x.c.eresp,
  ),
  col(
    "wretr",
    "MCP:u64",
    null,
    (x) => x.c.wretr,
    (x) => x.c.wretr,
  ),
  col(
    "wredis",
    "MCP:u64",
    null,
    (x) => x.c.wredis,
    (x) => x.c.wredis,
  ),
  col(
    "status",
    "SGP:str",
    (x) => (x.p.stopped ? "STOP" : "OPEN"),
    (x) => backendStatus(x.be),
    (x) => serverStatus(x.sv),
  ),
  col(
    "weight",
    "MaP:u32",
    null,
    // HAProxy prints the effective weight rounded up (a slowstart ramp runs in 1/16 steps).
    (x) => Math.ceil(backendWeight(x.be)),
    (x) => Math.ceil(x.sv.effectiveWeight),
  ),
  col(
    "act",
    "MGP:u32 sv=SGP",
    null,
    (x) => countUsable(x.be.servers, false),
    (x) => (x.sv.cfg.backup ? 0 : 1),
  ),
  col(
    "bck",
    "MGP:u32 sv=SGP",
    null,
    (x) => countUsable(x.be.servers, true),
    (x) => (x.sv.cfg.backup ? 1 : 0),
  ),
  col("chkfail", "MCP:u64", null, null, (x) => (x.sv.cfg.check ? x.sv.chkfail : undefined)),
  col(
    "chkdown",
    "MCP:u64",
    null,
    (x) => x.be.chkdown,
    (x) => (x.sv.cfg.check ? x.sv.chkdown : undefined),
  ),
  col(
    "lastchg",
    "MAP:u32",
    null,
    (x) => secondsSince(x.snap.now, x.be.lastChange || x.snap.startedAt),
    (x) => secondsSince(x.snap.now, x.sv.lastChange || x.snap.startedAt),
  ),
  col(
    "downtime",
    "MCP:u32",
    null,
    (x) => (x.be.servers.length > 0 ? downtime(x.snap.now, x.be.downTime, x.be.downSince) : undefined),
    (x) => (x.sv.cfg.check ? downtime(x.snap.now, x.sv.downTime, x.sv.downSince) : undefined),
  ),
  col("qlimit", "CGS:u32", null, null, (x) => x.sv.cfg.maxqueue || undefined),
  col(
    "pid",
    "KGP:u32",
    () => 1,
    () => 1,
    () => 1,
  ),
  col(
    "iid",
    "KGS:u32",
    (x) => x.p.cfg.id,
    (x) => x.p.cfg.id,
    (x) => x.p.cfg.id,
  ),
  col("sid", "KGS:u32", zero, zero, (x) => x.sv.cfg.id),
  // During a slowstart ramp (UP, ready, below the operator's weight), the share of the weight
  // in force, in percent rounded down as HAProxy shows it (6, 31, 56, 81 for a 4 s ramp).
  col("throttle", "MaP:u32", null, null, (x) => {
    const w = userWeight(x.sv);
    const e = x.sv.effectiveWeight;
    return x.sv.up && x.sv.admin === "ready" && w > 0 && e > 0 && e < w
      ? Math.floor((100 * e) / w)
      : undefined;
  }),
  col(
    "lbtot",
    "MCP:u64",
    null,
    (x) => x.c.lbtot,
    (x) => x.c.lbtot,
  ),
  col("tracked", "CNS:str", null, null, (x) =>
    x.sv.cfg.track ? `${x.sv.cfg.track.backend}/${x.sv.cfg.track.server}` : undefined,
  ),
  col(
    "type",
    "CGS:u32",
    () => 0,
    () => 1,
    () => 2,
  ),
  col(
    "rate",
    "MRP:u32 be=MGP",
    (x) => rateRead(x.c.sessRate, x.snap.now),
    (x) => rateRead(x.c.sessRate, x.snap.now),
    (x) => rateRead(x.c.sessRate, x.snap.now),
  ),
  col("rate_lim", "CLP:u32", zero, null, null),
  col("rate_max", "MMP:u32 be=MGP", ...all((c) => c.rateMax)),
  col(
    "check_status",
    "MOP:str",
    null,
    null,
    CHECK((x) => shownCheck(x.sv).status),
  ),
  col(
    "check_code",
    "MOP:u32",
    null,
    null,
    CHECK((x) => shownCheck(x.sv).code),
  ),
  col(
    "check_duration",
    "MDP:u64",
    null,
    null,
    CHECK((x) => (x.sv.lastCheck?.durationMs !== undefined ? ms(x.sv.lastCheck.durationMs) : undefined)),
  ),
  col("hrsp_1xx", "MCP:u64", ...allHttp((c) => c.hrsp[0])),
  col("hrsp_2xx", "MCP:u64", ...allHttp((c) => c.hrsp[1])),
  col("hrsp_3xx", "MCP:u64", ...allHttp((c) => c.hrsp[2])),
  col("hrsp_4xx", "MCP:u64", ...allHttp((c) => c.hrsp[3])),
  col("hrsp_5xx", "MCP:u64", ...allHttp((c) => c.hrsp[4])),
  col("hrsp_other", "MCP:u64", ...allHttp((c) => c.hrsp[5])),
  col("hanafail", "MCP:u64", null, null, null),
  col("req_rate", "MRP:u32", (x) => rateRead(x.c.reqRate, x.snap.now), null, null),
  col("req_rate_max", "MMP:u32", (x) => x.c.reqRateMax, null, null),
  col(
    "req_tot",
    "MCP:u64",
    (x) => x.c.reqTot,
    httpOnly((x) => x.c.reqTot),
    httpOnly((x) => x.c.reqTot),
  ),
  col(
    "cli_abrt",
    "MCP:u64",
    null,
    (x) => x.c.cliAbrt,
    (x) => x.c.cliAbrt,
  ),
  col(
    "srv_abrt",
    "MCP:u64",
    null,
    (x) => x.c.srvAbrt,
    (x) => x.c.srvAbrt,
  ),
  col("comp_in", "MCP:u64", zero, zero, null),
  col("comp_out", "MCP:u64", zero, zero, null),
  col("comp_byp", "MCP:u64", zero, zero, null),
  col("comp_rsp", "MCP:u64", zero, zero, null),
  col(
    "lastsess",
    "MAP:s32",
    null,
    (x) => lastSess(x.snap.now, x.c.lastSess),
    (x) => lastSess(x.snap.now, x.c.lastSess),
  ),
  col(
    "last_chk",
    "MOP:str",
    null,
    null,
    CHECK((x) => shownCheck(x.sv).info),
  ),
  col("last_agt", "MOP:str", null, null, null),
  col(
    "qtime",
    "MaP:u32",
    null,
    (x) => avg(x, x.c.qtime),
    (x) => avg(x, x.c.qtime),
  ),
  col(
    "ctime",
    "MaP:u32",
    null,
    (x) => avg(x, x.c.ctime),
    (x) => avg(x, x.c.ctime),
  ),
  col(
    "rtime",
    "MaP:u32",
    null,
    (x) => avg(x, x.c.rtime),
    (x) => avg(x, x.c.rtime),
  ),
  col(
    "ttime",
    "MaP:u32",
    null,
    (x) => avg(x, x.c.ttime),
    (x) => avg(x, x.c.ttime),
  ),
  col("agent_status", "MOP:str", null, null, null),
  col("agent_code", "MOP:u32", null, null, null),
  col("agent_duration", "MDP:u64", null, null, null),
  col(
    "check_desc",
    "MOP:str",
    null,
    null,
    CHECK((x) => checkDescription(x.sv)),
  ),
  col("agent_desc", "MOP:str", null, null, null),
  col(
    "check_rise",
    "CGS:u32",
    null,
    null,
    CHECK((x) => x.sv.cfg.rise),
  ),
  col(
    "check_fall",
    "CGS:u32",
    null,
    null,
    CHECK((x) => x.sv.cfg.fall),
  ),
  col(
    "check_health",
    "CGS:u32",
    null,
    null,
    CHECK((x) => x.sv.health),
  ),
  col("agent_rise", "CGS:u32", null, null, null),
  col("agent_fall", "CGS:u32", null, null, null),
  col("agent_health", "CGS:u32", null, null, null),
  col("addr", "CGS:str", null, null, (x) => (x.legends ? addr(x.sv.cfg) : undefined)),
  col(
    "cookie",
    "CNS:str",
    null,
    (x) => (x.legends ? x.p.cfg.cookie?.name : undefined),
    (x) => (x.legends ? x.sv.cfg.cookie : undefined),
  ),
  col(
    "mode",
    "CGS:str",
    (x) => x.p.cfg.mode,
    (x) => x.p.cfg.mode,
    (x) => x.p.cfg.mode,
  ),
  col("algo", "CGS:str", null, (x) => (x.legends ? x.p.cfg.balance.algo : undefined), null),
  col("conn_rate", "MRP:u32", (x) => rateRead(x.c.sessRate, x.snap.now), null, null),
  col("conn_rate_max", "MMP:u32", (x) => x.c.rateMax, null, null),
  col("conn_tot", "MCP:u64", (x) => x.c.stot, null, null),
  col(
    "intercepted",
    "MCP:u64",
    httpOnly((x) => x.c.intercepted),
    null,
    null,
  ),
  col("dcon", "MCP:u64", zero, null, null),
  col("dses", "MCP:u64", zero, null, null),
  col("wrew", "MCP:u64", zero, zero, zero),
  col(
    "connect",
    "MCP:u64",
    null,
    (x) => x.c.connect,
    (x) => x.c.connect,
  ),
  col(
    "reuse",
    "MCP:u64",
    null,
    (x) => x.c.reuse,
    (x) => x.c.reuse,
  ),
  col("cache_lookups", "MCP:u64", httpOnly(zero), httpOnly(zero), null),
  col("cache_hits", "MCP:u64", httpOnly(zero), httpOnly(zero), null),
  col("srv_icur", "MGP:u32", null, null, zero),
  col("src_ilim", "CLP:u32", null, null, null),
  col(
    "qtime_max",
    "MMP:u32",
    null,
    (x) => ms(x.c.qtimeMax),
    (x) => ms(x.c.qtimeMax),
  ),
  col(
    "ctime_max",
    "MMP:u32",
    null,
    (x) => ms(x.c.ctimeMax),
    (x) => ms(x.c.ctimeMax),
  ),
  col(
    "rtime_max",
    "MMP:u32",
    null,
    (x) => ms(x.c.rtimeMax),
    (x) => ms(x.c.rtimeMax),
  ),
  col(
    "ttime_max",
    "MMP:u32",
    null,
    (x) => ms(x.c.ttimeMax),
    (x) => ms(x.c.ttimeMax),
  ),
  col("eint", "MCP:u64", zero, zero, zero),
  col("idle_conn_cur", "MGP:u32", null, null, zero),
  col("safe_conn_cur", "MGP:u32", null, null, zero),
  col("used_conn_cur", "MGP:u32", null, null, (x) => x.sv.active),
  col("need_conn_est", "MGP:u32", null, null, zero),
  col(
    "uweight",
    "MaP:u32",
    null,
    (x) => backendWeight(x.be, userWeight),
    (x) => userWeight(x.sv),
  ),
  col("agg_server_status", "MGP:u32", null, zero, null),
  col("agg_server_check_status", "MGP:u32", null, zero, null),
  col("agg_check_status", "MGP:u32", null, zero, null),
  col(
    "-",
    "",
    () => "-",
    () => "-",
    () => "-",
  ),
  col("ssl_sess", "MCP:u64", zero, zero, zero),
  col("ssl_reused_sess", "MCP:u64", zero, zero, zero),
  col("ssl_failed_handshake", "MCP:u64", zero, zero, zero),
  ...H2_COLUMNS.map(([n, spec]) => col(n, spec, zero, zero, null)),
  ...H1_EXTRA,
]);

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
  /**
   * The same cells before they are text: `undefined` where HAProxy leaves the field empty,
   * which the typed forms leave out, while an empty string (a check's empty `last_chk`) is
   * still printed there.
   */
  readonly values: readonly Value[];
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

function fill<C>(kind: "fe" | "be" | "sv", ctx: C): { values: Value[]; fields: string[] } {
  const values = COLUMNS.map((c) => {
    const g = c[kind] as Get<C>;
    return g === null ? undefined : g(ctx);
  });
  return { values, fields: values.map(cell) };
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
        ...fill<FeCtx>("fe", { p, fe, c: fe.counters, snap, legends }),
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
          ...fill<SvCtx>("sv", { p, sv, c: sv.counters, snap, legends }),
        });
      }
      rows.push({
        kind: "backend",
        proxy: p.cfg,
        ...fill<BeCtx>("be", { p, be, c: be.counters, snap, legends }),
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
