/**
 * The HA loop in real processes (test/ha/fixtures/ha-node.mjs: the compiled HA loop driving a
 * minimal HTTP frontend on a shared service port, `takeover bind`), against a real Redis:
 * SIGKILL, SIGSTOP/SIGCONT with and without `fence kill`, SIGUSR1 and SIGTERM hand-over.
 * A client sends a request every 10 ms and records who answered. Each node logs its MASTER
 * periods; the test checks that they never overlap.
 *
 * Needs `npm run build` first (dist/ha), like the CLI tests.
 */
import { existsSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { HaModel } from "../../proxy/config/model.js";
import {
  freePort,
  isGone,
  type Proc,
  type RedisServer,
  ROOT,
  spawnProc,
  startRedis,
  waitFor,
} from "../helpers/index.js";

const FIXTURE = join(ROOT, "test/ha/fixtures/ha-node.mjs");

let redis: RedisServer;

beforeAll(async () => {
  if (!existsSync(join(ROOT, "dist/ha/node-driver.js"))) {
    throw new Error("dist/ha/node-driver.js is missing: run `npm run build` first");
  }
  redis = await startRedis();
});

afterAll(async () => {
  await redis.stop();
});

let seq = 0;

interface Topology {
  model: HaModel;
  servicePort: number;
}

async function topology(o: { leaseTime?: number; fence?: "kill" | "off" } = {}): Promise<Topology> {
  seq += 1;
  const loc = { file: "test.cfg", line: 1 };
  return {
    model: {
      name: `proc${seq}-${process.pid}`,
      redis: { kind: "url", url: redis.url },
      keepBound: [],
      peers: [
        { name: "lb1", host: "127.0.0.1", port: await freePort(), priority: 150, loc },
        { name: "lb2", host: "127.0.0.1", port: await freePort(), priority: 100, loc },
      ],
      advertInterval: 100,
      leaseTime: o.leaseTime ?? 300,
      preempt: { on: false, delay: 0 },
      takeover: { kind: "bind" },
      fence: o.fence ?? "kill",
      localPeer: "lb1",
      loc,
    },
    servicePort: await freePort(),
  };
}

async function startNode(t: Topology, name: string): Promise<Proc> {
  const proc = spawnProc(process.execPath, [FIXTURE], {
    env: {
      HA_MODEL: JSON.stringify({ ...t.model, localPeer: name }),
      HA_SERVICE_PORT: String(t.servicePort),
      // The machine is shared with other test runs: scheduling noise is not a dangerous stall.
      HA_TUNING: JSON.stringify({ stallThreshold: 250 }),
    },
  });
  onTestFinished(() => proc.stop(1000));
  await waitFor(() => proc.stdout().includes(" ready\n"), { what: `${name} to start`, timeout: 10_000 });
  return proc;
}

/** One request; resolves with who answered or "error". */
function ask(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/", agent: false, timeout: 500 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve(body));
      res.on("error", () => resolve("error"));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve("error"));
    req.end();
  });
}

