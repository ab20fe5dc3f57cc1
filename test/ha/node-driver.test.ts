/**
 * The HA loop (ha/node-driver.ts) with a real redis-server and a real peer link, two nodes in
 * this process. The proxy is replaced by a handle that records when the frontends were bound
 * and unbound (the proxy is not under test here; the HA loop is). Process deaths and signals
 * run against real child processes in ha-processes.test.ts.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { createHa, type HaNode, type ProxyHandle } from "../../ha/node-driver.js";
import { selfIdentity } from "../../ha/procinfo.js";
import { createRedis } from "../../ha/redis.js";
import { MemorySessionTable } from "../../ha/shared.js";
import type { HaModel } from "../../proxy/config/model.js";
import { freePort, type RedisServer, startRedis, waitFor } from "../helpers/index.js";

let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis.stop();
});

/** Records the MASTER periods the HA loop asks for. */
class RecordingHandle implements ProxyHandle {
  readonly periods: { from: number; to: number | undefined }[] = [];
  gate: () => boolean = () => false;
  bound = false;

  async bindFrontends(): Promise<void> {
    this.periods.push({ from: Date.now(), to: undefined });
    this.bound = true;
  }

  async unbindFrontends(): Promise<void> {
    const last = this.periods.at(-1);
    if (last !== undefined && last.to === undefined) last.to = Date.now();
    this.bound = false;
  }

  setServeGate(gate: () => boolean): void {
    this.gate = gate;
  }
}

