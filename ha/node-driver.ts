/**
 * The HA shell: runs the election state machine (ha/election.ts) against the world: a timer,
 * Redis (lease, pub/sub adverts, shared state), the direct peer link, /proc, and the proxy
 * node it drives through a small interface (`ProxyHandle`). Every transition is logged as one
 * sentence; every MASTER period (bind to unbind) as two lines the tests can compare.
 *
 * Use in two steps, because the proxy's request path needs the shared tables before it runs:
 *
 *   const ha = createHa(model.ha, local, { checksum: model.checksum, log });
 *   // build the proxy node with ha.shared.sessionTable(...) and ha.shared.adminStore(...)
 *   await ha.start(handle);        // handle: bind/unbind the frontends, serve gate
 *   ...
 *   await ha.stop("graceful");     // SIGUSR1 (or "fast" for SIGTERM): releases the lease first
 *
 * The serve gate (`ha.gate()`, also handed to `handle.setServeGate`) is the guard against
 * serving on a stale lease: it is true only while this node is MASTER and its deadline (counted
 * from the send time of its last confirmed renew) has not passed. It reads the monotonic clock
 * on each call, so a process frozen past its deadline wakes up with the gate already closed,
 * before any timer or Redis reply has been processed. The proxy calls it before forwarding each
 * new request and closes the connection when it is false.
 */
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import type { Redis } from "ioredis";
import type { HaModel, HaPeer } from "../proxy/config/model.js";
import { FulcrumError } from "../proxy/errors.js";
import { decodeAdvert, encodeAdvert } from "./advert.js";
import {
  type Action,
  type ElectionEvent,
  type ElectionState,
  type ElectionTuning,
  electionConfig,
  initialState,
  mayServe,
  nextWake,
  type Role,
  transition,
} from "./election.js";
import { LeaseClient } from "./lease.js";
import { runNotify } from "./notify.js";
import { PeerLink } from "./peerlink.js";
import { type ProcessIdentity, type ProcessState, processState, selfIdentity } from "./procinfo.js";
import { createRedis, type HaKeys, haKeys } from "./redis.js";
import { SharedState } from "./shared.js";

/** What the HA shell needs from a proxy node. */
export interface ProxyHandle {
  /** Start listening on every frontend (`takeover bind`), or take the VIP (`takeover vip`). */
  bindFrontends(): Promise<void>;
  /** Stop listening (in-flight requests may finish). */
  unbindFrontends(): Promise<void>;
  /** Receives the serve gate once; the proxy checks it before forwarding each new request. */
  setServeGate?(gate: () => boolean): void;
  /** What the node wants shown next to the HA status (optional). */
  status?(): Record<string, unknown>;
}

export interface HaOptions {
  /** One line per call; default: stderr. */
  readonly log?: (line: string) => void;
  /** SHA-256 of the configuration files (ConfigModel.checksum). */
  readonly checksum?: string;
  readonly tuning?: ElectionTuning;
  /** Key prefix in Redis (default fulcrum:ha). */
  readonly redisPrefix?: string;
  /** Notify script timeout (default 5 s). */
  readonly notifyTimeout?: number;
  /** Tests: this process as advertised (default: the real one). */
  readonly identity?: ProcessIdentity;
  /** Tests: how a pid is checked (default: /proc). */
  readonly probe?: (pid: number, start: number) => ProcessState;
  /** Tests: how a frozen old active is fenced (default: SIGKILL). */
  readonly kill?: (pid: number) => void;
}

export interface MasterPeriod {
  /**
   * Wall-clock ms: when the frontends were listening (read right after binding), and when
   * serving ended (read right before the listeners closed or, in an orderly hand-over, right
   * before the release, which ends the drain). A peer can only bind or acquire after that.
   */
  readonly from: number;
  readonly to: number | undefined;
  readonly epoch: number;
}

