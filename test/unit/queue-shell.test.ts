/**
 * The queue's timer shell: callbacks for granted slots, `timeout queue` expiry (503),
 * redispatch, maxqueue, and a cancelled waiter whose slot was already granted.
 */
import { describe, expect, it } from "vitest";
import { createBackendQueue } from "../../proxy/queue/waiter.js";
import type { ServerRuntime } from "../../proxy/state.js";
import { waitFor } from "../helpers/index.js";
import { backendRuntime, proxyModel, serverModel } from "./stats-fixture.js";

function setup(timeoutMs = 1000, maxqueue = 0) {
  const be = backendRuntime(
    proxyModel({
      name: "be",
      id: 1,
      kind: "backend",
      servers: [serverModel({ name: "A", id: 1, maxconn: 1, maxqueue })],
    }),
  );
  const { queues: q, shell } = createBackendQueue(be, { timeoutMs });
  const a = be.servers[0] as ServerRuntime;
  return { be, q, shell, a };
}

describe("waiting in the queue (timer shell)", () => {
  it("a waiter is called back with the server once a slot is released", async () => {
    const { q, shell, a } = setup();
    q.acquire(a);
    const got: string[] = [];
    shell.wait(a, (outcome, server) => got.push(`${outcome} ${server?.cfg.name}`));
    shell.release(a);
    await waitFor(() => got.length > 0);
    expect(got).toEqual(["granted A"]);
    expect(a.active).toBe(1);
    shell.stop();
  });

  it("timeout queue: the waiter is told 'expired' (HAProxy answers 503)", async () => {
    const { q, shell, a } = setup(30);
    q.acquire(a);
    const got: string[] = [];
    shell.wait(undefined, (outcome, _s, waited) => got.push(`${outcome} ${waited >= 25}`));
    await waitFor(() => got.length > 0, { timeout: 2000 });
    expect(got).toEqual(["expired true"]);
    expect(q.length()).toBe(0);
  });

  it("maxqueue reached: the waiter is told 'full' at once", async () => {
    const { q, shell, a } = setup(1000, 1);
    q.acquire(a);
    shell.wait(a, () => {});
    const got: string[] = [];
    shell.wait(a, (outcome) => got.push(outcome));
    await waitFor(() => got.length > 0);
    expect(got).toEqual(["full"]);
    shell.stop();
  });

  it("a DOWN server's waiters are told to balance again", async () => {
    const { q, shell, a } = setup();
    q.acquire(a);
    const got: string[] = [];
    shell.wait(a, (outcome) => got.push(outcome));
    expect(shell.redistribute(a)).toBe(1);
    await waitFor(() => got.length > 0);
    expect(got).toEqual(["redispatch"]);
    shell.stop();
  });

  it("a client gone after its slot was granted but before it was told gives the slot back", async () => {
    const { q, shell, a } = setup();
    q.acquire(a);
    const got: string[] = [];
    const cancel = shell.wait(a, (outcome) => got.push(outcome));
    shell.release(a);
    cancel();
    await new Promise((r) => queueMicrotask(() => r(undefined)));
    expect(got).toEqual([]);
    expect(a.active).toBe(0);
    shell.stop();
  });
});
