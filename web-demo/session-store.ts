/**
 * The session store behind express-session: memory (cookie mode) or Redis through
 * connect-redis (shared mode), plus what the app needs to know about it (is it up? check it
 * now; close it).
 *
 * Redis is reached through a guard that every command passes: a deadline, a translation of
 * any failure into FUL_REDIS (status 503), and a report to the health state machine, which
 * logs one line per change. The client never buffers commands while disconnected
 * (`disableOfflineQueue`), bounds what it has in flight (`commandsQueueMaxLength`) and
 * reconnects by itself with a capped delay, so memory stays bounded while Redis is away and
 * service resumes on its own when it returns.
 */
import { RedisStore } from "connect-redis";
import session from "express-session";
import { createClient, createSentinel } from "redis";
import { FulcrumError } from "../proxy/errors.js";
import {
  parseRedisUrl,
  type RedisTarget,
  reconnectDelay,
  SESSION_KEY_PREFIX,
  SESSION_MAX_AGE_MS,
  type StoreKind,
} from "./config.js";
import { initialHealth, observe, type StoreEvent, type StoreHealth } from "./store-health.js";

export interface SessionBackend {
  readonly kind: StoreKind;
  readonly store: session.Store;
  /** "n/a" for the memory store, which cannot fail. */
  status(): StoreHealth["status"] | "n/a";
  /** Asks the store now (Redis PING); rejects with FUL_REDIS when it cannot answer in time. */
  check(): Promise<void>;
  /** True once the store can serve, false if it could not within `timeoutMs` (or failed first). */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface RedisBackendOptions {
  url: string;
  /** Longest wait for one Redis command before the request gets its 503 (default 500 ms). */
  timeoutMs?: number;
  /** Called with each state-change line (down, up). */
  log: (line: string) => void;
  now?: () => number;
}

/** Upper bound on commands the client holds in flight (a hung Redis cannot grow it further). */
const MAX_IN_FLIGHT = 1000;
const CONNECT_TIMEOUT_MS = 1000;
const DEFAULT_TIMEOUT_MS = 500;

export function memoryBackend(): SessionBackend {
  return {
    kind: "memory",
    store: new session.MemoryStore(),
    status: () => "n/a",
    check: async () => {},
    ready: async () => true,
    close: async () => {},
  };
}

/** The commands connect-redis and the health check use. */
interface KvClient {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, opts?: unknown): Promise<unknown>;
  expire(key: string, seconds: number): Promise<unknown>;
  del(keys: string | string[]): Promise<unknown>;
  ping(): Promise<unknown>;
}

interface Connection {
  client: KvClient;
  close(): Promise<void>;
}