export interface HaStatus {
  readonly ha: string;
  readonly node: string;
  readonly role: Role;
  readonly epoch: number;
  readonly highestEpoch: number;
  readonly priority: number;
  readonly redis: boolean;
  readonly serving: boolean;
  readonly bound: boolean;
  readonly lastReason: string;
  readonly transitions: number;
  readonly peer:
    | {
        readonly name: string;
        readonly role: Role | undefined;
        readonly epoch: number | undefined;
        readonly priority: number;
        /** The configuration checksum it advertises (undefined: never heard). */
        readonly checksum: string | undefined;
        /** Age of its last advert, ms (undefined: never heard). */
        readonly advertAge: number | undefined;
        readonly linkUp: boolean;
        readonly checksumMismatch: boolean;
        readonly provenDead: boolean;
      }
    | undefined;
  readonly masterPeriods: readonly MasterPeriod[];
  readonly sharedState: SharedState["stats"];
}

/** Rules not worth a log line on their own (the steady state). */
const QUIET = new Set([
  "no-op",
  "advert",
  "advert-late",
  "advert-own",
  "failsafe-ack",
  "renewed",
  "master-ok",
  "backup-wait",
  "init-wait",
  "fault-wait",
  "held",
  "redis-ok",
  "acquire",
  "link-up",
  "stopped-idle",
  "released",
  "cleared",
]);

const errMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function pickPeers(model: HaModel, local: string): { me: HaPeer; other: HaPeer | undefined } {
  const me = model.peers.find((p) => p.name === local);
  if (me === undefined) {
    const known = model.peers.map((p) => p.name).join(", ");
    throw new FulcrumError(
      "FUL_CONFIG",
      `-L ${local}: no peer named ${local} in ha section ${model.name} (known: ${known}); pass -L with one of them`,
    );
  }
  const others = model.peers.filter((p) => p.name !== local);
  if (others.length > 1) {
    throw new FulcrumError(
      "FUL_CONFIG",
      `ha section ${model.name} lists ${model.peers.length} peers; fulcrum runs an active/standby pair: keep two`,
    );
  }
  if (model.leaseTime < 2 * model.advertInterval) {
    throw new FulcrumError(
      "FUL_CONFIG",
      `ha section ${model.name}: lease-time ${model.leaseTime}ms must be at least twice advert-interval ${model.advertInterval}ms`,
    );
  }
  return { me, other: others[0] };
}

