/**
 * The lease in Redis: one key holding who is active and at which epoch, taken with SET NX PX
 * and an epoch INCR in one script, renewed with compare-and-renew, released with
 * compare-and-delete. Every call records the monotonic time it was SENT: the election counts a
 * MASTER's deadline from there, never from the reply (a slow reply must not stretch the lease).
 *
 * Results come back as election events, so the shell feeds them to `transition` unchanged.
 * Errors (Redis down, timeout) come back as `redis-error` events, never as exceptions.
 */
import { performance } from "node:perf_hooks";
import type { Redis } from "ioredis";
import type { ElectionEvent, LeaseHolder, LeaseOp } from "./election.js";
import type { HaKeys } from "./redis.js";

/**
 * KEYS: lease, epoch counter. ARGV: holder JSON without the epoch, ttl ms, lowest epoch
 * allowed minus one (the highest epoch the caller has seen: after Redis lost its data, the
 * counter restarts above what the pair already used).
 * Returns {1, value} when acquired, {0, current value} when held.
 */
const ACQUIRE = `
local cur = redis.call('GET', KEYS[1])
if cur then return {0, cur} end
local e = redis.call('INCR', KEYS[2])
local floor = tonumber(ARGV[3])
if e <= floor then
  e = floor + 1
  redis.call('SET', KEYS[2], e)
end
local v = '{"epoch":' .. string.format('%d', e) .. ',' .. string.sub(ARGV[1], 2)
redis.call('SET', KEYS[1], v, 'PX', ARGV[2])
return {1, v}
`;

/**
 * KEYS: lease, epoch counter. ARGV: our value, ttl ms, our epoch.
 * {1} renewed; {2} re-created (the key was gone, e.g. Redis restarted empty, and no newer
 * epoch was issued); {0, value} someone else holds it; {-1, top} a newer epoch was issued.
 */
const RENEW = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, ''}
end
if cur then return {0, cur} end
local top = tonumber(redis.call('GET', KEYS[2]) or '0')
local e = tonumber(ARGV[3])
if top > e then return {-1, string.format('%d', top)} end
if top < e then redis.call('SET', KEYS[2], e) end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {2, ''}
`;

/** KEYS: lease. ARGV: our value. 1 deleted, 0 not ours (any more). */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

/** KEYS: lease. ARGV: node, epoch. Deletes only when both match (a dead holder's lease). */
const CLEAR = `
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local ok, h = pcall(cjson.decode, cur)
if not ok or type(h) ~= 'table' then return -1 end
if h.node == ARGV[1] and tonumber(h.epoch) == tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

interface LeaseCommands {
  fulcrumLeaseAcquire(
    lease: string,
    epoch: string,
    holder: string,
    ttl: number,
    floor: number,
  ): Promise<[number, string]>;
  fulcrumLeaseRenew(
    lease: string,
    epoch: string,
    value: string,
    ttl: number,
    ours: number,
  ): Promise<[number, string]>;
  fulcrumLeaseRelease(lease: string, value: string): Promise<number>;
  fulcrumLeaseClear(lease: string, node: string, epoch: number): Promise<number>;
}

/** Registers the scripts on a connection (EVALSHA with a fallback to EVAL, by ioredis). */
export function defineLeaseCommands(redis: Redis): Redis & LeaseCommands {
  const r = redis as Redis & Partial<LeaseCommands>;
  if (r.fulcrumLeaseAcquire === undefined) {
    redis.defineCommand("fulcrumLeaseAcquire", { numberOfKeys: 2, lua: ACQUIRE });
    redis.defineCommand("fulcrumLeaseRenew", { numberOfKeys: 2, lua: RENEW });
    redis.defineCommand("fulcrumLeaseRelease", { numberOfKeys: 1, lua: RELEASE });
    redis.defineCommand("fulcrumLeaseClear", { numberOfKeys: 1, lua: CLEAR });
  }
  return redis as Redis & LeaseCommands;
}

/** Parses a lease value; undefined when it is not one of ours. */
export function parseHolder(value: string): LeaseHolder | undefined {
  try {
    const h = JSON.parse(value) as Record<string, unknown>;
    const num = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v);
    const str = (v: unknown) => typeof v === "string";
    if (!num(h.epoch) || !str(h.node) || !str(h.inc) || !num(h.pid) || !num(h.start)) return undefined;
    if (!str(h.host) || !str(h.boot)) return undefined;
    return {
      node: h.node as string,
      epoch: h.epoch as number,
      inc: h.inc as string,
      pid: h.pid as number,
      start: h.start as number,
      host: h.host as string,
      boot: h.boot as string,
    };
  } catch {
    return undefined;
  }
}

