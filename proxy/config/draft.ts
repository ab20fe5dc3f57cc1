/**
 * Mutable drafts that keyword rows fill while validation walks the raw tree; `finish.ts`
 * turns them into the frozen model once every line has been read. A `defaults` section is
 * a proxy draft that later proxies start from (copied, never shared).
 */
import type {
  AclDef,
  Balance,
  Bind,
  Condition,
  CookieConfig,
  Duration,
  ForwardFor,
  HaPeer,
  HaRedis,
  HaTakeover,
  HttpCheck,
  HttpCheckExpect,
  HttpCheckSend,
  HttpRequestRule,
  HttpResponseRule,
  LearnedSessionConfig,
  LogTarget,
  ServerModel,
  SourceLoc,
  StatsSocket,
  UseBackend,
} from "./model.js";

export interface GlobalDraft {
  maxconn?: number;
  daemon: boolean;
  uid?: number;
  gid?: number;
  user?: string;
  group?: string;
  nbproc?: number;
  nbthread?: number;
  pidfile?: string;
  chroot?: string;
  logs: LogTarget[];
  statsSockets: StatsSocket[];
  serverStateFile?: string;
  logTag: string;
  bufsize: number;
  maxrewrite: number;
  maxHeaders: number;
  /** Where tune.bufsize / tune.maxrewrite were last set (for the check that ties them). */
  tuneLoc?: SourceLoc;
}

export function newGlobal(): GlobalDraft {
  return {
    daemon: false,
    logs: [],
    statsSockets: [],
    logTag: "haproxy",
    bufsize: 16384,
    maxrewrite: 1024,
    maxHeaders: 101,
  };
}

export interface StatsDraft {
  uri: string;
  refresh?: Duration;
  hideVersion: boolean;
  realm?: string;
  auth: { user: string; password: string }[];
  admin: Condition[];
  showLegends: boolean;
  showNode?: string;
  loc: SourceLoc;
}

/** One `stick ...` rule of the subset that expresses learned-session persistence. */
export interface StickRule {
  readonly kind: "match" | "on" | "store-request" | "store-response";
  /** "req.cook", "res.cook", "urlp". */
  readonly fetch: string;
  readonly name: string;
  /** `urlp(NAME,;)`: the delimiter (";" = path parameters, default "?" = query string). */
  readonly delim: string;
  readonly loc: SourceLoc;
}

export interface StickTable {
  readonly len: number;
  readonly size: number;
  readonly expire: Duration;
  readonly loc: SourceLoc;
  /** Written as HAProxy 1.4's `appsession` (its URL-parameter rules apply). */
  appsession?: true;
}

/** Either a log target or `log global` (the global targets, known once all is read). */
export type LogEntry = LogTarget | { readonly global: true; readonly loc: SourceLoc };

export interface ProxyOptionsDraft {
  httplog: boolean;
  httplogLoc?: SourceLoc;
  tcplog: boolean;
  dontlognull: boolean;
  forwardfor?: ForwardFor & { loc: SourceLoc };
  redispatch: boolean;
  abortonclose: boolean;
  httpConnMode: "keep-alive" | "server-close" | "close";
  /** `inherited`: from defaults; a send rule of this proxy then does not build on it (HAProxy). */
  httpchk?: HttpCheck & { loc: SourceLoc; inherited?: boolean };
  logasap: boolean;
  dontlogNormal: boolean;
  logSeparateErrors: boolean;
  httpBufferRequest: boolean;
  allbackups: boolean;
  persist: boolean;
  disableOn404: boolean;
  logHealthChecks: boolean;
}

export interface TimeoutsDraft {
  connect?: Duration;
  client?: Duration;
  server?: Duration;
  queue?: Duration;
  httpRequest?: Duration;
  httpKeepAlive?: Duration;
  check?: Duration;
  tunnel?: Duration;
  clientFin?: Duration;
  serverFin?: Duration;
  tarpit?: Duration;
}

export type ProxyKind = "defaults" | "frontend" | "backend" | "listen";

