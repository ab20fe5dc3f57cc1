/**
 * Connections to one server: new ones with a connect timeout, idle keep-alive ones kept in a
 * LIFO pool with an idle timeout (the most recently used connection is the least likely to
 * have been closed by the server). Each socket has one set of listeners for its whole life;
 * they dispatch to whichever exchange owns the connection at the moment, so handing a
 * connection from one request to the next costs no listener churn.
 */
import { connect, type Socket } from "node:net";
import { Deadline } from "./deadline.js";

export interface UpstreamOwner {
  onServerData(conn: UpstreamConn, data: Buffer): void;
  /** The server closed or the socket failed. `err` is set on socket errors. */
  onServerClose(conn: UpstreamConn, err: Error | undefined): void;
  onServerDrain(conn: UpstreamConn): void;
  /** A bug in the owner's handling: it ends its exchange; the connection is dropped. */
  onInternalError(err: unknown): void;
  /** No activity for the socket's timeout (`timeout server`, or `timeout tunnel`). */
  onServerTimeout(conn: UpstreamConn): void;
}

export class UpstreamConn {
  readonly socket: Socket;
  readonly pool: ServerPool;
  owner: UpstreamOwner | null = null;
  /** True once it has carried a request (a reused connection may have been closed by the server). */
  used = false;
  closed = false;
  /** Closes an idle pooled connection after the pool's idle time. */
  private readonly idleTimer = new Deadline(() => this.destroy(), true);
  /** `timeout server` (or `timeout tunnel`): no byte either way for that long. */
  private readonly ioTimer = new Deadline(() => this.owner?.onServerTimeout(this));
  private ioMs = 0;

  constructor(socket: Socket, pool: ServerPool) {
    this.socket = socket;
    this.pool = pool;
    socket.on("data", (d: Buffer) => {
      if (this.ioMs > 0) this.ioTimer.arm(this.ioMs);
      const o = this.owner;
      if (o === null) {
        this.destroy(); // a server speaking on an idle connection: drop it
        return;
      }
      try {
        o.onServerData(this, d);
      } catch (err) {
        o.onInternalError(err);
        this.destroy();
      }
    });
    socket.on("drain", () => {
      if (this.ioMs > 0) this.ioTimer.arm(this.ioMs);
      this.owner?.onServerDrain(this);
    });
    socket.on("error", (err) => this.ended(err));
    socket.on("close", () => this.ended(undefined));
    socket.on("end", () => {
      // Half-close from the server: HTTP/1 has no use for it here; the exchange sees a close.
      this.serverEnded = true;
      if (!this.owner) this.destroy();
      else this.ended(undefined);
    });
  }

  private ended(err: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.idleTimer.stop();
    this.ioTimer.stop();
    this.pool.forget(this);
    const o = this.owner;
    this.owner = null;
    if (!this.socket.destroyed) this.socket.destroy();
    o?.onServerClose(this, err);
  }

  destroy(): void {
    this.ended(undefined);
  }

  /**
   * Closes the connection with a reset, as HAProxy closes a server connection it gives up
   * (no TIME_WAIT left on the proxy's side). A server that already closed gets a plain close.
   */
  reset(): void {
    if (this.closed) return;
    if (!this.serverEnded && !this.socket.destroyed) this.socket.resetAndDestroy();
    this.ended(undefined);
  }

  /** The server sent its FIN. */
  private serverEnded = false;

  /** Puts the connection in its pool for the next request, or closes it. */
  release(): void {
    this.owner = null;
    if (this.closed) return;
    this.pool.park(this);
  }

  armIdle(ms: number): void {
    this.idleTimer.arm(ms);
  }

  clearIdle(): void {
    this.idleTimer.disarm();
  }

  /**
   * Arms the inactivity timeout (`timeout server`, or `timeout tunnel`): re-armed by every
   * byte received and every drained write; 0 turns it off.
   */
  setIoTimeout(ms: number): void {
    this.ioMs = ms;
    if (ms > 0) this.ioTimer.arm(ms);
    else this.ioTimer.disarm();
  }

