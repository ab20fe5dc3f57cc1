/**
 * The direct peer link: each node listens on its own `peer` address and connects to the
 * other's; adverts travel as newline-delimited JSON, one per advert-interval, on the outbound
 * connection. Why a direct link at all when adverts also go through Redis pub/sub:
 * - a process that dies closes its sockets, so the peer learns of it at once (then checks the
 *   pid to turn "the link closed" into a proof of death);
 * - while Redis is unreachable it is the only way for the active node to hear its standby
 *   confirm that it is not active (the failsafe).
 *
 * A peer that stops reading (frozen) is not buffered for: past a small limit the outbound
 * connection is dropped and retried with backoff.
 */
import { createServer, type Server, Socket } from "node:net";
import { FulcrumError } from "../proxy/errors.js";
import { type Advert, decodeAdvert } from "./advert.js";

export interface PeerLinkOptions {
  readonly ha: string;
  /** This node's name (adverts claiming it are not from the peer). */
  readonly self: string;
  readonly listen: { readonly host: string; readonly port: number };
  readonly peer: { readonly name: string; readonly host: string; readonly port: number } | undefined;
  readonly onAdvert: (advert: Advert) => void;
  /** The peer's connection to us delivered its first advert. */
  readonly onUp?: () => void;
  /** The peer's connection to us closed (process gone, or link cut with a reset). */
  readonly onDown?: (reason: string) => void;
  readonly log?: (level: "info" | "warn", message: string) => void;
  /** Reconnection backoff (ms): starts at min, doubles up to max. */
  readonly backoff?: { readonly min: number; readonly max: number };
  /** Bytes waiting to be sent before the outbound connection is dropped (default 64 KiB). */
  readonly maxBuffered?: number;
}

const MAX_LINE = 8192;

export class PeerLink {
  private readonly opts: PeerLinkOptions;
  private server: Server | undefined;
  private outbound: Socket | undefined;
  private outboundReady = false;
  private inbound: Socket | undefined;
  private readonly sockets = new Set<Socket>();
  private retryTimer: NodeJS.Timeout | undefined;
  private delay: number;
  private closed = false;
  private readonly backoff: { min: number; max: number };
  private readonly maxBuffered: number;

  constructor(opts: PeerLinkOptions) {
    this.opts = opts;
    this.backoff = { min: opts.backoff?.min ?? 20, max: opts.backoff?.max ?? 500 };
    this.delay = this.backoff.min;
    this.maxBuffered = opts.maxBuffered ?? 64 * 1024;
  }

  /** Whether the peer's connection to us is open and has spoken. */
  get up(): boolean {
    return this.inbound !== undefined;
  }

  /** Whether our connection to the peer is open. */
  get connected(): boolean {
    return this.outboundReady;
  }

  get port(): number | undefined {
    const a = this.server?.address();
    return a !== null && typeof a === "object" ? a.port : undefined;
  }

  async start(): Promise<void> {
    const server = createServer((sock) => this.accept(sock));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) => {
        reject(
          new FulcrumError(
            "FUL_BIND",
            `cannot listen on the peer address ${this.opts.listen.host}:${this.opts.listen.port}: ${err.code ?? err.message}`,
            500,
            { cause: err },
          ),
        );
      });
      server.listen(this.opts.listen.port, this.opts.listen.host, () => resolve());
    });
    server.on("error", (err) => this.opts.log?.("warn", `peer link listener: ${err.message}`));
    if (this.opts.peer !== undefined) this.dial();
  }

  /** Sends one advert line to the peer; false when it could not be sent now. */
  send(line: string): boolean {
    const sock = this.outbound;
    if (sock === undefined || !this.outboundReady) return false;
    if (sock.writableLength > this.maxBuffered) {
      this.opts.log?.("warn", `peer link: ${this.opts.peer?.name} is not reading; dropping the connection`);
      sock.destroy();
      return false;
    }
    sock.write(`${line}\n`);
    return true;
  }

  /** Closes everything; with `flush`, what was sent last (the goodbye advert) goes out first. */
  async close(opts: { flush?: boolean } = {}): Promise<void> {
    this.closed = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    const out = this.outbound;
    if (opts.flush === true && out !== undefined && this.outboundReady) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        out.once("close", () => {
          clearTimeout(t);
          resolve();
        });
        out.end();
      });
    }
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((r) => server.close(() => r()));
  }

  // ---- outbound ---------------------------------------------------------------------------

  private dial(): void {
    const peer = this.opts.peer;
    if (this.closed || peer === undefined) return;
    const sock = new Socket();
    this.track(sock);
    sock.on("error", () => {});
    sock.setNoDelay(true);
    sock.on("connect", () => {
      this.delay = this.backoff.min;
      this.outboundReady = true;
      sock.setKeepAlive(true, 1000);
    });
    // Nothing is expected from the peer on this connection; reading keeps a close visible.
    sock.on("data", () => {});
    sock.on("close", () => {
      if (this.outbound === sock) {
        this.outbound = undefined;
        this.outboundReady = false;
      }
      this.retry();
    });
    this.outbound = sock;
    this.outboundReady = false;
    sock.connect(peer.port, peer.host);
  }

  private retry(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    const wait = this.delay;
    this.delay = Math.min(this.delay * 2, this.backoff.max);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.dial();
    }, wait);
    this.retryTimer.unref();
  }

  // ---- inbound ----------------------------------------------------------------------------

  private track(sock: Socket): void {
    this.sockets.add(sock);
    sock.once("close", () => this.sockets.delete(sock));
  }

  private accept(sock: Socket): void {
    this.track(sock);
    sock.on("error", () => {});
    if (this.closed) {
      sock.destroy();
      return;
    }
    sock.setNoDelay(true);
    sock.setEncoding("utf8");
    let buffered = "";
    let complained = false;
    sock.on("data", (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.length > 0) complained = this.line(sock, line, complained);
      }
      if (buffered.length > MAX_LINE) {
        this.opts.log?.("warn", "peer link: a line longer than 8 KiB; closing that connection");
        sock.destroy();
      }
    });
    sock.on("close", () => {
      if (this.inbound !== sock) return;
      this.inbound = undefined;
      if (!this.closed) this.opts.onDown?.("the peer's connection closed");
    });
  }

  /** One line from an inbound connection; returns whether a complaint was logged already. */
  private line(sock: Socket, line: string, complained: boolean): boolean {
    const r = decodeAdvert(line);
    const peer = this.opts.peer;
    if (!r.ok || r.advert.ha !== this.opts.ha || peer === undefined || r.advert.node !== peer.name) {
      if (!complained) {
        const why = r.ok ? `an advert from ${r.advert.node} of ha ${r.advert.ha}` : r.message;
        this.opts.log?.("warn", `peer link: ignoring ${why} from ${sock.remoteAddress}:${sock.remotePort}`);
      }
      return true;
    }
    if (this.inbound !== sock) {
      const previous = this.inbound;
      this.inbound = sock;
      // A newer connection from the peer replaces an older one (it reconnected).
      if (previous !== undefined) previous.destroy();
      else this.opts.onUp?.();
    }
    this.opts.onAdvert(r.advert);
    return complained;
  }
}
