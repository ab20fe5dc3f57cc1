/**
 * A running proxy node, assembled from an immutable configuration model: listeners for the
 * frontends, backends with their servers, pools, balancers, persistence and health checks,
 * logs and stats. Everything derived from the configuration is prepared here, once; the
 * request path (http/) only calls the prepared plans.
 *
 * What HA needs is exposed as plain methods: bindFrontends()/unbindFrontends(), the
 * learned-session tables and the server admin state.
 */
import { createServer, type Server, type Socket } from "node:net";
import { type BackendDeps, BackendImpl } from "./backend.js";
import type { ConfigModel, ProxyModel } from "./config/model.js";
import { FulcrumError } from "./errors.js";
import { FrontendImpl } from "./frontend.js";
import { ClientConnection } from "./http/client.js";
import type { NodeContext } from "./http/plan.js";
import { NodeOutput } from "./output.js";
import { type AdminState, newProcessCounters, type ServerRuntime } from "./state.js";
import { TcpSession } from "./tcp/session.js";

export interface NodeOptions {
  /** Debug lines (`-d`): why each retry, each bad request, each check change. */
  debug?: (line: string) => void;
  /** Operational messages (server up/down, start, stop), as HAProxy prints on stderr. */
  notice?: (line: string, level: "WARNING" | "ALERT") => void;
  /** Process id reported in stats and logs (the worker's). */
  pid?: number;
  now?: () => number;
  /** A learned-session table per backend (the HA pair shares them); default: in memory. */
  sessionTable?: BackendDeps["sessionTable"];
  /** Frontends bound whatever the HA role (`keep-bound`): bound at start, never unbound by HA. */
  keepBound?: readonly string[];
}

interface Listener {
  readonly fe: FrontendImpl;
  readonly bind: ProxyModel["binds"][number];
  /** Bound whatever the HA role (`keep-bound`). */
  readonly kept: boolean;
  server: Server | null;
}

export class ProxyNode {
  readonly model: ConfigModel;
  readonly ctx: NodeContext;
  readonly frontends: FrontendImpl[] = [];
  readonly backends = new Map<string, BackendImpl>();
  readonly startedAt: number;
  readonly pid: number;
  readonly out: NodeOutput;
  private readonly listeners: Listener[] = [];
  private readonly opts: NodeOptions;
  private bound = false;
  private started = false;

  constructor(model: ConfigModel, opts: NodeOptions = {}) {
    this.model = model;
    this.opts = opts;
    this.pid = opts.pid ?? process.pid;
    const now = opts.now ?? Date.now;
    this.startedAt = now();
    this.ctx = {
      actconn: 0,
      maxconn: model.global.maxconn,
      stopping: false,
      now,
      clients: new Set(),
      process: newProcessCounters(),
      connectionClosed: () => {
        if (this.held.length > 0) this.admitHeld();
      },
      ...(opts.debug ? { debug: opts.debug } : {}),
      alert: (line) => opts.notice?.(line, "ALERT"),
    };
    this.out = new NodeOutput({
      pid: this.pid,
      tag: model.global.logTag,
      warn: (l) => opts.notice?.(l, "WARNING"),
    });
    const out = this.out;
    const deps: BackendDeps = {
      ctx: this.ctx,
      node: this,
      ...(opts.notice ? { notice: opts.notice } : {}),
      ...(opts.debug ? { debug: opts.debug } : {}),
      syslog: (proxy, severity, line) => out.proxyLog(proxy, severity, line),
      ...(opts.sessionTable ? { sessionTable: opts.sessionTable } : {}),
      onServerChange: (s) => {
        for (const t of trackers.get(s) ?? []) this.backends.get(t.backend.cfg.name)?.follow(t, s);
      },
    };
    const kept = new Set(opts.keepBound ?? []);
    for (const p of model.proxies) {
      if (p.isBackend) this.backends.set(p.name, new BackendImpl(p, deps));
    }
    // `track`: who follows whom, and each tracker starts in its tracked server's state.
    const trackers = new Map<ServerRuntime, ServerRuntime[]>();
    const runtimeOf = (backend: string, server: string) =>
      this.backends.get(backend)?.rt.servers.find((x) => x.cfg.name === server);
    for (const be of this.backends.values()) {
      for (const t of be.rt.servers) {
        if (t.cfg.track === undefined) continue;
        const src = runtimeOf(t.cfg.track.backend, t.cfg.track.server);
        if (src === undefined) continue; // the configuration refused it already
        trackers.set(src, [...(trackers.get(src) ?? []), t]);
      }
    }
    const settle = (s: ServerRuntime, depth: number): void => {
      for (const t of trackers.get(s) ?? []) {
        t.inheritedMaint = s.admin === "maint" || s.inheritedMaint === true;
        t.up = !t.inheritedMaint && s.up;
        if (depth < 32) settle(t, depth + 1);
      }
    };
    for (const s of trackers.keys()) if (s.cfg.track === undefined) settle(s, 0);
    for (const p of model.proxies) {
      if (!p.isFrontend) continue;
      const fe = new FrontendImpl(p, this, this.out, !kept.has(p.name));
      this.frontends.push(fe);
      for (const bind of p.binds) this.listeners.push({ fe, bind, kept: kept.has(p.name), server: null });
    }
  }

