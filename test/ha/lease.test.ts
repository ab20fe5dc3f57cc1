import { performance } from "node:perf_hooks";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { ElectionEvent, LeaseHolder } from "../../ha/election.js";
import { LeaseClient } from "../../ha/lease.js";
import { createRedis, haKeys } from "../../ha/redis.js";
import { type RedisServer, startRedis, waitFor } from "../helpers/index.js";

let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis.stop();
});

let sectionSeq = 0;

async function connect(): Promise<Redis> {
  const client = createRedis({ kind: "url", url: redis.url }, { commandTimeout: 1000 });
  await client.connect();
  onTestFinished(() => client.disconnect());
  return client;
}

const holder = (node: string): Omit<LeaseHolder, "epoch"> => ({
  node,
  inc: `inc-${node}-${sectionSeq}`,
  pid: 4242,
  start: 99,
  host: "host-a",
  boot: "boot-1",
});

/** Two nodes of one fresh ha section, each with its own connection. */
async function pair(leaseTime = 2000) {
  sectionSeq += 1;
  const keys = haKeys(`lease-test-${sectionSeq}`);
  const a = new LeaseClient(await connect(), { keys, leaseTime, holder: holder("lb1") });
  const b = new LeaseClient(await connect(), { keys, leaseTime, holder: holder("lb2") });
  return { a, b, keys };
}

function epochOf(e: ElectionEvent): number {
  if (e.type !== "lease-acquired") throw new Error(`expected lease-acquired, got ${JSON.stringify(e)}`);
  return e.epoch;
}

