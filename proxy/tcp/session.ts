/**
 * `mode tcp`: one client connection, one server connection, bytes copied both ways as they
 * come, as HAProxy's TCP proxy does. The same backend choice (use_backend/default_backend,
 * balancing, maxconn queue, retries and redispatch), the same counters, and HAProxy's
 * `option tcplog` line at the end.
 *
 *   accept -> route -> choose (queue) -> connect (retry / redispatch) -> relay -> close, log
 *
 * Timeouts as HAProxy applies them to a TCP stream: `timeout connect` per attempt, then
 * `timeout client` while the client side is silent and `timeout server` while the server side
 * is, both replaced by `timeout tunnel` when it is set. Half-closes are passed on (a FIN from
 * one side ends writing to the other); the session ends once both directions are done.
 */
import { connect, type Socket } from "node:net";
import { admitClient, releaseClient } from "../accept.js";
import { plainIp } from "../http/client.js";
import type { RequestHead } from "../http/h1.js";
import type {
  BackendPlan,
  Choice,
  FrontendPlan,
  NodeContext,
  RequestInfo,
  ServerPlan,
} from "../http/plan.js";
import { countSession, countStream, countTimes } from "../stats/meter.js";

/** Termination state letters (first two of HAProxy's four). */
type Ending = "--" | "CC" | "CD" | "SD" | "cD" | "sD" | "SC" | "sC" | "sQ" | "CQ" | "PR";

/** A TCP session has no request: routing and balancing see the addresses alone. */
const EMPTY_HEAD: RequestHead = {
  method: "",
  uri: "",
  version: 11,
  proto: "",
  line: "",
  headers: { names: [], values: [] },
};

export class TcpSession {
  private readonly acceptedAt: number;
  private readonly info: RequestInfo;
  private be: BackendPlan | undefined;
  private choice: Choice | undefined;
  private server: ServerPlan | undefined;
  /** The server slot held (maxconn accounting), released once. */
  private slot: ServerPlan | undefined;
  private up: Socket | null = null;
  private cancelWait: (() => void) | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private connectTimer: NodeJS.Timeout | null = null;
  private clientIdle: NodeJS.Timeout | null = null;
  private serverIdle: NodeJS.Timeout | null = null;
  private attempts = 0;
  private redispatched = false;
  private tw = -1;
  private tc = -1;
  private tConnect = 0;
  private bytesOut = 0;
  private clientDone = false;
  private serverDone = false;
  private ended = false;
  private srvQueue = 0;
  private backendQueue = 0;
  /** The first side that was silent for its timeout (the log's termination state). */
  private timedOut: "cD" | "sD" | undefined;
  private released = false;

  constructor(
    private readonly socket: Socket,
    private readonly fe: FrontendPlan,
    private readonly node: NodeContext,
  ) {
    this.acceptedAt = node.now();
    admitClient(node, fe, this, this.acceptedAt);
    // A TCP session is one stream for the process's CumReq (an HTTP connection has one per request).
    countStream(node.process);
    socket.setNoDelay(true);
    this.info = {
      head: EMPTY_HEAD,
      path: "",
      query: "",
      srcIp: plainIp(socket.remoteAddress),
      srcPort: socket.remotePort ?? 0,
      dstPort: socket.localPort ?? 0,
      fe,
    };
    // Until a server is connected, the client's bytes wait in the socket (HAProxy buffers
    // them the same way) and a close from the client ends the session.
    socket.pause();
    socket.on("error", () => this.clientGone(true));
    socket.on("close", () => this.clientGone(false));
    socket.on("end", () => this.onClientEnd());
    if (fe.gated && node.serveGate !== undefined && !node.serveGate()) {
      this.finish("PR");
      return;
    }
    this.route();
  }

  // ---- choosing a server ------------------------------------------------------------------

