/**
 * Checks that need the whole configuration (references between proxies, duplicates,
 * missing timeouts, the ha section), derives what HAProxy derives (inherited maxconn, `log
 * global`, learned sessions from stick rules, settings that do nothing in tcp mode), and
 * builds the frozen model. Pure.
 */
import { ConfigError } from "../errors.js";
import type { GlobalDraft, HaDraft, ProxyDraft } from "./draft.js";
import { didYouMean } from "./hint.js";
import type {
  ConfigModel,
  GlobalModel,
  HaModel,
  HttpCheck,
  HttpCheckSend,
  LearnedSessionConfig,
  LogTarget,
  ProxyModel,
  SourceLoc,
  StatsConfig,
} from "./model.js";
import type { Collector, Drafts } from "./validate.js";

/** `option httpchk` without arguments. */
const DEFAULT_HTTPCHK: HttpCheck = { method: "OPTIONS", uri: "/", version: "HTTP/1.0", headers: [] };

/** The check request once `http-check send` replaced the parts it gives. */
function applySend(base: HttpCheck, send: HttpCheckSend): HttpCheck {
  return {
    method: send.method ?? base.method,
    uri: send.uri ?? base.uri,
    version: send.version ?? base.version,
    headers: send.headers.length > 0 ? send.headers : base.headers,
    ...(send.body !== undefined ? { body: send.body } : base.body !== undefined ? { body: base.body } : {}),
  };
}

export interface FinishOptions {
  readonly files: readonly string[];
  readonly checksum: string;
  /** This node's name in the ha section (-L, default: the host name). */
  readonly localNode: string;
  /** Used for `stats show-node` without a name. */
  readonly hostname: string;
}

/** HAProxy derives its default from `ulimit -n`; fulcrum uses a fixed, documented value. */
export const DEFAULT_GLOBAL_MAXCONN = 4096;

type Proxy = Exclude<ProxyDraft["kind"], "defaults">;

class Finisher {
  constructor(
    private readonly d: Drafts,
    private readonly opts: FinishOptions,
    private readonly out: Collector,
  ) {}

  private warn(loc: SourceLoc, message: string): void {
    this.out.warnings.push({ loc, message });
  }

  private error(loc: SourceLoc, message: string, hint?: string): void {
    this.out.errors.push(new ConfigError(loc, message, hint));
  }

  run(): ConfigModel | undefined {
    const global = this.global(this.d.global);
    // A `stats socket` makes HAProxy create its CLI proxy first: proxy ids then start at 2.
    const firstId = global.statsSockets.length > 0 ? 2 : 1;
    const proxies = this.d.proxies.map((p, i) => this.proxy(p, i + firstId, global));
    this.references(proxies);
    const ha = this.d.ha ? this.ha(this.d.ha, proxies) : undefined;
    if (this.out.errors.length > 0) return undefined;
    return {
      files: [...this.opts.files],
      global,
      proxies,
      ...(ha ? { ha } : {}),
      checksum: this.opts.checksum,
    };
  }

  private global(g: GlobalDraft): GlobalModel {
    if (g.maxrewrite >= g.bufsize) {
      this.error(
        g.tuneLoc ?? { file: this.opts.files[0] ?? "<config>", line: 0 },
        `tune.maxrewrite (${g.maxrewrite}) must be smaller than tune.bufsize (${g.bufsize})`,
      );
    }
    const { maxconn, tuneLoc: _t, ...rest } = g;
    return { ...rest, maxconn: maxconn ?? DEFAULT_GLOBAL_MAXCONN };
  }

