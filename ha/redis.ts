/**
 * Redis connections for HA, and the key layout. One place decides how to reach Redis (a URL or
 * Sentinel) and how a connection behaves when Redis is away: commands fail at once instead of
 * queueing (a lease renew that waits for a reconnection is worse than useless), and every
 * command has a timeout, so the election hears about trouble within one lease time.
 */
import { Redis, type RedisOptions } from "ioredis";
import type { HaRedis } from "../proxy/config/model.js";

/** Keys of one `ha` section. The {hash tag} keeps them in one Redis Cluster slot for scripts. */
export interface HaKeys {
  readonly lease: string;
  readonly epoch: string;
  readonly adverts: string;
  readonly state: string;
  readonly admin: string;
  sessions(backend: string): string;
  sessionExpiry(backend: string): string;
  readonly sessionPattern: string;
}

export function haKeys(ha: string, prefix = "fulcrum:ha"): HaKeys {
  const base = `${prefix}:{${ha}}`;
  return {
    lease: `${base}:lease`,
    epoch: `${base}:epoch`,
    adverts: `${base}:adverts`,
    state: `${base}:state`,
    admin: `${base}:admin`,
    sessions: (backend) => `${base}:sess:${backend}`,
    sessionExpiry: (backend) => `${base}:sessexp:${backend}`,
    sessionPattern: `${base}:sess:*`,
  };
}

export interface ConnectOptions {
  /** Per-command timeout (ms); the lease time is a good value. */
  readonly commandTimeout: number;
  /** Subscriber connections queue their SUBSCRIBE until connected. */
  readonly subscriber?: boolean;
  /** Name shown by CLIENT LIST. */
  readonly name?: string;
}

/** Reconnect quickly at first, then every half second at most. */
const retryStrategy = (times: number): number => Math.min(25 * 2 ** Math.min(times, 5), 500);

export function redisOptions(redis: HaRedis, opts: ConnectOptions): RedisOptions {
  const common: RedisOptions = {
    enableOfflineQueue: opts.subscriber === true,
    maxRetriesPerRequest: opts.subscriber === true ? null : 0,
    commandTimeout: opts.subscriber === true ? undefined : opts.commandTimeout,
    connectTimeout: Math.max(opts.commandTimeout, 1000),
    retryStrategy,
    // ioredis resubscribes without handling a failure (an unhandled rejection, fatal on
    // Node 20, when Redis drops again right after reconnecting); the HA code resubscribes
    // itself on every "ready".
    autoResubscribe: false,
    lazyConnect: true,
    ...(opts.name !== undefined ? { connectionName: opts.name } : {}),
  };
  if (redis.kind === "sentinel") {
    return {
      ...common,
      sentinels: redis.hosts.map((h) => ({ host: h.host, port: h.port })),
      name: redis.master,
    };
  }
  return common;
}

/** A connection, not yet connected (call `connect()`; it reconnects by itself afterwards). */
export function createRedis(redis: HaRedis, opts: ConnectOptions): Redis {
  const options = redisOptions(redis, opts);
  const client = redis.kind === "url" ? new Redis(redis.url, options) : new Redis(options);
  // Errors surface through command results and the election; this keeps ioredis from
  // printing "Unhandled error event" for each failed reconnection.
  client.on("error", () => {});
  return client;
}
