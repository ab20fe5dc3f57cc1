/**
 * One request and its response (HAProxy's "stream"), as a sequence of named steps:
 *
 *   guard -> intercept -> route -> choose -> queue -> connect -> sendRequest
 *         -> responseHead -> relay body -> finish (log, release)
 *
 * Each step either moves on or ends the exchange with a status and a termination state
 * (the four letters of HAProxy's log). Nothing is retried once request bytes have left for
 * a server, except an idempotent request without a body on a reused keep-alive connection
 * the server had closed.
 */

import { htxRequestHeadSize, htxResponseHeadSize, htxSizeOfRaw } from "../log/htx.js";
import { countStatus } from "../state.js";
import { countRequest, countSession, countTimes } from "../stats/meter.js";
import { type BodyDecoder, createDecoder, type Framing, requestFraming, responseFraming } from "./body.js";
import type { ClientConnection } from "./client.js";
import {
  type Headers,
  headerIndex,
  parseResponseHead,
  type RequestHead,
  type ResponseHead,
  serialiseHeaders,
} from "./h1.js";
import type { BackendPlan, Choice, LocalResponse, RequestInfo, ServerPlan } from "./plan.js";
import { parseErrorResponse } from "./responses.js";
import type { ConnectError, UpstreamConn, UpstreamOwner } from "./upstream.js";

enum Phase {
  Request = "R",
  Queue = "Q",
  Connect = "C",
  Headers = "H",
  Data = "D",
  Last = "L",
  Done = "-",
}

/** Methods HAProxy (RFC 9110) considers idempotent: safe to resend on a fresh connection. */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/** Largest response head + first body bytes joined into one buffer for one write. */
const JOIN_LIMIT = 16384;

/** Bytes of request body buffered while no server connection exists yet, before pausing. */
const PENDING_LIMIT = 64 * 1024;
/** The HTX size of a bare `100 Continue`, as HAProxy's byte count has it. */
const CONTINUE_LOG_BYTES = htxResponseHeadSize(11, 100, "Continue", { names: [], values: [] });

function splitUri(uri: string): { path: string; query: string } {
  let s = uri;
  // Absolute form: scheme://authority/path
  if (s.charCodeAt(0) !== 47 /* / */) {
    const scheme = s.indexOf("://");
    if (scheme !== -1) {
      const slash = s.indexOf("/", scheme + 3);
      s = slash === -1 ? "/" : s.slice(slash);
    }
  }
  const q = s.indexOf("?");
  return q === -1 ? { path: s, query: "" } : { path: s.slice(0, q), query: s.slice(q + 1) };
}

/** What the Connection headers of a message ask for. */
interface ConnectionInfo {
  close: boolean;
  keepAlive: boolean;
  upgrade: boolean;
}

