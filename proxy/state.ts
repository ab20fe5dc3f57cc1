/**
 * Live state of a running node: per-proxy and per-server counters and server status. The
 * request path increments counters, health checks set check results, the stats page and CSV
 * read them. Plain mutable records (no getters) so the hot path stays cheap; everything here
 * is owned by one node and never shared across processes.
 */
import type { ProxyModel, ServerModel } from "./config/model.js";

/** Counters HAProxy keeps for frontends, backends and servers (the CSV's columns). */
export interface Counters {
  /** Current sessions (connections for a frontend, in-flight requests for backend/server). */
  scur: number;
  smax: number;
  /** Total sessions. */
  stot: number;
  bytesIn: number;
  bytesOut: number;
  /** Requests denied (security). */
  dreq: number;
  dresp: number;
  /** Request errors (frontend): bad requests, client timeouts before a request. */
  ereq: number;
  /** Connection errors to servers. */
  econ: number;
  /** Response errors (bad response, server abort during response). */
  eresp: number;
  /** Retries and redispatches (warnings). */
  wretr: number;
  wredis: number;
  /** HTTP responses by class: index 0 = 1xx ... 4 = 5xx, 5 = other. */
  hrsp: [number, number, number, number, number, number];
  /** Total HTTP requests. */
  reqTot: number;
  cliAbrt: number;
  srvAbrt: number;
  /** Times a server/backend was chosen by the balancer (lbtot). */
  lbtot: number;
  /** Connections intercepted (stats, monitor) for frontends. */
  intercepted: number;
  /** Epoch ms of the last session, or 0. */
  lastSess: number;
  /** Rate meters: events in the current and previous second. */
  sessRate: RateMeter;
  reqRate: RateMeter;
  /** Highest per-second rates seen. */
  rateMax: number;
  reqRateMax: number;
  /**
   * HAProxy's qtime/ctime/rtime/ttime: sums over the last (up to) 1024 streams that reached a
   * server (ms), read as averages by stats/meter.ts `averageTime`.
   */
  qtime: number;
  ctime: number;
  rtime: number;
  ttime: number;
  /** Highest queue/connect/response/total times seen (ms), the CSV's qtime_max ... ttime_max. */
  qtimeMax: number;
  ctimeMax: number;
  rtimeMax: number;
  ttimeMax: number;
  /** Connections currently waiting in a queue, and the maximum seen. */
  qcur: number;
  qmax: number;
  /** Failed and reused connections to servers. */
  connect: number;
  reuse: number;
}

/**
 * A per-second event counter as HAProxy's freq_ctr: `curr` counts the running period (1 s from
 * `tick`), `prev` the one before it. Periods follow the first event after an idle spell, not the
 * wall clock's seconds: `tick` moves on by whole periods while events keep coming, and restarts at
 * the next event once two periods went by without one.
 */
export interface RateMeter {
  /** Start of the running period (ms); -Infinity before the first event. */
  tick: number;
  curr: number;
  prev: number;
}

export function newRateMeter(): RateMeter {
  return { tick: Number.NEGATIVE_INFINITY, curr: 0, prev: 0 };
}

export function newCounters(): Counters {
  return {
    scur: 0,
    smax: 0,
    stot: 0,
    bytesIn: 0,
    bytesOut: 0,
    dreq: 0,
    dresp: 0,
    ereq: 0,
    econ: 0,
    eresp: 0,
    wretr: 0,
    wredis: 0,
    hrsp: [0, 0, 0, 0, 0, 0],
    reqTot: 0,
    cliAbrt: 0,
    srvAbrt: 0,
    lbtot: 0,
    intercepted: 0,
    lastSess: 0,
    sessRate: newRateMeter(),
    reqRate: newRateMeter(),
    rateMax: 0,
    reqRateMax: 0,
    qtime: 0,
    ctime: 0,
    rtime: 0,
    ttime: 0,
    qtimeMax: 0,
    ctimeMax: 0,
    rtimeMax: 0,
    ttimeMax: 0,
    qcur: 0,
    qmax: 0,
    connect: 0,
    reuse: 0,
  };
}

const RATE_PERIOD_MS = 1000;

/**
 * Adds one event to a rate meter at time `nowMs`; returns the running period's count, which
 * HAProxy's maxima (`rate_max`, `MaxSessRate`) take at that moment. The maxima are thus no bound
 * on `rateRead`, which adds a share of the previous period: haproxy reports a rate of 5 with a
 * maximum of 3 after 3 events in each of two periods, and so does fulcrum.
 */
export function rateAdd(m: RateMeter, nowMs: number): number {
  if (nowMs - m.tick >= RATE_PERIOD_MS) {
    m.prev = m.curr;
    m.curr = 0;
    m.tick += RATE_PERIOD_MS;
    if (nowMs - m.tick >= RATE_PERIOD_MS) {
      // Two periods or more without an event: the count restarts now. HAProxy keeps the low
      // bit of its tick as a lock, so a period starts on an even millisecond.
      m.prev = 0;
      m.tick = nowMs - (nowMs % 2);
    }
  }
  m.curr++;
  return m.curr;
}