export class HaNode {
  readonly shared: SharedState;
  readonly keys: HaKeys;
  private readonly model: HaModel;
  private readonly me: HaPeer;
  private readonly other: HaPeer | undefined;
  private readonly opts: HaOptions;
  private readonly identity: ProcessIdentity;
  private readonly clock = () => performance.now();
  private readonly cmd: Redis;
  private readonly sub: Redis;
  private readonly lease: LeaseClient;
  private readonly link: PeerLink;
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });
  private readonly config: ReturnType<typeof electionConfig>;
  private state: ElectionState;
  private handle: ProxyHandle | undefined;
  private timer: NodeJS.Timeout | undefined;
  private purgeTimer: NodeJS.Timeout | undefined;
  private expectedAt = 0;
  private overdue = 0;
  private lastRule = "";
  private lastReason = "";
  private transitions = 0;
  /** Actions run in order, one transition after the other. */
  private actionChain: Promise<void> = Promise.resolve();
  // Binding: what the election wants, what is, and the MASTER periods that resulted.
  private wantBound = false;
  private bound = false;
  private binding = false;
  private bindRetry: NodeJS.Timeout | undefined;
  private bindDelay = 10;
  private bindComplained = false;
  private readonly periods: MasterPeriod[] = [];
  private resyncing: Promise<void> = Promise.resolve();
  private stopped: (() => void) | undefined;
  private running = false;
  private redisReady = false;

  constructor(model: HaModel, local: string, opts: HaOptions = {}) {
    const { me, other } = pickPeers(model, local);
    this.model = model;
    this.me = me;
    this.other = other;
    this.opts = opts;
    this.identity = opts.identity ?? selfIdentity();
    this.keys = haKeys(model.name, opts.redisPrefix);
    this.config = electionConfig(
      {
        ha: model.name,
        name: me.name,
        priority: me.priority,
        peer: other === undefined ? undefined : { name: other.name, priority: other.priority },
        advertInterval: model.advertInterval,
        leaseTime: model.leaseTime,
        preempt: model.preempt,
        fence: model.fence,
        checksum: opts.checksum ?? "",
        identity: this.identity,
      },
      {
        ...(model.stallThreshold !== undefined ? { stallThreshold: model.stallThreshold } : {}),
        ...opts.tuning,
      },
    );
    this.state = initialState(this.config, this.clock());
    this.cmd = createRedis(model.redis, { commandTimeout: model.leaseTime, name: `fulcrum-ha-${me.name}` });
    this.sub = createRedis(model.redis, {
      commandTimeout: model.leaseTime,
      subscriber: true,
      name: `fulcrum-ha-${me.name}-sub`,
    });
    this.lease = new LeaseClient(this.cmd, {
      keys: this.keys,
      leaseTime: model.leaseTime,
      holder: {
        node: me.name,
        inc: this.identity.inc,
        pid: this.identity.pid,
        start: this.identity.start,
        host: this.identity.host,
        boot: this.identity.boot,
      },
      clock: this.clock,
    });
    this.shared = new SharedState({
      redis: this.cmd,
      keys: this.keys,
      inc: this.identity.inc,
      epoch: () => (this.state.role === "MASTER" ? this.state.epoch : this.state.highestEpoch),
      canWriteSessions: () => this.state.role === "MASTER",
      log: (level, m) => this.say(level, m),
    });
    this.link = new PeerLink({
      ha: model.name,
      self: me.name,
      listen: { host: me.host, port: me.port },
      peer: other === undefined ? undefined : { name: other.name, host: other.host, port: other.port },
      onAdvert: (advert) => this.feed({ type: "advert", advert, via: "link" }),
      onUp: () => this.feed({ type: "peer-link-up" }),
      onDown: () => this.feed({ type: "peer-link-down" }),
      log: (level, m) => this.say(level, m),
      backoff: { min: 10, max: Math.max(50, model.advertInterval * 2) },
    });
  }

  /**
   * An orderly hand-over in progress: requests on connections already accepted are still
   * answered until the release is sent (the lease is ours until then), never after this.
   */
  private drainUntil = Number.NEGATIVE_INFINITY;

  /** The serve gate: MASTER, and the lease (or failsafe) deadline not passed; or draining. */
  readonly gate = (): boolean => {
    const now = this.clock();
    return mayServe(this.state, now) || now < this.drainUntil;
  };

  get role(): Role {
    return this.state.role;
  }

  /** Starts the loop: peer link, Redis, timers. Resolves once the peer address listens. */
  async start(handle: ProxyHandle): Promise<void> {
    if (this.running) throw new FulcrumError("FUL_RUNTIME", "HA already started");
    this.handle = handle;
    // The start-up wait counts from here, not from construction: the proxy node is built in
    // between, and a node must listen for one full wait with its Redis connection opening.
    this.state = initialState(this.config, this.clock());
    handle.setServeGate?.(this.gate);
    await this.link.start();
    this.running = true;
    this.cmd.on("ready", () => {
      this.redisReady = true;
      this.feed({ type: "redis-up" });
    });
    this.cmd.on("close", () => {
      if (!this.redisReady) return;
      this.redisReady = false;
      this.feed({ type: "redis-down", message: "connection closed" });
    });
    this.sub.on("message", (channel: string, message: string) => {
      if (channel !== this.keys.adverts) return;
      const r = decodeAdvert(message);
      if (r.ok && r.advert.inc !== this.identity.inc)
        this.feed({ type: "advert", advert: r.advert, via: "pubsub" });
    });
    this.sub.on("ready", () => {
      void this.sub.subscribe(this.keys.adverts).catch(() => {});
    });
    void this.shared.follow(this.sub);
    this.cmd.connect().catch(() => {});
    this.sub.connect().catch(() => {});
    this.loop.enable();
    this.say(
      "info",
      `starting as ${this.me.name} (priority ${this.me.priority}, pid ${this.identity.pid}), peer ${this.other?.name ?? "none"}, lease ${this.model.leaseTime} ms, adverts every ${this.model.advertInterval} ms`,
    );
    this.schedule();
    this.purgeTimer = setInterval(() => {
      if (this.state.role === "MASTER") this.shared.purge().catch(() => {});
    }, 30_000);
    this.purgeTimer.unref();
  }

  /**
   * Stops: an active node unbinds, releases the lease and tells its peer before anything
   * else; then the connections close. Resolves when done (bounded by a few lease times).
   */
  async stop(mode: "graceful" | "fast" = "fast"): Promise<void> {
    if (!this.running) return;
    const done = new Promise<void>((resolve) => {
      this.stopped = resolve;
    });
    this.feed({ type: "shutdown", mode });
    const limit = new Promise<void>((r) => setTimeout(r, 3 * this.model.leaseTime).unref());
    await Promise.race([done, limit]);
    await this.actionChain;
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.purgeTimer !== undefined) clearInterval(this.purgeTimer);
    if (this.bindRetry !== undefined) clearTimeout(this.bindRetry);
    this.loop.disable();
    this.wantBound = false;
    await this.reconcile();
    this.drainUntil = Number.NEGATIVE_INFINITY;
    this.endPeriod(Date.now());
    await this.shared.flush(mode === "graceful" ? 1000 : 200);
    this.shared.stop();
    await this.link.close({ flush: true });
    // QUIT lets pending replies (the last advert's PUBLISH) out; a hung Redis gets 200 ms.
    const grace = new Promise<void>((r) => setTimeout(r, 200).unref());
    await Promise.race([Promise.allSettled([this.cmd.quit(), this.sub.quit()]), grace]);
    this.cmd.disconnect();
    this.sub.disconnect();
  }

  status(): HaStatus {
    const s = this.state;
    const p = s.peer;
    const now = this.clock();
    return {
      ha: this.model.name,
      node: this.me.name,
      role: s.role,
      epoch: s.epoch,
      highestEpoch: s.highestEpoch,
      priority: this.me.priority,
      redis: s.redisUp,
      serving: this.gate(),
      bound: this.bound,
      lastReason: this.lastReason,
      transitions: this.transitions,
      peer:
        this.other === undefined
          ? undefined
          : {
              name: this.other.name,
              role: p?.advert.role,
              epoch: p?.advert.epoch,
              priority: p?.advert.priority ?? this.other.priority,
              checksum: p?.advert.checksum,
              advertAge: p === undefined ? undefined : Math.round(now - p.receivedAt),
              linkUp: this.link.up,
              checksumMismatch: p?.mismatch ?? false,
              provenDead: p?.dead ?? false,
            },
      masterPeriods: [...this.periods],
      sharedState: { ...this.shared.stats },
    };
  }

  // ---- the loop ---------------------------------------------------------------------------

  private say(level: "info" | "warn", message: string): void {
    const line = `ha ${this.model.name}/${this.me.name}: ${level === "warn" ? "WARNING: " : ""}${message}`;
    if (this.opts.log !== undefined) this.opts.log(line);
    else process.stderr.write(`${line}\n`);
  }

  private schedule(): void {
    if (!this.running) return;
    const now = this.clock();
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      // Replacing an overdue timer must not hide how late it was (a frozen process wakes up
      // to a backlog of events before its timer runs).
      this.overdue = Math.max(this.overdue, now - this.expectedAt);
    }
    const delay = Math.max(1, Math.min(nextWake(this.state) - now, this.model.advertInterval));
    this.expectedAt = now + delay;
    this.timer = setTimeout(() => this.onTimer(), delay);
  }

  private onTimer(): void {
    this.timer = undefined;
    const late = Math.max(this.clock() - this.expectedAt, this.overdue);
    this.overdue = 0;
    const loopMax = this.loop.max / 1e6;
    this.loop.reset();
    this.feed({ type: "tick", loopDelay: Math.max(late, Number.isFinite(loopMax) ? loopMax : 0) });
  }

  /** One event through the state machine: new state, a log line when it matters, the actions. */
  private feed(event: ElectionEvent): void {
    if (!this.running) return;
    const before = this.state.role;
    const r = transition(this.state, event, this.clock());
    this.state = r.state;
    this.lastReason = r.reason;
    const changed = before !== r.state.role;
    if (changed) this.transitions += 1;
    if (changed || (!QUIET.has(r.rule) && r.rule !== this.lastRule)) {
      this.say(
        "info",
        changed ? `${before} -> ${r.state.role}: ${r.reason}` : `(${r.state.role}) ${r.reason}`,
      );
      this.lastRule = r.rule;
    }
    if (r.actions.length > 0) {
      const actions = r.actions;
      this.actionChain = this.actionChain
        .then(() => this.run(actions))
        .catch((err) => {
          this.say("warn", `HA action failed: ${errMessage(err)}`);
        });
    }
    this.schedule();
  }

  private async run(actions: readonly Action[]): Promise<void> {
    for (const a of actions) await this.act(a);
  }

  /** Lease calls go out in order on one connection; their results come back as events. */
  private dispatch(call: Promise<ElectionEvent>): void {
    void call.then((ev) => this.feed(ev));
  }

  private async act(a: Action): Promise<void> {
    switch (a.type) {
      case "acquire":
        return this.dispatch(this.lease.acquire(a.minEpoch));
      case "renew":
        return this.dispatch(this.lease.renew(a.epoch));
      case "release":
        // The frontends close first, so the peer can bind the moment it has the lease.
        await this.whenUnbound(Math.min(1000, this.model.leaseTime));
        // From the moment the release leaves, the peer may serve: the drain ends first.
        this.drainUntil = Number.NEGATIVE_INFINITY;
        this.endPeriod(Date.now());
        return this.dispatch(this.lease.release(a.epoch));
      case "clear-lease":
        return this.dispatch(this.lease.clear(a.node, a.epoch));
      case "ping":
        return this.dispatch(this.lease.ping());
      case "resync":
        this.resyncing = this.boundedResync();
        return;
      case "bind":
        this.wantBound = true;
        void this.reconcile();
        return;
      case "unbind":
        if (a.drainUntil !== undefined) this.drainUntil = a.drainUntil;
        this.wantBound = false;
        void this.reconcile();
        return;
      case "advert":
        return this.sendAdvert(a.advert);
      case "probe":
        return this.probe(a);
      case "fence":
        return this.fence(a);
      case "notify":
        if (this.model.notify !== undefined) {
          void runNotify(
            this.model.notify,
            { name: this.model.name, state: a.state, priority: this.me.priority },
            { timeout: this.opts.notifyTimeout ?? 5000, log: (l, m) => this.say(l, m) },
          );
        }
        return;
      case "log":
        return this.say(a.level, a.message);
      case "stopped":
        this.stopped?.();
        return;
    }
  }

  private sendAdvert(advert: Extract<Action, { type: "advert" }>["advert"]): void {
    const line = encodeAdvert({ ...advert, sent: Date.now() });
    this.link.send(line);
    if (this.cmd.status === "ready") this.cmd.publish(this.keys.adverts, line).catch(() => {});
  }

  /**
   * A process killed by a signal closes its sockets before it becomes a zombie, so a check
   * made the moment the peer link closes may still see it: "alive" is only answered after a
   * few more looks (about 150 ms in all); "gone" is answered at once.
   */
  private probe(a: Extract<Action, { type: "probe" }>): void {
    const check = this.opts.probe ?? processState;
    const waits = [5, 10, 20, 40, 80];
    const look = (attempt: number): void => {
      const found = check(a.pid, a.start);
      if (found === "alive" && attempt < waits.length) {
        setTimeout(() => look(attempt + 1), waits[attempt]).unref();
        return;
      }
      const ev: ElectionEvent =
        found === "gone"
          ? {
              type: "peer-dead",
              node: a.node,
              epoch: a.epoch,
              pid: a.pid,
              start: a.start,
              proof: `pid ${a.pid} with start time ${a.start} no longer exists`,
            }
          : {
              type: "peer-alive",
              node: a.node,
              pid: a.pid,
              start: a.start,
              why: found === "alive" ? "its pid still has the advertised start time" : "no /proc to check",
            };
      this.feed(ev);
    };
    queueMicrotask(() => look(0));
  }

  private fence(a: Extract<Action, { type: "fence" }>): void {
    const check = this.opts.probe ?? processState;
    if (check(a.pid, a.start) !== "alive") {
      this.say("info", `not fencing ${a.node}: pid ${a.pid} with start time ${a.start} is already gone`);
      return;
    }
    try {
      (this.opts.kill ?? ((pid: number) => process.kill(pid, "SIGKILL")))(a.pid);
      this.say("warn", `fenced ${a.node}: sent SIGKILL to pid ${a.pid}: ${a.reason}`);
    } catch (err) {
      this.say("warn", `could not fence ${a.node} (pid ${a.pid}): ${errMessage(err)}`);
    }
  }

  private async boundedResync(): Promise<void> {
    const limit = new Promise<void>((r) => setTimeout(r, Math.max(50, this.model.leaseTime / 2)).unref());
    const work = this.shared.resync().catch((err) => {
      this.say("warn", `resync before serving failed (${errMessage(err)}): serving from memory`);
    });
    await Promise.race([work, limit]);
  }

  // ---- binding ----------------------------------------------------------------------------

  /** Drives the frontends toward what the election wants, one bind/unbind at a time. */
  private async reconcile(): Promise<void> {
    const handle = this.handle;
    if (this.binding || handle === undefined) return;
    this.binding = true;
    try {
      for (let step = 0; step < 16 && this.wantBound !== this.bound; step++) {
        if (this.wantBound) {
          await this.resyncing;
          if (!this.wantBound) continue;
          try {
            await handle.bindFrontends();
          } catch (err) {
            if (!this.bindComplained) {
              this.say(
                "warn",
                `cannot bind the frontends (${errMessage(err)}): another process may still hold the service port; retrying`,
              );
              this.bindComplained = true;
            }
            this.retryBind();
            break;
          }
          // Read once the frontends listen: a peer that held the port had closed it by then.
          const from = Date.now();
          this.bound = true;
          this.bindComplained = false;
          this.bindDelay = 10;
          this.endPeriod(from);
          this.periods.push({ from, to: undefined, epoch: this.state.epoch });
          if (this.periods.length > 100) this.periods.shift();
          this.say("info", `serving as MASTER from ${from} (epoch ${this.state.epoch})`);
        } else {
          // Read before closing: the listeners close synchronously in unbindFrontends(), and
          // nothing is served between this line and the close.
          const closedAt = Date.now();
          try {
            await handle.unbindFrontends();
          } catch (err) {
            this.say("warn", `unbinding the frontends failed: ${errMessage(err)}`);
          }
          this.bound = false;
          // An orderly hand-over still answers on accepted connections until the release: its
          // period ends there (act "release").
          if (!(this.clock() < this.drainUntil)) this.endPeriod(closedAt);
        }
      }
    } finally {
      this.binding = false;
    }
    if (this.wantBound !== this.bound && this.bindRetry === undefined) void this.reconcile();
  }

  /** Closes the open MASTER period, if any, at wall-clock `to`, with its log line. */
  private endPeriod(to: number): void {
    const last = this.periods.at(-1);
    if (last === undefined || last.to !== undefined || this.bound) return;
    this.periods[this.periods.length - 1] = { ...last, to };
    this.say("info", `stopped serving as MASTER at ${to} (served from ${last.from}, epoch ${last.epoch})`);
  }

  private retryBind(): void {
    if (this.bindRetry !== undefined || !this.running) return;
    const wait = this.bindDelay;
    this.bindDelay = Math.min(this.bindDelay * 2, this.model.advertInterval);
    this.bindRetry = setTimeout(() => {
      this.bindRetry = undefined;
      void this.reconcile();
    }, wait);
  }

  private async whenUnbound(timeout: number): Promise<void> {
    const deadline = Date.now() + timeout;
    while ((this.bound || this.binding) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}

/**
 * Builds the HA side of a node without starting it (the proxy needs `shared` first).
 * `local` is the peer this process is (default: the model's `localPeer`, from -L).
 */
export function createHa(model: HaModel, local: string = model.localPeer, opts: HaOptions = {}): HaNode {
  return new HaNode(model, local, opts);
}

/** createHa + start. */
export async function startHa(
  model: HaModel,
  local: string,
  handle: ProxyHandle,
  opts: HaOptions = {},
): Promise<HaNode> {
  const ha = createHa(model, local, opts);
  await ha.start(handle);
  return ha;
}
