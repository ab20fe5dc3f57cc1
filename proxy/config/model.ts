/**
 * The typed, immutable configuration model: what validation produces from the raw tree and
 * what a running node is assembled from. Every value here is already checked; the request
 * path never re-validates. Durations are milliseconds, sizes are bytes.
 *
 * Objects are frozen deeply by `freezeModel` when validation ends; a reload builds a new
 * model and diffs it against the running one.
 */

/** Where a piece of configuration came from, for messages and for `--print-modern`. */
export interface SourceLoc {
  readonly file: string;
  readonly line: number;
}

/** Milliseconds. */
export type Duration = number;

/** One `log` target (global, or a proxy's own, or inherited through `log global`). */
export interface LogTarget {
  readonly kind: "udp" | "unix" | "stdout" | "stderr";
  /** udp: host and port (default 514). */
  readonly host?: string;
  readonly port?: number;
  /** unix: path of a datagram socket (e.g. /dev/log). */
  readonly path?: string;
  /** Syslog facility number, 0..23 (local3 = 19). */
  readonly facility: number;
  /** Most verbose level sent, 0 (emerg) .. 7 (debug); default 7. */
  readonly maxLevel: number;
  /** Least verbose level: messages below are raised to it; default 0. */
  readonly minLevel: number;
  /** `format raw` sends the bare line; `rfc3164` is HAProxy's default header. */
  readonly format: "rfc3164" | "rfc5424" | "raw" | "short";
  /** `len N`: longest message sent, header included (default 1024), as HAProxy truncates. */
  readonly len?: number;
  readonly loc: SourceLoc;
}

export interface StatsSocket {
  readonly path: string;
  /** File mode, e.g. 0o660. */
  readonly mode?: number;
  readonly level: "user" | "operator" | "admin";
  readonly loc: SourceLoc;
}

export interface GlobalModel {
  readonly maxconn: number;
  readonly daemon: boolean;
  readonly uid?: number;
  readonly gid?: number;
  readonly user?: string;
  readonly group?: string;
  /** Accepted for compatibility; fulcrum runs one process (see the warning). */
  readonly nbproc?: number;
  readonly nbthread?: number;
  readonly pidfile?: string;
  readonly chroot?: string;
  readonly logs: readonly LogTarget[];
  readonly statsSockets: readonly StatsSocket[];
  readonly serverStateFile?: string;
  /** `log-tag` / program name in syslog headers; default "haproxy" (what log parsers expect). */
  readonly logTag: string;
  /** `tune.bufsize`: the request/response head must fit (default 16384). */
  readonly bufsize: number;
  /** `tune.maxrewrite` (default 1024): room kept for header rewrites. */
  readonly maxrewrite: number;
  /** `tune.http.maxhdr` (default 101). */
  readonly maxHeaders: number;
}

/** A parsed IPv4/IPv6 network, `10.0.0.0/8` or a single address. */
export interface Network {
  readonly family: 4 | 6;
  /** Address bytes (4 or 16). */
  readonly bytes: readonly number[];
  readonly prefix: number;
  readonly text: string;
}

export interface Timeouts {
  readonly connect?: Duration;
  readonly client?: Duration;
  readonly server?: Duration;
  readonly queue?: Duration;
  readonly httpRequest?: Duration;
  readonly httpKeepAlive?: Duration;
  readonly check?: Duration;
  readonly tunnel?: Duration;
  readonly clientFin?: Duration;
  readonly serverFin?: Duration;
  readonly tarpit?: Duration;
}

/** `option httpclose` / `http-server-close` / `http-keep-alive` (the default). */
export type HttpConnMode = "keep-alive" | "server-close" | "close";

export interface ForwardFor {
  /** Header name, default `X-Forwarded-For`. */
  readonly header: string;
  /** Source network for which the header is not added. */
  readonly except?: Network;
  /** `if-none`: add only when the request has no such header. */
  readonly ifNone: boolean;
}

export interface HttpCheck {
  /** Default OPTIONS / HTTP/1.0 as HAProxy. */
  readonly method: string;
  readonly uri: string;
  /** e.g. "HTTP/1.0", "HTTP/1.1". */
  readonly version: string;
  /**
   * Header lines: `http-check send hdr NAME VALUE`, or those the version string carried
   * (1.4 style `\r\nHost:\ x`) when the send rule gives none.
   */
  readonly headers: readonly (readonly [string, string])[];
  /** `http-check send body STRING`. */
  readonly body?: string;
  readonly expect?: HttpCheckExpect;
}

