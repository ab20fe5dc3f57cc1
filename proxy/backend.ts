/**
 * A backend (or the backend side of a listen) prepared for the request path: its servers with
 * their connection pools, the balancer, persistence (cookie, learned sessions), the maxconn
 * queues and the health checks. Built once per configuration; what changes at run time
 * (server state, admin state, weights) updates the prepared tables, never per request.
 */

import { type Balancer, createBalancer } from "./balance/index.js";
import { decideRetry } from "./balance/retry.js";
import { slowstartApplies } from "./balance/slowstart.js";
import { startWarmup, stopWarmup } from "./balance/warmup.js";
import type { ProxyModel } from "./config/model.js";
import {
  type CheckLog,
  type Checks,
  countUsable,
  noteBackendAvailability,
  startChecks,
} from "./health/checker.js";
import {
  drainMessage,
  leaveMaintViaMessage,
  leaveMessages,
  type Message,
  maintMessage,
  maintViaMessage,
  maintWhileDownMessage,
  type ServerFacts,
  trackedDownMessage,
  trackedUpMessage,
} from "./health/messages.js";
import { initialHealth } from "./health/state.js";
import type { Headers, ResponseHead } from "./http/h1.js";
import type {
  BackendPlan,
  Choice,
  NextAttempt,
  NodeContext,
  QueueResult,
  RequestInfo,
  ServerPlan,
} from "./http/plan.js";
import { ServerPool } from "./http/upstream.js";
import type { ProxyNode } from "./node.js";
import type { PersistRequest } from "./persist/index.js";
import { MemorySessionTable, Persistence, type SessionTable } from "./persist/index.js";
import type { WaitQueues } from "./queue/queue.js";
import type { QueueWaiter } from "./queue/waiter.js";
import { createBackendQueue, type QueueShell } from "./queue/waiter.js";
import { type AdminState, type BackendRuntime, isUsable, newCounters, type ServerRuntime } from "./state.js";

export interface BackendDeps {
  readonly ctx: NodeContext;
  readonly node: ProxyNode;
  /** Operational messages (server UP/DOWN) for stderr, in HAProxy's words. */
  readonly notice?: (line: string, level: "WARNING" | "ALERT") => void;
  /** Syslog messages of the backend (server state changes). */
  readonly syslog?: (proxy: ProxyModel, severity: number, line: string) => void;
  readonly debug?: (line: string) => void;
  /** A shared learned-session table (HA); default: in memory. */
  readonly sessionTable?: (backend: ProxyModel) => SessionTable | undefined;
  /** A server's state changed (checks or operator): the servers that `track` it follow. */
  readonly onServerChange?: (server: ServerRuntime) => void;
}

/** The persistence part of a choice, carried to the response step. */
interface PersistChoice extends Choice {
  readonly persist: PersistRequest | undefined;
}

const NO_CHOICE_COOKIE = "-";

