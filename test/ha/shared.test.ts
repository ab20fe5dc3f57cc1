import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { createRedis, type HaKeys, haKeys } from "../../ha/redis.js";
import { type AdminState, MemorySessionTable, SharedState } from "../../ha/shared.js";
import { type RedisServer, startRedis, waitFor } from "../helpers/index.js";

let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis.stop();
});

async function connect(subscriber = false): Promise<Redis> {
  const client = createRedis({ kind: "url", url: redis.url }, { commandTimeout: 1000, subscriber });
  await client.connect();
  onTestFinished(() => client.disconnect());
  return client;
}

let seq = 0;
const HOUR = 3_600_000;

interface NodeOpts {
  epoch?: () => number;
  active?: () => boolean;
  maxQueue?: number;
}

/** One node's shared state: its own command and subscriber connections, one backend table. */
async function node(keys: HaKeys, name: string, o: NodeOpts = {}) {
  const cmd = await connect();
  const sub = await connect(true);
  const logs: string[] = [];
  const shared = new SharedState({
    redis: cmd,
    keys,
    inc: `${name}-${seq}`,
    epoch: o.epoch ?? (() => 1),
    canWriteSessions: o.active ?? (() => true),
    maxQueue: o.maxQueue ?? 10_000,
    log: (_level, m) => logs.push(m),
  });
  onTestFinished(() => shared.stop());
  const inner = new MemorySessionTable(HOUR);
  const table = shared.sessionTable("app", inner, HOUR);
  const admin: [string, string, AdminState][] = [];
  const store = shared.adminStore((b, s, st) => admin.push([b, s, st]));
  await shared.follow(sub);
  return { shared, table, inner, store, admin, logs, cmd, sub };
}

function section(): HaKeys {
  seq += 1;
  return haKeys(`shared-test-${seq}`);
}