describe("the lease in a real Redis", () => {
  it("two nodes racing for the lease: exactly one acquires, each acquisition a new epoch", async () => {
    const { a, b } = await pair();
    let last = 0;
    for (let round = 0; round < 20; round++) {
      const results = await Promise.all([a.acquire(0), b.acquire(0)]);
      const won = results.filter((r) => r.type === "lease-acquired");
      const lost = results.filter((r) => r.type === "lease-held");
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      const epoch = epochOf(won[0]!);
      expect(epoch).toBe(last + 1);
      const held = lost[0] as Extract<ElectionEvent, { type: "lease-held" }>;
      expect(held.holder?.epoch).toBe(epoch);
      const winner = results[0]!.type === "lease-acquired" ? a : b;
      expect((await winner.release(epoch)).type).toBe("lease-released");
      last = epoch;
    }
  });

  it("the lease value names the holder's process: node, pid, start time, host and boot id", async () => {
    const { a, b } = await pair();
    const epoch = epochOf(await a.acquire(0));
    const seen = await b.acquire(0);
    expect(seen).toMatchObject({
      type: "lease-held",
      holder: { node: "lb1", epoch, pid: 4242, start: 99, host: "host-a", boot: "boot-1" },
    });
  });

  it("compare-and-renew extends the holder's lease", async () => {
    const { a } = await pair(300);
    const epoch = epochOf(await a.acquire(0));
    let renewedAt = 0;
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      expect(await a.renew(epoch)).toMatchObject({ type: "lease-renewed", epoch });
      renewedAt = Date.now();
    }
    const now = await a.read();
    // Still held after five lease periods' worth of renews, with a fresh lease: what is left
    // of it is the lease time less the time since the last renew (a loaded machine may take
    // a while between the two calls).
    expect(now?.holder?.epoch).toBe(epoch);
    expect(now?.ttl).toBeGreaterThan(300 - (Date.now() - renewedAt) - 50);
  });

  it("a renew after the lease expired and the peer took it is refused, naming the new holder", async () => {
    const { a, b } = await pair(150);
    const epoch = epochOf(await a.acquire(0));
    const taken = await waitFor(
      async () => {
        const r = await b.acquire(0);
        return r.type === "lease-acquired" ? r : undefined;
      },
      { timeout: 3000, what: "lb2 to take the expired lease" },
    );
    expect(taken.epoch).toBe(epoch + 1);
    expect(await a.renew(epoch)).toMatchObject({
      type: "lease-lost",
      epoch,
      holder: { node: "lb2", epoch: epoch + 1 },
    });
  });

  it("a renew after the key vanished re-creates it when no newer epoch was issued", async () => {
    const { a, b, keys } = await pair();
    const epoch = epochOf(await a.acquire(0));
    const raw = await connect();
    await raw.del(keys.lease);
    expect(await a.renew(epoch)).toMatchObject({ type: "lease-renewed", epoch });
    expect((await b.acquire(0)).type).toBe("lease-held");
  });

  it("a renew refuses to re-create the key once a newer epoch was issued", async () => {
    const { a, b, keys } = await pair();
    const epoch = epochOf(await a.acquire(0));
    const raw = await connect();
    await raw.del(keys.lease);
    const next = epochOf(await b.acquire(0));
    await b.release(next);
    expect(await a.renew(epoch)).toMatchObject({ type: "lease-lost", epoch, topEpoch: next });
  });

  it("a release lets the other node acquire at once, long before the lease would expire", async () => {
    const { a, b } = await pair(60_000);
    const epoch = epochOf(await a.acquire(0));
    expect((await b.acquire(0)).type).toBe("lease-held");
    expect(await a.release(epoch)).toEqual({ type: "lease-released", epoch, released: true });
    expect(epochOf(await b.acquire(0))).toBe(epoch + 1);
  });

  it("a release by a node that no longer holds the lease deletes nothing", async () => {
    const { a, b, keys } = await pair();
    const epoch = epochOf(await a.acquire(0));
    const raw = await connect();
    await raw.del(keys.lease);
    const next = epochOf(await b.acquire(0));
    expect(await a.release(epoch)).toEqual({ type: "lease-released", epoch, released: false });
    expect((await b.read())?.holder?.epoch).toBe(next);
  });

  it("clearing a dead holder's lease compares holder AND epoch", async () => {
    const { a, b } = await pair(60_000);
    const epoch = epochOf(await a.acquire(0));
    expect(await b.clear("lb1", epoch + 1)).toMatchObject({ cleared: false });
    expect(await b.clear("lb2", epoch)).toMatchObject({ cleared: false });
    expect((await b.read())?.holder?.node).toBe("lb1");
    expect(await b.clear("lb1", epoch)).toEqual({ type: "lease-cleared", node: "lb1", epoch, cleared: true });
    expect(epochOf(await b.acquire(0))).toBe(epoch + 1);
  });

  it("every call records when it was sent, on the monotonic clock", async () => {
    const { a } = await pair();
    const before = performance.now();
    const r = await a.acquire(0);
    const after = performance.now();
    const sentAt = (r as { sentAt: number }).sentAt;
    expect(sentAt).toBeGreaterThanOrEqual(before);
    expect(sentAt).toBeLessThanOrEqual(after);
  });
});

describe("the lease when Redis restarts", () => {
  it("Redis down: lease calls fail at once with a redis-error (nothing queued behind a reconnection)", async () => {
    const { a } = await pair();
    await redis.proc.stop();
    try {
      const t0 = performance.now();
      const r = await a.acquire(0);
      expect(r.type).toBe("redis-error");
      expect(performance.now() - t0).toBeLessThan(1500);
    } finally {
      await redis.restart();
    }
    await waitFor(async () => (await a.acquire(0)).type === "lease-acquired", {
      timeout: 5000,
      what: "the lease client to reconnect",
    });
  });

  it("after Redis lost its data, a new acquisition still gets an epoch above every epoch seen", async () => {
    const { a, b } = await pair();
    const epoch = epochOf(await a.acquire(40));
    expect(epoch).toBe(41);
    await redis.restart();
    const again = await waitFor(
      async () => {
        const r = await b.acquire(epoch);
        return r.type === "lease-acquired" ? r : undefined;
      },
      { timeout: 5000, what: "an acquisition after the restart" },
    );
    expect(again.epoch).toBe(42);
    // The old holder's renew (once its connection is back) sees that a newer epoch exists.
    const renewed = await waitFor(
      async () => {
        const r = await a.renew(epoch);
        return r.type === "redis-error" ? undefined : r;
      },
      { timeout: 5000, what: "lb1's connection to come back" },
    );
    expect(renewed).toMatchObject({ type: "lease-lost", holder: { node: "lb2", epoch: 42 } });
  });
});