export function redisBackend(opts: RedisBackendOptions): SessionBackend {
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let health = initialHealth(now());
  let closed = false;
  const waiters = new Set<() => void>();

  const report = (event: StoreEvent): void => {
    if (closed) return;
    const step = observe(health, event, now());
    health = step.health;
    if (step.line !== undefined) {
      opts.log(step.line);
      for (const wake of waiters) wake();
    }
  };

  const conn = connect(parseRedisUrl(opts.url), report, () => closed);

  const guard = async <T>(run: () => Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_res, rej) => {
      timer = setTimeout(() => rej(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const command = (async () => run())();
    // A reply that comes after the deadline still proves Redis answers again (a frozen Redis
    // that resumes keeps its connection, so no "ready" event would say so).
    command.then(
      () => report({ kind: "ok" }),
      () => {},
    );
    try {
      return await Promise.race([command, deadline]);
    } catch (err) {
      const reason = describe(err);
      report({ kind: "fail", reason });
      throw new FulcrumError("FUL_REDIS", `session store unavailable: ${reason}`, 503, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  };

  const guarded: KvClient = {
    get: (key) => guard(() => conn.client.get(key)),
    set: (key, value, o) => guard(() => conn.client.set(key, value, o)),
    expire: (key, seconds) => guard(() => conn.client.expire(key, seconds)),
    del: (keys) => guard(() => conn.client.del(keys)),
    ping: () => guard(() => conn.client.ping()),
  };

  const store = new RedisStore({
    client: guarded,
    prefix: SESSION_KEY_PREFIX,
    ttl: Math.ceil(SESSION_MAX_AGE_MS / 1000),
    // Every request that finds a logged-in session rewrites it (the visit counter), which
    // refreshes its TTL; a separate EXPIRE would be a second round trip for nothing.
    disableTouch: true,
  });

  return {
    kind: "redis",
    store,
    status: () => health.status,
    check: async () => {
      await guarded.ping();
    },
    ready: (waitMs) =>
      new Promise<boolean>((resolve) => {
        const settle = () => {
          if (health.status === "starting") return;
          clearTimeout(timer);
          waiters.delete(settle);
          resolve(health.status === "up");
        };
        const timer = setTimeout(() => {
          waiters.delete(settle);
          resolve(health.status === "up");
        }, waitMs);
        waiters.add(settle);
        settle();
      }),
    close: async () => {
      if (closed) return;
      closed = true;
      for (const wake of waiters) wake();
      await conn.close();
    },
  };
}

/** Options shared by plain and Sentinel-managed clients: no offline queue, bounded, self-healing. */
const CLIENT_OPTIONS = {
  disableOfflineQueue: true,
  commandsQueueMaxLength: MAX_IN_FLIGHT,
  socket: {
    connectTimeout: CONNECT_TIMEOUT_MS,
    reconnectStrategy: (retries: number) => reconnectDelay(retries),
  },
} as const;

function connect(target: RedisTarget, report: (e: StoreEvent) => void, isClosed: () => boolean): Connection {
  return target.kind === "redis"
    ? connectPlain(target.url, report)
    : connectSentinel(target, report, isClosed);
}

function connectPlain(url: string, report: (e: StoreEvent) => void): Connection {
  const client = createClient({ url, ...CLIENT_OPTIONS });
  client.on("error", (err: unknown) => report({ kind: "fail", reason: describe(err) }));
  client.on("ready", () => report({ kind: "ok" }));
  // The first connection is retried by the client itself (reconnectStrategy never gives up);
  // its failures arrive as "error" events above.
  client.connect().catch(() => {});
  return {
    client: client as unknown as KvClient,
    close: async () => {
      try {
        client.destroy();
      } catch {
        // already closed
      }
    },
  };
}

/**
 * Sentinel: the client asks the Sentinels for the master and follows failovers. A first
 * connection that fails leaves the Sentinel client unusable, so it is replaced after a delay.
 */
function connectSentinel(
  target: Extract<RedisTarget, { kind: "sentinel" }>,
  report: (e: StoreEvent) => void,
  isClosed: () => boolean,
): Connection {
  const nodeOptions = {
    ...CLIENT_OPTIONS,
    ...(target.username !== undefined && { username: target.username }),
    ...(target.password !== undefined && { password: target.password }),
    ...(target.database !== undefined && { database: target.database }),
  };
  let retryTimer: NodeJS.Timeout | undefined;
  let attempts = 0;
  const open = () => {
    const sentinel = createSentinel({
      name: target.name,
      sentinelRootNodes: target.nodes,
      nodeClientOptions: nodeOptions,
      sentinelClientOptions: { socket: { connectTimeout: CONNECT_TIMEOUT_MS } },
      passthroughClientErrorEvents: true,
    });
    sentinel.on("error", (err: unknown) => report({ kind: "fail", reason: describe(err) }));
    sentinel.connect().then(
      () => {
        attempts = 0;
        report({ kind: "ok" });
      },
      (err: unknown) => {
        report({ kind: "fail", reason: describe(err) });
        sentinel.destroy().catch(() => {});
        if (!isClosed()) retryTimer = setTimeout(() => conn.swap(open()), reconnectDelay(attempts++, 2000));
      },
    );
    return sentinel;
  };
  let current = open();
  const conn = {
    swap: (next: ReturnType<typeof open>) => {
      current = next;
    },
  };
  return {
    client: {
      get: (key) => current.get(key),
      set: (key, value, o) => current.set(key, value, o as Parameters<typeof current.set>[2]),
      expire: (key, seconds) => current.expire(key, seconds),
      del: (keys) => current.del(keys),
      ping: () => current.ping(),
    },
    close: async () => {
      clearTimeout(retryTimer);
      await current.destroy().catch(() => {});
    },
  };
}

/** A short reason for logs and pages: the error code when there is one, else the message. */
export function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (err.message === "") return typeof code === "string" ? code : err.name;
    return typeof code === "string" && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