/**
 * Events per second as HAProxy reads them (read_freq_ctr): the running period's count plus the
 * previous period's, weighted by the part of the running one still to come, rounded down. Past
 * the running period, what it counted becomes the previous one. A previous count of 0 or 1 with
 * nothing since reads whole (HAProxy's guard against a rate flapping between 0 and 1 while
 * events come less than once a second): one event reads 1 for two seconds.
 */
export function rateRead(m: RateMeter, nowMs: number): number {
  let remain = m.tick + RATE_PERIOD_MS - nowMs;
  let curr = m.curr;
  let past = m.prev;
  if (remain < 0) {
    remain += RATE_PERIOD_MS;
    past = remain >= 0 ? curr : 0;
    curr = 0;
  }
  if (curr === 0 && past <= 1) return past;
  // A wall clock set back (now before the period's start) weighs the previous period whole.
  return curr + Math.floor((past * Math.min(remain, RATE_PERIOD_MS)) / RATE_PERIOD_MS);
}

/**
 * Process-wide counts behind `show info` and the exporter's process metrics, HAProxy's `global`
 * ones: they count every listener's connections, the runtime API's too for the totals (haproxy
 * counts its CLI in CumConns and CumReq, not in the rates), and `clear counters all` leaves the
 * totals alone (it clears the maxima only).
 */
export interface ProcessCounters {
  /** Connections accepted since the start (CumConns). */
  cumConns: number;
  /** Streams since the start: HTTP requests, TCP sessions, runtime API connections (CumReq). */
  cumReq: number;
  /** Client connections accepted on frontends (ConnRate, SessRate: both count at accept). */
  connRate: RateMeter;
  sessRate: RateMeter;
  connRateMax: number;
  sessRateMax: number;
  /** Runtime API sockets listening, and its connections open (Listeners, Jobs). */
  cliListeners: number;
  cliConns: number;
}

export function newProcessCounters(): ProcessCounters {
  return {
    cumConns: 0,
    cumReq: 0,
    connRate: newRateMeter(),
    sessRate: newRateMeter(),
    connRateMax: 0,
    sessRateMax: 0,
    cliListeners: 0,
    cliConns: 0,
  };
}

/** Operator-set administrative state (`set server ... state`), shared by an HA pair. */
export type AdminState = "ready" | "drain" | "maint";

/** Result of the last health check, as the stats page and CSV show it. */
export interface CheckResult {
  /** HAProxy's check status code: "L7OK", "L7STS", "L4CON", "L4TOUT", "L7TOUT", "L6RSP", "INI", ... */
  status: string;
  /** HTTP status for L7 checks, or undefined. */
  code?: number;
  /** Duration in ms, or undefined when not applicable. */
  durationMs?: number;
  /** Short description, e.g. "Layer7 check passed". */
  desc: string;
  /**
   * What the check saw beyond its status, the CSV's `last_chk` and the page's tooltip:
   * "Connection refused", "Not Found", "" for a passing HTTP check.
   */
  info?: string;
  /** Epoch ms when it ended. */
  at: number;
}

export interface ServerRuntime {
  readonly cfg: ServerModel;
  readonly backend: BackendRuntime;
  /** Operational state from health checks (true when checks are off). */
  up: boolean;
  /**
   * NOLB (`http-check disable-on-404`): UP but answering 404, so it takes no new
   * load-balanced traffic while its sticky clients still reach it.
   */
  stopping?: boolean;
  /** A check is running now (the stats show its last status as `* L7OK`). */
  checkRunning?: boolean;
  /** In maintenance because the server it tracks is (`MAINT (via b/s)`); `up` is false then. */
  inheritedMaint?: boolean;
  /** Health counter 0 .. rise+fall-1, as HAProxy (see health/). */
  health: number;
  admin: AdminState;
  /** Effective weight now (slowstart ramps it). */
  effectiveWeight: number;
  /** The weight the operator gave (`weight`, or `set server ... weight`); the CSV's uweight. */
  userWeight?: number;
  /** Requests currently being served by this server (for maxconn and leastconn). */
  active: number;
  counters: Counters;
  lastCheck?: CheckResult;
  /** Epoch ms of the last UP/DOWN change, for lastchg. */
  lastChange: number;
  /** Total ms spent DOWN, and when the current DOWN period started (0 when up). */
  downTime: number;
  downSince: number;
  /** Failed checks and UP->DOWN transitions. */
  chkfail: number;
  chkdown: number;
}

export interface BackendRuntime {
  readonly cfg: ProxyModel;
  readonly servers: ServerRuntime[];
  counters: Counters;
  lastChange: number;
  downTime: number;
  downSince: number;
  chkdown: number;
}

export interface FrontendRuntime {
  readonly cfg: ProxyModel;
  counters: Counters;
  /** Current client connections (for frontend maxconn). */
  conns: number;
}

/** Usable for new traffic: up (or unchecked), not NOLB, not in maint, not drained, weight > 0. */
export function isUsable(s: ServerRuntime): boolean {
  return s.up && !s.stopping && s.admin === "ready" && s.effectiveWeight > 0;
}

/** Counts one HTTP response in `hrsp` by its class (1xx..5xx, other). */
export function countStatus(c: Counters, status: number): void {
  const cls = Math.floor(status / 100);
  const idx = cls >= 1 && cls <= 5 ? cls - 1 : 5;
  c.hrsp[idx] = (c.hrsp[idx] ?? 0) + 1;
}