export class BackendImpl implements BackendPlan {
  readonly cfg: ProxyModel;
  readonly rt: BackendRuntime;
  readonly servers: ServerPlan[];
  readonly connMode: BackendPlan["connMode"];
  readonly timeouts: BackendPlan["timeouts"];
  readonly retries: number;
  readonly redispatch: boolean;
  readonly persistence: Persistence;
  readonly sessions: SessionTable | undefined;
  private readonly balancer: Balancer;
  private readonly queues: WaitQueues<QueueWaiter>;
  private readonly shell: QueueShell;
  private readonly byRuntime = new Map<ServerRuntime, ServerPlan>();
  private readonly deps: BackendDeps;
  private checks: Checks | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(cfg: ProxyModel, deps: BackendDeps) {
    this.cfg = cfg;
    this.deps = deps;
    const now = deps.ctx.now();
    const rt: BackendRuntime = {
      cfg,
      servers: [],
      counters: newCounters(),
      lastChange: now,
      downTime: 0,
      downSince: 0,
      chkdown: 0,
    };
    this.rt = rt;
    for (const s of cfg.servers) {
      rt.servers.push({
        cfg: s,
        backend: rt,
        up: true,
        health: initialHealth(s),
        admin: s.disabled ? "maint" : "ready",
        effectiveWeight: s.weight,
        active: 0,
        counters: newCounters(),
        lastChange: now,
        downTime: 0,
        downSince: 0,
        chkfail: 0,
        chkdown: 0,
      });
    }
    this.servers = rt.servers.map((srt) => {
      const plan: ServerPlan = { rt: srt, pool: new ServerPool(srt.cfg.host, srt.cfg.port), backend: this };
      this.byRuntime.set(srt, plan);
      return plan;
    });
    this.connMode = cfg.options.httpConnMode;
    const t = cfg.timeouts;
    this.timeouts = {
      ...(t.connect !== undefined ? { connect: t.connect } : {}),
      ...(t.server !== undefined ? { server: t.server } : {}),
      ...(t.queue !== undefined ? { queue: t.queue } : {}),
      ...(t.tunnel !== undefined ? { tunnel: t.tunnel } : {}),
    };
    this.retries = cfg.retries;
    this.redispatch = cfg.options.redispatch;
    this.balancer = createBalancer(rt);
    const ls = cfg.learnedSession;
    this.sessions = ls
      ? (deps.sessionTable?.(cfg) ?? new MemorySessionTable({ timeoutMs: ls.timeout, now: deps.ctx.now }))
      : undefined;
    this.persistence = new Persistence(rt, this.sessions);
    const q = createBackendQueue(rt, {
      // HAProxy falls back to `timeout connect` when `timeout queue` is not set.
      timeoutMs: t.queue ?? t.connect ?? 5000,
      balancer: this.balancer,
      now: deps.ctx.now,
    });
    this.queues = q.queues;
    this.shell = q.shell;
  }

  usableCount(): number {
    let n = 0;
    for (const s of this.rt.servers) if (!s.cfg.backup && isUsable(s)) n++;
    return n;
  }

  /**
   * `nbsrv()`: the usable active servers, or when none is left the backups that would serve
   * (the first usable one, or all of them with `option allbackups`), as HAProxy counts.
   */
  nbsrv(): number {
    const active = this.usableCount();
    if (active > 0) return active;
    let backups = 0;
    for (const s of this.rt.servers) if (s.cfg.backup && isUsable(s)) backups++;
    return this.cfg.options.allbackups ? backups : Math.min(backups, 1);
  }

  // ---- choosing -------------------------------------------------------------------------

  choose(req: RequestInfo, exclude?: ServerPlan): Choice {
    const h = req.head.headers;
    let cookies: string[] | undefined;
    if (this.persistence.cookie || this.persistence.sessions) {
      cookies = [];
      for (let i = 0; i < h.names.length; i++) if (h.names[i] === "cookie") cookies.push(h.values[i]!);
    }
    const persist = cookies
      ? this.persistence.request(
          { method: req.head.method, target: req.head.uri, cookies },
          this.deps.ctx.now(),
        )
      : undefined;
    const clientCookie = persist?.clientCookie ?? NO_CHOICE_COOKIE;
    if (persist?.server !== undefined) {
      const plan = this.byRuntime.get(persist.server)!;
      if (plan !== exclude) {
        const c: PersistChoice = {
          server: plan,
          direct: true,
          full: false,
          clientCookie,
          insertCookie: false,
          persist,
        };
        return c;
      }
    }
    const picked = this.balancer.pick({ srcIp: req.srcIp, uri: req.head.uri, exclude: exclude?.rt });
    const c: PersistChoice = {
      server: picked === undefined || picked === "full" ? undefined : this.byRuntime.get(picked),
      direct: false,
      full: picked === "full",
      clientCookie,
      insertCookie: this.cfg.cookie?.mode === "insert",
      persist,
    };
    return c;
  }

  balance(req: RequestInfo, exclude?: ServerPlan): ServerPlan | undefined {
    const picked = this.balancer.pick({ srcIp: req.srcIp, uri: req.head.uri, exclude: exclude?.rt });
    return picked === undefined || picked === "full" ? undefined : this.byRuntime.get(picked);
  }