export interface LeaseClientOptions {
  readonly keys: HaKeys;
  readonly leaseTime: number;
  /** This process, as written into the lease value. */
  readonly holder: Omit<LeaseHolder, "epoch">;
  /** Monotonic clock (ms). */
  readonly clock?: () => number;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class LeaseClient {
  private readonly redis: Redis & LeaseCommands;
  private readonly keys: HaKeys;
  private readonly leaseTime: number;
  private readonly holderJson: string;
  private readonly clock: () => number;
  /** The exact value written for each epoch this process acquired (compare-and-renew needs it). */
  private readonly values = new Map<number, string>();

  constructor(redis: Redis, opts: LeaseClientOptions) {
    this.redis = defineLeaseCommands(redis);
    this.keys = opts.keys;
    this.leaseTime = opts.leaseTime;
    const h = opts.holder;
    // Fixed field order, so the value is the same string every time.
    this.holderJson = JSON.stringify({
      node: h.node,
      inc: h.inc,
      pid: h.pid,
      start: h.start,
      host: h.host,
      boot: h.boot,
    });
    this.clock = opts.clock ?? (() => performance.now());
  }

  private failed(op: LeaseOp, sentAt: number, err: unknown): ElectionEvent {
    return { type: "redis-error", op, sentAt, message: message(err) };
  }

  async acquire(minEpoch: number): Promise<ElectionEvent> {
    const sentAt = this.clock();
    try {
      const [ok, value] = await this.redis.fulcrumLeaseAcquire(
        this.keys.lease,
        this.keys.epoch,
        this.holderJson,
        this.leaseTime,
        minEpoch,
      );
      const holder = parseHolder(value);
      if (ok === 1 && holder !== undefined) {
        this.values.set(holder.epoch, value);
        this.forgetOld(holder.epoch);
        return { type: "lease-acquired", epoch: holder.epoch, sentAt };
      }
      return { type: "lease-held", holder, sentAt };
    } catch (err) {
      return this.failed("acquire", sentAt, err);
    }
  }

  async renew(epoch: number): Promise<ElectionEvent> {
    const sentAt = this.clock();
    const value = this.values.get(epoch);
    if (value === undefined)
      return this.failed("renew", sentAt, new Error(`no lease value for epoch ${epoch}`));
    try {
      const [code, detail] = await this.redis.fulcrumLeaseRenew(
        this.keys.lease,
        this.keys.epoch,
        value,
        this.leaseTime,
        epoch,
      );
      if (code === 1 || code === 2) return { type: "lease-renewed", epoch, sentAt };
      if (code === 0) return { type: "lease-lost", epoch, sentAt, holder: parseHolder(detail) };
      return { type: "lease-lost", epoch, sentAt, topEpoch: Number(detail) };
    } catch (err) {
      return this.failed("renew", sentAt, err);
    }
  }

  async release(epoch: number): Promise<ElectionEvent> {
    const sentAt = this.clock();
    const value = this.values.get(epoch);
    if (value === undefined) return { type: "lease-released", epoch, released: false };
    try {
      const n = await this.redis.fulcrumLeaseRelease(this.keys.lease, value);
      return { type: "lease-released", epoch, released: n === 1 };
    } catch (err) {
      return this.failed("release", sentAt, err);
    }
  }

  /** Compare-and-delete on holder name AND epoch: clears a dead holder's lease, nothing else. */
  async clear(node: string, epoch: number): Promise<ElectionEvent> {
    const sentAt = this.clock();
    try {
      const n = await this.redis.fulcrumLeaseClear(this.keys.lease, node, epoch);
      return { type: "lease-cleared", node, epoch, cleared: n === 1 };
    } catch (err) {
      return this.failed("clear", sentAt, err);
    }
  }

  async ping(): Promise<ElectionEvent> {
    const sentAt = this.clock();
    try {
      await this.redis.ping();
      return { type: "redis-up" };
    } catch (err) {
      return this.failed("ping", sentAt, err);
    }
  }

  /** The current holder and its remaining time, for `show ha` and tests. */
  async read(): Promise<{ holder: LeaseHolder | undefined; ttl: number; epoch: number } | undefined> {
    const [[, value], [, ttl], [, epoch]] = (await this.redis
      .multi()
      .get(this.keys.lease)
      .pttl(this.keys.lease)
      .get(this.keys.epoch)
      .exec()) as [[unknown, string | null], [unknown, number], [unknown, string | null]];
    if (value === null) return undefined;
    return { holder: parseHolder(value), ttl, epoch: Number(epoch ?? 0) };
  }

  private forgetOld(epoch: number): void {
    for (const e of this.values.keys()) if (e < epoch - 4) this.values.delete(e);
  }
}