export interface ProxyDraft {
  kind: ProxyKind;
  name: string;
  loc: SourceLoc;
  mode: "http" | "tcp";
  binds: Bind[];
  maxconn?: number;
  defaultBackend?: { name: string; loc: SourceLoc };
  useBackends: UseBackend[];
  monitorUri?: { uri: string; loc: SourceLoc };
  monitorFail: Condition[];
  httpRequestRules: HttpRequestRule[];
  httpResponseRules: HttpResponseRule[];
  captureCookie?: { name: string; len: number };
  captureRequestHeaders: { name: string; len: number }[];
  captureResponseHeaders: { name: string; len: number }[];
  balance: Balance;
  servers: ServerModel[];
  /** Option words of the `default-server` lines so far, applied before each server's own. */
  defaultServer: string[];
  cookie?: CookieConfig;
  stickTable?: StickTable;
  stickRules: StickRule[];
  /** Filled by finish.ts from the stick table and rules. */
  learnedSession?: LearnedSessionConfig;
  retries: number;
  fullconn?: number;
  /** `inherited`: came from defaults, so this proxy's own rule replaces it. */
  checkExpect?: { expect: HttpCheckExpect; loc: SourceLoc; inherited: boolean };
  checkSend?: { send: HttpCheckSend; loc: SourceLoc; inherited: boolean };
  options: ProxyOptionsDraft;
  timeouts: TimeoutsDraft;
  logs: LogEntry[];
  acls: Map<string, AclDef>;
  stats?: StatsDraft;
  errorfiles: Map<number, Buffer>;
  /** Backends named by `nbsrv(NAME)`, checked once every proxy is known. */
  backendRefs: { name: string; loc: SourceLoc }[];
}

/** A proxy as HAProxy presets it before any `defaults` applies. */
export function newProxy(kind: ProxyKind, name: string, loc: SourceLoc): ProxyDraft {
  return {
    kind,
    name,
    loc,
    mode: "tcp",
    binds: [],
    useBackends: [],
    monitorFail: [],
    httpRequestRules: [],
    httpResponseRules: [],
    captureRequestHeaders: [],
    captureResponseHeaders: [],
    balance: { algo: "roundrobin" },
    servers: [],
    defaultServer: [],
    stickRules: [],
    retries: 3,
    options: {
      httplog: false,
      tcplog: false,
      dontlognull: false,
      redispatch: false,
      abortonclose: false,
      httpConnMode: "keep-alive",
      logasap: false,
      dontlogNormal: false,
      logSeparateErrors: false,
      httpBufferRequest: false,
      allbackups: false,
      persist: false,
      disableOn404: false,
      logHealthChecks: false,
    },
    timeouts: {},
    logs: [],
    acls: new Map(),
    errorfiles: new Map(),
    backendRefs: [],
  };
}

/** A new proxy that starts from a `defaults` section's settings (copied, not shared). */
export function inheritFrom(defaults: ProxyDraft, kind: ProxyKind, name: string, loc: SourceLoc): ProxyDraft {
  const p = newProxy(kind, name, loc);
  p.mode = defaults.mode;
  if (defaults.maxconn !== undefined) p.maxconn = defaults.maxconn;
  if (defaults.defaultBackend) p.defaultBackend = { ...defaults.defaultBackend };
  if (defaults.monitorUri) p.monitorUri = { ...defaults.monitorUri };
  p.balance = { ...defaults.balance };
  p.defaultServer = [...defaults.defaultServer];
  if (defaults.cookie) p.cookie = { ...defaults.cookie };
  p.retries = defaults.retries;
  if (defaults.fullconn !== undefined) p.fullconn = defaults.fullconn;
  if (defaults.checkExpect) p.checkExpect = { ...defaults.checkExpect, inherited: true };
  if (defaults.checkSend) p.checkSend = { ...defaults.checkSend, inherited: true };
  p.options = { ...defaults.options };
  if (defaults.options.httpchk) p.options.httpchk = { ...defaults.options.httpchk, inherited: true };
  p.timeouts = { ...defaults.timeouts };
  p.logs = [...defaults.logs];
  if (defaults.stats) {
    p.stats = { ...defaults.stats, auth: [...defaults.stats.auth], admin: [...defaults.stats.admin] };
  }
  p.errorfiles = new Map(defaults.errorfiles);
  return p;
}

export interface HaDraft {
  name: string;
  loc: SourceLoc;
  redis?: HaRedis & { loc: SourceLoc };
  peers: HaPeer[];
  advertInterval: Duration;
  leaseTime: Duration;
  leaseLoc?: SourceLoc;
  stallThreshold?: { value: Duration; loc: SourceLoc };
  preempt: { on: boolean; delay: Duration };
  takeover: HaTakeover;
  fence: "kill" | "off";
  notify?: string;
  keepBound: { name: string; loc: SourceLoc }[];
}

export function newHa(name: string, loc: SourceLoc): HaDraft {
  return {
    name,
    loc,
    peers: [],
    advertInterval: 100,
    leaseTime: 300,
    preempt: { on: false, delay: 0 },
    takeover: { kind: "bind" },
    fence: "kill",
    keepBound: [],
  };
}