  nextAttempt(
    choice: Choice,
    server: ServerPlan,
    req: RequestInfo,
    failures: number,
    kind: "error" | "timeout",
  ): NextAttempt {
    const d = decideRetry({
      failures,
      retries: this.retries,
      redispatch: this.redispatch,
      persistent: choice.direct,
      serverUp: server.rt.up && server.rt.admin !== "maint",
      algo: this.cfg.balance.algo,
      activeServers: this.usableCount(),
      kind,
      reused: false,
      timeoutConnect: this.timeouts.connect,
    });
    if (d.action === "give-up") {
      // HAProxy counts the failed connection once per request, when it gives up (a retry or
      // a redispatch that then succeeds counts none).
      server.rt.counters.econ++;
      this.rt.counters.econ++;
      return { giveUp: true, why: d.why };
    }
    let next = server;
    if (d.action === "redispatch") {
      const other = this.balance(req, server);
      if (other !== undefined && other !== server) next = other;
    }
    if (next !== server) {
      server.rt.counters.wredis++;
      this.rt.counters.wredis++;
    } else {
      server.rt.counters.wretr++;
      this.rt.counters.wretr++;
    }
    return { giveUp: false, next, delayMs: d.delayMs, why: d.why };
  }

  rewriteRequest(_req: RequestInfo, headers: Headers, choice: Choice): void {
    const fwd = (choice as PersistChoice).persist?.forwardCookies;
    if (fwd === undefined) return;
    // Replace the Cookie headers by what persistence forwards (ours removed with indirect),
    // at the place of the first one.
    let at = -1;
    for (let i = headers.names.length - 1; i >= 0; i--) {
      if (headers.names[i] === "cookie") {
        headers.names.splice(i, 1);
        headers.values.splice(i, 1);
        at = i;
      }
    }
    if (at === -1) return;
    headers.names.splice(at, 0, ...fwd.map(() => "cookie"));
    headers.values.splice(at, 0, ...fwd);
  }

  rewriteResponse(req: RequestInfo, res: ResponseHead, server: ServerPlan, choice: Choice): string {
    const persist = (choice as PersistChoice).persist;
    if (persist === undefined) return NO_CHOICE_COOKIE;
    const h = res.headers;
    const setCookieIdx: number[] = [];
    for (let i = 0; i < h.names.length; i++) if (h.names[i] === "set-cookie") setCookieIdx.push(i);
    const out = this.persistence.response(
      {
        method: req.head.method,
        status: res.status,
        request: persist,
        server: server.rt,
        direct: choice.direct,
        setCookies: setCookieIdx.map((i) => h.values[i]!),
        header: (name) => {
          const v: string[] = [];
          for (let i = 0; i < h.names.length; i++) if (h.names[i] === name) v.push(h.values[i]!);
          return v;
        },
      },
      this.deps.ctx.now(),
    );
    for (let k = out.removeSetCookies.length - 1; k >= 0; k--) {
      const i = setCookieIdx[out.removeSetCookies[k]!]!;
      h.names.splice(i, 1);
      h.values.splice(i, 1);
    }
    for (const [n, v] of out.append) {
      h.names.push(n);
      h.values.push(v);
    }
    return out.serverCookie;
  }

  // ---- slots and queues -----------------------------------------------------------------

  hasRoom(server: ServerPlan): boolean {
    return this.queues.hasRoom(server.rt);
  }

  take(server: ServerPlan): void {
    if (!this.queues.acquire(server.rt)) {
      // Forced (redispatch to a full server): count it anyway so release stays balanced.
      server.rt.active++;
      this.balancer.taken(server.rt);
    }
    const c = server.rt.counters;
    c.scur = server.rt.active;
    if (c.scur > c.smax) c.smax = c.scur;
  }

  release(server: ServerPlan): void {
    this.shell.release(server.rt);
    server.rt.counters.scur = server.rt.active;
  }

  enqueue(server: ServerPlan | undefined, req: RequestInfo, cb: (r: QueueResult) => void): () => void {
    return this.shell.wait(server?.rt, (outcome, srv, waitedMs, position) => {
      const plan = srv ? this.byRuntime.get(srv) : undefined;
      if (plan && outcome === "granted") {
        plan.rt.counters.scur = plan.rt.active;
        if (plan.rt.counters.scur > plan.rt.counters.smax) plan.rt.counters.smax = plan.rt.counters.scur;
        cb({ outcome, server: plan, waitedMs, position });
        return;
      }
      if (outcome === "expired") {
        // HAProxy counts a queue timeout as a failed connection, on the server it waited for.
        this.rt.counters.econ++;
        if (server !== undefined) server.rt.counters.econ++;
      }
      const other = outcome === "redispatch" ? this.balance(req, server) : undefined;
      cb({ outcome, ...(other !== undefined ? { other } : {}), waitedMs, position });
    });
  }

