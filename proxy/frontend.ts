/**
 * A frontend (or the frontend side of a listen) prepared for the request path: its limits
 * and timeouts, the compiled monitor/stats/http-request/use_backend rules, and the error
 * pages. Everything here is computed once when the node is built.
 */

import type { BackendImpl } from "./backend.js";
import type { ProxyModel } from "./config/model.js";
import { type AclContext, compileCondition, inNetwork, type Predicate, parseIp } from "./http/acl.js";
import { compileRedirect, compileReturn } from "./http/built-replies.js";
import type { ResponseHead } from "./http/h1.js";
import type { BackendPlan, ExchangeLog, FrontendPlan, LocalResponse, RequestInfo } from "./http/plan.js";
import { type ReplyOptions, statusReason } from "./http/responses.js";
import type { ProxyNode } from "./node.js";
import type { NodeOutput } from "./output.js";
import { type FrontendRuntime, newCounters } from "./state.js";
import { isStatsRequest } from "./stats/page.js";

const EMPTY = Buffer.alloc(0);

interface CompiledRule {
  readonly pred: Predicate | null;
  /** `allow` stops the evaluation; the others answer (or not) and go on. */
  readonly stop: boolean;
  readonly run: (req: RequestInfo) => LocalResponse | null;
}

type ForwardFor = ReturnType<FrontendPlan["forwardFor"]>;

/** `Connection: close` on HTTP/1.1, or no `Connection: keep-alive` on HTTP/1.0. */
function clientAsksClose(
  version: number,
  h: { names: readonly string[]; values: readonly string[] },
): boolean {
  let close = false;
  let keepAlive = false;
  for (let i = 0; i < h.names.length; i++) {
    if (h.names[i] !== "connection") continue;
    for (const t of h.values[i]!.toLowerCase().split(",")) {
      const w = t.trim();
      if (w === "close") close = true;
      else if (w === "keep-alive") keepAlive = true;
    }
  }
  return version >= 11 ? close : !keepAlive;
}

export class FrontendImpl implements FrontendPlan {
  readonly cfg: ProxyModel;
  readonly rt: FrontendRuntime;
  readonly connMode: FrontendPlan["connMode"];
  readonly limits: FrontendPlan["limits"];
  readonly timeouts: FrontendPlan["timeouts"];
  readonly logNull: boolean;
  readonly logging: boolean;
  private readonly node: ProxyNode;
  private readonly out: NodeOutput;
  private readonly monitorUri: string | undefined;
  private readonly monitorFail: readonly Predicate[];
  private readonly rules: readonly CompiledRule[];
  private readonly useBackends: readonly { readonly pred: Predicate; readonly backend: BackendImpl }[];
  private readonly defaultBackend: BackendImpl | undefined;
  /**
   * Connections are relayed as TCP (`mode tcp`). A TCP frontend whose default backend is an
   * HTTP one is upgraded to HTTP at once, as HAProxy does: it runs the HTTP path.
   */
  readonly tcp: boolean;
  readonly capturesResponse: boolean;
  private readonly errorPages = new Map<number, Buffer>();
  private readonly logger: (rec: ExchangeLog) => void;

  readonly gated: boolean;

  constructor(cfg: ProxyModel, node: ProxyNode, out: NodeOutput, gated = true) {
    this.gated = gated;
    this.cfg = cfg;
    this.node = node;
    this.out = out;
    this.rt = { cfg, counters: newCounters(), conns: 0 };
    this.connMode = cfg.options.httpConnMode;
    const g = node.model.global;
    this.limits = { maxHead: g.bufsize - g.maxrewrite, maxHeaders: g.maxHeaders };
    const t = cfg.timeouts;
    this.timeouts = {
      ...(t.client !== undefined ? { client: t.client } : {}),
      ...(t.httpRequest !== undefined ? { httpRequest: t.httpRequest } : {}),
      ...(t.httpKeepAlive !== undefined ? { httpKeepAlive: t.httpKeepAlive } : {}),
    };
    this.logNull = !cfg.options.dontlognull;
    this.monitorUri = cfg.monitorUri;
    this.monitorFail = cfg.monitorFail.map((c) => compileCondition(c, cfg.acls));
    this.rules = cfg.httpRequestRules.map((r) => this.compileRule(r));
    this.ownResponseRules = compileResponseRules(cfg);
    this.useBackends = cfg.useBackends.map((u) => ({
      pred: compileCondition(u.cond, cfg.acls),
      backend: node.backends.get(u.backend)!,
    }));
    this.defaultBackend = cfg.defaultBackend
      ? node.backends.get(cfg.defaultBackend)
      : cfg.isBackend
        ? node.backends.get(cfg.name)
        : undefined;
    this.tcp = cfg.mode === "tcp" && (this.defaultBackend?.cfg.mode ?? "tcp") === "tcp";
    this.capturesResponse = cfg.captureCookie !== undefined || cfg.captureResponseHeaders.length > 0;
    this.logger = out.httpLogger(cfg);
    // The same rule as NodeOutput.httpLogger: targets and `option httplog` (or tcplog).
    this.logging = cfg.logs.length > 0 && (cfg.options.httplog || cfg.options.tcplog);
  }