  private route(): void {
    this.be = this.fe.route(this.info);
    if (this.be === undefined) {
      this.finish("SC");
      return;
    }
    const c = this.be.rt.counters;
    countSession(c, this.acceptedAt);
    c.scur++;
    if (c.scur > c.smax) c.smax = c.scur;
    this.choice = this.be.choose(this.info);
    const s = this.choice.server;
    if (s !== undefined) this.takeOrWait(s);
    else if (this.choice.full) this.waitInQueue(undefined);
    else {
      // No server to try: a failed connection for the backend, as HAProxy counts it.
      c.econ++;
      this.finish("SC");
    }
  }

  private takeOrWait(s: ServerPlan): void {
    const be = this.be!;
    this.server = s;
    if (be.hasRoom(s)) {
      be.take(s);
      this.slot = s;
      this.assigned(s, true);
      this.connect();
      return;
    }
    this.waitInQueue(s);
  }

  private waitInQueue(s: ServerPlan | undefined): void {
    const be = this.be!;
    this.cancelWait = be.enqueue(s, this.info, (r) => {
      this.cancelWait = null;
      if (this.ended) {
        if (r.server) be.release(r.server);
        return;
      }
      if (s !== undefined) this.srvQueue += r.position;
      else this.backendQueue += r.position;
      if (r.server !== undefined) {
        this.server = r.server;
        this.slot = r.server;
        this.assigned(r.server, false);
        this.connect();
        return;
      }
      if (r.other !== undefined) {
        this.redispatched = true;
        this.takeOrWait(r.other);
        return;
      }
      this.finish("sQ");
    });
  }

  /**
   * The server is this session's. `lb`: the balancer chose it (lbtot counts that, not a
   * server that takes the session from its queue).
   */
  private assigned(s: ServerPlan, lb: boolean): void {
    this.tw = this.node.now() - this.acceptedAt;
    if (lb && (!this.choice!.direct || this.redispatched)) {
      s.rt.counters.lbtot++;
      this.be!.rt.counters.lbtot++;
    }
  }

  // ---- connecting -------------------------------------------------------------------------

  private connect(): void {
    const s = this.server!;
    const be = this.be!;
    // HAProxy counts a server's sessions per connection attempt (a retry is one more).
    const now = this.node.now();
    countSession(s.rt.counters, now);
    s.rt.counters.lastSess = now;
    be.rt.counters.lastSess = now;
    s.rt.counters.connect++;
    be.rt.counters.connect++;
    this.tConnect = now;
    const up = connect({ host: s.rt.cfg.host, port: s.rt.cfg.port, allowHalfOpen: true });
    this.up = up;
    up.setNoDelay(true);
    const timeout = be.timeouts.connect;
    if (timeout !== undefined) {
      this.connectTimer = setTimeout(() => this.connectFailed(up, "timeout", "connect timeout"), timeout);
    }
    up.once("connect", () => this.connected(up));
    up.on("error", (err) => {
      if (this.up === up && this.tc < 0) this.connectFailed(up, "error", err.message);
      else if (this.up === up) this.serverGone(true);
    });
  }

  private connectFailed(up: Socket, kind: "error" | "timeout", why: string): void {
    if (this.up !== up || this.ended) return;
    this.clearConnectTimer();
    up.removeAllListeners();
    up.on("error", () => undefined);
    up.destroy();
    this.up = null;
    const be = this.be!;
    const s = this.server!;
    this.attempts++;
    const d = be.nextAttempt(this.choice!, s, this.info, this.attempts, kind);
    this.node.debug?.(`${be.cfg.name}/${s.rt.cfg.name}: ${why}; ${d.why}`);
    if (d.giveUp) {
      this.attempts--;
      this.finish(kind === "timeout" ? "sC" : "SC");
      return;
    }
    if (d.next !== s) {
      if (this.slot) be.release(this.slot);
      be.take(d.next);
      this.slot = d.next;
      this.server = d.next;
      this.redispatched = true;
      this.assigned(d.next, true);
    }
    const go = () => {
      this.retryTimer = null;
      if (!this.ended) this.connect();
    };
    if (d.delayMs > 0) this.retryTimer = setTimeout(go, d.delayMs);
    else go();
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }

