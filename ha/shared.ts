/**
 * State both nodes must agree on, kept in Redis: the learned-session table (session id ->
 * server, with its timeout) and server admin states (ready / drain / maint).
 *
 * - The request path never waits for Redis: reads come from the in-memory table; writes update
 *   memory at once and go to Redis in the background.
 * - Every write carries the writer's epoch; a script refuses it when a newer epoch has been
 *   issued (fencing: an old active that wakes up cannot overwrite what the new one learned).
 * - The standby follows the writes over pub/sub, and resynchronises fully from Redis when its
 *   connection comes back and before it promotes itself (pub/sub drops what it sends while a
 *   subscriber is away).
 * - While Redis is away, writes wait in a bounded queue (one entry per key: the latest wins)
 *   and are replayed, still with their epoch check, when it returns.
 */
import type { Redis } from "ioredis";
import type { HaKeys } from "./redis.js";

export type AdminState = "ready" | "drain" | "maint";
export const ADMIN_STATES: readonly AdminState[] = ["ready", "drain", "maint"];

/** The proxy's learned-session table, as HA sees it. `now` is in the table's own clock. */
export interface SessionTable {
  get(id: string): string | undefined;
  learn(id: string, server: string, now: number): void;
  touch(id: string, now: number): void;
  delete(id: string): void;
  readonly size: number;
}

/**
 * KEYS: epoch counter, hash, expiry zset. ARGV: epoch, op (hset|hdel), field, value, score
 * ('' for none), channel, message. Refuses ({0, highest}) a write from an older epoch;
 * restores the counter when Redis lost it (a write from epoch N proves N was issued).
 */
const FENCED_WRITE = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local e = tonumber(ARGV[1])
if e < cur then return {0, cur} end
if e > cur then redis.call('SET', KEYS[1], ARGV[1]) end
if ARGV[2] == 'hset' then
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
  if ARGV[5] ~= '' then redis.call('ZADD', KEYS[3], ARGV[5], ARGV[3]) end
else
  redis.call('HDEL', KEYS[2], ARGV[3])
  if ARGV[5] ~= '' then redis.call('ZREM', KEYS[3], ARGV[3]) end
end
redis.call('PUBLISH', ARGV[6], ARGV[7])
return {1, cur}
`;

/** KEYS: hash, expiry zset. ARGV: now (wall ms), batch. Drops expired sessions. */
const PURGE = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  redis.call('HDEL', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
end
return #ids
`;

interface SharedCommands {
  fulcrumFencedWrite(
    epochKey: string,
    hash: string,
    zset: string,
    epoch: number,
    op: "hset" | "hdel",
    field: string,
    value: string,
    score: string,
    channel: string,
    message: string,
  ): Promise<[number, number]>;
  fulcrumPurge(hash: string, zset: string, now: number, batch: number): Promise<number>;
}

function defineSharedCommands(redis: Redis): Redis & SharedCommands {
  const r = redis as Redis & Partial<SharedCommands>;
  if (r.fulcrumFencedWrite === undefined) {
    redis.defineCommand("fulcrumFencedWrite", { numberOfKeys: 3, lua: FENCED_WRITE });
    redis.defineCommand("fulcrumPurge", { numberOfKeys: 2, lua: PURGE });
  }
  return redis as Redis & SharedCommands;
}

/** What travels on the state channel (and what the queue holds). */
export type StateMessage =
  | { k: "s"; b: string; i: string; s: string; t: number; f: string; e: number }
  | { k: "d"; b: string; i: string; f: string; e: number }
  | { k: "a"; b: string; v: string; st: AdminState; f: string; e: number };

interface PendingWrite {
  readonly msg: StateMessage;
  readonly hash: string;
  readonly zset: string;
  readonly op: "hset" | "hdel";
  readonly field: string;
  readonly value: string;
  readonly score: string;
}