  // ---- health and admin -----------------------------------------------------------------

  startChecks(): void {
    if (this.checks) return;
    this.checks = startChecks(this.rt, {
      now: this.deps.ctx.now,
      onChange: (s, _from, to) => {
        this.balancer.onServerStateChange();
        const plan = this.byRuntime.get(s)!;
        if (to === "down") {
          plan.pool.closeIdle();
          const moved = this.redispatch ? this.shell.redistribute(s) : 0;
          return { requeued: moved, remaining: this.queues.length(s) };
        }
        // NOLB keeps what is queued for it (sticky clients) and takes nothing new.
        if (to === "nolb") return { requeued: 0, remaining: this.queues.length() };
        const filled = this.shell.fill(s);
        return { requeued: filled, remaining: this.queues.length() };
      },
      onWeight: () => this.balancer.onServerStateChange(),
      ...(this.deps.debug
        ? {
            onCheck: (s, r) =>
              this.deps.debug!(`check ${this.cfg.name}/${s.cfg.name}: ${r.status} ${r.desc}`),
          }
        : {}),
      log: (entry) => this.logState(entry),
      afterChange: (s) => this.deps.onServerChange?.(s),
    });
    // Learned sessions: drop expired entries now and then (reads also skip them lazily).
    if (this.sessions instanceof MemorySessionTable) {
      const table = this.sessions;
      this.sweepTimer = setInterval(() => table.sweep(this.deps.ctx.now()), 1000);
      this.sweepTimer.unref();
    }
  }

  /** A server or backend state line: to stderr (as HAProxy's warnings) and to the logs. */
  private logState(entry: CheckLog): void {
    this.deps.notice?.(entry.stderr, entry.stderrLevel);
    this.deps.syslog?.(this.cfg, entry.severity, entry.syslog);
  }

  setAdminState(server: string, state: AdminState): ServerRuntime {
    const s = this.rt.servers.find((x) => x.cfg.name === server);
    if (!s) throw new Error(`no such server '${server}' in backend '${this.cfg.name}'`);
    if (s.admin === state) return s;
    const from = s.admin;
    const wasUp = s.up;
    const hadUsable = countUsable(this.rt);
    const leavingMaint = s.admin === "maint";
    const now = this.deps.ctx.now();
    if (state === "maint" && s.up) {
      // As HAProxy: maintenance takes the server down (chkdown counts it, downtime runs).
      s.chkdown++;
      if (s.downSince === 0) s.downSince = now;
    }
    s.admin = state;
    s.lastChange = now;
    if (leavingMaint) {
      // Leaving maintenance, a checked server starts again as at start-up: UP, health at
      // `rise` (the CSV shows "UP 1/2" until the next check passes).
      if (s.cfg.check) {
        s.health = initialHealth(s.cfg);
        s.up = true;
        s.stopping = false;
      }
      if (s.up && s.downSince > 0) {
        s.downTime += now - s.downSince;
        s.downSince = 0;
      }
    }
    if (state === "maint") stopWarmup(s);
    else if (leavingMaint && s.up && slowstartApplies(this.cfg.balance.algo, s.cfg.slowstart)) {
      // HAProxy ramps a server leaving maintenance up over its slowstart, as one coming UP.
      startWarmup(s, s.cfg.slowstart!, {
        now: this.deps.ctx.now,
        weight: s.userWeight ?? s.cfg.weight,
        onStep: () => this.balancer.onServerStateChange(),
      });
    }
    this.balancer.onServerStateChange();
    let requeued = 0;
    if (state === "ready") requeued = this.shell.fill(s);
    else if (state === "maint" && this.redispatch) requeued = this.shell.redistribute(s);
    this.logAdminChange(s, from, state, wasUp, requeued);
    noteBackendAvailability(this.rt, hadUsable, now, (e) => this.logState(e));
    this.deps.onServerChange?.(s);
    return s;
  }

