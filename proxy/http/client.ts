/**
 * One client connection (HAProxy's "session"): reads request heads one after another,
 * guards them, and hands each to an Exchange (HAProxy's "stream") that carries it to a
 * server and the response back. Keep-alive, pipelining (one exchange at a time, later
 * bytes held), timeouts and the log of requests that never became an exchange live here.
 */

import type { Socket } from "node:net";
import { admitClient, releaseClient } from "../accept.js";
import { countStatus } from "../state.js";
import { countRequest, countStream } from "../stats/meter.js";
import { Deadline } from "./deadline.js";
import { Exchange } from "./exchange.js";
import { type ParseFailure, parseRequestHead } from "./h1.js";
import type { ExchangeLog, FrontendPlan, NodeContext } from "./plan.js";

enum State {
  /** Waiting for (the rest of) a request head. */
  Head,
  /** An exchange runs. */
  Exchange,
  Closed,
}

/** `::ffff:1.2.3.4` (an IPv4 client on a dual-stack socket) is logged as 1.2.3.4, as HAProxy. */
export function plainIp(addr: string | undefined): string {
  if (!addr) return "-";
  return addr.startsWith("::ffff:") && addr.includes(".") ? addr.slice(7) : addr;
}

export class ClientConnection {
  readonly socket: Socket;
  readonly fe: FrontendPlan;
  readonly node: NodeContext;
  readonly srcIp: string;
  readonly srcPort: number;
  readonly dstPort: number;
  private state = State.Head;
  /** Bytes received and not yet consumed (a partial head, or pipelined requests). */
  private buf: Buffer | null = null;
  private exchange: Exchange | null = null;
  /** When the current request's first byte arrived (or the connection was accepted). */
  private requestStart: number;
  /** The wait for a request head (`timeout http-request` / `http-keep-alive` / `client`). */
  private readonly headTimer = new Deadline(() => this.onHeadTimeout());
  /** `timeout client` while an exchange waits on the client (a body, a blocked write). */
  private readonly clientTimer = new Deadline(() => this.clientTimeout?.());
  private clientTimeout: (() => void) | null = null;
  private timerWhy: "request" | "keepalive" | "client" = "request";
  /** Requests served on this connection. */
  private served = 0;
  /** The client half-closed (FIN). */
  clientEnded = false;

  constructor(socket: Socket, fe: FrontendPlan, node: NodeContext) {
    this.socket = socket;
    this.fe = fe;
    this.node = node;
    this.srcIp = plainIp(socket.remoteAddress);
    this.srcPort = socket.remotePort ?? 0;
    this.dstPort = socket.localPort ?? 0;
    this.requestStart = node.now();
    admitClient(node, fe, this, this.requestStart);
    socket.setNoDelay(true);
    socket.on("data", (d: Buffer) => {
      try {
        this.onData(d);
      } catch (err) {
        this.internalError(err);
      }
    });
    socket.on("end", () => this.onEnd());
    socket.on("error", () => this.onClose(true));
    socket.on("close", () => this.onClose(false));
    socket.on("drain", () => this.exchange?.onClientDrain());
    this.armHeadTimer(false);
  }

  // ---- timers ---------------------------------------------------------------------------

  /**
   * Arms the waits for a request head, as HAProxy runs them: a fixed deadline (`timeout
   * http-keep-alive` between requests, `timeout http-request` for the head once it started or
   * on a new connection) and `timeout client`, an inactivity timeout that every read re-arms.
   * Whichever expires first ends the wait.
   */
  private armHeadTimer(keepAlive: boolean): void {
    const t = this.fe.timeouts;
    let ms: number | undefined;
    if (keepAlive) {
      ms = t.httpKeepAlive ?? t.httpRequest;
      this.timerWhy = t.httpKeepAlive !== undefined || t.httpRequest === undefined ? "keepalive" : "request";
    } else {
      ms = t.httpRequest;
      this.timerWhy = "request";
    }
    if (ms === undefined) this.headTimer.disarm();
    else this.headTimer.arm(ms);
    this.armHeadInactivity();
  }

  /** `timeout client` while a head is awaited: re-armed by each read. */
  private armHeadInactivity(): void {
    const ms = this.fe.timeouts.client;
    this.clientTimeout = () => {
      this.timerWhy = "client";
      this.onHeadTimeout();
    };
    if (ms === undefined) this.clientTimer.disarm();
    else this.clientTimer.arm(ms);
  }

  /** The first byte of the next request on a kept connection: `timeout http-request` from now. */
  private startNextHead(): void {
    const ms = this.fe.timeouts.httpRequest;
    this.timerWhy = "request";
    if (ms === undefined) this.headTimer.disarm();
    else this.headTimer.arm(ms);
  }

