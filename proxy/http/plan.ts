/**
 * What the request path needs from the rest of the node, prepared once per configuration.
 * The request path (client.ts, exchange.ts) only sees these interfaces; node.ts builds them
 * from the model with the balancers, persistence, queue, stats and log modules.
 */

import type { HttpConnMode, ProxyModel } from "../config/model.js";
import type { BackendRuntime, FrontendRuntime, ProcessCounters, ServerRuntime } from "../state.js";
import type { Headers, HeadLimits, RequestHead, ResponseHead } from "./h1.js";
import type { ReplyOptions } from "./responses.js";
import type { ServerPool } from "./upstream.js";

/** What is known about a request when choosing where it goes. */
export interface RequestInfo {
  readonly head: RequestHead;
  /** Path without the query string. */
  readonly path: string;
  readonly query: string;
  readonly srcIp: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly fe: FrontendPlan;
}

/** A response produced by the node itself (stats, monitor, errors): full bytes or parts. */
export interface LocalResponse {
  readonly status: number;
  /** Raw bytes, head and body, ready to send. */
  readonly bytes: Buffer;
  /** Keep the client connection after it (stats pages do; errors don't). */
  readonly keepAlive: boolean;
  /** Counted as intercepted, not logged (monitor-uri). */
  readonly silent?: boolean;
  /**
   * Already counted as intercepted by whoever made it, before it was made (HAProxy counts
   * when the rule or stats URI matches, so a stats page or a scrape sees itself).
   */
  readonly intercepted?: true;
  /** Termination state first letters for the log when it is an error (e.g. "PR"). */
  readonly termination?: string;
  /** Server name in the log (`<STATS>` for the stats page). */
  readonly logServer?: string;
  /**
   * The exchange writes the proxy's reply for `status` itself (an `http-request deny`): the
   * client connection then stays open as after a 503, and `bytes` is not used.
   */
  readonly reply?: true;
  /**
   * A reply the configuration built (a redirect, an `http-request return`): the exchange
   * decides whether the connection stays open, as for `reply`, and renders it with that.
   */
  readonly render?: (o: ReplyOptions) => Buffer;
  /** A request with a body closes after it, received or not (HAProxy's redirects). */
  readonly closesOnBody?: true;
  /**
   * The answer needs the request body (a stats admin POST): the exchange reads the body and
   * answers with what this returns; `bytes` is not used.
   */
  readonly needsBody?: (body: Buffer) => LocalResponse;
}

export interface ServerPlan {
  readonly rt: ServerRuntime;
  readonly pool: ServerPool;
  readonly backend: BackendPlan;
}

/** Outcome of choosing a server for a request (persistence first, then balancing). */
export interface Choice {
  readonly server: ServerPlan | undefined;
  /** Chosen by a persistence cookie or a learned session (SF_DIRECT in HAProxy). */
  readonly direct: boolean;
  /** No server chosen because every usable one is at its maxconn: wait in the backend queue. */
  readonly full: boolean;
  /** Client-cookie letter for the log's 3rd termination char: N I D V E O - */
  readonly clientCookie: string;
  /** Insert a persistence cookie in the response. */
  readonly insertCookie: boolean;
}

/** How a wait in a queue ended. */
export interface QueueResult {
  readonly outcome: "granted" | "expired" | "redispatch" | "full";
  /** Granted: the server whose slot it now holds. */
  readonly server?: ServerPlan;
  /** Redispatch: another server to try (undefined when none is usable). */
  readonly other?: ServerPlan;
  readonly waitedMs: number;
  /** Its position in the queue, for the log (see Ticket.position). */
  readonly position: number;
}

/** What to do after a failed connection. */
export type NextAttempt =
  | { readonly giveUp: true; readonly why: string }
  | { readonly giveUp: false; readonly next: ServerPlan; readonly delayMs: number; readonly why: string };

export interface BackendPlan {
  readonly cfg: ProxyModel;
  readonly rt: BackendRuntime;
  readonly servers: readonly ServerPlan[];
  readonly connMode: HttpConnMode;
  readonly timeouts: { connect?: number; server?: number; queue?: number; tunnel?: number };
  readonly retries: number;
  readonly redispatch: boolean;
  /** Chooses a server; `exclude` is the one that just failed (redispatch). */
  choose(req: RequestInfo, exclude?: ServerPlan): Choice;
  /** Balancer only (no persistence), for redispatch. */
  balance(req: RequestInfo, exclude?: ServerPlan): ServerPlan | undefined;
  /** Rewrites the request headers for the chosen server (cookie removal with indirect, ...). */
  rewriteRequest(req: RequestInfo, headers: Headers, choice: Choice): void;
  /**
   * Rewrites the response headers (cookie insert, Cache-Control on insert, learning the
   * session id); returns the server-cookie letter for the log's 4th termination char.
   */
  rewriteResponse(req: RequestInfo, res: ResponseHead, server: ServerPlan, choice: Choice): string;
  /** The request holds a slot on the server / gives it back (leastconn, maxconn queue). */
  take(server: ServerPlan): void;
  release(server: ServerPlan): void;
  /** True when the server is below its maxconn. */
  hasRoom(server: ServerPlan): boolean;
  /**
   * Waits for a slot on `server` (or on any server when undefined); calls back once. A queue
   * timeout is counted here (econ, as HAProxy); a wait whose server went DOWN comes back with
   * the server to try instead (redispatch), when there is one.
   */
  enqueue(server: ServerPlan | undefined, req: RequestInfo, cb: (r: QueueResult) => void): () => void;
  /**
   * After a failed connection to `server` (counted here: econ, then wretr or wredis): where
   * to try next by HAProxy's rules, or give up.
   */
  nextAttempt(
    choice: Choice,
    server: ServerPlan,
    req: RequestInfo,
    failures: number,
    kind: "error" | "timeout",
  ): NextAttempt;
}