  // ---- relaying ---------------------------------------------------------------------------

  private connected(up: Socket): void {
    if (this.up !== up || this.ended) return;
    this.clearConnectTimer();
    this.tc = this.node.now() - this.tConnect;
    const s = this.server!;
    const be = this.be!;
    const fc = this.fe.rt.counters;
    const client = this.socket;
    client.on("data", (d: Buffer) => {
      fc.bytesIn += d.length;
      be.rt.counters.bytesIn += d.length;
      s.rt.counters.bytesIn += d.length;
      this.touchClient();
      this.touchServer();
      if (!up.write(d)) client.pause();
    });
    up.on("drain", () => client.resume());
    up.on("data", (d: Buffer) => {
      this.bytesOut += d.length;
      fc.bytesOut += d.length;
      be.rt.counters.bytesOut += d.length;
      s.rt.counters.bytesOut += d.length;
      this.touchServer();
      this.touchClient();
      if (!client.write(d)) up.pause();
    });
    client.on("drain", () => up.resume());
    up.on("end", () => this.onServerEnd());
    up.on("close", () => this.serverGone(false));
    this.touchClient();
    this.touchServer();
    // A FIN the client sent while connecting is passed on once its bytes are.
    if (this.clientDone) up.end();
    client.resume();
  }

  private idleTimeouts(): { client?: number; server?: number } {
    const t = this.be?.timeouts.tunnel;
    if (t !== undefined) return { client: t, server: t };
    return { client: this.fe.timeouts.client, server: this.be?.timeouts.server };
  }

  private touchClient(): void {
    const ms = this.idleTimeouts().client;
    if (ms === undefined || this.clientDone) return;
    if (this.clientIdle !== null) this.clientIdle.refresh();
    else this.clientIdle = setTimeout(() => this.idleTimeout("cD"), ms);
  }

  private touchServer(): void {
    const ms = this.idleTimeouts().server;
    if (ms === undefined || this.serverDone) return;
    if (this.serverIdle !== null) this.serverIdle.refresh();
    else this.serverIdle = setTimeout(() => this.idleTimeout("sD"), ms);
  }

  /**
   * A side was silent for its timeout. As HAProxy, the direction it feeds is shut (the other
   * peer gets a FIN) and what the other side still sends is relayed; the session ends when
   * that side closes too, or at once when it already had.
   */
  private idleTimeout(ending: "cD" | "sD"): void {
    this.timedOut ??= ending;
    if (ending === "cD") {
      this.clientIdle = null;
      this.socket.pause();
      this.onClientEnd();
    } else {
      this.serverIdle = null;
      this.up?.pause();
      this.onServerEnd();
    }
  }

  private onClientEnd(): void {
    if (this.clientDone) return;
    this.clientDone = true;
    if (this.clientIdle !== null) clearTimeout(this.clientIdle);
    this.clientIdle = null;
    // Before the server connection is up, the FIN waits: it is passed on once connected.
    if (this.tc < 0) return;
    this.up?.end();
    if (this.serverDone) this.finish(this.timedOut ?? "--");
  }

  private onServerEnd(): void {
    if (this.serverDone) return;
    this.serverDone = true;
    if (this.serverIdle !== null) clearTimeout(this.serverIdle);
    this.serverIdle = null;
    if (!this.socket.destroyed) this.socket.end();
    if (this.clientDone) this.finish(this.timedOut ?? "--");
  }

  private clientGone(error: boolean): void {
    if (this.ended) return;
    if (this.tc < 0) this.finish(this.cancelWait !== null ? "CQ" : "CC");
    else if (error || !this.clientDone) this.finish(this.timedOut ?? "CD");
    else this.finish(this.timedOut ?? "--");
  }