  clearTimer(): void {
    this.headTimer.disarm();
    this.clientTimer.disarm();
  }

  private onHeadTimeout(): void {
    if (this.state !== State.Head) return;
    const partial = this.buf !== null && this.buf.length > 0;
    if (!partial && this.served > 0) {
      // An idle keep-alive connection: closed silently, as HAProxy does.
      this.close();
      return;
    }
    if (!partial && this.timerWhy === "keepalive") {
      this.close();
      return;
    }
    // HAProxy answers 408 when a request (even an empty one) did not arrive in time.
    this.fe.rt.counters.ereq++;
    this.rejectHead(408, "cR--");
  }

  // ---- input ----------------------------------------------------------------------------

  private onData(d: Buffer): void {
    if (this.state === State.Closed) return;
    if (this.state === State.Exchange) {
      const ex = this.exchange!;
      if (ex.isTunnel) {
        ex.onTunnelData(d);
        return;
      }
      if (ex.wantsRequestBody()) {
        // `timeout client` is an inactivity timeout: body bytes start it again.
        this.clientTimer.extend();
        const rest = ex.onClientBody(d, 0);
        if (rest !== null) this.hold(rest);
        return;
      }
      this.hold(d);
      return;
    }
    if (this.buf === null || this.buf.length === 0) {
      this.buf = d;
      this.requestStart = this.node.now();
      if (this.served > 0) this.startNextHead();
    } else {
      this.buf = Buffer.concat([this.buf, d]);
    }
    this.clientTimer.extend();
    this.tryHead();
  }

  /** Bytes after a request body (a pipelined request) given back by the exchange. */
  holdBack(d: Buffer): void {
    this.hold(d);
  }

  /** A bug must cost one connection, never the node: log it loudly and drop the connection. */
  internalError(err: unknown): void {
    const e = err instanceof Error ? (err.stack ?? err.message) : String(err);
    this.node.alert?.(
      `internal error on a connection from ${this.srcIp}:${this.srcPort}, connection closed: ${e}`,
    );
    this.close();
  }

  /** Keeps bytes that arrived while an exchange runs (pipelined requests) and stops reading. */
  private hold(d: Buffer): void {
    if (d.length === 0) return;
    this.buf = this.buf && this.buf.length > 0 ? Buffer.concat([this.buf, d]) : d;
    this.socket.pause();
  }

  private tryHead(): void {
    const buf = this.buf!;
    const r = parseRequestHead(buf, 0, this.fe.limits);
    if (r === null) return;
    if (!r.ok) {
      this.badRequest(r);
      return;
    }
    const gate = this.node.serveGate;
    if (gate !== undefined && this.fe.gated && !gate()) {
      // HA: this node may not serve now (lost or stale lease): never forward, close.
      this.node.debug?.(
        `request from ${this.srcIp}:${this.srcPort} refused: this node is not the active one`,
      );
      this.close();
      return;
    }
    const rest = r.length === buf.length ? null : buf.subarray(r.length);
    this.buf = null;
    this.clearTimer();
    this.state = State.Exchange;
    this.served++;
    this.countFrontendRequest(this.node.now());
    const ex = new Exchange(this, r.head, this.requestStart, this.node.now());
    this.exchange = ex;
    ex.start(rest);
  }

  /** A request on the frontend (parsed or not): its req_tot and rate, and one stream for CumReq. */
  private countFrontendRequest(now: number): void {
    countRequest(this.fe.rt.counters, now);
    countStream(this.node.process);
  }

  private badRequest(f: ParseFailure): void {
    this.fe.rt.counters.ereq++;
    this.node.debug?.(`bad request from ${this.srcIp}:${this.srcPort}: ${f.reason} at byte ${f.at}`);
    this.rejectHead(f.status, "PR--");
  }

  /** Answers an error before any exchange, logs it as <BADREQ>, closes. */
  /** Answers a request head that never parsed: logged as `<BADREQ>`, without captures. */
  private rejectHead(status: number, termination: string): void {
    this.state = State.Closed;
    const bytes = this.fe.errorResponse(status);
    const now = this.node.now();
    // HAProxy counts the request that never parsed in req_tot too.
    this.countFrontendRequest(now);
    this.countStatus(status);
    // HAProxy's parser answers these itself: TR is -1 and no response byte is counted.
    this.fe.log({
      ...this.baseLog(this.requestStart),
      tr: -1,
      ta: now - this.requestStart,
      status,
      bytesOut: 0,
      termination,
      requestLine: "<BADREQ>",
      badRequest: true,
    });
    this.socket.end(bytes);
    this.socket.destroySoon();
  }