/** A client sending a request every 10 ms (at most one in flight), recording each answer. */
function client(port: number) {
  const seen: { at: number; who: string }[] = [];
  let running = true;
  const loop = (async () => {
    for (let i = 0; running && i < 5000; i++) {
      const at = Date.now();
      seen.push({ at, who: await ask(port) });
      const wait = 10 - (Date.now() - at);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  onTestFinished(async () => {
    running = false;
    await loop;
  });
  return {
    seen,
    async stop() {
      running = false;
      await loop;
    },
    /** Longest stretch without a successful answer. */
    longestGap(from = 0): number {
      let gap = 0;
      let lastOk = from;
      for (const s of seen) {
        if (s.at < from || s.who === "error") continue;
        gap = Math.max(gap, s.at - lastOk);
        lastOk = s.at;
      }
      return gap;
    },
  };
}

interface Period {
  node: string;
  from: number;
  to: number;
}

/** MASTER periods from a node's log; a period still open ends at `end`. */
function periods(node: string, proc: Proc, end: number): Period[] {
  const out: Period[] = [];
  for (const line of proc.stdout().split("\n")) {
    const start = line.match(/serving as MASTER from (\d+)/);
    if (start !== null && !line.includes("stopped serving")) {
      out.push({ node, from: Number(start[1]), to: end });
      continue;
    }
    const stop = line.match(/stopped serving as MASTER at (\d+) \(served from (\d+)/);
    const last = out.at(-1);
    if (stop !== null && last !== undefined && last.from === Number(stop[2])) last.to = Number(stop[1]);
  }
  return out;
}

function assertNeverTwoMasters(ps: Period[]): void {
  for (const a of ps) {
    for (const b of ps) {
      if (a.node < b.node && a.from < b.to && b.from < a.to) {
        throw new Error(`two MASTERs at once: ${JSON.stringify(a)} and ${JSON.stringify(b)}`);
      }
    }
  }
}

const answeredBy = (c: ReturnType<typeof client>, who: string, after = 0) =>
  c.seen.some((s) => s.at >= after && s.who === who);

async function activePair(o: { leaseTime?: number; fence?: "kill" | "off" } = {}) {
  const t = await topology(o);
  const lb1 = await startNode(t, "lb1");
  const lb2 = await startNode(t, "lb2");
  await waitFor(async () => (await ask(t.servicePort)) === "lb1", { what: "lb1 to serve", timeout: 10_000 });
  await waitFor(() => lb2.stdout().includes("INIT -> BACKUP"), { what: "lb2 BACKUP" });
  return { t, lb1, lb2 };
}

describe("HA with real processes on one host (takeover bind)", () => {
  it("SIGKILL of the MASTER: the BACKUP proves it dead and takes over within a fraction of a second", async () => {
    const { t, lb1, lb2 } = await activePair({ leaseTime: 3000 });
    const c = client(t.servicePort);
    await waitFor(() => answeredBy(c, "lb1"), { what: "the client to reach lb1" });
    const killedAt = Date.now();
    lb1.kill("SIGKILL");
    await waitFor(() => answeredBy(c, "lb2", killedAt), { what: "lb2 to answer", timeout: 5000 }).catch(
      (err) => {
        throw new Error(`${err.message}\nlb2:\n${lb2.stdout()}`);
      },
    );
    await c.stop();
    // Proof of death, not lease expiry (3 s): an order of magnitude is what a test may assert.
    expect(c.longestGap(killedAt - 50)).toBeLessThan(1000);
    expect(lb2.stdout()).toMatch(/lb1 \(pid \d+\) is gone: pid \d+ with start time \d+ no longer exists/);
    assertNeverTwoMasters([...periods("lb1", lb1, killedAt), ...periods("lb2", lb2, Date.now())]);
  });

  it("SIGUSR1 of the MASTER: orderly hand-over, the peer takes over without waiting for the lease", async () => {
    const { t, lb1, lb2 } = await activePair({ leaseTime: 3000 });
    const c = client(t.servicePort);
    await waitFor(() => answeredBy(c, "lb1"), { what: "the client to reach lb1" });
    const at = Date.now();
    lb1.kill("SIGUSR1");
    expect(await lb1.exited).toBe(0);
    await waitFor(() => answeredBy(c, "lb2", at), { what: "lb2 to answer", timeout: 5000 });
    await c.stop();
    expect(c.longestGap(at - 50)).toBeLessThan(1000);
    expect(lb1.stdout()).toMatch(/stopped \(graceful\): released the lease at epoch \d+; told the peer/);
    assertNeverTwoMasters([...periods("lb1", lb1, Date.now()), ...periods("lb2", lb2, Date.now())]);
  });

  it("SIGTERM of the MASTER: it releases the lease and tells its peer, then exits at once", async () => {
    const { t, lb1, lb2 } = await activePair({ leaseTime: 3000 });
    const at = Date.now();
    lb1.kill("SIGTERM");
    expect(await lb1.exited).toBe(0);
    await waitFor(async () => (await ask(t.servicePort)) === "lb2", { what: "lb2 to serve", timeout: 5000 });
    expect(Date.now() - at).toBeLessThan(2000);
    expect(lb1.stdout()).toMatch(/stopped \(fast\): released the lease/);
    assertNeverTwoMasters([...periods("lb1", lb1, Date.now()), ...periods("lb2", lb2, Date.now())]);
  });

  it("SIGSTOP of the MASTER with fence kill: the BACKUP waits for the lease, kills the frozen process, takes over", async () => {
    const { t, lb1, lb2 } = await activePair({ fence: "kill" });
    const c = client(t.servicePort);
    await waitFor(() => answeredBy(c, "lb1"), { what: "the client to reach lb1" });
    const frozenAt = Date.now();
    lb1.kill("SIGSTOP");
    await waitFor(() => answeredBy(c, "lb2", frozenAt), { what: "lb2 to answer", timeout: 5000 });
    expect(await lb1.exited).toBe("SIGKILL");
    await c.stop();
    expect(lb2.stdout()).toMatch(
      /fenced lb1: sent SIGKILL to pid \d+: lb1 \(pid \d+\) last advertised MASTER/,
    );
    expect(c.seen.filter((s) => s.at > frozenAt + 50 && s.who === "lb1")).toEqual([]);
    assertNeverTwoMasters([...periods("lb1", lb1, frozenAt), ...periods("lb2", lb2, Date.now())]);
  });

  it("SIGSTOP then SIGCONT with fence off: the woken node steps down without serving, then the BACKUP binds", async () => {
    const { t, lb1, lb2 } = await activePair({ fence: "off" });
    const c = client(t.servicePort);
    await waitFor(() => answeredBy(c, "lb1"), { what: "the client to reach lb1" });
    const frozenAt = Date.now();
    lb1.kill("SIGSTOP");
    await waitFor(() => lb2.stdout().includes("BACKUP -> MASTER"), { what: "lb2 to acquire", timeout: 5000 });
    // lb2 holds the lease but cannot bind: the frozen process still holds the port.
    await waitFor(() => lb2.stdout().includes("cannot bind the frontends"), { what: "lb2's bind to fail" });
    expect(lb2.stdout()).toMatch(/not fencing: lb1 .*fence is off/);
    const wokeAt = Date.now();
    lb1.kill("SIGCONT");
    await waitFor(() => answeredBy(c, "lb2", wokeAt), { what: "lb2 to answer", timeout: 5000 });
    await c.stop();
    expect(isGone(lb1.pid)).toBe(false);
    expect(lb1.stdout()).toMatch(/MASTER -> (BACKUP|FAULT): stepped down/);
    // Nothing answered as lb1 after it froze: the gate was shut when it woke.
    expect(c.seen.filter((s) => s.at > frozenAt + 50 && s.who === "lb1")).toEqual([]);
    assertNeverTwoMasters([...periods("lb1", lb1, Date.now()), ...periods("lb2", lb2, Date.now())]);
  });

  it("the old active restarted with preempt off stays BACKUP and the service keeps answering", async () => {
    const { t, lb1, lb2 } = await activePair({ leaseTime: 1000 });
    lb1.kill("SIGKILL");
    await waitFor(async () => (await ask(t.servicePort)) === "lb2", { what: "lb2 to serve", timeout: 5000 });
    const again = await startNode(t, "lb1");
    await waitFor(() => again.stdout().includes("INIT -> BACKUP"), {
      what: "the new lb1 BACKUP",
      timeout: 5000,
    });
    const c = client(t.servicePort);
    await new Promise((r) => setTimeout(r, 500));
    await c.stop();
    expect(c.seen.every((s) => s.who === "lb2")).toBe(true);
    assertNeverTwoMasters([...periods("lb2", lb2, Date.now()), ...periods("lb1", again, Date.now())]);
  });
});