  /** Things HAProxy ignores (with a warning) when a proxy works in tcp mode. */
  private tcpModeCleanup(p: ProxyDraft, label: string, fe: boolean, be: boolean): void {
    const drop = (present: unknown, loc: SourceLoc, what: string, clear: () => void) => {
      if (!present) return;
      this.warn(loc, `${what} ignored for ${label} as it requires 'mode http'`);
      clear();
    };
    drop(be && p.cookie, p.cookie?.loc ?? p.loc, "'cookie'", () => delete p.cookie);
    drop(p.stats, p.stats?.loc ?? p.loc, "'stats'", () => delete p.stats);
    drop(fe && p.monitorUri, p.monitorUri?.loc ?? p.loc, "'monitor-uri'", () => delete p.monitorUri);
    drop(p.httpRequestRules.length, p.httpRequestRules[0]?.loc ?? p.loc, "'http-request' rules", () => {
      p.httpRequestRules = [];
    });
    drop(p.httpResponseRules.length, p.httpResponseRules[0]?.loc ?? p.loc, "'http-response' rules", () => {
      p.httpResponseRules = [];
    });
    drop(
      p.options.forwardfor,
      p.options.forwardfor?.loc ?? p.loc,
      "'option forwardfor'",
      () => delete p.options.forwardfor,
    );
    drop(
      p.stickRules.length || p.stickTable,
      p.stickTable?.loc ?? p.stickRules[0]?.loc ?? p.loc,
      "learned-session persistence ('stick')",
      () => {
        p.stickRules = [];
        delete p.stickTable;
      },
    );
    if (fe && p.options.httplog) {
      this.warn(
        p.options.httplogLoc ?? p.loc,
        `'option httplog' not usable with ${label} (needs 'mode http'), falling back to 'option tcplog'`,
      );
      p.options.httplog = false;
      p.options.tcplog = true;
    }
  }

  private learnedSession(p: ProxyDraft, label: string): LearnedSessionConfig | undefined {
    const t = p.stickTable;
    const rules = p.stickRules;
    if (!t && rules.length === 0) return undefined;
    if (!t) {
      this.error(
        rules[0]!.loc,
        `'stick' rules in ${label} need a 'stick-table' in the same backend`,
        "e.g. stick-table type string len 52 size 1m expire 3h",
      );
      return undefined;
    }
    const names = new Set(rules.map((r) => r.name));
    const matchCookie = rules.find((r) => (r.kind === "match" || r.kind === "on") && r.fetch === "req.cook");
    const storeResponse = rules.find((r) => r.kind === "store-response");
    if (rules.length === 0 || names.size > 1 || !matchCookie || !storeResponse) {
      this.error(
        rules[0]?.loc ?? t.loc,
        `the 'stick' rules of ${label} do not describe learned-session persistence, the only form supported yet`,
        "one cookie name: 'stick match req.cook(C)' + 'stick store-response res.cook(C)' [+ 'stick match urlp(C,;)'] [+ 'stick store-request req.cook(C)']",
      );
      return undefined;
    }
    const urlps = rules.filter((r) => r.fetch === "urlp");
    if (urlps.length > 1) {
      this.error(urlps[1]!.loc, "only one 'stick match urlp(...)' rule per backend is supported yet");
      return undefined;
    }
    const urlp = urlps[0];
    const mode = urlp === undefined ? "cookie-only" : urlp.delim === ";" ? "path-parameters" : "query-string";
    if (urlp && urlp.delim !== ";" && urlp.delim !== "?") {
      this.error(
        urlp.loc,
        `urlp delimiter '${urlp.delim}' is not supported yet`,
        "use ';' (path parameters) or none (query string)",
      );
    }
    const requestLearn = rules.some((r) => r.kind === "on" || r.kind === "store-request");
    return {
      cookie: matchCookie.name,
      len: t.len,
      timeout: t.expire,
      requestLearn,
      prefix: false,
      mode,
      ...(t.appsession ? { appsession: true as const } : {}),
      size: t.size,
      loc: t.loc,
    };
  }

  private httpCheck(p: ProxyDraft, label: string): HttpCheck | undefined {
    const chk = p.options.httpchk;
    const rule = p.checkExpect ?? p.checkSend;
    if (rule && !chk) {
      this.warn(
        rule.loc,
        `${label} uses http-check rules without 'option httpchk', so the rules are ignored`,
      );
    }
    if (!chk) return undefined;
    const { loc: _loc, inherited, ...option } = chk;
    const send = p.checkSend;
    // HAProxy builds a send rule on the option's request only when both are in one rule
    // list: this section's own send starts from the default request if the option came
    // from defaults.
    const base = send && !send.inherited && inherited ? DEFAULT_HTTPCHK : option;
    const request = send ? applySend(base, send.send) : base;
    return p.checkExpect ? { ...request, expect: p.checkExpect.expect } : request;
  }