/** `http-check send`: each part given replaces that part of `option httpchk`'s request. */
export interface HttpCheckSend {
  readonly method?: string;
  readonly uri?: string;
  readonly version?: string;
  /** Replace the option's header lines as a whole when there is at least one. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: string;
}

export interface HttpCheckExpect {
  readonly kind: "status" | "rstatus" | "string" | "rstring";
  readonly negate: boolean;
  /** For `status`, the codes/ranges as written ("200", "200-399", "200,302"). */
  readonly value: string;
}

export interface CookieConfig {
  readonly name: string;
  readonly mode: "insert" | "rewrite" | "prefix";
  readonly indirect: boolean;
  readonly nocache: boolean;
  readonly postonly: boolean;
  readonly preserve: boolean;
  readonly httponly: boolean;
  readonly secure: boolean;
  /** `attr VALUE`, in order (e.g. "SameSite=Lax"). */
  readonly attrs: readonly string[];
  readonly domains: readonly string[];
  readonly maxidle?: Duration;
  readonly maxlife?: Duration;
  readonly loc: SourceLoc;
}

/**
 * Learned-session persistence: the tutorial's `appsession JSESSIONID len 52 timeout 3h`
 * (HAProxy 1.4), expressed as what it means: learn COOKIE's value from the server's
 * Set-Cookie (and `;cookie=` path parameters), remember value -> server for `timeout`.
 */
export interface LearnedSessionConfig {
  readonly cookie: string;
  /** Only the first `len` characters of the id are compared/stored. */
  readonly len: number;
  readonly timeout: Duration;
  /** `request-learn`: also learn from the client's cookie when the server did not set one. */
  readonly requestLearn: boolean;
  /** `prefix`: the id is the part before the first `~` ... (1.4 semantics, kept as a flag). */
  readonly prefix: boolean;
  /**
   * Where else the id is looked for: `path-parameters` (`;JSESSIONID=` in the path, the
   * appsession default, `stick match urlp(C,;)`), `query-string` (`stick match urlp(C)`), or
   * `cookie-only` (modern stick rules without urlp).
   */
  readonly mode: "path-parameters" | "query-string" | "cookie-only";
  /**
   * Written as `appsession`: HAProxy 1.4 compared the URL parameter name without case (Java's
   * `;jsessionid=` finds `JSESSIONID`) and looked at GET, HEAD and POST only; HAProxy 2.6's
   * `stick match urlp()` compares it exactly, whatever the method.
   */
  readonly appsession?: true;
  /** Most entries kept (`stick-table ... size`); appsession gives 1m (1048576). */
  readonly size?: number;
  readonly loc: SourceLoc;
}

export interface ServerModel {
  readonly name: string;
  /** Numeric id (1-based within its backend, HAProxy's `sid`). */
  readonly id: number;
  readonly host: string;
  readonly port: number;
  /** `cookie VALUE`; when the backend has a cookie and the server none, HAProxy uses none. */
  readonly cookie?: string;
  readonly check: boolean;
  /** Per-server `addr`/`port` for checks. */
  readonly checkPort?: number;
  /** `addr`: the address health checks connect to, when not the server's. */
  readonly checkAddr?: string;
  /** `track [<backend>/]<server>`: this server's state follows that one's (backend resolved). */
  readonly track?: { readonly backend: string; readonly server: string };
  readonly inter: Duration;
  readonly fastinter: Duration;
  readonly downinter: Duration;
  readonly rise: number;
  readonly fall: number;
  /** 0..256, default 1. */
  readonly weight: number;
  /** 0 means no limit. */
  readonly maxconn: number;
  readonly maxqueue: number;
  readonly backup: boolean;
  readonly disabled: boolean;
  readonly slowstart?: Duration;
  readonly loc: SourceLoc;
}

export type BalanceAlgo = "roundrobin" | "static-rr" | "leastconn" | "first" | "source" | "uri";

export interface Balance {
  readonly algo: BalanceAlgo;
  /** `uri` options: `whole`, `len N`, `depth N`. */
  readonly uriWhole?: boolean;
  readonly uriLen?: number;
  readonly uriDepth?: number;
}

// ---- ACLs and conditions ---------------------------------------------------------------

/** How an ACL's fetched sample is matched against its patterns (HAProxy's -m). */
export type MatchMethod =
  | "found"
  | "bool"
  | "int"
  | "ip"
  | "bin"
  | "len"
  | "str"
  | "sub"
  | "reg"
  | "beg"
  | "end"
  | "dir"
  | "dom";