export interface SharedStateOptions {
  readonly redis: Redis;
  readonly keys: HaKeys;
  /** This process (messages from itself are not applied twice). */
  readonly inc: string;
  /** The epoch writes carry: the one held as MASTER, else the highest seen. */
  readonly epoch: () => number;
  /** Session writes happen only on the active node. */
  readonly canWriteSessions: () => boolean;
  /** Most writes kept while Redis is away (default 10000); the oldest are dropped beyond. */
  readonly maxQueue?: number;
  readonly log?: (level: "info" | "warn", message: string) => void;
  /** Wall clock (ms), for session timestamps across nodes. */
  readonly wallClock?: () => number;
}

export interface SharedStateStats {
  queued: number;
  dropped: number;
  refused: number;
  replayed: number;
  written: number;
  applied: number;
  resyncs: number;
}

const isConnectionError = (err: unknown): boolean => {
  const m = err instanceof Error ? err.message : String(err);
  return /writeable|Connection|ECONN|EPIPE|ETIMEDOUT|timed out|closed|MaxRetries|EHOSTUNREACH|ENOTCONN/i.test(
    m,
  );
};

export class SharedState {
  private readonly redis: Redis & SharedCommands;
  private readonly keys: HaKeys;
  private readonly opts: SharedStateOptions;
  private readonly queue = new Map<string, PendingWrite>();
  private readonly maxQueue: number;
  private draining = false;
  private readonly tables = new Map<string, SharedSessionTable>();
  private admin: AdminStateStore | undefined;
  private subscriber: Redis | undefined;
  private readonly wall: () => number;
  readonly stats: SharedStateStats = {
    queued: 0,
    dropped: 0,
    refused: 0,
    replayed: 0,
    written: 0,
    applied: 0,
    resyncs: 0,
  };
  private readonly onMessage = (channel: string, message: string) => {
    if (channel === this.keys.state) this.apply(message);
  };
  /** A resync could not run (the command connection was not ready): run it once it is. */
  private resyncOwed = false;
  private resyncRetry: NodeJS.Timeout | undefined;
  private readonly onCommandReady = () => {
    void this.drain();
    if (this.resyncOwed && this.subscriber?.status === "ready") void this.followAndResync();
  };
  private readonly onSubscriberReady = () => {
    void this.followAndResync();
  };

  constructor(opts: SharedStateOptions) {
    this.opts = opts;
    this.redis = defineSharedCommands(opts.redis);
    this.keys = opts.keys;
    this.maxQueue = opts.maxQueue ?? 10_000;
    this.wall = opts.wallClock ?? Date.now;
    this.redis.on("ready", this.onCommandReady);
  }

  private log(level: "info" | "warn", message: string): void {
    this.opts.log?.(level, message);
  }

  /** Wraps the proxy's in-memory table of `backend`: reads stay local, writes go through. */
  sessionTable(
    backend: string,
    inner: SessionTable,
    timeout: number,
    clock: () => number = Date.now,
  ): SharedSessionTable {
    const table = new SharedSessionTable(this, backend, inner, timeout, clock);
    this.tables.set(backend, table);
    return table;
  }

  /** The admin-state store; `onRemote` applies a change made on the peer (or found at start). */
  adminStore(onRemote: (backend: string, server: string, state: AdminState) => void): AdminStateStore {
    this.admin = new AdminStateStore(this, onRemote);
    return this.admin;
  }

  /** Follows the state channel on `subscriber` (resubscribing and resyncing on reconnect). */
  async follow(subscriber: Redis): Promise<void> {
    this.subscriber = subscriber;
    subscriber.on("message", this.onMessage);
    subscriber.on("ready", this.onSubscriberReady);
    if (subscriber.status === "ready") await this.followAndResync();
  }