  private compileRule(r: ProxyModel["httpRequestRules"][number], acls = this.cfg.acls): CompiledRule {
    const pred = r.cond ? compileCondition(r.cond, acls) : null;
    switch (r.action) {
      case "use-service":
        return {
          pred,
          stop: false,
          run: () => {
            this.rt.counters.intercepted++;
            return this.out.prometheus(this.node);
          },
        };
      case "deny": {
        const status = r.status;
        return {
          pred,
          stop: false,
          run: () => {
            this.rt.counters.dreq++;
            // The exchange writes the reply (HAProxy keeps the client connection after it).
            return { status, bytes: EMPTY, keepAlive: true, termination: "PR", reply: true };
          },
        };
      }
      case "allow":
        return { pred, stop: true, run: () => null };
      case "set-header":
      case "add-header":
      case "del-header": {
        // Rules rewrite the request in place, so later rules and use_backend see the change.
        const edit = headerEdit(r);
        return {
          pred,
          stop: false,
          run: (req) => {
            edit(req.head.headers);
            return null;
          },
        };
      }
      case "redirect": {
        const build = compileRedirect(r);
        const status = r.code;
        return {
          pred,
          stop: false,
          run: (req) => ({ status, bytes: EMPTY, keepAlive: true, render: build(req), closesOnBody: true }),
        };
      }
      case "return": {
        const render = compileReturn(r);
        const status = r.status;
        return { pred, stop: false, run: () => ({ status, bytes: EMPTY, keepAlive: true, render }) };
      }
    }
  }

  private aclContext(req: RequestInfo, backend?: BackendImpl): AclContext {
    return {
      req,
      nbsrv: (name) => (name === undefined ? (backend?.nbsrv() ?? 0) : this.node.nbsrv(name)),
    };
  }

  /**
   * The node's own answer ends the connection: the client asked (`Connection: close`, or
   * HTTP/1.0 without keep-alive) or `option httpclose`. HAProxy then writes
   * `connection: close` in it.
   */
  closesAfter(req: RequestInfo): boolean {
    return this.connMode === "close" || clientAsksClose(req.head.version, req.head.headers);
  }

  intercept(req: RequestInfo): LocalResponse | null {
    // monitor-uri: the whole URI, any method; HEAD gets no body; never logged.
    if (this.monitorUri !== undefined && req.head.uri === this.monitorUri) {
      const ctx = this.aclContext(req);
      const failed = this.monitorFail.some((p) => p(ctx));
      return this.out.monitorResponse(this.cfg, failed, req.head.method === "HEAD", this.closesAfter(req));
    }
    const answered = this.runRules(this.rules, req);
    if (answered !== null || this.cfg.isBackend) return answered;
    // A frontend's own `stats uri` (a listen's is answered with its backend part, below).
    return this.statsPage(req, this.cfg);
  }

  /** The stats page of `owner` when the request is for it, counted as the frontend's intercept when owner is the frontend. */
  private statsPage(req: RequestInfo, owner: ProxyModel): LocalResponse | null {
    const stats = owner.stats;
    if (stats === undefined || !isStatsRequest(stats, req.head.method, req.head.uri)) return null;
    const close = this.closesAfter(req);
    // A POST that `stats admin` allows is answered once its form body is in.
    const allowed = this.statsAdminAllowed(req, owner);
    const page = (): LocalResponse =>
      allowed && req.head.method === "POST"
        ? {
            status: 303,
            bytes: Buffer.alloc(0),
            keepAlive: true,
            needsBody: (body) =>
              this.out.statsResponse(this.node, owner, req, close, {
                allowed,
                body: body.toString("latin1"),
              }),
          }
        : this.out.statsResponse(this.node, owner, req, close, { allowed });
    // A frontend's or a listen's stats page is the frontend's intercept, counted before the
    // page is made; a backend's own stats page is a stream of that backend (exchange.ts).
    if (owner !== this.cfg) return page();
    this.rt.counters.intercepted++;
    return { ...page(), intercepted: true };
  }