  private servers(p: ProxyDraft, label: string): void {
    const byCookie = new Map<string, string>();
    for (const s of p.servers) {
      if (s.cookie === undefined) continue;
      const prior = byCookie.get(s.cookie);
      if (prior !== undefined) {
        this.error(
          s.loc,
          `servers '${prior}' and '${s.name}' of ${label} use the same cookie value '${s.cookie}'`,
          "give each server its own cookie value",
        );
      } else byCookie.set(s.cookie, s.name);
      if (!p.cookie && p.mode === "http") {
        this.warn(
          s.loc,
          `cookie '${s.cookie}' of server '${s.name}' has no effect: ${label} has no 'cookie' line`,
        );
      }
    }
    if (p.mode === "tcp") {
      p.servers = p.servers.map((s) => {
        if (s.cookie === undefined) return s;
        this.warn(s.loc, `${label}: ignoring cookie for server '${s.name}' as 'mode http' is not set`);
        const { cookie: _c, ...rest } = s;
        return rest;
      });
    }
  }

  private timeoutsWarning(p: ProxyDraft, fe: boolean, be: boolean, label: string): void {
    const t = p.timeouts;
    if ((fe && !t.client) || (be && (!t.connect || !t.server))) {
      this.warn(
        p.loc,
        `missing timeouts for ${label}: set 'timeout client', 'timeout connect' and 'timeout server' (in the section or a defaults section) to non-zero values, or connections may hang forever`,
      );
    }
  }

  private stats(p: ProxyDraft): StatsConfig | undefined {
    const s = p.stats;
    if (!s) return undefined;
    const showNode = s.showNode === "" ? this.opts.hostname : s.showNode;
    const { showNode: _n, refresh, realm, ...rest } = s;
    return {
      ...rest,
      enabled: true,
      ...(refresh !== undefined ? { refresh } : {}),
      ...(realm !== undefined ? { realm } : {}),
      ...(showNode !== undefined ? { showNode } : {}),
    };
  }

  private logs(p: ProxyDraft, global: GlobalModel): LogTarget[] {
    return p.logs.flatMap((l) => ("global" in l ? global.logs : [l]));
  }

  private proxy(p: ProxyDraft, id: number, global: GlobalModel): ProxyModel {
    const kind = p.kind as Proxy;
    const fe = kind !== "backend";
    const be = kind !== "frontend";
    const label = `${kind} '${p.name}'`;
    if (p.mode === "tcp") this.tcpModeCleanup(p, label, fe, be);
    if (fe && p.binds.length === 0) {
      this.warn(
        p.loc,
        `${label} has no 'bind' directive: it accepts no connection (declare it as a backend if this was intended)`,
      );
    }
    if (p.monitorFail.length && !p.monitorUri) {
      this.warn(p.monitorFail[0]!.loc, `'monitor fail' in ${label} has no effect without 'monitor-uri'`);
    }
    this.timeoutsWarning(p, fe, be, label);
    this.servers(p, label);
    const learnedSession = be ? this.learnedSession(p, label) : undefined;
    const httpCheck = be ? this.httpCheck(p, label) : undefined;
    const stats = this.stats(p);
    const { forwardfor, httpchk: _h, httplogLoc: _l, ...options } = p.options;
    const ff = forwardfor ? (({ loc: _loc, ...f }) => f)(forwardfor) : undefined;
    return {
      name: p.name,
      id,
      kind,
      isFrontend: fe,
      isBackend: be,
      mode: p.mode,
      loc: p.loc,
      binds: p.binds,
      maxconn: p.maxconn ?? global.maxconn,
      ...(fe && p.defaultBackend ? { defaultBackend: p.defaultBackend.name } : {}),
      useBackends: p.useBackends,
      ...(fe && p.monitorUri ? { monitorUri: p.monitorUri.uri } : {}),
      monitorFail: p.monitorFail,
      httpRequestRules: p.httpRequestRules,
      httpResponseRules: p.httpResponseRules,
      ...(p.captureCookie ? { captureCookie: p.captureCookie } : {}),
      captureRequestHeaders: p.captureRequestHeaders,
      captureResponseHeaders: p.captureResponseHeaders,
      balance: p.balance,
      servers: p.servers,
      ...(be && p.cookie ? { cookie: p.cookie } : {}),
      ...(learnedSession ? { learnedSession } : {}),
      retries: p.retries,
      ...(be && p.fullconn !== undefined ? { fullconn: p.fullconn } : {}),
      ...(httpCheck ? { httpCheck } : {}),
      options: {
        ...options,
        ...(ff ? { forwardfor: ff } : {}),
        ...(httpCheck ? { httpchk: httpCheck } : {}),
      },
      timeouts: p.timeouts,
      logs: this.logs(p, global),
      acls: p.acls,
      ...(stats ? { stats } : {}),
      errorfiles: p.errorfiles,
    };
  }