export interface IntPattern {
  /** `eq`, `ne`, `lt`, `le`, `gt`, `ge`, or a range `a:b` (either side may be open). */
  readonly op: "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "range";
  readonly value: number;
  readonly max?: number;
}

/** One ACL expression: a fetch with its arguments, a match method and patterns. */
export interface AclExpr {
  /** Fetch name as written without the suffix, e.g. "path", "hdr", "src", "nbsrv", "method". */
  readonly fetch: string;
  readonly args: readonly string[];
  readonly match: MatchMethod;
  readonly ignoreCase: boolean;
  readonly strings: readonly string[];
  readonly ints: readonly IntPattern[];
  readonly networks: readonly Network[];
  /** Source-compatible regular expressions, already compiled-checked. */
  readonly regexes: readonly string[];
  readonly loc: SourceLoc;
}

/** A named ACL: several lines with the same name are OR-ed. */
export interface AclDef {
  readonly name: string;
  readonly exprs: readonly AclExpr[];
}

/** One term of a condition: a named ACL (predefined or declared) or an anonymous `{ ... }`. */
export type CondTerm =
  | { readonly kind: "named"; readonly name: string; readonly negate: boolean }
  | { readonly kind: "anon"; readonly expr: AclExpr; readonly negate: boolean };

/** `if A B || C` = OR of ANDs. `unless` negates the whole. */
export interface Condition {
  readonly polarity: "if" | "unless";
  readonly anyOf: readonly (readonly CondTerm[])[];
  readonly loc: SourceLoc;
}

// ---- proxies ---------------------------------------------------------------------------

export interface Bind {
  /** "tcp": host/port; "fd": an inherited listening socket. */
  readonly kind: "tcp" | "fd";
  /** "" for any address (`*`, or `:port`), "0.0.0.0", "::", "127.0.0.1". */
  readonly host: string;
  readonly port: number;
  readonly fd?: number;
  readonly loc: SourceLoc;
}

export interface StatsConfig {
  readonly enabled: boolean;
  readonly uri: string;
  readonly refresh?: Duration;
  readonly hideVersion: boolean;
  readonly realm?: string;
  readonly auth: readonly { readonly user: string; readonly password: string }[];
  readonly admin: readonly Condition[];
  readonly showLegends: boolean;
  readonly showNode?: string;
  readonly loc: SourceLoc;
}

export interface UseBackend {
  readonly backend: string;
  readonly cond: Condition;
  readonly loc: SourceLoc;
}

/** The rules both sides share: header edits, deny (with its status) and allow. */
export type CommonHttpRule =
  | {
      readonly action: "set-header" | "add-header";
      readonly name: string;
      readonly value: string;
      readonly cond?: Condition;
      readonly loc: SourceLoc;
    }
  | {
      readonly action: "del-header";
      readonly name: string;
      readonly cond?: Condition;
      readonly loc: SourceLoc;
    }
  | { readonly action: "deny"; readonly status: number; readonly cond?: Condition; readonly loc: SourceLoc }
  | { readonly action: "allow"; readonly cond?: Condition; readonly loc: SourceLoc };

export type HttpRequestRule =
  | {
      readonly action: "use-service";
      readonly service: "prometheus-exporter";
      readonly cond?: Condition;
      readonly loc: SourceLoc;
    }
  | CommonHttpRule
  | HttpRedirectRule
  | HttpReturnRule;

/** `http-response ACTION ...`: rules run on the server's response head, backend's first. */
export type HttpResponseRule =
  | CommonHttpRule
  | {
      readonly action: "set-status";
      readonly status: number;
      readonly reason?: string;
      readonly cond?: Condition;
      readonly loc: SourceLoc;
    };

/** `http-request redirect location|prefix|scheme VALUE [code N] [options]`. */
export interface HttpRedirectRule {
  readonly action: "redirect";
  readonly kind: "location" | "prefix" | "scheme";
  /** The location, prefix or scheme, plain text. */
  readonly target: string;
  readonly code: 301 | 302 | 303 | 307 | 308;
  readonly dropQuery: boolean;
  readonly appendSlash: boolean;
  /** `set-cookie NAME[=VALUE]` or `clear-cookie NAME[=]`, as written. */
  readonly cookie?: { readonly clear: boolean; readonly text: string };
  readonly cond?: Condition;
  readonly loc: SourceLoc;
}

/** `http-request return [status N] [content-type T] [string S|file F] [hdr NAME VALUE]...`. */
export interface HttpReturnRule {
  readonly action: "return";
  readonly status: number;
  /** Set when there is a payload. */
  readonly contentType?: string;
  readonly body: Buffer;
  readonly headers: readonly (readonly [string, string])[];
  readonly cond?: Condition;
  readonly loc: SourceLoc;
}

