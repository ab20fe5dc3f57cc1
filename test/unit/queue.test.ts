/**
 * The maxconn wait queues: fair FIFO per server and per backend, slots handed over on release
 * (never freed while someone waits), `timeout queue` expiry, redispatch of a DOWN server's
 * waiters. Pure core with a fake clock.
 */
import { describe, expect, it } from "vitest";
import { WaitQueues } from "../../proxy/queue/queue.js";
import type { ServerRuntime } from "../../proxy/state.js";
import { backendRuntime, proxyModel, serverModel } from "./stats-fixture.js";

function setup(maxconn = 1, opts: { maxqueue?: number; timeout?: number } = {}) {
  const servers = ["A", "B"].map((name, i) =>
    serverModel({ name, id: i + 1, maxconn, maxqueue: opts.maxqueue ?? 0 }),
  );
  const be = backendRuntime(proxyModel({ name: "be", id: 1, kind: "backend", servers }));
  const calls: string[] = [];
  const q = new WaitQueues<string>(be, {
    timeoutMs: opts.timeout ?? 1000,
    balancer: {
      taken: (s) => calls.push(`+${s.cfg.name}`),
      released: (s) => calls.push(`-${s.cfg.name}`),
    },
  });
  const [a, b] = be.servers as [ServerRuntime, ServerRuntime];
  return { be, q, a, b, calls };
}

describe("maxconn slots", () => {
  it("a server takes requests up to its maxconn, then has no room", () => {
    const { q, a } = setup(2);
    expect(q.acquire(a)).toBe(true);
    expect(q.acquire(a)).toBe(true);
    expect(q.acquire(a)).toBe(false);
    expect(a.active).toBe(2);
  });

  it("maxconn 0 means no limit", () => {
    const { q, a } = setup(0);
    for (let i = 0; i < 100; i++) expect(q.acquire(a)).toBe(true);
  });

  it("a release with nobody waiting frees the slot and tells the balancer", () => {
    const { q, a, calls } = setup(1);
    q.acquire(a);
    expect(q.release(a)).toBeUndefined();
    expect(a.active).toBe(0);
    expect(calls).toEqual(["+A", "-A"]);
  });
});

describe("waiting for a slot", () => {
  it("a released slot goes to the oldest waiter of the server, in FIFO order, without freeing it", () => {
    const { q, a } = setup(1);
    q.acquire(a);
    const t1 = q.enqueue(a, 0, "r1")!;
    const t2 = q.enqueue(a, 1, "r2")!;
    expect(a.counters.qcur).toBe(2);
    expect(q.release(a)).toBe(t1);
    expect(t1.state).toBe("granted");
    expect(t1.server).toBe(a);
    expect(a.active).toBe(1);
    expect(q.release(a)).toBe(t2);
    expect(q.release(a)).toBeUndefined();
    expect(a.active).toBe(0);
    expect(a.counters.qmax).toBe(2);
  });

  it("a newcomer cannot overtake a waiter: no room while the server's queue is not empty", () => {
    const { q, a } = setup(1);
    q.acquire(a);
    q.enqueue(a, 0, "r1");
    a.active = 0; // even if a slot were free, the waiter comes first
    expect(q.hasRoom(a)).toBe(false);
  });

  it("the backend queue feeds whichever server frees a slot", () => {
    const { q, a, b, be } = setup(1);
    q.acquire(a);
    q.acquire(b);
    const t = q.enqueue(undefined, 0, "any")!;
    expect(be.counters.qcur).toBe(1);
    expect(q.release(b)).toBe(t);
    expect(t.server).toBe(b);
    expect(be.counters.qcur).toBe(0);
  });

  it("the oldest of the server queue and the backend queue goes first; a tie goes to the server queue", () => {
    const { q, a } = setup(1);
    q.acquire(a);
    const any = q.enqueue(undefined, 0, "any")!;
    const own = q.enqueue(a, 5, "own")!;
    expect(q.release(a)).toBe(any);
    expect(q.release(a)).toBe(own);
    const own2 = q.enqueue(a, 10, "own2")!;
    const any2 = q.enqueue(undefined, 10, "any2")!;
    expect(q.release(a)).toBe(own2);
    expect(q.release(a)).toBe(any2);
  });

  it("a drained or DOWN server takes nothing from the backend queue, only its own waiters", () => {
    const { q, a } = setup(1);
    q.acquire(a);
    const any = q.enqueue(undefined, 0, "any")!;
    a.admin = "drain";
    expect(q.release(a)).toBeUndefined();
    expect(any.state).toBe("waiting");
  });

  it("timeout queue: waiters expire in arrival order and leave the counters", () => {
    const { q, a, be } = setup(1, { timeout: 1000 });
    q.acquire(a);
    const t1 = q.enqueue(a, 0, "r1")!;
    const t2 = q.enqueue(undefined, 500, "r2")!;
    expect(q.nextDeadline()).toBe(1000);
    expect(q.expire(999)).toEqual([]);
    expect(q.expire(1000)).toEqual([t1]);
    expect(t1.state).toBe("expired");
    expect(q.nextDeadline()).toBe(1500);
    expect(q.expire(2000)).toEqual([t2]);
    expect(a.counters.qcur + be.counters.qcur).toBe(0);
    expect(q.nextDeadline()).toBeUndefined();
  });

  it("a cancelled waiter (client gone) leaves the queue at once", () => {
    const { q, a } = setup(1);
    q.acquire(a);
    const t1 = q.enqueue(a, 0, "r1")!;
    const t2 = q.enqueue(a, 1, "r2")!;
    q.cancel(t1);
    expect(t1.state).toBe("cancelled");
    expect(q.release(a)).toBe(t2);
  });

  it("maxqueue: a full server queue refuses more waiters", () => {
    const { q, a } = setup(1, { maxqueue: 1 });
    q.acquire(a);
    expect(q.enqueue(a, 0, "r1")).toBeDefined();
    expect(q.enqueue(a, 0, "r2")).toBeUndefined();
  });

  it("a server coming back fills its free slots from the queues", () => {
    const { q, a } = setup(2);
    const t1 = q.enqueue(undefined, 0, "r1")!;
    const t2 = q.enqueue(undefined, 1, "r2")!;
    q.enqueue(undefined, 2, "r3");
    expect(q.fill(a)).toEqual([t1, t2]);
    expect(a.active).toBe(2);
    expect(q.length()).toBe(1);
  });

  it("redispatch: a DOWN server's waiters leave its queue to be balanced again", () => {
    const { q, a } = setup(1);
    q.acquire(a);
    const t1 = q.enqueue(a, 0, "r1")!;
    expect(q.redistribute(a)).toEqual([t1]);
    expect(t1.state).toBe("redispatch");
    expect(q.length(a)).toBe(0);
  });

  it("100k waiters: expiry and release work from the heads (arrival order kept)", () => {
    const { q, a } = setup(1, { timeout: 10 });
    q.acquire(a);
    for (let i = 0; i < 100_000; i++) q.enqueue(i % 2 ? a : undefined, i, "r");
    expect(q.expire(50_000).length).toBe(49_991);
    let n = 0;
    while (q.release(a)) n++;
    expect(n).toBe(100_000 - 49_991);
  });
});