  /**
   * `track`: server `t` of this backend takes the state of `src` (in maintenance, up or
   * down), logged as HAProxy logs it ("is DOWN via b/s1"); its own trackers follow in turn.
   */
  follow(t: ServerRuntime, src: ServerRuntime): void {
    const via = `${src.backend.cfg.name}/${src.cfg.name}`;
    const srcMaint = src.admin === "maint" || src.inheritedMaint === true;
    const hadUsable = countUsable(this.rt);
    const now = this.deps.ctx.now();
    const wasUp = t.up;
    const facts = (): ServerFacts => {
      const left = countUsable(this.rt);
      return {
        backend: this.cfg.name,
        server: t.cfg.name,
        backup: t.cfg.backup,
        activeLeft: left.active,
        backupLeft: left.backup,
      };
    };
    let line: Message;
    if (srcMaint && !t.inheritedMaint) {
      t.inheritedMaint = true;
      t.up = false;
      this.balancer.onServerStateChange();
      const requeued = this.redispatch ? this.shell.redistribute(t) : 0;
      line = maintViaMessage(facts(), via, wasUp, {
        active: t.active,
        requeued,
        remaining: this.queues.length(t),
      });
    } else if (!srcMaint && t.inheritedMaint) {
      t.inheritedMaint = false;
      t.up = src.up;
      this.balancer.onServerStateChange();
      if (t.up) this.shell.fill(t);
      line = leaveMaintViaMessage(facts(), t.up);
    } else if (!srcMaint && t.up !== src.up) {
      t.up = src.up;
      this.balancer.onServerStateChange();
      if (t.up) {
        const requeued = this.shell.fill(t);
        line = trackedUpMessage(facts(), via, { requeued, queued: this.queues.length() });
      } else {
        this.byRuntime.get(t)?.pool.closeIdle();
        const requeued = this.redispatch ? this.shell.redistribute(t) : 0;
        line = trackedDownMessage(facts(), via, {
          active: t.active,
          requeued,
          remaining: this.queues.length(t),
        });
      }
    } else {
      return;
    }
    if (t.up !== wasUp) {
      t.lastChange = now;
      if (!t.up) {
        t.downSince = now;
      } else if (t.downSince > 0) {
        t.downTime += now - t.downSince;
        t.downSince = 0;
      }
    }
    this.logState({ syslog: line.text, severity: line.severity, stderr: line.text, stderrLevel: "WARNING" });
    noteBackendAvailability(this.rt, hadUsable, now, (e) => this.logState(e));
    this.deps.onServerChange?.(t);
  }

  /** The line HAProxy logs for an operator's state change (server-state messages). */
  private logAdminChange(
    s: ServerRuntime,
    from: AdminState,
    to: AdminState,
    wasUp: boolean,
    requeued: number,
  ): void {
    const left = countUsable(this.rt);
    const facts: ServerFacts = {
      backend: this.cfg.name,
      server: s.cfg.name,
      backup: s.cfg.backup,
      activeLeft: left.active,
      backupLeft: left.backup,
    };
    let lines: Message[];
    if (to === "maint") {
      lines = [
        wasUp
          ? maintMessage(
              facts,
              { active: s.active, requeued, remaining: this.queues.length(s) },
              from === "drain",
            )
          : maintWhileDownMessage(facts),
      ];
    } else if (to === "drain" && from === "ready") {
      lines = [drainMessage(facts, { requeued: 0, queued: this.queues.length() })];
    } else {
      lines = leaveMessages(facts, from === "drain" ? "drain" : "maint", to === "drain" ? "drain" : "ready");
    }
    for (const m of lines)
      this.logState({ syslog: m.text, severity: m.severity, stderr: m.text, stderrLevel: "WARNING" });
  }

  /** Operator weight (`set server B/S weight N`): the balancer's tables are rebuilt. */
  setWeight(server: string, weight: number): ServerRuntime {
    const s = this.rt.servers.find((x) => x.cfg.name === server);
    if (!s) throw new Error(`no such server '${server}' in backend '${this.cfg.name}'`);
    s.effectiveWeight = weight;
    s.userWeight = weight;
    this.balancer.onServerStateChange();
    return s;
  }

  stop(): void {
    this.checks?.stop();
    this.checks = null;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    this.shell.stop();
    for (const s of this.servers) s.pool.closeAll();
  }
}
