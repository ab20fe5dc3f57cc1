/**
 * What a node writes on its own: logs (one LogHub of sockets for the node, one sender and
 * line formatter per proxy), error pages (errorfiles prepared once per proxy), the monitor
 * page, the stats page and CSV. The request path reaches these through FrontendPlan.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { type EventLoopUtilization, performance } from "node:perf_hooks";
import type { LogTarget, ProxyModel } from "./config/model.js";
import { plainIp } from "./http/client.js";
import type { ExchangeLog, LocalResponse, RequestInfo } from "./http/plan.js";
import { ErrorReplies, parseErrorResponse } from "./http/responses.js";
import { formatConnectLog, formatTcpLog, httpLogFormatter } from "./log/httplog.js";
import { LOG_LEVEL, LogHub, type LogSender } from "./log/syslog.js";
import type { ProxyNode } from "./node.js";
import { rateRead } from "./state.js";
import type { ProcessFigures } from "./stats/info.js";
import { type AdminApply, serialiseStatsReply, statsResponse } from "./stats/page.js";
import { prometheusText } from "./stats/prometheus.js";
import { fullconnTable, type HaStatus, type StatsSnapshot } from "./stats/snapshot.js";
import { VERSION } from "./version.js";

const INFO = LOG_LEVEL.info;
const ERR = LOG_LEVEL.err;

export class NodeOutput {
  readonly hub: LogHub;
  private readonly replies = new Map<ProxyModel, ErrorReplies>();
  private fullconn: ReadonlyMap<string, number> | null = null;
  /** Filled by ha/ when the node runs in a pair. */
  haStatus: (() => HaStatus | undefined) | null = null;

  constructor(opts: { pid: number; tag: string; warn: (line: string) => void }) {
    this.hub = new LogHub({ tag: opts.tag, pid: opts.pid, warn: opts.warn });
  }

  repliesFor(p: ProxyModel): ErrorReplies {
    let r = this.replies.get(p);
    if (r === undefined) {
      r = new ErrorReplies(p.errorfiles);
      this.replies.set(p, r);
    }
    return r;
  }

  /** The log function of a frontend: formats and sends, or does nothing without targets. */
  httpLogger(p: ProxyModel): (rec: ExchangeLog) => void {
    const targets: readonly LogTarget[] = p.logs;
    if (targets.length === 0 || (!p.options.httplog && !p.options.tcplog)) return () => undefined;
    const sender = this.hub.sender(targets);
    // `option tcplog`, or `option httplog` on a TCP proxy (HAProxy falls back to tcplog).
    const format = p.mode === "tcp" || !p.options.httplog ? formatTcpLog : httpLogFormatter(p);
    const separate = p.options.logSeparateErrors;
    const dontlogNormal = p.options.dontlogNormal;
    return (rec) => {
      const error = rec.status >= 500 || rec.termination[0] !== "-";
      if (dontlogNormal && !error) return;
      sender.send(separate && error ? ERR : INFO, format(rec));
    };
  }

  private readonly senders = new Map<ProxyModel, LogSender>();

  /**
   * HAProxy logs `Connect from IP:PORT to IP:PORT (FRONTEND/MODE)` when a connection is
   * accepted on a proxy with `log` targets but neither `option httplog` nor `option tcplog`.
   */
  connectLog(
    p: ProxyModel,
    socket: { remoteAddress?: string; remotePort?: number; localAddress?: string; localPort?: number },
  ): void {
    if (p.logs.length === 0 || p.options.httplog || p.options.tcplog) return;
    let s = this.senders.get(p);
    if (s === undefined) {
      s = this.hub.sender(p.logs);
      this.senders.set(p, s);
    }
    s.send(
      INFO,
      formatConnectLog({
        clientIp: plainIp(socket.remoteAddress),
        clientPort: socket.remotePort ?? 0,
        localIp: plainIp(socket.localAddress),
        localPort: socket.localPort ?? 0,
        frontend: p.name,
        mode: p.mode,
      }),
    );
  }

  /** A message about a proxy (server state changes) to its log targets. */
  proxyLog(p: ProxyModel, severity: number, line: string): void {
    if (p.logs.length === 0) return;
    let s = this.senders.get(p);
    if (s === undefined) {
      s = this.hub.sender(p.logs);
      this.senders.set(p, s);
    }
    s.send(severity, line);
  }

  /** An error page for `status`; the client connection closes after it. */
  errorPage(p: ProxyModel, status: number): Buffer {
    if (status === 400 || status === 408 || status === 501) {
      return parseErrorResponse(status);
    }
    return this.repliesFor(p).get(status, { close: true });
  }

  /** `monitor-uri`: HAProxy's 200 page, or its 503 page when `monitor fail` matched. */
  monitorResponse(p: ProxyModel, failed: boolean, head: boolean, close = false): LocalResponse {
    const status = failed ? 503 : 200;
    return {
      status,
      bytes: this.repliesFor(p).get(status, { head, close }),
      keepAlive: !close,
      silent: true,
    };
  }

  snapshot(node: ProxyNode): StatsSnapshot {
    if (this.fullconn === null) this.fullconn = fullconnTable(node.model);
    const fe = new Map(node.frontends.map((f) => [f.cfg, f.rt] as const));
    const ha = this.haStatus?.();
    return {
      pid: node.pid,
      now: node.ctx.now(),
      startedAt: node.startedAt,
      globalMaxconn: node.model.global.maxconn,
      actconn: node.ctx.actconn,
      version: VERSION,
      proxies: node.model.proxies.map((cfg) => {
        const f = fe.get(cfg);
        const b = node.backends.get(cfg.name);
        return {
          cfg,
          ...(f ? { frontend: f } : {}),
          ...(b && cfg.isBackend ? { backend: b.rt, fullconn: this.fullconn!.get(cfg.name) ?? 1 } : {}),
          ...(cfg.isFrontend && !node.isBound ? { stopped: true } : {}),
        };
      }),
      ...(ha ? { ha } : {}),
    };
  }

  statsResponse(
    node: ProxyNode,
    p: ProxyModel,
    req: RequestInfo,
    close = false,
    admin: { readonly allowed: boolean; readonly body?: string } = { allowed: false },
  ): LocalResponse {
    const cfg = p.stats!;
    const h = req.head.headers;
    const ai = h.names.indexOf("authorization");
    const reply = statsResponse({
      cfg,
      method: req.head.method,
      uri: req.head.uri,
      ...(ai !== -1 ? { authorization: h.values[ai]! } : {}),
      snapshot: () => this.snapshot(node),
      replies: this.repliesFor(p),
      adminAllowed: admin.allowed,
      ...(admin.body !== undefined ? { admin: { body: admin.body, apply: adminApply(node) } } : {}),
    });
    const head = req.head.method === "HEAD";
    return {
      status: reply.status,
      bytes: serialiseStatsReply(reply, { head, close }),
      keepAlive: reply.closes !== true && !close,
      termination: "LR",
      logServer: "<STATS>",
    };
  }

  /** `http-request use-service prometheus-exporter`: metrics in the text format. */
  prometheus(node: ProxyNode): LocalResponse {
    const body = Buffer.from(prometheusText(this.snapshot(node), processFigures(node)), "utf8");
    const head =
      "HTTP/1.1 200 OK\r\ncache-control: no-cache\r\ncontent-type: text/plain; version=0.0.4\r\n" +
      `content-length: ${body.length}\r\n\r\n`;
    return {
      status: 200,
      bytes: Buffer.concat([Buffer.from(head, "latin1"), body]),
      keepAlive: true,
      termination: "LR--",
      intercepted: true,
    };
  }

  async close(): Promise<void> {
    await this.hub.close();
  }
}