describe("shared learned-session table", () => {
  it("the active writes learned sessions through to Redis; reads never leave memory", async () => {
    const keys = section();
    const lb1 = await node(keys, "lb1");
    lb1.table.learn("ABC123", "web1", Date.now());
    expect(lb1.table.get("ABC123")).toBe("web1");
    const raw = await connect();
    await waitFor(async () => (await raw.hget(keys.sessions("app"), "ABC123")) !== null, {
      what: "the write",
    });
    expect(JSON.parse((await raw.hget(keys.sessions("app"), "ABC123"))!)).toMatchObject({ s: "web1" });
    expect(await raw.zscore(keys.sessionExpiry("app"), "ABC123")).not.toBeNull();
  });

  it("the standby follows the active's learned sessions over pub/sub", async () => {
    const keys = section();
    const lb1 = await node(keys, "lb1");
    const lb2 = await node(keys, "lb2", { active: () => false });
    for (let i = 0; i < 50; i++) lb1.table.learn(`S${i}`, i % 2 ? "web1" : "web2", Date.now());
    await waitFor(() => lb2.inner.size === 50, { what: "lb2 to follow 50 sessions" });
    expect(lb2.table.get("S7")).toBe("web1");
    lb1.table.delete("S7");
    await waitFor(() => lb2.table.get("S7") === undefined, { what: "the delete to reach lb2" });
  });

  it("the standby writes nothing, even if asked to", async () => {
    const keys = section();
    const lb2 = await node(keys, "lb2", { active: () => false });
    lb2.table.learn("X", "web1", Date.now());
    await lb2.shared.flush();
    const raw = await connect();
    expect(await raw.hlen(keys.sessions("app"))).toBe(0);
  });

  it("a write from an older epoch is refused by Redis (fencing of an old active)", async () => {
    const keys = section();
    const raw = await connect();
    await raw.set(keys.epoch, "8");
    const old = await node(keys, "lb1", { epoch: () => 7 });
    const current = await node(keys, "lb2", { epoch: () => 8 });
    old.table.learn("SID", "web1", Date.now());
    await waitFor(() => old.shared.stats.refused === 1, { what: "the refusal" });
    expect(old.logs.join("\n")).toMatch(/write of SID refused: epoch 7 is older than 8/);
    expect(await raw.hget(keys.sessions("app"), "SID")).toBeNull();
    current.table.learn("SID", "web2", Date.now());
    await waitFor(() => current.shared.stats.written === 1, { what: "the current epoch's write" });
    expect(JSON.parse((await raw.hget(keys.sessions("app"), "SID"))!).s).toBe("web2");
  });

  it("a node that (re)connects resyncs everything it missed while away", async () => {
    const keys = section();
    const lb1 = await node(keys, "lb1");
    const lb2 = await node(keys, "lb2", { active: () => false });
    lb2.sub.disconnect();
    await waitFor(() => lb2.sub.status === "end", { what: "lb2's subscriber to close" });
    for (let i = 0; i < 20; i++) lb1.table.learn(`M${i}`, "web1", Date.now());
    await lb1.shared.flush();
    await waitFor(() => lb1.shared.stats.written === 20, { what: "20 writes" });
    expect(lb2.inner.size).toBe(0);
    await lb2.sub.connect();
    await waitFor(() => lb2.inner.size === 20, { what: "lb2's resync" });
  });

  it("a new process starts with the sessions already in Redis", async () => {
    const keys = section();
    const lb1 = await node(keys, "lb1");
    lb1.table.learn("OLD", "web2", Date.now());
    await waitFor(() => lb1.shared.stats.written === 1, { what: "the write" });
    const restarted = await node(keys, "lb1-again", { active: () => false });
    await waitFor(() => restarted.table.get("OLD") === "web2", { what: "the resync at start" });
  });

  it("expired sessions are not resynced, and purge drops them from Redis", async () => {
    const keys = section();
    const raw = await connect();
    const past = Date.now() - 2 * HOUR;
    await raw.hset(keys.sessions("app"), "STALE", JSON.stringify({ s: "web1", t: past }));
    await raw.zadd(keys.sessionExpiry("app"), past + HOUR, "STALE");
    await raw.hset(keys.sessions("app"), "FRESH", JSON.stringify({ s: "web2", t: Date.now() }));
    await raw.zadd(keys.sessionExpiry("app"), Date.now() + HOUR, "FRESH");
    const lb1 = await node(keys, "lb1");
    await lb1.shared.resync();
    expect(lb1.table.get("STALE")).toBeUndefined();
    expect(lb1.table.get("FRESH")).toBe("web2");
    expect(await lb1.shared.purge()).toBe(1);
    expect(await raw.hkeys(keys.sessions("app"))).toEqual(["FRESH"]);
  });

  it("a followed session keeps the expiry it had on the active, not a fresh one", async () => {
    const keys = section();
    const lb1 = await node(keys, "lb1");
    let fake = 1_000_000;
    const inner = new MemorySessionTable(HOUR, () => fake);
    const lb2 = await node(keys, "lb2", { active: () => false });
    const table = lb2.shared.sessionTable("app", inner, HOUR, () => fake);
    // Learned on the active 10 minutes ago (its wall clock), followed now.
    table.applyRemote("AGED", "web1", Date.now() - 600_000);
    fake += HOUR - 600_000 - 1000;
    expect(inner.get("AGED")).toBe("web1");
    fake += 2000;
    expect(inner.get("AGED")).toBeUndefined();
    expect(lb1.shared.stats.refused).toBe(0);
  });

  it("touches are written sparingly, not on every request", async () => {
    const keys = section();
    const lb1 = await node(keys, "lb1");
    const t0 = Date.now();
    lb1.table.learn("T", "web1", t0);
    for (let i = 1; i <= 100; i++) lb1.table.touch("T", t0 + i);
    await lb1.shared.flush();
    await waitFor(() => lb1.shared.stats.written >= 1, { what: "the learn write" });
    expect(lb1.shared.stats.written).toBe(1);
    lb1.table.touch("T", t0 + HOUR / 4);
    await waitFor(() => lb1.shared.stats.written === 2, { what: "a touch write after a while" });
  });
});

describe("shared server admin state", () => {
  it("an admin change (drain) reaches the peer, which applies it", async () => {
    const keys = section();
    const lb1 = await node(keys, "lb1");
    const lb2 = await node(keys, "lb2", { active: () => false });
    lb1.store.set("app", "web1", "drain");
    await waitFor(() => lb2.admin.length === 1, { what: "lb2 to apply the change" });
    expect(lb2.admin).toEqual([["app", "web1", "drain"]]);
    expect(lb2.store.get("app", "web1")).toBe("drain");
    expect(lb1.admin).toEqual([]);
  });

  it("admin state survives a restart of either node", async () => {
    const keys = section();
    const lb1 = await node(keys, "lb1");
    lb1.store.set("app", "web2", "maint");
    await waitFor(() => lb1.shared.stats.written === 1, { what: "the write" });
    const fresh = await node(keys, "lb1-restarted");
    await waitFor(() => fresh.admin.length === 1, { what: "the resync at start" });
    expect(fresh.admin).toEqual([["app", "web2", "maint"]]);
  });
});