  countStatus(status: number): void {
    countStatus(this.fe.rt.counters, status);
  }

  /** Log fields known from the connection alone. */
  baseLog(acceptDate: number): ExchangeLog {
    return {
      clientIp: this.srcIp,
      clientPort: this.srcPort,
      acceptDate,
      frontend: this.fe.cfg.name,
      backend: this.fe.cfg.name,
      server: "<NOSRV>",
      tr: -1,
      tw: -1,
      tc: -1,
      trs: -1,
      ta: 0,
      status: -1,
      bytesOut: 0,
      bytesIn: 0,
      asap: false,
      termination: "----",
      clientCookie: "-",
      serverCookie: "-",
      retries: 0,
      redispatched: false,
      srvQueue: 0,
      backendQueue: 0,
      requestLine: "",
      badRequest: false,
      actconn: this.node.actconn,
      feconn: this.fe.rt.conns,
      beconn: 0,
      srvconn: 0,
    };
  }

  private onEnd(): void {
    this.clientEnded = true;
    if (this.state === State.Head) {
      if (this.buf !== null && this.buf.length > 0) {
        // A partial request then FIN: HAProxy answers 400.
        this.fe.rt.counters.ereq++;
        this.rejectHead(400, "CR--");
        return;
      }
      if (this.served === 0) {
        // HAProxy counts it as a bad request answered 400, with or without dontlognull.
        this.fe.rt.counters.ereq++;
        this.countFrontendRequest(this.node.now());
        this.countStatus(400);
      }
      if (this.served === 0 && this.fe.logNull) {
        // A connection that sent nothing (dontlognull off): logged as a 400 <BADREQ>, as
        // HAProxy does, though nothing is sent back.
        const now = this.node.now();
        this.fe.log({
          ...this.baseLog(this.requestStart),
          tr: -1,
          ta: now - this.requestStart,
          status: 400,
          termination: "CR--",
          requestLine: "<BADREQ>",
          badRequest: true,
        });
      }
      this.close();
      return;
    }
    this.exchange?.onClientEnd();
  }

  private onClose(_error: boolean): void {
    if (this.state === State.Closed) {
      this.release();
      return;
    }
    const wasHead = this.state === State.Head;
    this.state = State.Closed;
    if (!wasHead) this.exchange?.onClientClose();
    this.release();
  }

  private released = false;
  private release(): void {
    if (this.released) return;
    this.released = true;
    this.headTimer.stop();
    this.clientTimer.stop();
    releaseClient(this.node, this.fe, this);
  }

  /** Requests started on this connection (1 while the first one runs). */
  get requestsServed(): number {
    return this.served;
  }

  /**
   * An idle keep-alive connection (a request answered, the next not started): safe to close at
   * a soft stop. A new connection is not idle: its client is about to send its first request,
   * which is answered (with `connection: close`) as HAProxy does.
   */
  isIdle(): boolean {
    return this.served > 0 && this.state === State.Head && (this.buf === null || this.buf.length === 0);
  }

  close(): void {
    if (this.state !== State.Closed) this.state = State.Closed;
    this.headTimer.stop();
    this.clientTimer.stop();
    if (!this.socket.destroyed) this.socket.destroy();
  }

  /** Pauses/resumes reading the client (backpressure from the server side). */
  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    if (this.state === State.Exchange && this.exchange?.wantsRequestBody()) this.socket.resume();
  }

  /** Arms `timeout client` while the exchange waits on the client (body or a blocked write). */
  armClientTimeout(onTimeout: () => void): void {
    const ms = this.fe.timeouts.client;
    this.headTimer.disarm();
    this.clientTimeout = onTimeout;
    if (ms === undefined) this.clientTimer.disarm();
    else this.clientTimer.arm(ms);
  }

  /** Called by the exchange when it is over. */
  exchangeDone(keepAlive: boolean): void {
    this.exchange = null;
    this.clearTimer();
    if (this.node.stopping) keepAlive = false;
    if (!keepAlive || this.socket.destroyed || this.clientEnded) {
      if (this.clientEnded || !keepAlive) {
        this.state = State.Closed;
        if (!this.socket.destroyed) this.socket.end();
        this.socket.destroySoon();
      }
      return;
    }
    this.state = State.Head;
    this.socket.resume();
    if (this.buf !== null && this.buf.length > 0) {
      // A pipelined request already started: `timeout http-request` applies to it.
      this.requestStart = this.node.now();
      this.armHeadTimer(true);
      this.startNextHead();
      this.tryHead();
    } else {
      this.buf = null;
      this.armHeadTimer(true);
    }
  }
}