  private async followAndResync(): Promise<void> {
    try {
      // Subscribed first, then read: nothing published in between is missed.
      await this.subscriber?.subscribe(this.keys.state);
      // The two connections come up in either order; the read waits for the command one.
      if (this.redis.status !== "ready") {
        this.resyncOwed = true;
        return;
      }
      this.resyncOwed = false;
      await this.resync();
    } catch (err) {
      this.resyncOwed = true;
      this.log("warn", `shared state: resync failed: ${err instanceof Error ? err.message : String(err)}`);
      // A slow answer (not a lost connection, which brings a "ready" later): try again soon.
      clearTimeout(this.resyncRetry);
      this.resyncRetry = setTimeout(() => {
        if (this.resyncOwed && this.subscriber?.status === "ready") void this.followAndResync();
      }, 500);
      this.resyncRetry.unref();
    }
  }

  stop(): void {
    clearTimeout(this.resyncRetry);
    clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    this.resyncOwed = false;
    this.redis.off("ready", this.onCommandReady);
    this.subscriber?.off("message", this.onMessage);
    this.subscriber?.off("ready", this.onSubscriberReady);
  }

  // ---- writing ----------------------------------------------------------------------------

  /** @internal */
  writeSession(backend: string, id: string, server: string, timeout: number): void {
    if (!this.opts.canWriteSessions()) return;
    const t = this.wall();
    const msg: StateMessage = {
      k: "s",
      b: backend,
      i: id,
      s: server,
      t,
      f: this.opts.inc,
      e: this.opts.epoch(),
    };
    this.submit(`s|${backend}|${id}`, {
      msg,
      hash: this.keys.sessions(backend),
      zset: this.keys.sessionExpiry(backend),
      op: "hset",
      field: id,
      value: JSON.stringify({ s: server, t }),
      score: String(t + timeout),
    });
  }

  /** @internal */
  deleteSession(backend: string, id: string): void {
    if (!this.opts.canWriteSessions()) return;
    const msg: StateMessage = { k: "d", b: backend, i: id, f: this.opts.inc, e: this.opts.epoch() };
    this.submit(`s|${backend}|${id}`, {
      msg,
      hash: this.keys.sessions(backend),
      zset: this.keys.sessionExpiry(backend),
      op: "hdel",
      field: id,
      value: "",
      score: "0",
    });
  }

  /** @internal */
  writeAdmin(backend: string, server: string, state: AdminState): void {
    const msg: StateMessage = {
      k: "a",
      b: backend,
      v: server,
      st: state,
      f: this.opts.inc,
      e: this.opts.epoch(),
    };
    this.submit(`a|${backend}/${server}`, {
      msg,
      hash: this.keys.admin,
      zset: this.keys.admin,
      op: "hset",
      field: `${backend}/${server}`,
      value: state,
      score: "",
    });
  }

  private submit(key: string, w: PendingWrite): void {
    if (this.queue.size > 0 || this.draining || this.redis.status !== "ready") {
      this.enqueue(key, w);
      // While a retry waits out its back-off, new writes queue behind it.
      if (this.drainTimer === undefined) void this.drain();
      return;
    }
    void this.send(w).then((outcome) => {
      if (outcome === "retry") {
        this.enqueue(key, w);
        this.drainLater();
      }
    });
  }

  private enqueue(key: string, w: PendingWrite): void {
    this.queue.delete(key);
    this.queue.set(key, w);
    this.stats.queued = this.queue.size;
    while (this.queue.size > this.maxQueue) {
      const oldest = this.queue.keys().next().value as string;
      this.queue.delete(oldest);
      this.stats.dropped += 1;
    }
    this.stats.queued = this.queue.size;
  }

  private async send(w: PendingWrite): Promise<"done" | "refused" | "retry"> {
    try {
      const [ok, highest] = await this.redis.fulcrumFencedWrite(
        this.keys.epoch,
        w.hash,
        w.zset,
        w.msg.e,
        w.op,
        w.field,
        w.value,
        w.score,
        this.keys.state,
        JSON.stringify(w.msg),
      );
      if (ok === 1) {
        this.stats.written += 1;
        return "done";
      }
      this.stats.refused += 1;
      this.log(
        "warn",
        `shared state: write of ${w.field} refused: epoch ${w.msg.e} is older than ${highest}`,
      );
      return "refused";
    } catch (err) {
      if (isConnectionError(err)) return "retry";
      this.log(
        "warn",
        `shared state: write of ${w.field} failed: ${err instanceof Error ? err.message : String(err)}`,
      );
      return "done";
    }
  }

