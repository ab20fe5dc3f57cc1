/**
 * Issue 6 with real nodes: two `fulcrum proxy -db -f pair.cfg -L lbN` processes, one
 * redis-server, `takeover bind` on one service port. Each failover runs under a client load
 * (a request every 10 ms on a fresh connection); each step asserts who is active from both
 * stats pages, and each test ends by checking from both logs that no two processes ever
 * served as MASTER at once. Gaps are asserted as an order of magnitude only: the figures are
 * bench/failover's.
 */
import { existsSync } from "node:fs";
import { Agent } from "node:http";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { CLI, waitFor } from "../helpers/index.js";
import { activePair, ask, assertOrderlyHandOver, get, lastEpoch, load, tally } from "./pair-harness.js";

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
});

describe("HA pair of real proxy nodes: failover (takeover bind, one host)", () => {
  it("SIGKILL of the MASTER: the BACKUP proves it dead and takes the service over", async () => {
    const pair = await activePair();
    const c = load(pair.servicePort);
    await c.served("lb1", 10);
    const at = pair.signal("lb1", "SIGKILL");
    await c.served("lb2", 10, at);
    expect(await pair.ended("lb1")).toBe("SIGKILL");
    await pair.expectRoles({ lb2: "MASTER" });
    await c.stop();
    expect(pair.node("lb2").log()).toMatch(
      /lb1 \(pid \d+\) is gone: pid \d+ with start time \d+ no longer exists; clearing its lease/,
    );
    expect(c.answers.filter((a) => a.lb === "lb1" && a.at > at)).toEqual([]);
    // Proof of death, not lease expiry: an order of magnitude (the figure is bench/failover's).
    expect(c.longestGap(at)).toBeLessThan(1000);
    pair.assertNeverTwoMasters();
  });

  it("SIGSTOP of the MASTER with fence kill: the BACKUP takes the lease once it expires, kills the frozen node, binds", async () => {
    const pair = await activePair({ fence: "kill" });
    const c = load(pair.servicePort);
    await c.served("lb1", 10);
    const at = pair.signal("lb1", "SIGSTOP");
    await c.served("lb2", 10, at);
    expect(await pair.ended("lb1")).toBe("SIGKILL");
    await pair.expectRoles({ lb2: "MASTER" });
    await c.stop();
    expect(pair.node("lb2").log()).toMatch(/fenced lb1: sent SIGKILL to pid \d+/);
    // A frozen node answers nothing; what reached its socket during the freeze is reset.
    expect(c.answers.filter((a) => a.lb === "lb1" && a.at > at)).toEqual([]);
    expect(c.longestGap(at)).toBeLessThan(2000);
    pair.assertNeverTwoMasters();
  });

  it("SIGSTOP then SIGCONT with fence off: the woken node steps down without serving, then the new MASTER binds", async () => {
    const pair = await activePair({ fence: "off" });
    const c = load(pair.servicePort);
    await c.served("lb1", 10);
    const at = pair.signal("lb1", "SIGSTOP");
    await waitFor(() => /BACKUP -> MASTER/.test(pair.node("lb2").log()), {
      what: "lb2 to acquire the lease",
    });
    // lb2 holds the lease but cannot bind: the frozen lb1 still holds the service port.
    await waitFor(() => /cannot bind the frontends/.test(pair.node("lb2").log()), {
      what: "lb2 to retry binding",
    });
    expect(c.answers.filter((a) => a.lb === "lb2")).toEqual([]);
    expect((await pair.view("lb2")).role).toBe("MASTER");
    pair.node("lb1").proc.kill("SIGCONT");
    await c.served("lb2", 10, at);
    await pair.expectRoles({ lb1: "BACKUP", lb2: "MASTER" });
    await c.stop();
    expect(c.answers.filter((a) => a.lb === "lb1" && a.at > at)).toEqual([]);
    expect(pair.node("lb1").log()).toMatch(/MASTER -> (FAULT|BACKUP): stepped down/);
    pair.assertNeverTwoMasters();
  });

  it("SIGUSR1 of the MASTER: graceful hand-over, in-flight requests finish, no request already sent fails", async () => {
    const pair = await activePair();
    const c = load(pair.servicePort);
    await c.served("lb1", 10);
    // An idle keep-alive connection, and a slow request in flight on lb1 when the signal comes.
    const agent = new Agent({ keepAlive: true });
    onTestFinished(() => agent.destroy());
    expect(await get(pair.servicePort, "/", {}, 1000, agent)).toMatchObject({ status: 200 });
    const slow = ask(pair.servicePort, "/slow?_delay=400", {}, 3000);
    await waitFor(() => pair.web.some((w) => w.requests.some((r) => r.startsWith("GET /slow"))), {
      what: "the slow request to reach a server",
    });
    const at = pair.signal("lb1", "SIGUSR1");
    await c.served("lb2", 10, at);
    // It exits once the slow request is answered, not when the idle connection times out (10 s).
    expect(await pair.ended("lb1", 3000)).toBe(0);
    await pair.expectRoles({ lb2: "MASTER" });
    await c.stop();
    expect(await slow).toMatchObject({ kind: "ok", lb: "lb1" });
    assertOrderlyHandOver(pair.history[0]!, c.sentAndFailed());
    const [old, now] = [lastEpoch(pair.history[0]!), lastEpoch(pair.node("lb2"))];
    expect(now).toBeGreaterThan(old);
    expect(pair.history[0]!.log()).toContain(
      `stopped (graceful): released the lease at epoch ${old}; told the peer`,
    );
    expect(pair.node("lb2").log()).toContain(
      `BACKUP -> MASTER: promoted to MASTER: acquired the lease at epoch ${now}`,
    );
    expect(c.longestGap(at)).toBeLessThan(1000);
    pair.assertNeverTwoMasters();
  });

  it("SIGTERM of the MASTER: it releases the lease and tells its peer, then exits at once", async () => {
    const pair = await activePair();
    const c = load(pair.servicePort);
    await c.served("lb1", 10);
    const at = pair.signal("lb1", "SIGTERM");
    expect(await pair.ended("lb1", 2000)).toBe(0);
    await c.served("lb2", 10, at);
    await pair.expectRoles({ lb2: "MASTER" });
    await c.stop();
    const old = lastEpoch(pair.history[0]!);
    expect(pair.history[0]!.log()).toContain(
      `stopped (fast): released the lease at epoch ${old}; told the peer`,
    );
    expect(pair.node("lb2").log()).toContain(`lb1 released the lease at epoch ${old}`);
    expect(c.longestGap(at)).toBeLessThan(1000);
    pair.assertNeverTwoMasters();
  });

  it("preempt on: the higher-priority node that comes back takes the service over by an orderly hand-over", async () => {
    const pair = await activePair({ preempt: "on" });
    const c = load(pair.servicePort);
    await c.served("lb1", 10);
    const killed = pair.signal("lb1", "SIGKILL");
    await pair.ended("lb1");
    await c.served("lb2", 10, killed);
    await pair.expectRoles({ lb2: "MASTER" });
    const back = Date.now();
    await pair.start("lb1");
    await c.served("lb1", 10, back);
    await pair.expectRoles({ lb1: "MASTER", lb2: "BACKUP" });
    await c.stop();
    const released = lastEpoch(pair.node("lb2"));
    expect(pair.node("lb2").log()).toContain(
      "MASTER -> BACKUP: handing over to lb1: preempt on, its priority 150 is above 100",
    );
    expect(pair.node("lb1").log()).toMatch(
      /BACKUP -> MASTER: promoted to MASTER: acquired the lease at epoch \d+ \(lb2 is BACKUP\)/,
    );
    expect(lastEpoch(pair.node("lb1"))).toBeGreaterThan(released);
    // The hand-over is orderly: no request the client had sent fails.
    assertOrderlyHandOver(
      pair.node("lb2"),
      c.after(back).filter((a) => a.kind !== "ok" && a.kind !== "refused"),
    );
    pair.assertNeverTwoMasters();
  });

  it("preempt off: the higher-priority node that comes back stays BACKUP", async () => {
    const pair = await activePair({ preempt: "off" });
    const c = load(pair.servicePort);
    await c.served("lb1", 10);
    const killed = pair.signal("lb1", "SIGKILL");
    await pair.ended("lb1");
    await c.served("lb2", 10, killed);
    await pair.start("lb1");
    await pair.expectRoles({ lb1: "BACKUP", lb2: "MASTER" });
    const settled = Date.now();
    // A full second of adverts from both sides, and the MASTER stays where it is.
    await c.served("lb2", 60, settled);
    await pair.expectRoles({ lb1: "BACKUP", lb2: "MASTER" });
    await c.stop();
    expect(c.after(settled).filter((a) => a.kind !== "ok" || a.lb !== "lb2")).toEqual([]);
    expect(pair.node("lb1").log()).not.toMatch(/-> MASTER/);
    pair.assertNeverTwoMasters();
  });

  it("Redis killed for seconds under load: the MASTER keeps serving on its peer's acknowledgements, no request fails", async () => {
    const pair = await activePair();
    const c = load(pair.servicePort, { maxMs: 20_000 });
    await c.served("lb1", 10);
    const down = Date.now();
    pair.redis.proc.kill("SIGKILL");
    await pair.expectRoles({ lb1: "MASTER", lb2: "FAULT" });
    // Three seconds without Redis (300 answers at one every 10 ms).
    await c.served("lb1", 300, down, 10_000);
    await pair.expectRoles({ lb1: "MASTER", lb2: "FAULT" });
    await pair.redis.restart();
    const up = Date.now();
    await pair.expectRoles({ lb1: "MASTER", lb2: "BACKUP" });
    await c.served("lb1", 10, up);
    await c.stop();
    expect(c.failed(), JSON.stringify(tally(c.answers))).toEqual([]);
    expect(c.answers.every((a) => a.lb === "lb1")).toBe(true);
    const periods = pair.assertNeverTwoMasters();
    expect(periods.map((p) => p.node.split("/")[0])).toEqual(["lb1"]);
    console.log(`redis outage ${up - down} ms: longest gap ${Math.round(c.longestGap(down))} ms`);
  });
});