/** The event loop's counts at the last reading, per node: Idle_pct covers the time since. */
const lastLoop = new WeakMap<ProxyNode, EventLoopUtilization>();

/** The soft limit on open files, read once (the process never changes it): 0 where unknown. */
let fdLimit: number | undefined;

function openFilesLimit(): number {
  if (fdLimit === undefined) {
    try {
      const line = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "latin1"));
      fdLimit = line ? Number(line[1]) : 0;
    } catch {
      fdLimit = 0;
    }
  }
  return fdLimit;
}

/** Process-wide figures: `show info` and the exporter read them (stats/info.ts). */
export function processFigures(node: ProxyNode): ProcessFigures {
  const now = node.ctx.now();
  const p = node.ctx.process;
  let bytesOut = 0;
  for (const f of node.frontends) bytesOut += f.rt.counters.bytesOut;
  const mem = process.memoryUsage();
  const loop = performance.eventLoopUtilization();
  const prev = lastLoop.get(node);
  lastLoop.set(node, loop);
  // The first reading covers the time since the loop started.
  const busy =
    prev === undefined ? loop.utilization : performance.eventLoopUtilization(loop, prev).utilization;
  const listeners =
    (node.isBound ? node.model.proxies.reduce((n, px) => n + px.binds.length, 0) : 0) + p.cliListeners;
  return {
    version: VERSION,
    pid: node.pid,
    uptimeSec: Math.floor((now - node.startedAt) / 1000),
    startTimeSec: Math.floor(node.startedAt / 1000),
    fdLimit: openFilesLimit(),
    // V8's heap holds the objects, Buffers (sockets' data) live outside it.
    poolAllocBytes: mem.heapTotal + mem.external,
    poolUsedBytes: mem.heapUsed + mem.external,
    maxconn: node.model.global.maxconn,
    currentConnections: node.ctx.actconn,
    connectionsTotal: p.cumConns,
    requestsTotal: p.cumReq,
    connRate: rateRead(p.connRate, now),
    connRateMax: p.connRateMax,
    sessRate: rateRead(p.sessRate, now),
    sessRateMax: p.sessRateMax,
    tasks: process.getActiveResourcesInfo().length,
    idlePct: Math.round(100 * (1 - busy)),
    hostname: hostname(),
    stopping: node.ctx.stopping,
    // As HAProxy's jobs: every listener, client connection and runtime API session.
    jobs: listeners + node.ctx.actconn + p.cliConns,
    listeners,
    droppedLogs: node.out.hub.counters.dropped,
    bytesOut,
  };
}

/** What a stats admin POST does to the node: admin states, or closing a server's connections. */
function adminApply(node: ProxyNode): AdminApply {
  return (backendRef, servers, action) => {
    const be = backendRef.startsWith("#")
      ? [...node.backends.values()].find((b) => String(b.cfg.id) === backendRef.slice(1))
      : node.backends.get(backendRef);
    if (be === undefined) return undefined;
    let found = 0;
    for (const name of servers) {
      const plan = be.servers.find((s) => s.rt.cfg.name === name);
      if (plan === undefined) continue;
      found++;
      if (action === "ready" || action === "drain" || action === "maint") {
        node.setAdminState(be.cfg.name, name, action);
      } else if (action === "shutdown") {
        // "Kill sessions": every connection to the server is closed, as HAProxy cuts them.
        plan.pool.closeAll();
      }
    }
    return { found };
  };
}