  /** Replays queued writes in order, each with its own epoch; stops when Redis goes away again. */
  private async drain(): Promise<void> {
    if (this.draining || this.redis.status !== "ready") return;
    this.draining = true;
    let failed = false;
    try {
      for (let guard = 0; guard < 1_000_000 && this.queue.size > 0; guard++) {
        const [key, w] = this.queue.entries().next().value as [string, PendingWrite];
        const outcome = await this.send(w);
        if (outcome === "retry") {
          failed = true;
          break;
        }
        if (this.queue.get(key) === w) this.queue.delete(key);
        if (outcome === "done") this.stats.replayed += 1;
        this.stats.queued = this.queue.size;
      }
    } finally {
      this.draining = false;
    }
    // A write that failed on a connection still called ready (it is going away) is tried
    // again later, never at once: retrying at once is a loop of rejected promises that never
    // lets the event loop run (the MASTER fell silent for seconds when Redis died, and its
    // peer fenced it). A connection that comes back calls drain() itself ("ready").
    if (failed) this.drainLater();
    else if (this.queue.size > 0 && this.redis.status === "ready") void this.drain();
  }

  private drainTimer: NodeJS.Timeout | undefined;

  private drainLater(): void {
    if (this.drainTimer !== undefined) return;
    this.drainTimer = setTimeout(() => {
      this.drainTimer = undefined;
      void this.drain();
    }, 200);
    this.drainTimer.unref();
  }

  /** Resolves once the queue is empty (or after `timeout` ms): for a graceful stop and tests. */
  async flush(timeout = 1000): Promise<boolean> {
    const deadline = Date.now() + timeout;
    while (this.queue.size > 0 || this.draining) {
      if (Date.now() > deadline) return false;
      void this.drain();
      await new Promise((r) => setTimeout(r, 5));
    }
    return true;
  }

  /** Drops expired sessions from Redis (the active node calls it now and then). */
  async purge(batch = 500): Promise<number> {
    let n = 0;
    for (const backend of this.tables.keys()) {
      n += await this.redis.fulcrumPurge(
        this.keys.sessions(backend),
        this.keys.sessionExpiry(backend),
        this.wall(),
        batch,
      );
    }
    return n;
  }

  // ---- following --------------------------------------------------------------------------

  private apply(message: string): void {
    let msg: StateMessage;
    try {
      msg = JSON.parse(message) as StateMessage;
    } catch {
      return;
    }
    if (msg.f === this.opts.inc) return;
    this.stats.applied += 1;
    if (msg.k === "s") this.tables.get(msg.b)?.applyRemote(msg.i, msg.s, msg.t);
    else if (msg.k === "d") this.tables.get(msg.b)?.applyRemoteDelete(msg.i);
    else if (msg.k === "a") this.admin?.applyRemote(msg.b, msg.v, msg.st);
  }

  /** Reads everything from Redis into memory: on (re)connect and before promotion. */
  async resync(): Promise<void> {
    const now = this.wall();
    for (const [backend, table] of this.tables) {
      const all = await this.redis.hgetall(this.keys.sessions(backend));
      for (const [id, raw] of Object.entries(all)) {
        try {
          const v = JSON.parse(raw) as { s: string; t: number };
          if (v.t + table.timeout > now) table.applyRemote(id, v.s, v.t);
        } catch {
          // not ours
        }
      }
    }
    if (this.admin !== undefined) {
      const all = await this.redis.hgetall(this.keys.admin);
      for (const [field, state] of Object.entries(all)) {
        const slash = field.indexOf("/");
        if (slash < 0 || !(ADMIN_STATES as readonly string[]).includes(state)) continue;
        this.admin.applyRemote(field.slice(0, slash), field.slice(slash + 1), state as AdminState);
      }
    }
    this.stats.resyncs += 1;
  }
}