describe("shared state while Redis is away", () => {
  it("a write that fails on a connection still called ready is retried later, never in a loop that starves the event loop", async () => {
    const keys = section();
    const lb1 = await node(keys, "lb1");
    // The moment a connection breaks: the socket is gone, but the client learns it (status
    // and events) only on a later turn of the event loop. Writes made now fail at once.
    const stream = (lb1.cmd as unknown as { stream: { destroy(): void } }).stream;
    stream.destroy();
    expect(lb1.cmd.status).toBe("ready");
    lb1.table.learn("LOOP1", "web1", Date.now());
    lb1.table.learn("LOOP2", "web2", Date.now());
    // Timers still run (a loop of rejected promises would never let this one fire).
    const fired = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 2000);
      setTimeout(() => {
        clearTimeout(t);
        resolve(true);
      }, 20);
    });
    expect(fired).toBe(true);
    // And the writes land once the client has reconnected.
    const raw = await connect();
    await waitFor(async () => (await raw.hlen(keys.sessions("app"))) === 2, {
      what: "both writes",
      timeout: 5000,
    });
  });

  it("writes queue while Redis is down and are replayed with their epoch when it returns", async () => {
    const keys = section();
    const lb1 = await node(keys, "lb1");
    const raw = await connect();
    await redis.proc.stop();
    try {
      await waitFor(() => lb1.cmd.status !== "ready", { what: "the connection to drop" });
      for (let i = 0; i < 10; i++) lb1.table.learn(`Q${i}`, "web1", Date.now());
      lb1.store.set("app", "web1", "drain");
      expect(lb1.table.get("Q3")).toBe("web1");
      expect(lb1.shared.stats.queued).toBe(11);
    } finally {
      await redis.restart();
    }
    await waitFor(() => lb1.shared.stats.queued === 0, { timeout: 10_000, what: "the queue to drain" });
    expect(lb1.shared.stats.replayed).toBe(11);
    await waitFor(async () => (await raw.hlen(keys.sessions("app"))) === 10, {
      what: "10 sessions in Redis",
    });
    expect(await raw.hget(keys.admin, "app/web1")).toBe("drain");
    // Redis came back empty: the replayed writes restored the epoch counter.
    expect(await raw.get(keys.epoch)).toBe("1");
  });

  it("queued writes from an epoch overtaken while this node was cut off are refused on replay", async () => {
    const keys = section();
    const lb1 = await node(keys, "lb1", { epoch: () => 3 });
    const raw = await connect();
    // lb1 alone loses Redis (its connection closes); meanwhile epoch 9 is issued elsewhere.
    lb1.cmd.disconnect();
    await waitFor(() => lb1.cmd.status === "end", { what: "lb1's connection to close" });
    lb1.table.learn("LATE", "web1", Date.now());
    lb1.table.learn("LATER", "web1", Date.now());
    expect(lb1.shared.stats.queued).toBe(2);
    await raw.set(keys.epoch, "9");
    await lb1.cmd.connect();
    await waitFor(() => lb1.shared.stats.queued === 0 && lb1.shared.stats.refused === 2, {
      what: "the refused replay",
    });
    expect(await raw.hlen(keys.sessions("app"))).toBe(0);
    expect(lb1.shared.stats.replayed).toBe(0);
  });

  it("after Redis restarts, the standby is subscribed again and keeps following", async () => {
    const keys = section();
    const lb1 = await node(keys, "lb1");
    const lb2 = await node(keys, "lb2", { active: () => false });
    await redis.restart();
    await waitFor(() => lb1.cmd.status === "ready" && lb2.sub.status === "ready", {
      timeout: 10_000,
      what: "both nodes to reconnect",
    });
    await waitFor(
      async () => {
        lb1.table.learn("AFTER", "web2", Date.now());
        await new Promise((r) => setTimeout(r, 50));
        return lb2.table.get("AFTER") === "web2";
      },
      { timeout: 5000, what: "lb2 to follow a write made after the restart" },
    );
  });

  it("the write queue is bounded: the oldest writes are dropped and counted", async () => {
    const keys = section();
    const lb1 = await node(keys, "lb1", { maxQueue: 3 });
    await redis.proc.stop();
    try {
      await waitFor(() => lb1.cmd.status !== "ready", { what: "the connection to drop" });
      for (let i = 0; i < 5; i++) lb1.table.learn(`B${i}`, "web1", Date.now());
      // The same session learned again takes one slot, not two.
      lb1.table.learn("B4", "web2", Date.now());
      expect(lb1.shared.stats.queued).toBe(3);
      expect(lb1.shared.stats.dropped).toBe(2);
    } finally {
      await redis.restart();
    }
    await waitFor(() => lb1.shared.stats.queued === 0, { timeout: 10_000, what: "the queue to drain" });
    const raw = await connect();
    expect((await raw.hkeys(keys.sessions("app"))).sort()).toEqual(["B2", "B3", "B4"]);
    expect(JSON.parse((await raw.hget(keys.sessions("app"), "B4"))!).s).toBe("web2");
  });
});