export interface ProxyOptions {
  readonly httplog: boolean;
  readonly tcplog: boolean;
  readonly dontlognull: boolean;
  readonly forwardfor?: ForwardFor;
  readonly redispatch: boolean;
  readonly abortonclose: boolean;
  readonly httpConnMode: HttpConnMode;
  readonly httpchk?: HttpCheck;
  readonly logasap: boolean;
  readonly dontlogNormal: boolean;
  readonly logSeparateErrors: boolean;
  readonly httpBufferRequest: boolean;
  readonly allbackups: boolean;
  readonly persist: boolean;
  /** `http-check disable-on-404`: a 404 puts an UP server in NOLB (no new load-balanced traffic). */
  readonly disableOn404: boolean;
  /** `option log-health-checks`: log every change of check status or health. */
  readonly logHealthChecks: boolean;
}

/** A frontend, backend or listen section (a listen has both capabilities). */
export interface ProxyModel {
  readonly name: string;
  /** HAProxy's `iid`: 1-based order of declaration, counting every proxy. */
  readonly id: number;
  readonly kind: "frontend" | "backend" | "listen";
  readonly isFrontend: boolean;
  readonly isBackend: boolean;
  readonly mode: "http" | "tcp";
  readonly loc: SourceLoc;

  // frontend side
  readonly binds: readonly Bind[];
  readonly maxconn: number;
  readonly defaultBackend?: string;
  readonly useBackends: readonly UseBackend[];
  readonly monitorUri?: string;
  readonly monitorFail: readonly Condition[];
  readonly httpRequestRules: readonly HttpRequestRule[];
  readonly httpResponseRules: readonly HttpResponseRule[];
  readonly captureCookie?: { readonly name: string; readonly len: number };
  readonly captureRequestHeaders: readonly { readonly name: string; readonly len: number }[];
  readonly captureResponseHeaders: readonly { readonly name: string; readonly len: number }[];

  // backend side
  readonly balance: Balance;
  readonly servers: readonly ServerModel[];
  readonly cookie?: CookieConfig;
  readonly learnedSession?: LearnedSessionConfig;
  readonly retries: number;
  readonly fullconn?: number;
  readonly httpCheck?: HttpCheck;

  // both
  readonly options: ProxyOptions;
  readonly timeouts: Timeouts;
  readonly logs: readonly LogTarget[];
  readonly acls: ReadonlyMap<string, AclDef>;
  readonly stats?: StatsConfig;
  /** HTTP status -> full raw response bytes from `errorfile`. */
  readonly errorfiles: ReadonlyMap<number, Buffer>;
}

// ---- the ha section --------------------------------------------------------------------

export interface HaPeer {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly priority: number;
  readonly loc: SourceLoc;
}

export type HaRedis =
  | { readonly kind: "url"; readonly url: string }
  | {
      readonly kind: "sentinel";
      readonly master: string;
      readonly hosts: readonly { host: string; port: number }[];
    };

export type HaTakeover =
  | { readonly kind: "bind" }
  | { readonly kind: "vip"; readonly address: string; readonly prefix: number; readonly dev: string };

export interface HaModel {
  readonly name: string;
  readonly redis: HaRedis;
  readonly peers: readonly HaPeer[];
  readonly advertInterval: Duration;
  readonly leaseTime: Duration;
  /** `stall-threshold`: event-loop stall that makes the active step down (default lease-time / 4). */
  readonly stallThreshold?: Duration;
  readonly preempt: { readonly on: boolean; readonly delay: Duration };
  readonly takeover: HaTakeover;
  readonly fence: "kill" | "off";
  readonly notify?: string;
  /**
   * Frontends/listens every node keeps bound whatever its role (a per-node stats or admin
   * listener): `takeover bind` moves only the others.
   */
  readonly keepBound: readonly string[];
  /** The peer this process is (`-L NAME`, default the host name); always one of `peers`. */
  readonly localPeer: string;
  readonly loc: SourceLoc;
}

// ---- the whole model -------------------------------------------------------------------

export interface ConfigWarning {
  readonly loc: SourceLoc;
  readonly message: string;
}

export interface ConfigModel {
  readonly files: readonly string[];
  readonly global: GlobalModel;
  /** Frontends, backends and listens in declaration order. */
  readonly proxies: readonly ProxyModel[];
  readonly ha?: HaModel;
  /** SHA-256 hex of the files' contents, in order: what HA adverts compare. */
  readonly checksum: string;
}