  private readonly adminConds = new Map<ProxyModel, readonly ((ctx: AclContext) => boolean)[]>();

  /** `stats admin if|unless COND` of the stats page's proxy, for this request. */
  private statsAdminAllowed(req: RequestInfo, owner: ProxyModel): boolean {
    let preds = this.adminConds.get(owner);
    if (preds === undefined) {
      preds = (owner.stats?.admin ?? []).map((c) => compileCondition(c, owner.acls));
      this.adminConds.set(owner, preds);
    }
    if (preds.length === 0) return false;
    const ctx = this.aclContext(req);
    return preds.some((p) => p(ctx));
  }

  /** Evaluates http-request rules in order: the first answer ends it, `allow` stops it. */
  private runRules(
    rules: readonly CompiledRule[],
    req: RequestInfo,
    backend?: BackendImpl,
  ): LocalResponse | null {
    if (rules.length === 0) return null;
    const ctx = this.aclContext(req, backend);
    for (const r of rules) {
      if (r.pred !== null && !r.pred(ctx)) continue;
      if (r.stop) break;
      const res = r.run(req);
      if (res !== null) return res;
    }
    return null;
  }

  private readonly ownResponseRules: readonly CompiledResponseRule[];
  private readonly responseRulesByBackend = new Map<BackendPlan, readonly CompiledResponseRule[]>();

  /** A separate backend's own `http-response` rules, compiled once per backend. */
  private responseRulesOf(backend: BackendPlan): readonly CompiledResponseRule[] {
    let rules = this.responseRulesByBackend.get(backend);
    if (rules === undefined) {
      rules = backend.cfg === this.cfg ? [] : compileResponseRules(backend.cfg);
      this.responseRulesByBackend.set(backend, rules);
    }
    return rules;
  }

  respond(req: RequestInfo, res: ResponseHead, backend: BackendPlan): number | null {
    const first = this.responseRulesOf(backend);
    if (first.length === 0 && this.ownResponseRules.length === 0) return null;
    const ctx: AclContext = {
      req,
      res,
      nbsrv: (name) => (name === undefined ? (backend as BackendImpl).nbsrv() : this.node.nbsrv(name)),
    };
    // As HAProxy: the backend's list, then the frontend's; `allow` ends its own list only.
    return runResponseRules(first, ctx, res) ?? runResponseRules(this.ownResponseRules, ctx, res);
  }

  private readonly backendRules = new Map<BackendPlan, readonly CompiledRule[]>();

  /** A separate backend's own http-request rules, compiled once per backend. */
  private rulesOf(backend: BackendPlan): readonly CompiledRule[] {
    let rules = this.backendRules.get(backend);
    if (rules === undefined) {
      rules =
        backend.cfg === this.cfg
          ? []
          : backend.cfg.httpRequestRules.map((r) => this.compileRule(r, backend.cfg.acls));
      this.backendRules.set(backend, rules);
    }
    return rules;
  }

  /** After routing: the backend's `stats uri` (HAProxy answers stats in the backend). */
  interceptBackend(req: RequestInfo, backend: BackendPlan): LocalResponse | null {
    const answered = this.runRules(this.rulesOf(backend), req, backend as BackendImpl);
    if (answered !== null) return answered;
    return this.statsPage(req, backend.cfg);
  }

  route(req: RequestInfo): BackendPlan | undefined {
    if (this.useBackends.length > 0) {
      const ctx = this.aclContext(req);
      for (const u of this.useBackends) if (u.pred(ctx)) return u.backend;
    }
    return this.defaultBackend;
  }

  private readonly forwardForByBackend = new Map<BackendPlan, ForwardFor>();

  /** The frontend's `option forwardfor`, else the backend's; prepared once per backend. */
  forwardFor(backend: BackendPlan): ForwardFor {
    let ff = this.forwardForByBackend.get(backend);
    if (ff === undefined && !this.forwardForByBackend.has(backend)) {
      ff = this.prepareForwardFor(backend);
      this.forwardForByBackend.set(backend, ff);
    }
    return ff;
  }