  /** default_backend / use_backend / nbsrv() name existing backends with compatible modes. */
  private references(proxies: readonly ProxyModel[]): void {
    const backends = new Map(proxies.filter((p) => p.isBackend).map((p) => [p.name, p]));
    const check = (from: ProxyModel, name: string, loc: SourceLoc, what: string, modeMatters: boolean) => {
      const target = backends.get(name);
      if (!target) {
        this.error(
          loc,
          `${from.kind} '${from.name}': unable to find ${what} '${name}'`,
          hintBackend(name, backends.keys()),
        );
        return;
      }
      if (modeMatters && from.mode === "http" && target.mode === "tcp") {
        this.error(
          loc,
          `http ${from.kind} '${from.name}' tries to use tcp backend '${name}' (${target.loc.file}:${target.loc.line}) as its ${what} (see 'mode')`,
        );
      }
    };
    // `track`: the server exists, and is checked or tracks one itself.
    for (const p of proxies) {
      for (const s of p.servers) {
        if (s.track === undefined) continue;
        const where = `'server ${p.name}/${s.name}'`;
        const be = backends.get(s.track.backend);
        const target = be?.servers.find((x) => x.name === s.track!.server);
        if (be === undefined)
          this.error(s.loc, `${where} : unable to find required proxy '${s.track.backend}' for tracking.`);
        else if (target === undefined)
          this.error(s.loc, `${where} : unable to find required server '${s.track.server}' for tracking.`);
        else if (tracksItself(backends, p.name, s.name))
          this.error(s.loc, `${where} : tracking loop: the servers it tracks end up tracking it.`);
        else if (!target.check && target.track === undefined)
          this.error(
            s.loc,
            `${where} : unable to use ${be.name}/${target.name} for tracking as it does not have any check nor agent enabled.`,
            `add 'check' to ${be.name}/${target.name}`,
          );
      }
    }
    for (const [i, p] of proxies.entries()) {
      const draft = this.d.proxies[i]!;
      if (p.isFrontend && draft.defaultBackend)
        check(p, draft.defaultBackend.name, draft.defaultBackend.loc, "default_backend", true);
      for (const u of p.useBackends) check(p, u.backend, u.loc, "use_backend", true);
      for (const ref of draft.backendRefs) check(p, ref.name, ref.loc, "backend of nbsrv()", false);
    }
  }