function tokenIs(v: string, from: number, to: number, word: string): boolean {
  while (from < to && (v.charCodeAt(from) === 0x20 || v.charCodeAt(from) === 0x09)) from++;
  while (to > from && (v.charCodeAt(to - 1) === 0x20 || v.charCodeAt(to - 1) === 0x09)) to--;
  if (to - from !== word.length) return false;
  for (let i = 0; i < word.length; i++) {
    if ((v.charCodeAt(from + i) | 0x20) !== word.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Reads the Connection headers' tokens into `out`. With `strip`, removes `close` and
 * `keep-alive` from them in place, dropping a header left empty, as HAProxy's H1 layer does
 * before it appends its own `connection` line (see appendConnection).
 */
function connectionTokens(h: Headers, out: ConnectionInfo, strip: boolean): ConnectionInfo {
  out.close = false;
  out.keepAlive = false;
  out.upgrade = false;
  const names = h.names;
  for (let i = 0; i < names.length; i++) {
    if (names[i] !== "connection") continue;
    const v = h.values[i]!;
    let kept = "";
    let changed = false;
    let from = 0;
    while (from <= v.length) {
      let comma = v.indexOf(",", from);
      if (comma === -1) comma = v.length;
      if (tokenIs(v, from, comma, "close")) {
        out.close = true;
        changed = true;
      } else if (tokenIs(v, from, comma, "keep-alive")) {
        out.keepAlive = true;
        changed = true;
      } else {
        if (tokenIs(v, from, comma, "upgrade")) out.upgrade = true;
        const t = v.slice(from, comma).trim();
        if (t !== "") kept = kept === "" ? t : `${kept}, ${t}`;
        else changed = true;
      }
      from = comma + 1;
    }
    if (!strip || !changed) continue;
    if (kept === "") {
      names.splice(i, 1);
      h.values.splice(i, 1);
      i--;
    } else h.values[i] = kept;
  }
  return out;
}

/** HAProxy's own `connection` line goes after every other header. */
function appendConnection(h: Headers, token: string | null): void {
  if (token === null) return;
  h.names.push("connection");
  h.values.push(token);
}

/**
 * `TE` as HAProxy's H1 layer forwards it (both ways): kept only as `te: trailers` when it
 * lists `trailers`, removed otherwise.
 */
function filterTe(h: Headers): void {
  const names = h.names;
  for (let i = names.length - 1; i >= 0; i--) {
    if (names[i] !== "te") continue;
    const v = h.values[i]!;
    const at = v.toLowerCase().indexOf("trailers");
    if (at !== -1 && (v.length === at + 8 || v.charCodeAt(at + 8) === 0x2c)) h.values[i] = "trailers";
    else {
      names.splice(i, 1);
      h.values.splice(i, 1);
    }
  }
}

export class Exchange implements UpstreamOwner {
  private readonly conn: ClientConnection;
  private readonly head: RequestHead;
  private readonly t0: number;
  private info!: RequestInfo;
  private be: BackendPlan | undefined;
  private choice: Choice | undefined;
  private server: ServerPlan | undefined;
  private up: UpstreamConn | null = null;
  private phase: Phase = Phase.Request;

  // request side
  private framing!: Framing;
  private reqDecoder: BodyDecoder | null = null;
  private reqDone = true;
  private pending: (Buffer | string)[] | null = null;
  private pendingBytes = 0;
  private requestSent = false;
  private headBytes = "";
  private clientWantsClose = false;
  /** The response ended before the request body: the exchange waits for the body (finish). */
  private responseComplete = false;
  private upgradeRequested = false;
  /** Scratch for connectionTokens (one per exchange, reused for the request and the response). */
  private readonly connInfo: ConnectionInfo = { close: false, keepAlive: false, upgrade: false };
  /** The client connection closes after this exchange whatever else says (CL+TE, chunked 1.0). */
  private forceClose = false;
  /** The server connection too (chunked HTTP/1.0 request). */
  private forceServerClose = false;

  // response side
  private resBuf: Buffer | null = null;
  private res: ResponseHead | undefined;
  /** Log bytes of the interim (1xx) responses sent before the final one. */
  private interimLogBytes = 0;
  /** The line went out with the response headers (`option logasap`). */
  private loggedAsap = false;
  /** Log bytes of a server response head dropped by `http-response deny`. */
  private droppedBytes = 0;
  /** The server whose valid response head this exchange relays. */
  private answeredBy: ServerPlan | null = null;
  /** A local answer waiting for the request body (a stats admin POST). */
  private whenBodyDone: (() => void) | null = null;
  /** http-buffer-request: goes on once the buffered body reaches the buffer's size. */
  private bodyFull: (() => void) | null = null;
  /** Positions in the queues it waited in (the log's srv_queue / backend_queue). */
  private srvQueue = 0;
  private backendQueue = 0;
  /** The server whose queue it timed out in (logged as its server). */
  private queuedOn: ServerPlan | undefined;
  /** The response's headers as the server sent them, kept only when the frontend captures. */
  private capturedResponse: Headers | undefined;
  private resDecoder: BodyDecoder | null = null;
  private resFraming: Framing["kind"] = "none";
  private resBytes = 0;
  /** What HAProxy counts for %B and bytes_out: the response's HTX size (see log/htx.ts). */
  private logBytes = 0;
  private resStarted = false;
  private keepClient = false;
  private keepServer = false;
  private clientCookie = "-";
  private serverCookie = "-";
  private tunnel = false;
  /** The answer came from the backend's own stats page (counted in the backend). */
  private statsInBackend = false;
  /** Server name logged for answers the node made itself (`<STATS>`). */
  private localServer: string | undefined;

  // attempts and timers (ms since t0, -1 = not reached)
  private attempts = 0;
  private redispatched = false;
  private tw = -1;
  private tc = -1;
  private trs = -1;
  private tConnectStart = 0;
  private tSent = 0;
  private cancelWait: (() => void) | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private taken = false;
  /** The server whose maxconn slot this request holds. */
  private slot: ServerPlan | null = null;
  private ended = false;
  private blockedOnClient = false;

  /** Time to receive the whole request head (HAProxy's TR); the body too when it is buffered. */
  private tr: number;

  constructor(conn: ClientConnection, head: RequestHead, t0: number, headDone: number) {
    this.conn = conn;
    this.head = head;
    this.t0 = t0;
    this.tr = headDone - t0;
  }

  // ---- steps ----------------------------------------------------------------------------

  start(rest: Buffer | null): void {
    const c = this.conn;
    const { path, query } = splitUri(this.head.uri);
    this.info = {
      head: this.head,
      path,
      query,
      srcIp: c.srcIp,
      srcPort: c.srcPort,
      dstPort: c.dstPort,
      fe: c.fe,
    };
    if (!this.stepGuard(rest)) return;
    if (!this.stepIntercept()) return;
    if (!this.stepRoute()) return;
    if (this.buffersBody()) {
      this.waitForBody();
      return;
    }
    this.stepChoose();
  }

  /** `option http-buffer-request` (the frontend's or the backend's) with a body still coming. */
  private buffersBody(): boolean {
    return (
      !this.reqDone && (this.conn.fe.cfg.options.httpBufferRequest || this.be!.cfg.options.httpBufferRequest)
    );
  }

  /**
   * As HAProxy's http-buffer-request: no server is chosen before the body is in (or fills
   * the request buffer), TR counts that wait, and an `Expect: 100-continue` is answered here
   * and not forwarded.
   */
  private waitForBody(): void {
    const h = this.head.headers;
    const at = headerIndex(h, "expect");
    if (at !== -1 && this.head.version >= 11 && h.values[at]!.toLowerCase() === "100-continue") {
      h.names.splice(at, 1);
      h.values.splice(at, 1);
      const interim = "HTTP/1.1 100 Continue\r\n\r\n";
      this.conn.socket.write(interim, "latin1");
      this.resBytes += interim.length;
      this.interimLogBytes += CONTINUE_LOG_BYTES;
    }
    this.phase = Phase.Request;
    this.whenBodyDone = () => {
      this.bodyFull = null;
      this.disarmClientWait();
      this.tr = this.conn.node.now() - this.t0;
      this.stepChoose();
    };
    this.bodyFull = this.whenBodyDone;
    this.armClientWait();
  }

  /** Framing checks; reads body bytes that came with the head, so a bad chunk is never sent. */
  private stepGuard(rest: Buffer | null): boolean {
    const h = this.head;
    const f = requestFraming(h.headers, h.version, h.method);
    if (!f.ok) {
      this.conn.fe.rt.counters.ereq++;
      this.conn.node.debug?.(`bad request from ${this.info.srcIp}: ${f.reason}`);
      // HAProxy's H1 layer answers these with its built-in page as is, then closes.
      const local =
        f.status === 400
          ? this.localError(400, "PR")
          : // A request's framing fails with 400, 413 or 422 only (502 is the response's).
            {
              status: f.status,
              bytes: parseErrorResponse(f.status as 413 | 422),
              keepAlive: false,
              termination: "PR--",
            };
      this.endLocal(local, true);
      return false;
    }
    this.framing = f.framing;
    if (f.forceClose) {
      this.forceClose = true;
      this.forceServerClose = h.version < 11;
    }
    this.reqDecoder = createDecoder(f.framing);
    this.reqDone = this.reqDecoder === null;
    const tokens = connectionTokens(h.headers, this.connInfo, false);
    this.clientWantsClose = h.version >= 11 ? tokens.close : !tokens.keepAlive;
    this.upgradeRequested =
      (tokens.upgrade && headerIndex(h.headers, "upgrade") !== -1) || h.method === "CONNECT";
    this.pending = [];
    if (rest !== null) {
      const left = this.reqDecoder === null ? rest : this.onClientBody(rest, 0);
      if (this.ended) return false;
      if (left !== null) this.conn.holdBack(left);
    }
    return true;
  }

  private stepIntercept(): boolean {
    const local = this.conn.fe.intercept(this.info);
    if (local === null) return true;
    this.answerLocal(local);
    return false;
  }

  /** Answers with a local response, once the request body is in when it needs it. */
  private answerLocal(local: LocalResponse): void {
    const needsBody = local.needsBody;
    if (needsBody === undefined) {
      this.endLocal(local, false);
      return;
    }
    const answer = () => {
      const body = Buffer.concat(
        (this.pending ?? []).map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : p)),
      );
      this.pending = [];
      const made = needsBody(body);
      this.endLocal(local.intercepted ? { ...made, intercepted: true } : made, false);
    };
    if (this.reqDone) {
      answer();
      return;
    }
    this.whenBodyDone = answer;
    this.conn.armClientTimeout(() => this.abort("c", "client timeout while sending the form"));
  }

  private stepRoute(): boolean {
    this.be = this.conn.fe.route(this.info);
    if (this.be === undefined) {
      this.fail(503, "S", Phase.Connect, "no backend for this request");
      return false;
    }
    // With a persistence cookie configured, the log's cookie letters are N until the request
    // and the response say otherwise (a page or an error the node answers itself included),
    // as HAProxy logs them.
    if (this.be.cfg.cookie !== undefined) this.clientCookie = this.serverCookie = "N";
    // A backend section's stats page is answered inside the backend: HAProxy counts the
    // stream there (its own CSV row shows it); a listen's is the frontend's intercept.
    const c = this.be.rt.counters;
    const inBackend = this.be.cfg !== this.conn.fe.cfg;
    const enter = () => {
      countSession(c, this.conn.node.now());
      c.scur++;
      if (c.scur > c.smax) c.smax = c.scur;
    };
    if (inBackend) enter();
    const local = this.conn.fe.interceptBackend(this.info, this.be);
    if (local !== null) {
      if (inBackend) {
        c.scur--;
        this.statsInBackend = true;
        // Counted once the page is made: the request does not see itself in req_tot.
        countRequest(c, this.conn.node.now());
      }
      this.answerLocal(local);
      return false;
    }
    if (!inBackend) enter();
    // The backend's req_tot counts the request when its response is accounted (see
    // countResponse): HAProxy's does not count one the client abandoned while waiting.
    this.taken = true;
    return true;
  }

  private stepChoose(): void {
    const be = this.be!;
    this.choice = be.choose(this.info);
    this.clientCookie = this.choice.clientCookie;
    const s = this.choice.server;
    if (s !== undefined) {
      this.stepQueue(s);
      return;
    }
    if (this.choice.full) {
      this.waitInQueue(undefined);
      return;
    }
    // No server to try: a failed connection for the backend, as HAProxy counts it.
    be.rt.counters.econ++;
    this.fail(503, "S", Phase.Connect, "no server available");
  }

  /** Takes a slot on the server, or waits in its queue (maxconn). */
  private stepQueue(s: ServerPlan): void {
    const be = this.be!;
    this.server = s;
    if (be.hasRoom(s)) {
      be.take(s);
      this.slot = s;
      this.tw = this.conn.node.now() - this.t0 - this.tr;
      this.useServer(s, true);
      this.stepConnect();
      return;
    }
    this.waitInQueue(s);
  }

  private waitInQueue(s: ServerPlan | undefined): void {
    const be = this.be!;
    this.phase = Phase.Queue;
    this.cancelWait = be.enqueue(s, this.info, (r) => {
      this.cancelWait = null;
      if (this.ended) {
        if (r.server) be.release(r.server);
        return;
      }
      if (s !== undefined) this.srvQueue += r.position;
      else this.backendQueue += r.position;
      this.tw = this.conn.node.now() - this.t0 - this.tr;
      if (r.server !== undefined) {
        this.server = r.server;
        this.slot = r.server;
        this.useServer(r.server, false);
        this.stepConnect();
        return;
      }
      if (r.other !== undefined) {
        this.redispatched = true;
        this.stepQueue(r.other);
        return;
      }
      if (r.outcome === "expired" && s !== undefined) this.queuedOn = s;
      this.fail(
        503,
        "s",
        Phase.Queue,
        r.outcome === "full" ? "server queue full (maxqueue)" : `queue timeout after ${r.waitedMs} ms`,
      );
    });
  }

  /**
   * The request goes to this server. `lb`: the balancer chose it (lbtot counts that, not a
   * server that takes the request from its queue).
   */
  private useServer(s: ServerPlan, lb: boolean): void {
    if (lb && (!this.choice!.direct || this.redispatched)) {
      s.rt.counters.lbtot++;
      this.be!.rt.counters.lbtot++;
    }
  }

  private stepConnect(): void {
    const s = this.server!;
    this.phase = Phase.Connect;
    this.tConnectStart = this.conn.node.now();
    this.countAttempt(s);
    // Reuse an idle keep-alive connection when there is one.
    const idle = s.pool.take();
    if (idle) {
      s.rt.counters.reuse++;
      this.be!.rt.counters.reuse++;
      this.attach(idle);
      return;
    }
    this.connectFresh();
  }

  /** HAProxy counts a server's sessions per connection attempt (a retry is one more). */
  private countAttempt(s: ServerPlan): void {
    const now = this.conn.node.now();
    countSession(s.rt.counters, now);
    s.rt.counters.lastSess = now;
    this.be!.rt.counters.lastSess = now;
  }

  /** A brand-new connection (never a pooled one). */
  private connectFresh(): void {
    const s = this.server!;
    this.phase = Phase.Connect;
    s.rt.counters.connect++;
    this.be!.rt.counters.connect++;
    this.cancelWait = s.pool.connect(this.be!.timeouts.connect, (err, up) => {
      this.cancelWait = null;
      if (this.ended) {
        up?.destroy();
        return;
      }
      if (err) {
        this.onConnectError(err);
        return;
      }
      this.attach(up!);
    });
  }

  private attach(up: UpstreamConn): void {
    this.up = up;
    up.owner = this;
    this.tc = this.conn.node.now() - this.tConnectStart;
    this.stepSendRequest();
  }

  /** A connection attempt failed: retry (same server, or another with redispatch) or give up. */
  private onConnectError(err: ConnectError): void {
    const be = this.be!;
    const s = this.server!;
    this.attempts++;
    const kind = err.kind === "timeout" ? "timeout" : "error";
    const d = be.nextAttempt(this.choice!, s, this.info, this.attempts, kind);
    if (d.giveUp) {
      this.attempts--;
      this.tc = -1;
      this.fail(
        503,
        kind === "timeout" ? "s" : "S",
        Phase.Connect,
        `connection to ${s.rt.cfg.name} failed: ${err.message}`,
      );
      return;
    }
    const next = d.next;
    if (next !== s) {
      this.conn.node.debug?.(
        `${be.cfg.name}/${s.rt.cfg.name}: ${err.message}; ${d.why}: redispatch to ${next.rt.cfg.name}`,
      );
      if (this.slot) be.release(this.slot);
      be.take(next);
      this.slot = next;
      this.server = next;
      this.redispatched = true;
      if (this.choice!.direct) {
        // HAProxy clears SF_DIRECT on redispatch: the new server's cookie is inserted.
        this.clientCookie = "D";
        this.choice = { ...this.choice!, direct: false };
      }
      this.useServer(next, true);
    } else {
      this.conn.node.debug?.(`${be.cfg.name}/${s.rt.cfg.name}: ${err.message}; ${d.why}`);
    }
    const redispatching = next !== s;
    const go = () => {
      this.retryTimer = null;
      if (this.ended) return;
      if (redispatching) {
        // HAProxy sends a redispatched request back through server assignment: its Tw runs
        // until the new server is taken, and Tc counts the new connection alone.
        const now = this.conn.node.now();
        this.tw = now - this.t0 - this.tr;
        this.tConnectStart = now;
      }
      this.countAttempt(this.server!);
      this.connectFresh();
    };
    if (d.delayMs > 0) this.retryTimer = setTimeout(go, d.delayMs);
    else go();
  }

  private stepSendRequest(): void {
    const be = this.be!;
    const up = this.up!;
    const h = this.head;
    const headers: Headers = { names: h.headers.names.slice(), values: h.headers.values.slice() };
    be.rewriteRequest(this.info, headers, this.choice!);
    const ff = this.conn.fe.forwardFor(be);
    if (ff && !ff.skip(this.info.srcIp) && !(ff.ifNone && headerIndex(headers, ff.header) !== -1)) {
      headers.names.push(ff.header);
      headers.values.push(this.info.srcIp);
    }
    connectionTokens(headers, this.connInfo, true);
    filterTe(headers);
    // As HAProxy's H1 layer: an upgrade keeps its own tokens only; a closing HTTP/1.1 request
    // says close (an HTTP/1.0 one needs nothing); a kept HTTP/1.0 one says keep-alive.
    const serverClose =
      be.connMode !== "keep-alive" || this.conn.fe.connMode !== "keep-alive" || this.forceServerClose;
    let token: string | null = null;
    if (this.upgradeRequested) token = null;
    else if (serverClose) token = h.version >= 11 ? "close" : null;
    else if (h.version < 11) token = "keep-alive";
    appendConnection(headers, token);
    this.headBytes = `${h.method} ${h.uri} ${h.proto}\r\n${serialiseHeaders(headers)}`;
    this.phase = Phase.Headers;
    this.tSent = this.conn.node.now();
    const sock = up.socket;
    up.setIoTimeout(be.timeouts.server ?? 0);
    sock.cork();
    sock.write(this.headBytes, "latin1");
    const pending = this.pending;
    this.pending = null;
    if (pending) for (const p of pending) sock.write(p, "latin1");
    this.pendingBytes = 0;
    sock.uncork();
    this.requestSent = true;
    if (!this.reqDone) {
      this.conn.resume();
      this.armClientWait();
    }
  }

  // ---- request body ---------------------------------------------------------------------

  wantsRequestBody(): boolean {
    return !this.reqDone && !this.ended;
  }

  /** Decodes body bytes from the client; returns what comes after the body (pipelined), or null. */
  onClientBody(d: Buffer, start: number): Buffer | null {
    const dec = this.reqDecoder!;
    const up = this.framing.kind === "chunked" && this.pending === null ? this.up : null;
    up?.socket.cork();
    const r = dec.feed(d, start, this.emitToServer);
    up?.socket.uncork();
    if ("error" in r) {
      this.conn.fe.rt.counters.ereq++;
      this.conn.node.debug?.(`bad request body from ${this.info.srcIp}: ${r.error}`);
      if (!this.requestSent) this.endLocal(this.localError(400, "PR"), true);
      else if (!this.resStarted) this.failClose(400, "P", Phase.Data, `bad request body: ${r.error}`);
      else this.abort("P", "bad request body");
      return null;
    }
    if (r.done) {
      this.reqDone = true;
      if (this.requestSent) this.disarmClientWait();
      if (this.whenBodyDone !== null) {
        const answer = this.whenBodyDone;
        this.whenBodyDone = null;
        const end = start + r.consumed;
        if (end < d.length) this.conn.holdBack(d.subarray(end));
        answer();
        return null;
      }
      const end = start + r.consumed;
      const rest = end < d.length ? d.subarray(end) : null;
      if (this.responseComplete) {
        if (rest !== null) this.conn.holdBack(rest);
        this.finish();
        return null;
      }
      return rest;
    }
    return null;
  }

  private readonly emitToServer = (piece: Buffer | string): void => {
    if (this.pending !== null) {
      this.pending.push(piece);
      this.pendingBytes += piece.length;
      if (this.bodyFull !== null && this.pendingBytes >= this.conn.fe.limits.maxHead) {
        // The request buffer is full: HAProxy stops waiting and goes on with what it has.
        const go = this.bodyFull;
        this.whenBodyDone = null;
        go();
      }
      // While http-buffer-request waits, the request buffer's size bounds what is held.
      if (this.pendingBytes > PENDING_LIMIT && this.bodyFull === null) this.conn.pause();
      return;
    }
    const up = this.up;
    if (up === null) return;
    up.activity();
    if (!up.socket.write(piece, "latin1")) this.conn.pause();
  };

  onServerDrain(): void {
    if (this.tunnel) this.conn.socket.resume();
    else if (!this.reqDone) this.conn.resume();
  }

  /** Tunnel mode: bytes from the client go to the server untouched. */
  onTunnelData(d: Buffer): void {
    const up = this.up;
    if (up === null || this.ended) return;
    up.activity();
    if (!up.socket.write(d)) this.conn.socket.pause();
  }

  get isTunnel(): boolean {
    return this.tunnel;
  }

  /** `timeout client` while the request body is still expected. */
  private armClientWait(): void {
    this.conn.armClientTimeout(() => this.abort("c", "client timeout"));
  }
  private disarmClientWait(): void {
    this.conn.clearTimer();
  }

  onClientEnd(): void {
    if (this.ended) return;
    if (!this.reqDone) {
      this.abort("C", "client closed during the request body");
      return;
    }
    if (this.conn.fe.cfg.options.abortonclose && !this.resStarted) {
      this.abort("C", "client closed before the response (abortonclose)");
    }
  }

  onClientClose(): void {
    if (this.ended) return;
    this.abort("C", "client closed");
  }

  onClientDrain(): void {
    if (this.blockedOnClient) {
      this.blockedOnClient = false;
      this.conn.clearTimer();
      this.up?.resumeReads();
      // A request body still coming is bounded by timeout client again.
      if (!this.reqDone && !this.ended) this.armClientWait();
    }
  }

  // ---- response -------------------------------------------------------------------------

  onServerData(up: UpstreamConn, d: Buffer): void {
    if (this.ended || up !== this.up) return;
    if (this.responseComplete) {
      this.keepServer = false; // bytes after a complete response: not reusable
      return;
    }
    if (this.tunnel) {
      this.resBytes += d.length;
      this.writeClient(d);
      return;
    }
    if (this.res === undefined) {
      this.resBuf = this.resBuf === null || this.resBuf.length === 0 ? d : Buffer.concat([this.resBuf, d]);
      this.stepResponseHead();
      return;
    }
    this.relayResponse(d, 0);
  }

  private stepResponseHead(): void {
    for (;;) {
      const buf = this.resBuf!;
      const r = parseResponseHead(buf, 0, this.conn.fe.limits);
      if (r === null) return;
      if (!r.ok) {
        this.be!.rt.counters.eresp++;
        this.server!.rt.counters.eresp++;
        this.conn.node.debug?.(`bad response from ${this.server!.rt.cfg.name}: ${r.reason}`);
        this.fail(502, "P", Phase.Headers, `invalid response: ${r.reason}`);
        return;
      }
      const head = r.head;
      this.resBuf = r.length === buf.length ? null : buf.subarray(r.length);
      if (head.status >= 100 && head.status < 200 && head.status !== 101) {
        // Interim response (100 Continue, 103 Early Hints): forwarded whatever the client's
        // version, as HAProxy does; Content-Length and Transfer-Encoding dropped.
        responseFraming(head.headers, head.status, this.head.method, head.version);
        const bytes = `${head.proto} ${head.code} ${head.reason}\r\n${serialiseHeaders(head.headers)}`;
        this.resBytes += bytes.length;
        // HAProxy's byte count includes the interim responses it forwarded.
        this.interimLogBytes += htxResponseHeadSize(head.version, head.status, head.reason, head.headers);
        this.conn.socket.write(bytes, "latin1");
        if (this.resBuf === null) return;
        continue;
      }
      this.res = head;
      break;
    }
    this.trs = this.conn.node.now() - this.tSent;
    this.logBytes =
      this.interimLogBytes +
      htxResponseHeadSize(this.res!.version, this.res!.status, this.res!.reason, this.res!.headers);
    this.phase = Phase.Data;
    this.up!.setIoTimeout(this.be!.timeouts.server ?? 0);
    const res = this.res!;
    const tunnelled =
      this.head.method === "CONNECT" ? res.status >= 200 && res.status < 300 : res.status === 101;
    if (tunnelled) {
      if (!this.upgradeRequested) {
        // A 101 to a request that asked for no upgrade: an invalid response for HAProxy.
        this.be!.rt.counters.eresp++;
        this.server!.rt.counters.eresp++;
        this.res = undefined;
        this.fail(502, "P", Phase.Headers, "101 Switching Protocols to a request without Upgrade");
        return;
      }
      this.serverAnswered();
      this.startTunnel(res);
      return;
    }
    const f = responseFraming(res.headers, res.status, this.head.method, res.version);
    if (!f.ok) {
      this.be!.rt.counters.eresp++;
      this.server!.rt.counters.eresp++;
      this.res = undefined;
      this.fail(502, "P", Phase.Headers, f.reason);
      return;
    }
    this.resDecoder = createDecoder(f.framing);
    this.resFraming = f.framing.kind;
    // The body bytes that came with the head are checked before the head goes out: a bad
    // chunk there is a 502, as HAProxy parses what it holds before forwarding any of it.
    let first: (Buffer | string)[] | null = null;
    let firstDone = false;
    let extraBytes = false;
    const rest = this.resBuf;
    this.resBuf = null;
    if (rest !== null && this.resDecoder !== null) {
      const pieces: (Buffer | string)[] = [];
      const r = this.resDecoder.feed(rest, 0, (p) => pieces.push(p));
      if ("error" in r) {
        this.be!.rt.counters.eresp++;
        this.server!.rt.counters.eresp++;
        this.res = undefined;
        this.fail(502, "P", Phase.Headers, `invalid response body: ${r.error}`);
        return;
      }
      first = pieces;
      if (r.done) {
        firstDone = true;
        extraBytes = r.consumed < rest.length;
      }
    }
    this.serverAnswered();
    // Captures read the server's response as it came, before the persistence cookie is
    // inserted or the server's own is taken out (HAProxy captures first).
    if (this.conn.fe.capturesResponse) {
      this.capturedResponse = { names: res.headers.names.slice(), values: res.headers.values.slice() };
    }
    const denied = this.conn.fe.respond(this.info, res, this.be!);
    if (denied !== null) {
      this.denyResponse(res, denied, firstDone);
      return;
    }
    this.serverCookie = this.be!.rewriteResponse(this.info, res, this.server!, this.choice!);
    const tokens = connectionTokens(res.headers, this.connInfo, true);
    filterTe(res.headers);
    const fe = this.conn.fe;
    // The client side follows the frontend's mode alone (a backend's httpclose closes only
    // the server side), as HAProxy's H1 layer does.
    this.keepClient =
      fe.connMode !== "close" &&
      !this.clientWantsClose &&
      !this.forceClose &&
      !(f.forceClose && res.version < 11) &&
      f.framing.kind !== "close" &&
      !this.conn.node.stopping;
    const serverKeeps = res.version >= 11 ? !tokens.close : tokens.keepAlive;
    this.keepServer =
      !extraBytes &&
      serverKeeps &&
      !f.forceClose &&
      !this.forceServerClose &&
      f.framing.kind !== "close" &&
      fe.connMode === "keep-alive" &&
      this.be!.connMode === "keep-alive";
    // As HAProxy's H1 layer: closing, an HTTP/1.1 response says close (1.0 needs nothing);
    // kept, it says keep-alive when the response or the request is HTTP/1.0.
    let add: string | null = null;
    if (!this.keepClient) {
      if (res.version >= 11) add = "close";
    } else if (res.version < 11 || this.head.version < 11) {
      add = "keep-alive";
    }
    appendConnection(res.headers, add);
    const bytes = `${res.proto} ${res.code} ${res.reason}\r\n${serialiseHeaders(res.headers)}`;
    this.resBytes += bytes.length;
    this.resStarted = true;
    if (first !== null && first.length > 0) this.writeClientJoined(bytes, first);
    else this.writeClient(bytes);
    this.logAsap(res.status);
    if (this.resDecoder === null || firstDone) {
      if (firstDone && this.resFraming === "chunked") this.logBytes += 1; // HTX's end-of-trailers block
      this.finish();
    }
  }

  private relayResponse(d: Buffer, start: number): void {
    // A chunk goes out as size line, data and CRLF: one write for them (one TCP segment).
    const corked = this.resFraming === "chunked";
    const sock = this.conn.socket;
    if (corked) sock.cork();
    const r = this.resDecoder!.feed(d, start, this.emitToClient);
    if (corked) sock.uncork();
    if ("error" in r) {
      this.be!.rt.counters.eresp++;
      this.server!.rt.counters.eresp++;
      this.abort("S", `invalid response body: ${r.error}`);
      return;
    }
    if (r.done) {
      if (start + r.consumed < d.length) this.keepServer = false; // extra bytes: the connection is not reusable
      if (this.resFraming === "chunked") this.logBytes += 1; // HTX's end-of-trailers block
      this.finish();
    }
  }

  private readonly emitToClient = (piece: Buffer | string): void => {
    this.resBytes += piece.length;
    this.writeClient(piece);
  };

  /**
   * The response head and the body bytes that came with it, in one write: one buffer when
   * small (a write of one buffer costs less than a corked writev of several), else corked.
   */
  private writeClientJoined(head: string, pieces: (Buffer | string)[]): void {
    let total = head.length;
    for (const p of pieces) total += p.length;
    for (const p of pieces) this.resBytes += p.length;
    if (total <= JOIN_LIMIT) {
      const out = Buffer.allocUnsafe(total);
      let at = out.write(head, 0, "latin1");
      for (const p of pieces) at += typeof p === "string" ? out.write(p, at, "latin1") : p.copy(out, at);
      this.writeClient(out);
      return;
    }
    const sock = this.conn.socket;
    sock.cork();
    this.writeClient(head);
    for (const p of pieces) this.writeClient(p);
    sock.uncork();
  }

  private writeClient(piece: Buffer | string): void {
    const sock = this.conn.socket;
    // Strings here are latin1 (head bytes as received, chunk sizes, trailers).
    if (!sock.write(piece, "latin1") && !this.blockedOnClient) {
      this.blockedOnClient = true;
      this.up?.pauseReads();
      this.conn.armClientTimeout(() => this.abort("c", "client timeout while sending the response"));
    }
  }

  /** 101 Switching Protocols: from now on bytes flow both ways untouched (timeout tunnel). */
  private startTunnel(res: ResponseHead): void {
    this.tunnel = true;
    this.keepClient = false;
    this.keepServer = false;
    const bytes = `${res.proto} ${res.code} ${res.reason}\r\n${serialiseHeaders(res.headers)}`;
    this.resBytes += bytes.length;
    this.resStarted = true;
    this.conn.socket.write(bytes, "latin1");
    const t = this.be!.timeouts.tunnel ?? this.be!.timeouts.server;
    const up = this.up!;
    up.setIoTimeout(t ?? 0);
    this.conn.socket.resume();
    if (this.resBuf !== null) {
      this.writeClient(this.resBuf);
      this.resBuf = null;
    }
  }

  onInternalError(err: unknown): void {
    this.ended = true;
    this.cleanupWaits();
    this.releaseServer(false);
    this.conn.internalError(err);
  }

  onServerTimeout(up: UpstreamConn): void {
    if (this.ended || up !== this.up) return;
    if (this.tunnel) {
      this.abort("s", "tunnel timeout");
      return;
    }
    if (this.res === undefined) {
      this.be!.rt.counters.eresp++;
      this.server!.rt.counters.eresp++;
      this.fail(504, "s", Phase.Headers, "server timeout waiting for the response");
      return;
    }
    this.abort("s", "server timeout during the response body");
  }

  onServerClose(up: UpstreamConn, err: Error | undefined): void {
    if (this.ended || up !== this.up) return;
    this.up = null;
    if (this.tunnel) {
      this.finish();
      return;
    }
    if (this.responseComplete) {
      // The server left once its response was whole, the request body still coming: as
      // HAProxy, the rest of the body is read (and dropped: nowhere to send it now), then the
      // client connection goes on as the response said.
      this.keepServer = false;
      this.conn.resume();
      // No server timeout is left: timeout client bounds the rest of the body.
      if (!this.blockedOnClient) this.armClientWait();
      return;
    }
    if (this.res === undefined) {
      // Closed before any response byte: a reused connection the server had closed may be
      // retried on a new one when nothing but an idempotent bodiless request was lost.
      const nothingBack = this.resBuf === null;
      if (up.used && nothingBack && this.framing.kind === "none" && IDEMPOTENT.has(this.head.method)) {
        this.conn.node.debug?.(
          `server ${this.server!.rt.cfg.name} closed a reused connection; resending on a new one`,
        );
        this.pending = [];
        this.requestSent = false;
        this.connectFresh();
        return;
      }
      // A response error, not a server abort: HAProxy counts srv_abrt only once a response
      // is under way.
      this.be!.rt.counters.eresp++;
      this.server!.rt.counters.eresp++;
      const why = err ? `server connection error: ${err.message}` : "server closed the connection";
      if (nothingBack && this.conn.requestsServed > 1) {
        // As HAProxy: a kept-alive client's later request whose server closed without a
        // byte gets no answer, its connection closes, so the client retries it itself.
        this.abort("S", `${why} (keep-alive request: closed for the client to retry)`);
        return;
      }
      this.fail(502, "S", Phase.Headers, why);
      return;
    }
    if (this.resFraming === "close") {
      this.keepServer = false;
      this.finish();
      return;
    }
    // A cut body is both a response error and a server abort for HAProxy.
    this.server!.rt.counters.srvAbrt++;
    this.be!.rt.counters.srvAbrt++;
    this.server!.rt.counters.eresp++;
    this.be!.rt.counters.eresp++;
    this.abort("S", "server closed during the response body");
  }

  // ---- endings --------------------------------------------------------------------------

  private localError(status: number, term: string): LocalResponse {
    return { status, bytes: this.conn.fe.errorResponse(status), keepAlive: false, termination: `${term}--` };
  }

  /** Ends with a response the node made itself (error before any server, stats, monitor). */
  private endLocal(local: LocalResponse, isError: boolean): void {
    // A redirect answering a request with a body carries `connection: close` in the message
    // itself (HAProxy adds it there, so its size counts in the log's bytes).
    let ownClose = 0;
    if (local.reply || local.render) {
      const f = this.framing;
      const bodyClose =
        local.closesOnBody === true && (f.kind === "chunked" || (f.kind === "length" && f.length > 0));
      if (bodyClose) ownClose = "connectionclose".length;
      const keep = this.keepsClientAfterReply() && !bodyClose;
      const o = { close: !keep, head: this.head.method === "HEAD", http10: this.head.version < 11 };
      const r =
        local.render !== undefined
          ? { bytes: local.render(o), closes: false }
          : this.conn.fe.reply(local.status, {
              ...o,
              ...(this.be !== undefined ? { backend: this.be.cfg } : {}),
            });
      local = { ...local, bytes: r.bytes, keepAlive: keep && !r.closes, reply: undefined, render: undefined };
    }
    this.ended = true;
    this.phase = Phase.Done;
    const sock = this.conn.socket;
    this.resBytes = local.bytes.length;
    this.logBytes = htxSizeOfRaw(local.bytes) + ownClose;
    sock.write(local.bytes);
    this.conn.countStatus(local.status);
    if (this.statsInBackend) countStatus(this.be!.rt.counters, local.status);
    if (local.logServer !== undefined) {
      // An applet (the stats page) is a server reached at once: HAProxy logs 0 for Tw/Tc/Tr.
      this.localServer = local.logServer;
      this.tw = this.tc = this.trs = 0;
    }
    if (local.silent) {
      // Never logged (monitor-uri), but its bytes count as HAProxy counts them.
      const fc = this.conn.fe.rt.counters;
      fc.intercepted++;
      fc.bytesIn += htxRequestHeadSize(this.head.method, this.head.uri, this.head.headers);
      fc.bytesOut += this.logBytes;
    } else {
      // HAProxy counts an applet's answer (stats) as intercepted by the frontend only when
      // the frontend is its backend too (a listen), not for a backend's own stats.
      if (!isError && !local.intercepted && (this.be === undefined || this.be.cfg === this.conn.fe.cfg)) {
        this.conn.fe.rt.counters.intercepted++;
      }
      const t = local.termination ?? "LR";
      this.log(local.status, t.length === 4 ? t : `${t}${this.clientCookie}${this.serverCookie}`);
    }
    const keep = local.keepAlive && !this.clientWantsClose && this.reqDone;
    if (!keep) this.reqDecoder = null;
    this.conn.exchangeDone(keep);
  }

  /**
   * Ends with an error response when nothing was sent to the client yet, else aborts. As
   * HAProxy, the client connection stays open after the stream's own 502/503/504 when the
   * request was read whole and nothing else asks to close.
   */
  private fail(status: number, who: string, phase: Phase, why: string, close = false): void {
    if (this.resStarted) {
      this.abort(who, why);
      return;
    }
    this.conn.node.debug?.(
      `${this.info.srcIp}:${this.info.srcPort} ${this.head.method} ${this.head.uri}: ${status}, ${why}`,
    );
    this.ended = true;
    this.cleanupWaits();
    const wantKeep = !close && this.keepsClientAfterReply();
    const reply = this.conn.fe.reply(status, {
      close: !wantKeep,
      head: this.head.method === "HEAD",
      http10: this.head.version < 11,
      ...(this.be !== undefined ? { backend: this.be.cfg } : {}),
    });
    const keep = wantKeep && !reply.closes;
    const bytes = reply.bytes;
    this.resBytes = bytes.length;
    this.logBytes = htxSizeOfRaw(bytes) + this.droppedBytes;
    this.conn.socket.write(bytes);
    this.countResponse(status);
    this.log(status, `${who}${phase}${this.clientCookie}${this.serverCookie}`);
    this.releaseServer(false);
    if (!keep) this.reqDecoder = null;
    this.conn.exchangeDone(keep);
  }

  /** A bad request body after the head went to the server: HAProxy's 400, then close. */
  private failClose(status: number, who: string, phase: Phase, why: string): void {
    this.gentleServerClose = true; // HAProxy shuts the server side down (FIN) here, no reset
    this.fail(status, who, phase, why, true);
  }

  private gentleServerClose = false;

  /** Whether the client connection can carry another request after a reply made here. */
  private keepsClientAfterReply(): boolean {
    return (
      this.reqDone &&
      !this.clientWantsClose &&
      !this.forceClose &&
      this.conn.fe.connMode !== "close" &&
      !this.conn.node.stopping
    );
  }

  /** Something broke mid-way: close both sides, log who and when. */
  private abort(who: string, why: string): void {
    if (this.ended) return;
    this.ended = true;
    this.conn.node.debug?.(
      `${this.info.srcIp}:${this.info.srcPort} ${this.head.method} ${this.head.uri}: aborted, ${why}`,
    );
    this.cleanupWaits();
    if (who === "C" || who === "c") {
      this.be?.rt.counters && this.be.rt.counters.cliAbrt++;
      if (this.server) this.server.rt.counters.cliAbrt++;
    }
    const status = this.res?.status ?? (who === "c" ? 408 : -1);
    // A client gone while its request body was still being forwarded: HAProxy says the data
    // phase (CD) and accounts the backend's response as "other".
    const inBody =
      (who === "C" || who === "c") && !this.reqDone && this.res === undefined && this.phase === Phase.Headers;
    if (this.res) this.countResponse(this.res.status);
    else if (inBody && this.be) this.countBackendResponse(status);
    this.log(status, `${who}${inBody ? Phase.Data : this.phase}${this.clientCookie}${this.serverCookie}`);
    this.releaseServer(false);
    this.conn.close();
    this.conn.exchangeDone(false);
  }

  private finish(): void {
    if (this.ended) return;
    if (!this.reqDone && !this.tunnel && this.up !== null && this.res !== undefined) {
      // An early response (before the request body ended): HAProxy goes on forwarding the
      // body, then keeps both connections; the exchange ends with the body.
      this.responseComplete = true;
      return;
    }
    this.ended = true;
    this.phase = Phase.Done;
    this.cleanupWaits();
    const status = this.res?.status ?? -1;
    this.countResponse(status);
    this.log(status, `--${this.clientCookie}${this.serverCookie}`);
    const keepServer = this.keepServer && this.reqDone && !this.tunnel;
    this.releaseServer(keepServer);
    this.conn.exchangeDone(this.keepClient && this.reqDone);
  }

  private cleanupWaits(): void {
    if (this.cancelWait) {
      const c = this.cancelWait;
      this.cancelWait = null;
      c();
    }
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
  }

  private releaseServer(keep: boolean): void {
    const up = this.up;
    this.up = null;
    if (up) {
      up.setIoTimeout(0);
      if (this.blockedOnClient) up.socket.resume();
      if (keep) up.release();
      else if (this.gentleServerClose) up.destroy();
      else up.reset();
    }
    if (this.taken) {
      this.taken = false;
      this.be!.rt.counters.scur--;
    }
    if (this.slot) {
      const s = this.slot;
      this.slot = null;
      this.be!.release(s);
    }
  }

  private countResponse(status: number): void {
    if (status < 0) return;
    this.conn.countStatus(status);
    if (this.be) this.countBackendResponse(status);
    // A server's own columns count its answers only, not the proxy's 502/504 for it.
    if (this.answeredBy !== null) countStatus(this.answeredBy.rt.counters, status);
  }

  /**
   * An `http-response deny`: the server's answer is dropped (its connection with it) and the
   * client gets the proxy's page for `status`, logged as PH with no response time. The
   * server's own status still counts on its row, as HAProxy counts it before its rules.
   */
  private denyResponse(res: ResponseHead, status: number, bodyDone: boolean): void {
    const s = this.server!;
    countStatus(s.rt.counters, res.status);
    this.answeredBy = null;
    for (const c of [this.conn.fe.rt.counters, this.be!.rt.counters, s.rt.counters]) c.dresp++;
    // HAProxy's byte count keeps what it had parsed of the dropped response (the head, the
    // body bytes that came with it, a chunked end's marker) next to the page it sends.
    const body = this.resDecoder?.bytes ?? 0;
    this.droppedBytes = this.logBytes + body + (bodyDone && this.resFraming === "chunked" ? 1 : 0);
    this.res = undefined;
    this.resDecoder = null;
    this.trs = -1;
    this.fail(status, "P", Phase.Headers, `response ${res.status} denied by an http-response rule`);
  }

  /** The backend's req_tot and hrsp columns, counted together as HAProxy counts them. */
  private countBackendResponse(status: number): void {
    const c = this.be!.rt.counters;
    countRequest(c, this.conn.node.now());
    countStatus(c, status);
  }

  /** The server answered with a valid head: its req_tot counts the request then, as HAProxy's. */
  private serverAnswered(): void {
    const s = this.server!;
    this.answeredBy = s;
    countRequest(s.rt.counters, this.conn.node.now());
  }

  private log(status: number, termination: string): void {
    const now = this.conn.node.now();
    const c = this.conn;
    // As HAProxy counts `bin`: the request's HTX size as received (see log/htx.ts).
    const bytesIn =
      htxRequestHeadSize(this.head.method, this.head.uri, this.head.headers) + (this.reqDecoder?.bytes ?? 0);
    const be = this.be;
    const srv = this.server && this.tConnectStart !== 0 ? this.server : undefined;
    const bytesOut = this.tunnel ? this.resBytes : this.logBytes + (this.resDecoder?.bytes ?? 0);
    c.fe.rt.counters.bytesIn += bytesIn;
    c.fe.rt.counters.bytesOut += bytesOut;
    if (be) {
      be.rt.counters.bytesIn += bytesIn;
      be.rt.counters.bytesOut += bytesOut;
    }
    if (srv) {
      srv.rt.counters.bytesIn += bytesIn;
      srv.rt.counters.bytesOut += bytesOut;
      if (be && this.trs >= 0 && this.tc >= 0) {
        // The averages HAProxy keeps of the streams that got a response (qtime ... ttime).
        const t = { queue: Math.max(0, this.tw), connect: this.tc, response: this.trs, total: now - this.t0 };
        countTimes(srv.rt.counters, srv.rt.counters.reqTot, t);
        countTimes(be.rt.counters, be.rt.counters.reqTot, t);
      }
    }
    // Built only when the frontend logs, in one literal of a fixed shape: the record with
    // spreads cost a fifth of the throughput even when nothing was logged (profiled).
    if (!c.fe.logging || this.loggedAsap) return;
    this.emitLog(status, termination, bytesIn, bytesOut, false);
  }

  /**
   * `option logasap`: the line goes out with the response headers, its Ta and bytes those of
   * that moment (`+` in front), the stream still counted in its backend and server.
   */
  private logAsap(status: number): void {
    if (!this.conn.fe.logging || !this.conn.fe.cfg.options.logasap) return;
    const bytesIn =
      htxRequestHeadSize(this.head.method, this.head.uri, this.head.headers) + (this.reqDecoder?.bytes ?? 0);
    // The bytes so far: the head and what of the body came with it.
    const bytesOut = this.logBytes + (this.resDecoder?.bytes ?? 0);
    this.emitLog(status, `--${this.clientCookie}${this.serverCookie}`, bytesIn, bytesOut, true);
    this.loggedAsap = true;
  }

  private emitLog(
    status: number,
    termination: string,
    bytesIn: number,
    bytesOut: number,
    asap: boolean,
  ): void {
    const now = this.conn.node.now();
    const c = this.conn;
    const be = this.be;
    const srv = this.server && this.tConnectStart !== 0 ? this.server : undefined;
    // Logged at the end, the stream has left its backend and server: not counted in them.
    const leaving = asap ? 0 : 1;
    c.fe.log({
      clientIp: c.srcIp,
      clientPort: c.srcPort,
      acceptDate: this.t0,
      frontend: c.fe.cfg.name,
      backend: be?.cfg.name ?? c.fe.cfg.name,
      server: srv ? srv.rt.cfg.name : (this.queuedOn?.rt.cfg.name ?? this.localServer ?? "<NOSRV>"),
      tr: this.tr,
      tw: this.tw,
      tc: this.tc,
      trs: this.trs,
      ta: now - this.t0,
      status,
      bytesOut,
      bytesIn,
      asap,
      termination,
      clientCookie: this.clientCookie,
      serverCookie: this.serverCookie,
      retries: this.attempts,
      redispatched: this.redispatched,
      srvQueue: this.srvQueue,
      backendQueue: this.backendQueue,
      requestLine: this.head.line,
      badRequest: false,
      requestHeaders: this.head.headers,
      responseHeaders: this.capturedResponse ?? this.res?.headers,
      actconn: c.node.actconn,
      feconn: c.fe.rt.conns,
      beconn: Math.max(0, (be?.rt.counters.scur ?? 0) - (this.taken ? leaving : 0)),
      srvconn: srv
        ? Math.max(0, srv.rt.active - (this.slot !== null && this.slot === srv ? leaving : 0))
        : (this.queuedOn?.rt.active ?? 0),
    });
  }
}