  /**
   * The client is slow: stop reading the server, and stop `timeout server` meanwhile (HAProxy
   * does not wait on a server whose data it cannot forward yet).
   */
  pauseReads(): void {
    this.socket.pause();
    this.ioTimer.disarm();
  }

  resumeReads(): void {
    this.socket.resume();
    if (this.ioMs > 0) this.ioTimer.arm(this.ioMs);
  }

  /** Bytes written to the server: the inactivity timeout starts again. */
  activity(): void {
    if (this.ioMs > 0) this.ioTimer.arm(this.ioMs);
  }
}

export interface ConnectError extends Error {
  /** "refused", "timeout", "reset", "unreachable", ... for logs and retry decisions. */
  kind: "timeout" | "refused" | "error";
}

function connectError(kind: ConnectError["kind"], message: string, cause?: unknown): ConnectError {
  const e = new Error(message, cause === undefined ? undefined : { cause }) as ConnectError;
  e.kind = kind;
  return e;
}

export class ServerPool {
  readonly host: string;
  readonly port: number;
  private readonly idle: UpstreamConn[] = [];
  /** Every live connection (idle or busy), so a node can close them all at stop. */
  private readonly live = new Set<UpstreamConn>();
  /** Idle connections are closed after this long (HAProxy's pool-purge-delay, default 5 s). */
  idleTimeout = 5000;
  /** Most idle connections kept; beyond that a released connection is closed. */
  maxIdle = 1024;

  constructor(host: string, port: number) {
    this.host = host;
    this.port = port;
  }

  get idleCount(): number {
    return this.idle.length;
  }

  /** The most recently parked idle connection, or undefined. */
  take(): UpstreamConn | undefined {
    for (;;) {
      const c = this.idle.pop();
      if (!c) return undefined;
      if (c.closed || c.socket.destroyed) continue;
      c.clearIdle();
      return c;
    }
  }

  park(c: UpstreamConn): void {
    if (this.idle.length >= this.maxIdle) {
      c.destroy();
      return;
    }
    c.used = true;
    this.idle.push(c);
    c.armIdle(this.idleTimeout);
  }

  forget(c: UpstreamConn): void {
    this.live.delete(c);
    const i = this.idle.lastIndexOf(c);
    if (i !== -1) this.idle.splice(i, 1);
  }

  /**
   * Opens a new connection. `cb` is called exactly once: with the connection once TCP is
   * established, or with a ConnectError (refused, timeout, other).
   */
  connect(
    timeoutMs: number | undefined,
    cb: (err: ConnectError | null, conn: UpstreamConn | null) => void,
  ): () => void {
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    let done = false;
    let timer: NodeJS.Timeout | null = null;
    const finish = (err: ConnectError | null) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      socket.removeListener("error", onError);
      socket.removeListener("connect", onConnect);
      if (err) {
        socket.destroy();
        cb(err, null);
        return;
      }
      const conn = new UpstreamConn(socket, this);
      this.live.add(conn);
      cb(null, conn);
    };
    const onError = (err: NodeJS.ErrnoException) => {
      finish(connectError(err.code === "ECONNREFUSED" ? "refused" : "error", err.message, err));
    };
    const onConnect = () => finish(null);
    socket.once("error", onError);
    socket.once("connect", onConnect);
    if (timeoutMs !== undefined && timeoutMs > 0) {
      timer = setTimeout(
        () => finish(connectError("timeout", `connect timeout after ${timeoutMs} ms`)),
        timeoutMs,
      );
    }
    return () => finish(connectError("error", "connection attempt aborted"));
  }

  /** Closes the idle connections (the server went DOWN). */
  closeIdle(): void {
    for (const c of this.idle.splice(0)) c.destroy();
  }

  /** Closes every connection (idle and busy). */
  closeAll(): void {
    for (const c of [...this.live]) c.destroy();
    this.idle.length = 0;
  }
}