  /**
   * `option forwardfor` of the frontend and of the backend together, as HAProxy combines
   * them: the header is added when either has the option, named by the backend's when it has
   * one; an `except` network of either skips it; `if-none` holds only when every option that
   * is set says it.
   */
  private prepareForwardFor(backend: BackendPlan): ForwardFor {
    const fe = this.cfg.options.forwardfor;
    const be = backend.cfg === this.cfg ? undefined : backend.cfg.options.forwardfor;
    const chosen = be ?? fe;
    if (chosen === undefined) return undefined;
    const excepts = [fe?.except, be?.except].filter((n) => n !== undefined);
    return {
      header: chosen.header.toLowerCase(),
      ifNone: (fe === undefined || fe.ifNone) && (be === undefined || be.ifNone),
      skip:
        excepts.length > 0
          ? (ip) => {
              const p = parseIp(ip);
              return p !== undefined && excepts.some((n) => inNetwork(p, n));
            }
          : () => false,
    };
  }

  errorResponse(status: number): Buffer {
    let page = this.errorPages.get(status);
    if (page === undefined) {
      page = this.out.errorPage(this.cfg, status);
      this.errorPages.set(status, page);
    }
    return page;
  }

  reply(
    status: number,
    opts: ReplyOptions & { readonly backend?: ProxyModel },
  ): { readonly bytes: Buffer; readonly closes: boolean } {
    let owner = this.cfg;
    if (opts.backend?.errorfiles.has(status)) owner = opts.backend;
    const replies = this.out.repliesFor(owner);
    return { bytes: replies.get(status, opts), closes: replies.closes(status) };
  }

  log(rec: ExchangeLog): void {
    this.logger(rec);
  }
}

interface CompiledResponseRule {
  readonly pred: Predicate | null;
  /** `allow` stops the evaluation. */
  readonly stop: boolean;
  /** Rewrites the head in place; returns a status to deny the response with, or null. */
  readonly run: (res: ResponseHead) => number | null;
}

/** Runs one proxy's response rules; the status to deny with, or null. */
function runResponseRules(
  rules: readonly CompiledResponseRule[],
  ctx: AclContext,
  res: ResponseHead,
): number | null {
  for (const r of rules) {
    if (r.pred !== null && !r.pred(ctx)) continue;
    if (r.stop) break;
    const denied = r.run(res);
    if (denied !== null) return denied;
  }
  return null;
}

/** A proxy's `http-response` rules, compiled against its ACLs. */
function compileResponseRules(cfg: ProxyModel): CompiledResponseRule[] {
  return cfg.httpResponseRules.map((r) => compileResponseRule(r, cfg.acls));
}

function compileResponseRule(
  r: ProxyModel["httpResponseRules"][number],
  acls: ProxyModel["acls"],
): CompiledResponseRule {
  const pred = r.cond ? compileCondition(r.cond, acls) : null;
  switch (r.action) {
    case "allow":
      return { pred, stop: true, run: () => null };
    case "deny": {
      const status = r.status;
      return { pred, stop: false, run: () => status };
    }
    case "set-header":
    case "add-header":
    case "del-header": {
      const edit = headerEdit(r);
      return {
        pred,
        stop: false,
        run: (res) => {
          edit(res.headers);
          return null;
        },
      };
    }
    case "set-status": {
      const status = r.status;
      const code = String(status);
      const reason = r.reason ?? statusReason(status);
      return {
        pred,
        stop: false,
        run: (res) => {
          res.status = status;
          res.code = code;
          res.reason = reason;
          return null;
        },
      };
    }
  }
}

/** The edit of a set-header, add-header or del-header rule, the same on either side. */
function headerEdit(
  r:
    | { readonly action: "set-header" | "add-header"; readonly name: string; readonly value: string }
    | {
        readonly action: "del-header";
        readonly name: string;
      },
): (h: { names: string[]; values: string[] }) => void {
  const name = r.name.toLowerCase();
  if (r.action === "del-header") return (h) => removeAll(h, name);
  const value = r.value;
  const replace = r.action === "set-header";
  return (h) => {
    if (replace) removeAll(h, name);
    h.names.push(name);
    h.values.push(value);
  };
}

function removeAll(h: { names: string[]; values: string[] }, name: string): void {
  for (let i = h.names.length - 1; i >= 0; i--) {
    if (h.names[i] === name) {
      h.names.splice(i, 1);
      h.values.splice(i, 1);
    }
  }
}