/**
 * A learned-session table whose writes also go to Redis (on the active node) and which
 * applies the peer's writes (on the standby). Reads never leave memory.
 */
export class SharedSessionTable implements SessionTable {
  /** Last time a touch of each id was written to Redis: touches are written sparingly. */
  private readonly touched = new Map<string, number>();
  private readonly touchEvery: number;

  constructor(
    private readonly shared: SharedState,
    readonly backend: string,
    readonly inner: SessionTable,
    readonly timeout: number,
    private readonly clock: () => number,
  ) {
    this.touchEvery = Math.max(1000, Math.floor(timeout / 8));
  }

  get(id: string): string | undefined {
    return this.inner.get(id);
  }

  get size(): number {
    return this.inner.size;
  }

  learn(id: string, server: string, now: number): void {
    this.inner.learn(id, server, now);
    this.touched.set(id, now);
    this.shared.writeSession(this.backend, id, server, this.timeout);
  }

  touch(id: string, now: number): void {
    this.inner.touch(id, now);
    const last = this.touched.get(id);
    if (last !== undefined && now - last < this.touchEvery) return;
    const server = this.inner.get(id);
    if (server === undefined) return;
    this.touched.delete(id);
    this.touched.set(id, now);
    if (this.touched.size > 100_000) this.touched.delete(this.touched.keys().next().value as string);
    this.shared.writeSession(this.backend, id, server, this.timeout);
  }

  delete(id: string): void {
    this.inner.delete(id);
    this.touched.delete(id);
    this.shared.deleteSession(this.backend, id);
  }

  /** @internal A write seen on the peer: `t` is its wall-clock time. */
  applyRemote(id: string, server: string, t: number): void {
    const age = Math.max(0, Date.now() - t);
    this.inner.learn(id, server, this.clock() - age);
  }

  /** @internal */
  applyRemoteDelete(id: string): void {
    this.inner.delete(id);
  }
}

/** Server admin states, shared by both nodes and kept across restarts. */
export class AdminStateStore {
  private readonly states = new Map<string, AdminState>();

  constructor(
    private readonly shared: SharedState,
    private readonly onRemote: (backend: string, server: string, state: AdminState) => void,
  ) {}

  get(backend: string, server: string): AdminState | undefined {
    return this.states.get(`${backend}/${server}`);
  }

  /** An operator's change on this node: applied here by the caller, stored and published. */
  set(backend: string, server: string, state: AdminState): void {
    this.states.set(`${backend}/${server}`, state);
    this.shared.writeAdmin(backend, server, state);
  }

  entries(): [backend: string, server: string, state: AdminState][] {
    return [...this.states].map(([k, v]) => {
      const slash = k.indexOf("/");
      return [k.slice(0, slash), k.slice(slash + 1), v];
    });
  }

  /** @internal */
  applyRemote(backend: string, server: string, state: AdminState): void {
    const key = `${backend}/${server}`;
    if (this.states.get(key) === state) return;
    this.states.set(key, state);
    this.onRemote(backend, server, state);
  }
}

/**
 * A plain in-memory learned-session table (what the standby holds when the proxy gives none,
 * and what tests use). Entries expire `timeout` ms after they were last learned or touched.
 */
export class MemorySessionTable implements SessionTable {
  private readonly entries = new Map<string, { server: string; expires: number }>();

  constructor(
    private readonly timeout: number,
    private readonly clock: () => number = Date.now,
  ) {}

  get(id: string): string | undefined {
    const e = this.entries.get(id);
    if (e === undefined) return undefined;
    if (e.expires <= this.clock()) {
      this.entries.delete(id);
      return undefined;
    }
    return e.server;
  }

  learn(id: string, server: string, now: number): void {
    this.entries.set(id, { server, expires: now + this.timeout });
  }

  touch(id: string, now: number): void {
    const e = this.entries.get(id);
    if (e !== undefined) e.expires = Math.max(e.expires, now + this.timeout);
  }

  delete(id: string): void {
    this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }
}