  /** Usable servers of a backend (nbsrv). */
  nbsrv(backend: string): number {
    return this.backends.get(backend)?.nbsrv() ?? 0;
  }

  /** Starts health checks (a standby runs them too, so it knows the servers before serving). */
  startChecks(): void {
    if (this.started) return;
    this.started = true;
    for (const be of this.backends.values()) be.startChecks();
  }

  /** Opens every frontend's listening sockets. Fails with a one-line reason (port in use, ...). */
  async bindFrontends(): Promise<void> {
    if (this.bound) return;
    await this.open(this.listeners.filter((l) => !l.kept && l.server === null));
    this.bound = true;
  }

  /** Opens the `keep-bound` frontends (at start, whatever the HA role). */
  async bindKept(): Promise<void> {
    await this.open(this.listeners.filter((l) => l.kept && l.server === null));
  }

  private async open(listeners: readonly Listener[]): Promise<void> {
    const opened: Listener[] = [];
    try {
      for (const l of listeners) {
        l.server = await this.listen(l);
        opened.push(l);
      }
    } catch (err) {
      await Promise.all(opened.map((l) => this.closeListener(l)));
      throw err;
    }
  }

  /** Closes the listening sockets (not the kept ones); established connections go on. */
  async unbindFrontends(): Promise<void> {
    if (!this.bound) return;
    this.bound = false;
    await Promise.all(this.listeners.filter((l) => !l.kept).map((l) => this.closeListener(l)));
  }

  /** Closes every listening socket, kept ones included (stop). */
  private async closeAll(): Promise<void> {
    this.bound = false;
    await Promise.all(this.listeners.map((l) => this.closeListener(l)));
  }

  /**
   * The HA serve gate: checked before each new request on a frontend HA moves; false means
   * this node may not serve (a stale lease) and the connection is closed.
   */
  setServeGate(gate: () => boolean): void {
    this.ctx.serveGate = gate;
  }

  /** Called with every admin change made on this node (the HA pair stores and publishes it). */
  onAdminChange: ((backend: string, server: string, state: AdminState) => void) | null = null;

  get isBound(): boolean {
    return this.bound;
  }