/** The fields of one HTTP log line, filled by the request path. */
export interface ExchangeLog {
  clientIp: string;
  clientPort: number;
  /** Epoch ms the request started (first byte, after keep-alive idle). */
  acceptDate: number;
  frontend: string;
  backend: string;
  server: string;
  tr: number;
  tw: number;
  tc: number;
  trs: number;
  ta: number;
  status: number;
  bytesOut: number;
  bytesIn: number;
  /** `option logasap`: logged when the response headers went out (see HttpLogRecord). */
  asap: boolean;
  termination: string;
  clientCookie: string;
  serverCookie: string;
  retries: number;
  redispatched: boolean;
  srvQueue: number;
  backendQueue: number;
  requestLine: string;
  badRequest: boolean;
  requestHeaders?: Headers | undefined;
  responseHeaders?: Headers | undefined;
  actconn: number;
  feconn: number;
  beconn: number;
  srvconn: number;
}

export interface FrontendPlan {
  readonly cfg: ProxyModel;
  readonly rt: FrontendRuntime;
  readonly connMode: HttpConnMode;
  readonly limits: HeadLimits;
  readonly timeouts: { client?: number; httpRequest?: number; httpKeepAlive?: number };
  /** `option forwardfor` (frontend's, or the backend's when it has one). */
  forwardFor(
    backend: BackendPlan,
  ): { header: string; skip: (ip: string) => boolean; ifNone: boolean } | undefined;
  /** monitor-uri, stats, http-request deny/use-service: answers locally, or null to go on. */
  intercept(req: RequestInfo): LocalResponse | null;
  /** After use_backend: what the backend answers itself (its stats page). */
  interceptBackend(req: RequestInfo, backend: BackendPlan): LocalResponse | null;
  /**
   * Runs the `http-response` rules (the backend's, then the frontend's) on a server's
   * response head, rewriting it in place. Returns the status to deny it with, or null.
   */
  respond(req: RequestInfo, res: ResponseHead, backend: BackendPlan): number | null;
  /** use_backend / default_backend. */
  route(req: RequestInfo): BackendPlan | undefined;
  /** An error response (HAProxy's built-in page or `errorfile`). */
  errorResponse(status: number): Buffer;
  /**
   * A reply the stream makes after the request head was accepted (502/503/504, a deny, a
   * bad body): the backend's `errorfile` for the status, else the frontend's, else HAProxy's
   * page, re-serialised; kept alive unless `close`.
   */
  reply(
    status: number,
    opts: ReplyOptions & { readonly backend?: ProxyModel },
  ): { readonly bytes: Buffer; readonly closes: boolean };
  /** Emits the log line (null when the proxy does not log). */
  log(rec: ExchangeLog): void;
  /** Whether `log` writes anything (a record is built only then). */
  readonly logging: boolean;
  /** Whether to log a connection that sent nothing (dontlognull). */
  readonly logNull: boolean;
  /** Requests wait for the HA serve gate (false for `keep-bound` frontends). */
  readonly gated: boolean;
  /** The frontend captures from responses (`capture cookie`, `capture response header`). */
  readonly capturesResponse: boolean;
}

/** Node-wide counters and clock the request path reads. */
export interface NodeContext {
  actconn: number;
  readonly maxconn: number;
  /** Soft stop in progress: finish what runs, keep no connection alive afterwards. */
  stopping: boolean;
  now(): number;
  debug?(line: string): void;
  /** HA: false while this node may not serve (closed before any request is forwarded). */
  serveGate?: () => boolean;
  /** A bug caught at a connection's edge (logged as an ALERT; the node goes on). */
  alert?(line: string): void;
  /** A client connection ended (a connection held over maxconn may start). */
  connectionClosed?(): void;
  /** Every open client connection, so a stop can close them. */
  readonly clients: Set<{ close(): void; isIdle(): boolean }>;
  /** Process-wide counts (`show info`). */
  readonly process: ProcessCounters;
}