  private ha(h: HaDraft, proxies: readonly ProxyModel[]): HaModel | undefined {
    const before = this.out.errors.length;
    if (!h.redis)
      this.error(
        h.loc,
        `ha section '${h.name}' has no Redis`,
        "add 'redis redis://HOST:PORT' or 'redis-sentinel NAME HOST:PORT'",
      );
    if (h.peers.length === 0)
      this.error(h.loc, `ha section '${h.name}' has no peer`, "add one 'peer NAME HOST:PORT' line per node");
    const names = new Map<string, SourceLoc>();
    const addrs = new Map<string, string>();
    for (const peer of h.peers) {
      const sameName = names.get(peer.name);
      if (sameName)
        this.error(
          peer.loc,
          `peer '${peer.name}' is declared twice (first at line ${sameName.line})`,
          "use distinct names",
        );
      names.set(peer.name, peer.loc);
      const key = `${peer.host}:${peer.port}`;
      const sameAddr = addrs.get(key);
      if (sameAddr !== undefined)
        this.error(
          peer.loc,
          `peers '${sameAddr}' and '${peer.name}' have the same address ${key}`,
          "each node needs its own peer-link address",
        );
      addrs.set(key, peer.name);
    }
    const leaseLoc = h.leaseLoc ?? h.loc;
    if (h.leaseTime <= h.advertInterval) {
      this.error(
        leaseLoc,
        `lease-time (${h.leaseTime} ms) must be longer than advert-interval (${h.advertInterval} ms)`,
        "the active renews its lease at each advert",
      );
    } else if (h.leaseTime < 3 * h.advertInterval) {
      this.warn(
        leaseLoc,
        `lease-time (${h.leaseTime} ms) is less than 3 x advert-interval (${h.advertInterval} ms): one delayed advert may cost the active its lease`,
      );
    }
    if (h.stallThreshold !== undefined && h.stallThreshold.value >= h.leaseTime) {
      this.error(
        h.stallThreshold.loc,
        `stall-threshold (${h.stallThreshold.value} ms) must be shorter than lease-time (${h.leaseTime} ms)`,
        "a stall as long as the lease would outlive it; the default is a quarter of lease-time",
      );
    }
    if (h.peers.length > 0 && !names.has(this.opts.localNode)) {
      this.error(
        h.loc,
        `this node '${this.opts.localNode}' is not a peer of ha section '${h.name}'`,
        `name it with -L (one of: ${[...names.keys()].join(", ")})`,
      );
    }
    for (const k of h.keepBound) {
      const p = proxies.find((x) => x.name === k.name);
      if (p === undefined || !p.isFrontend) {
        this.error(
          k.loc,
          p === undefined
            ? `keep-bound: no frontend or listen named '${k.name}'`
            : `keep-bound: '${k.name}' is a backend, not a frontend`,
          "name a frontend or listen section declared in the configuration",
        );
      }
    }
    if (this.out.errors.length > before || !h.redis) return undefined;
    const { loc: _r, ...redis } = h.redis;
    return {
      name: h.name,
      redis,
      peers: h.peers,
      advertInterval: h.advertInterval,
      leaseTime: h.leaseTime,
      ...(h.stallThreshold !== undefined ? { stallThreshold: h.stallThreshold.value } : {}),
      preempt: h.preempt,
      takeover: h.takeover,
      fence: h.fence,
      ...(h.notify !== undefined ? { notify: h.notify } : {}),
      keepBound: h.keepBound.map((k) => k.name),
      localPeer: this.opts.localNode,
      loc: h.loc,
    };
  }
}

function hintBackend(name: string, known: Iterable<string>): string {
  const list = [...known];
  if (list.length === 0) return "declare it with 'backend NAME'";
  return didYouMean(name, list) ?? `known backends: ${list.join(", ")}`;
}

export function finish(drafts: Drafts, opts: FinishOptions, out: Collector): ConfigModel | undefined {
  return new Finisher(drafts, opts, out).run();
}

/** Whether following `track` from BACKEND/SERVER comes back to it. */
function tracksItself(backends: ReadonlyMap<string, ProxyModel>, backend: string, server: string): boolean {
  const seen = new Set<string>();
  let at = backends.get(backend)?.servers.find((x) => x.name === server)?.track;
  while (at !== undefined) {
    const key = `${at.backend}/${at.server}`;
    if (key === `${backend}/${server}`) return true;
    if (seen.has(key)) return false;
    seen.add(key);
    at = backends.get(at.backend)?.servers.find((x) => x.name === at!.server)?.track;
  }
  return false;
}