  private listen(l: Listener): Promise<Server> {
    const server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: false });
    server.on("connection", (socket: Socket) => this.accept(l.fe, socket));
    const b = l.bind;
    return new Promise<Server>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        server.close();
        const where = b.kind === "fd" ? `fd@${b.fd}` : `${b.host || "*"}:${b.port}`;
        const why =
          err.code === "EADDRINUSE"
            ? "address already in use (another process listens there; stop it or change the bind line)"
            : err.code === "EACCES"
              ? "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
              : err.message;
        reject(
          new FulcrumError(
            "FUL_BIND",
            `${b.loc.file}:${b.loc.line}: cannot bind ${where} for '${l.fe.cfg.name}': ${why}`,
          ),
        );
      };
      server.once("error", onError);
      const ok = () => {
        server.removeListener("error", onError);
        server.on("error", (err) =>
          this.opts.notice?.(`listener of '${l.fe.cfg.name}' failed: ${err.message}`, "ALERT"),
        );
        resolve(server);
      };
      if (b.kind === "fd") server.listen({ fd: b.fd! }, ok);
      else if (b.host === "") server.listen({ port: b.port, backlog: 1024 }, ok);
      else server.listen({ host: b.host, port: b.port, backlog: 1024, ipv6Only: false }, ok);
    });
  }

  /**
   * Closes a listening socket. The port is free as soon as close() returns; close()'s own
   * callback waits for every established connection to end (an idle keep-alive one included),
   * which is not what unbinding or a soft stop waits for: they handle connections themselves.
   */
  private closeListener(l: Listener): Promise<void> {
    const s = l.server;
    l.server = null;
    s?.close();
    return Promise.resolve();
  }

  private accept(fe: FrontendImpl, socket: Socket): void {
    socket.on("error", () => undefined); // replaced by the connection's handler below
    const ctx = this.ctx;
    if (ctx.stopping) {
      socket.destroy();
      return;
    }
    if (this.full(fe)) {
      // HAProxy stops accepting at maxconn (global or the frontend's): the connection waits in
      // the listen backlog, its request unread, until a slot frees. Held here, unread, it waits
      // the same way.
      socket.pause();
      this.held.push({ fe, socket });
      return;
    }
    this.start(fe, socket);
  }

  /** A client connection on `fe`: an HTTP connection, or a TCP session (`mode tcp`). */
  private start(fe: FrontendImpl, socket: Socket): void {
    this.out.connectLog(fe.cfg, socket);
    if (fe.tcp) new TcpSession(socket, fe, this.ctx);
    else new ClientConnection(socket, fe, this.ctx);
  }

  /** Connections accepted over maxconn, waiting (unread) for a slot, oldest first. */
  private readonly held: { readonly fe: FrontendImpl; readonly socket: Socket }[] = [];

  private full(fe: FrontendImpl): boolean {
    const ctx = this.ctx;
    return ctx.actconn >= ctx.maxconn || (fe.cfg.maxconn > 0 && fe.rt.conns >= fe.cfg.maxconn);
  }

  /** A client connection ended: start the held ones that now fit. */
  private admitHeld(): void {
    const held = this.held;
    for (let i = 0; i < held.length; ) {
      const h = held[i]!;
      if (h.socket.destroyed || this.ctx.stopping) {
        held.splice(i, 1);
        if (!h.socket.destroyed) h.socket.destroy();
        continue;
      }
      if (this.full(h.fe)) {
        if (this.ctx.actconn >= this.ctx.maxconn) return;
        i++;
        continue;
      }
      held.splice(i, 1);
      this.start(h.fe, h.socket);
      if (!h.fe.tcp) h.socket.resume();
    }
  }

  /** Stops at once: listeners, connections, checks (SIGTERM / SIGINT). */
  async stop(): Promise<void> {
    this.ctx.stopping = true;
    await this.closeAll();
    for (const h of this.held.splice(0)) h.socket.destroy();
    for (const c of [...this.ctx.clients]) c.close();
    for (const be of this.backends.values()) be.stop();
    await this.out.close();
  }

  /**
   * Soft stop (SIGUSR1): stop accepting, close idle connections, let running exchanges
   * finish (their responses carry `connection: close`); resolves when none is left or after
   * `graceMs` (then the rest is closed).
   */
  async softStop(graceMs = 0): Promise<void> {
    this.ctx.stopping = true;
    await this.closeAll();
    for (const c of [...this.ctx.clients]) if (c.isIdle()) c.close();
    const deadline = graceMs > 0 ? this.ctx.now() + graceMs : Number.POSITIVE_INFINITY;
    while (this.ctx.clients.size > 0 && this.ctx.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      for (const c of [...this.ctx.clients]) if (c.isIdle()) c.close();
    }
    for (const h of this.held.splice(0)) h.socket.destroy();
    for (const c of [...this.ctx.clients]) c.close();
    for (const be of this.backends.values()) be.stop();
    await this.out.close();
  }

  /**
   * Operator admin state (`set server B/S state ready|drain|maint`). A change made here is
   * passed to `onAdminChange` (the HA pair stores it); one that came from the peer is not.
   */
  setAdminState(
    backend: string,
    server: string,
    state: AdminState,
    origin: "local" | "remote" = "local",
  ): ServerRuntime {
    const be = this.backends.get(backend);
    if (!be) throw new FulcrumError("FUL_RUNTIME", `no such backend '${backend}'`);
    const s = be.setAdminState(server, state);
    if (origin === "local") this.onAdminChange?.(backend, server, state);
    return s;
  }

  /** Operator weight (`set server B/S weight N`, 0..256). */
  setWeight(backend: string, server: string, weight: number): ServerRuntime {
    const be = this.backends.get(backend);
    if (!be) throw new FulcrumError("FUL_RUNTIME", `no such backend '${backend}'`);
    return be.setWeight(server, weight);
  }
}