  private serverGone(error: boolean): void {
    if (this.ended) return;
    if (error || !this.serverDone) {
      this.server!.rt.counters.srvAbrt++;
      this.be!.rt.counters.srvAbrt++;
      if (error) {
        // A reset is a response error too, for HAProxy.
        this.server!.rt.counters.eresp++;
        this.be!.rt.counters.eresp++;
      }
      this.finish(this.timedOut ?? "SD");
    } else this.finish(this.timedOut ?? "--");
  }

  // ---- the end ----------------------------------------------------------------------------

  private finish(ending: Ending): void {
    if (this.ended) return;
    this.ended = true;
    this.clearConnectTimer();
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.clientIdle !== null) clearTimeout(this.clientIdle);
    if (this.serverIdle !== null) clearTimeout(this.serverIdle);
    this.cancelWait?.();
    this.cancelWait = null;
    if (ending === "CD" || ending === "cD") {
      if (this.server) this.server.rt.counters.cliAbrt++;
      if (this.be) this.be.rt.counters.cliAbrt++;
    } else if (ending === "sD") {
      if (this.server) this.server.rt.counters.srvAbrt++;
      if (this.be) this.be.rt.counters.srvAbrt++;
    }
    const up = this.up;
    this.up = null;
    if (up !== null) {
      up.removeAllListeners("close");
      if (ending === "--") up.end();
      up.destroy();
    }
    if (this.tc >= 0 && this.server !== undefined) {
      // HAProxy's time averages of a TCP stream: no response time (it counts from the connect).
      const t = {
        queue: Math.max(0, this.tw),
        connect: this.tc,
        response: 0,
        total: this.node.now() - this.acceptedAt,
      };
      countTimes(this.server.rt.counters, this.server.rt.counters.lbtot, t);
      countTimes(this.be!.rt.counters, this.be!.rt.counters.lbtot, t);
    }
    // Logged once the session has left its backend and server, as HAProxy counts bc/sc.
    if (this.slot) this.be!.release(this.slot);
    this.slot = undefined;
    if (this.be) this.be.rt.counters.scur--;
    this.log(ending);
    if (!this.socket.destroyed) {
      if (this.tc < 0) closeGently(this.socket);
      else this.socket.destroy();
    }
    this.release();
  }

  private log(ending: Ending): void {
    if (!this.fe.logging) return;
    const now = this.node.now();
    this.fe.log({
      clientIp: this.info.srcIp,
      clientPort: this.info.srcPort,
      acceptDate: this.acceptedAt,
      frontend: this.fe.cfg.name,
      backend: this.be?.cfg.name ?? this.fe.cfg.name,
      server: this.server?.rt.cfg.name ?? "<NOSRV>",
      tr: -1,
      tw: this.tw,
      tc: this.tc,
      trs: -1,
      ta: now - this.acceptedAt,
      status: -1,
      bytesOut: this.bytesOut,
      bytesIn: 0,
      asap: false,
      termination: `${ending}--`,
      clientCookie: "-",
      serverCookie: "-",
      retries: this.attempts,
      redispatched: this.redispatched,
      srvQueue: this.srvQueue,
      backendQueue: this.backendQueue,
      requestLine: "",
      badRequest: false,
      actconn: this.node.actconn,
      feconn: this.fe.rt.conns,
      beconn: this.be?.rt.counters.scur ?? 0,
      srvconn: this.server?.rt.active ?? 0,
    });
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    releaseClient(this.node, this.fe, this);
  }

  /** A TCP session is never idle in the keep-alive sense: a soft stop lets it finish. */
  isIdle(): boolean {
    return false;
  }

  close(): void {
    this.finish("--");
  }
}

/**
 * Closes a client that no server ever reached with a FIN, as HAProxy does: what it sent is
 * read and dropped first (closing over unread bytes would make the kernel reset), and the
 * socket goes once the client closes too, or after a second at most.
 */
function closeGently(socket: Socket): void {
  socket.on("data", () => undefined);
  socket.on("error", () => undefined);
  socket.resume();
  socket.end();
  const timer = setTimeout(() => socket.destroy(), 1000);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}