/** A TCP relay the test can cut (both directions, no FIN: like a pulled cable) and heal. */
async function relay(targetPort: number) {
  const socks = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((client) => {
    client.on("error", () => {});
    if (cut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = tcpConnect(targetPort, "127.0.0.1");
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    socks.add(client).add(upstream);
    client.on("close", () => {
      socks.delete(client);
      upstream.destroy();
    });
    upstream.on("close", () => {
      socks.delete(upstream);
      client.destroy();
    });
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  onTestFinished(() => {
    for (const s of socks) s.destroy();
    server.close();
  });
  return {
    port: (server.address() as { port: number }).port,
    /** Stops forwarding: data in flight is dropped, connections stay "open" but silent. */
    cut() {
      cut = true;
      for (const s of socks) s.pause();
    },
    heal() {
      cut = false;
      for (const s of socks) s.destroy();
    },
  };
}

let seq = 0;

interface PairOptions {
  priorities?: [number, number];
  leaseTime?: number;
  advertInterval?: number;
  preempt?: { on: boolean; delay: number };
  viaRelay?: boolean;
  /** INIT's listening time (default: the product's, max(lease, 2 adverts)). */
  startupWait?: number;
}

async function pair(o: PairOptions = {}) {
  seq += 1;
  const [pr1, pr2] = o.priorities ?? [150, 100];
  const p1 = await freePort();
  const p2 = await freePort();
  const r1 = o.viaRelay ? await relay(p1) : undefined;
  const r2 = o.viaRelay ? await relay(p2) : undefined;
  const loc = { file: "test.cfg", line: 1 };
  const model = (peerPorts: [number, number], localPeer: string): HaModel => ({
    name: `drv${seq}`,
    redis: { kind: "url", url: redis.url },
    keepBound: [],
    peers: [
      { name: "lb1", host: "127.0.0.1", port: peerPorts[0], priority: pr1, loc },
      { name: "lb2", host: "127.0.0.1", port: peerPorts[1], priority: pr2, loc },
    ],
    advertInterval: o.advertInterval ?? 100,
    leaseTime: o.leaseTime ?? 300,
    preempt: o.preempt ?? { on: false, delay: 0 },
    takeover: { kind: "bind" },
    fence: "off",
    localPeer,
    loc,
  });
  // Each node listens on its own port; with relays, it reaches the other through one.
  const m1 = model([p1, r2?.port ?? p2], "lb1");
  const m2 = model([r1?.port ?? p1, p2], "lb2");
  const logs: string[] = [];
  const make = (m: HaModel, name: string) => {
    const ha = createHa(m, name, {
      checksum: "same",
      identity: { ...selfIdentity(), inc: `${name}-${seq}-${Math.random().toString(16).slice(2, 8)}` },
      log: (line) => logs.push(`${Date.now()} ${line}`),
      // This machine is shared: do not read scheduling noise as a dangerous stall.
      tuning: { stallThreshold: 250, ...(o.startupWait !== undefined ? { startupWait: o.startupWait } : {}) },
    });
    onTestFinished(() => ha.stop("fast"));
    return ha;
  };
  const lb1 = make(m1, "lb1");
  const lb2 = make(m2, "lb2");
  const h1 = new RecordingHandle();
  const h2 = new RecordingHandle();
  return { lb1, lb2, h1, h2, logs, r1, r2, m1 };
}

/** Two nodes' MASTER periods never overlap. */
function assertNoOverlap(a: RecordingHandle, b: RecordingHandle): void {
  const end = (p: { to: number | undefined }) => p.to ?? Number.POSITIVE_INFINITY;
  for (const x of a.periods) {
    for (const y of b.periods) {
      const overlap = x.from < end(y) && y.from < end(x);
      expect(overlap, `MASTER periods overlap: ${JSON.stringify(x)} and ${JSON.stringify(y)}`).toBe(false);
    }
  }
}

const masters = (...nodes: HaNode[]) => nodes.filter((n) => n.role === "MASTER").length;

describe("the HA loop with a real Redis", () => {
  it("both nodes starting at once: the higher priority becomes MASTER, the other BACKUP, one log line says why", async () => {
    // The start-up wait is what lets the nodes hear each other before either takes the
    // lease; on this shared machine a peer's first advert can come late, so it is generous.
    const { lb1, lb2, h1, h2, logs } = await pair({ startupWait: 1500 });
    await Promise.all([lb1.start(h1), lb2.start(h2)]);
    await waitFor(() => lb1.role === "MASTER" && lb2.role === "BACKUP" && h1.bound, { what: "lb1 MASTER" });
    expect(h1.gate()).toBe(true);
    expect(h2.gate()).toBe(false);
    expect(h2.periods).toEqual([]);
    expect(logs.join("\n")).toMatch(
      /lb1: BACKUP -> MASTER: promoted to MASTER: acquired the lease at epoch 1/,
    );
    expect(logs.join("\n")).toMatch(/lb1: serving as MASTER from \d+ \(epoch 1\)/);
    await waitFor(() => lb2.status().peer?.role === "MASTER", { what: "lb2 to hear lb1 as MASTER" });
    const st = lb2.status();
    expect(st.peer).toMatchObject({
      name: "lb1",
      role: "MASTER",
      epoch: 1,
      linkUp: true,
      checksumMismatch: false,
    });
    expect(st.peer?.advertAge).toBeLessThan(1000);
    expect(lb1.status().masterPeriods).toHaveLength(1);
  });

  it("graceful stop (SIGUSR1) of the MASTER: the BACKUP takes over without waiting for the lease to expire", async () => {
    const { lb1, lb2, h1, h2, logs } = await pair({ leaseTime: 2000 });
    // lb1 first, MASTER alone, then lb2: which node starts as MASTER is not what this tests.
    await lb1.start(h1);
    await waitFor(() => h1.bound, { what: "lb1 MASTER alone", timeout: 10_000 });
    await lb2.start(h2);
    await waitFor(() => h1.bound && lb2.role === "BACKUP", { what: "lb1 MASTER", timeout: 10_000 });
    const t0 = Date.now();
    await lb1.stop("graceful");
    await waitFor(() => h2.bound, { what: "lb2 to take over", timeout: 10_000 });
    // Far sooner than the 2 s lease.
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(h1.bound).toBe(false);
    assertNoOverlap(h1, h2);
    expect(logs.join("\n")).toMatch(
      /lb1: .*stopped \(graceful\): released the lease at epoch 1; told the peer/,
    );
    expect(logs.join("\n")).toMatch(
      /lb2: BACKUP -> MASTER: promoted to MASTER: acquired the lease at epoch 2/,
    );
  });

  it("fast stop (SIGTERM) of the MASTER also hands over at once", async () => {
    const { lb1, lb2, h1, h2 } = await pair({ leaseTime: 2000 });
    // lb1 first, MASTER alone, then lb2: which node starts as MASTER is not what this tests.
    await lb1.start(h1);
    await waitFor(() => h1.bound, { what: "lb1 MASTER alone", timeout: 10_000 });
    await lb2.start(h2);
    await waitFor(() => h1.bound && lb2.role === "BACKUP", { what: "lb1 MASTER", timeout: 10_000 });
    const t0 = Date.now();
    await lb1.stop("fast");
    await waitFor(() => h2.bound, { what: "lb2 to take over", timeout: 10_000 });
    expect(Date.now() - t0).toBeLessThan(1000);
    assertNoOverlap(h1, h2);
  });

  it("a node alone becomes MASTER once no one holds the lease", async () => {
    const { lb2, h2 } = await pair();
    await lb2.start(h2);
    await waitFor(() => h2.bound, { what: "lb2 alone to become MASTER" });
    expect(lb2.status().peer?.role).toBeUndefined();
  });

  it("preempt on: a higher-priority node that comes back takes over by an orderly hand-over", async () => {
    const { lb1, lb2, h1, h2, logs } = await pair({ preempt: { on: true, delay: 200 } });
    await lb2.start(h2);
    await waitFor(() => h2.bound, { what: "lb2 MASTER while lb1 is away" });
    await lb1.start(h1);
    await waitFor(() => h1.bound && !h2.bound, { what: "lb1 to take over", timeout: 5000 });
    assertNoOverlap(h1, h2);
    expect(logs.join("\n")).toMatch(/lb2: MASTER -> BACKUP: handing over to lb1: preempt on/);
  });

  it("preempt off: the higher-priority node that comes back stays BACKUP", async () => {
    const { lb1, lb2, h1, h2 } = await pair();
    await lb2.start(h2);
    await waitFor(() => h2.bound, { what: "lb2 MASTER while lb1 is away" });
    await lb1.start(h1);
    await waitFor(() => lb1.role === "BACKUP" && lb1.status().peer?.role === "MASTER", {
      what: "lb1 BACKUP",
    });
    await new Promise((r) => setTimeout(r, 600)); // two lease times: nothing may change
    expect(lb2.role).toBe("MASTER");
    expect(h1.periods).toEqual([]);
  });

  it("Redis killed for a while: the MASTER stays MASTER on its peer's confirmations, one MASTER throughout", async () => {
    const { lb1, lb2, h1, h2, logs } = await pair();
    // lb1 first, MASTER alone, then lb2: which node starts as MASTER is not what this tests.
    await lb1.start(h1);
    await waitFor(() => h1.bound, { what: "lb1 MASTER alone", timeout: 10_000 });
    await lb2.start(h2);
    await waitFor(() => h1.bound && lb2.role === "BACKUP", { what: "lb1 MASTER" });
    await waitFor(() => lb1.status().peer?.linkUp && lb2.status().peer?.linkUp, { what: "the peer link" });
    await redis.proc.stop();
    try {
      await waitFor(() => lb2.role === "FAULT", { what: "lb2 to see Redis gone" });
      // Several lease times without Redis.
      for (let i = 0; i < 15; i++) {
        await new Promise((r) => setTimeout(r, 100));
        expect(h1.gate(), `${JSON.stringify(lb1.status().peer)}\n${logs.join("\n")}`).toBe(true);
        expect(masters(lb1, lb2)).toBe(1);
      }
      expect(logs.join("\n")).toMatch(/lb1: \(MASTER\) staying MASTER for \d+ ms at most/);
    } finally {
      await redis.restart();
    }
    await waitFor(() => lb2.role === "BACKUP", { what: "lb2 back to BACKUP", timeout: 10_000 });
    expect(lb1.role, logs.join("\n")).toBe("MASTER");
    expect(h1.periods).toHaveLength(1);
    expect(h2.periods).toEqual([]);
  });

  it("Redis down and the peer link cut: the MASTER steps down (an outage by design), and the pair recovers with Redis", async () => {
    const { lb1, lb2, h1, h2, r1, r2, logs } = await pair({ viaRelay: true });
    // lb1 first, MASTER alone, then lb2: which node starts as MASTER is not what this tests.
    await lb1.start(h1);
    await waitFor(() => h1.bound, { what: "lb1 MASTER alone", timeout: 10_000 });
    await lb2.start(h2);
    await waitFor(() => h1.bound && lb2.role === "BACKUP", { what: "lb1 MASTER" });
    await waitFor(() => lb1.status().peer?.linkUp && lb2.status().peer?.linkUp, { what: "the peer link" });
    await redis.proc.stop();
    try {
      await waitFor(() => lb2.role === "FAULT", { what: "lb2 to see Redis gone" });
      r1!.cut();
      r2!.cut();
      await waitFor(() => lb1.role === "FAULT" && !h1.bound, { what: "lb1 to step down" });
      expect(h1.gate()).toBe(false);
      expect(logs.join("\n")).toMatch(/lb1: MASTER -> FAULT: stepped down to FAULT: lease deadline passed/);
      expect(h2.periods).toEqual([]);
    } finally {
      await redis.restart();
      r1!.heal();
      r2!.heal();
    }
    await waitFor(() => masters(lb1, lb2) === 1 && (h1.bound || h2.bound), {
      what: "one MASTER again",
      timeout: 10_000,
    });
    assertNoOverlap(h1, h2);
  });

  it("the peer link cut while Redis works: nothing changes (adverts also travel over pub/sub)", async () => {
    const { lb1, lb2, h1, h2, r1, r2 } = await pair({ viaRelay: true });
    // lb1 first, MASTER alone, then lb2: which node starts as MASTER is not what this tests.
    await lb1.start(h1);
    await waitFor(() => h1.bound, { what: "lb1 MASTER alone", timeout: 10_000 });
    await lb2.start(h2);
    await waitFor(() => h1.bound && lb2.role === "BACKUP", { what: "lb1 MASTER" });
    r1!.cut();
    r2!.cut();
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 100));
      expect(lb1.role).toBe("MASTER");
      expect(lb2.role).toBe("BACKUP");
    }
    expect(lb2.status().peer?.advertAge).toBeLessThan(300);
  });

  it("sessions learned on the MASTER are followed by the BACKUP and route the same after failover", async () => {
    const { lb1, lb2, h1, h2 } = await pair({ leaseTime: 3000 });
    const t1 = lb1.shared.sessionTable("app", new MemorySessionTable(3_600_000), 3_600_000);
    const t2 = lb2.shared.sessionTable("app", new MemorySessionTable(3_600_000), 3_600_000);
    // lb1 first, MASTER alone, then lb2: which node starts as MASTER is not what this tests.
    await lb1.start(h1);
    await waitFor(() => h1.bound, { what: "lb1 MASTER alone", timeout: 10_000 });
    await lb2.start(h2);
    await waitFor(() => h1.bound && lb2.role === "BACKUP", { what: "lb1 MASTER", timeout: 10_000 });
    for (let i = 0; i < 30; i++) t1.learn(`JSESSIONID${i}`, i % 3 === 0 ? "web2" : "web1", Date.now());
    await waitFor(() => t2.get("JSESSIONID29") !== undefined, { what: "lb2 to follow" });
    await lb1.stop("graceful");
    await waitFor(() => h2.bound, { what: "lb2 MASTER", timeout: 10_000 });
    for (let i = 0; i < 30; i++) expect(t2.get(`JSESSIONID${i}`)).toBe(i % 3 === 0 ? "web2" : "web1");
    // The new MASTER's own writes carry its epoch and are accepted.
    t2.learn("NEW", "web2", Date.now());
    await waitFor(() => lb2.status().sharedState.written >= 1, { what: "lb2's write" });
    const raw = createRedis({ kind: "url", url: redis.url }, { commandTimeout: 1000 });
    await raw.connect();
    onTestFinished(() => raw.disconnect());
    expect(await raw.hget(lb2.keys.sessions("app"), "NEW")).not.toBeNull();
  });

  it("a config checksum mismatch is logged loudly, and both keep working", async () => {
    const { m1 } = await pair();
    seq += 1;
    const logs: string[] = [];
    const other = { ...m1, name: `drv-mismatch-${seq}` };
    const a = createHa(other, "lb1", {
      checksum: "aaaa",
      identity: { ...selfIdentity(), inc: `a-${seq}` },
      log: (l) => logs.push(l),
    });
    const b = createHa({ ...other, peers: other.peers.map((p) => ({ ...p, port: p.port })) }, "lb2", {
      checksum: "bbbb",
      identity: { ...selfIdentity(), inc: `b-${seq}` },
      log: (l) => logs.push(l),
    });
    onTestFinished(() => a.stop());
    onTestFinished(() => b.stop());
    const ha = new RecordingHandle();
    const hb = new RecordingHandle();
    await Promise.all([a.start(ha), b.start(hb)]);
    await waitFor(() => ha.bound && b.role === "BACKUP", { what: "a pair despite the mismatch" });
    expect(logs.join("\n")).toMatch(
      /WARNING: configuration differs from lb2's \(checksum aaaa here, bbbb there\)/,
    );
    expect(b.status().peer?.checksumMismatch).toBe(true);
  });

  it("a notify script runs on each transition with keepalived's arguments", async () => {
    const { m1 } = await pair();
    const out = `/tmp/fulcrum-notify-${process.pid}-${seq}`;
    const { writeFileSync, readFileSync, rmSync, chmodSync } = await import("node:fs");
    const script = `${out}.sh`;
    writeFileSync(script, `#!/bin/sh\necho "$@" >> ${out}\n`);
    chmodSync(script, 0o755);
    onTestFinished(() => {
      rmSync(script, { force: true });
      rmSync(out, { force: true });
    });
    const alone = createHa({ ...m1, name: `drv-notify-${seq}`, notify: script }, "lb1", {
      identity: { ...selfIdentity(), inc: `n-${seq}` },
      log: () => {},
      tuning: { stallThreshold: 250 },
    });
    const h = new RecordingHandle();
    await alone.start(h);
    await waitFor(() => h.bound, { what: "MASTER" });
    await alone.stop("fast");
    await waitFor(
      () => {
        try {
          return readFileSync(out, "utf8").includes("STOP");
        } catch {
          return false;
        }
      },
      { what: "the notify lines" },
    );
    expect(readFileSync(out, "utf8").trim().split("\n")).toEqual([
      `INSTANCE drv-notify-${seq} BACKUP 150`,
      `INSTANCE drv-notify-${seq} MASTER 150`,
      `INSTANCE drv-notify-${seq} STOP 150`,
    ]);
  });

  it("a MASTER stopped while Redis is down still stops promptly and tells its peer", async () => {
    const { lb1, lb2, h1, h2, logs } = await pair();
    await Promise.all([lb1.start(h1), lb2.start(h2)]);
    // Started at once, either may win the lease on a loaded machine: the test follows the winner.
    await waitFor(() => (h1.bound && lb2.role === "BACKUP") || (h2.bound && lb1.role === "BACKUP"), {
      what: "one MASTER and one BACKUP",
    });
    const [master, standby, hm, hs, name] = h1.bound ? [lb1, lb2, h1, h2, "lb1"] : [lb2, lb1, h2, h1, "lb2"];
    await waitFor(() => master.status().peer?.linkUp && standby.status().peer?.linkUp, {
      what: "the peer link",
    });
    await redis.proc.stop();
    try {
      const t0 = Date.now();
      await master.stop("fast");
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(hm.bound).toBe(false);
      expect(logs.join("\n")).toMatch(
        new RegExp(`${name}: .*stopped \\(fast\\): could not release the lease`),
      );
      await waitFor(() => standby.status().peer?.role === "STOPPED", {
        what: "the standby to hear the MASTER stop",
      });
      expect(hs.periods).toEqual([]);
    } finally {
      await redis.restart();
    }
    // With Redis back, the standby clears the stopped node's lease on its word and takes over.
    await waitFor(() => hs.bound, { what: "the standby MASTER", timeout: 10_000 });
  });

  it("-L naming no peer of the ha section is a configuration error that says what to do", async () => {
    const { m1 } = await pair();
    expect(() => createHa(m1, "lb3")).toThrow(
      /-L lb3: no peer named lb3 in ha section drv\d+ \(known: lb1, lb2\)/,
    );
  });
});
