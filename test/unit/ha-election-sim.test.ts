/**
 * Two election state machines, a tiny model of Redis (the lease scripts of ha/lease.ts driven
 * by the simulated clock) and a network with random delays, run through random failure
 * schedules: crashes and restarts, freezes (SIGSTOP), event-loop stalls, Redis outages with and
 * without data loss, a cut peer link, graceful and fast stops. The property: two nodes never
 * have overlapping serving intervals (the serve gate open as MASTER), and once the chaos ends
 * the pair settles on one MASTER.
 *
 * The Redis model is not a mock of Redis: it is the specification of the scripts, used to
 * explore interleavings no real-time test could reach. The real scripts run against a real
 * redis-server in test/ha/.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Advert } from "../../ha/advert.js";
import {
  type Action,
  type ElectionEvent,
  type ElectionState,
  electionConfig,
  initialState,
  type LeaseHolder,
  mayServe,
  nextWake,
  transition,
} from "../../ha/election.js";

const A = 100;
const L = 300;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Lease {
  value: string;
  holder: LeaseHolder;
  exp: number;
}

/** The lease scripts' semantics (ha/lease.ts), on a simulated clock. */
class RedisModel {
  up = true;
  lease: Lease | undefined;
  epoch = 0;

  valid(at: number): Lease | undefined {
    return this.lease !== undefined && this.lease.exp > at ? this.lease : undefined;
  }

  acquire(holder: Omit<LeaseHolder, "epoch">, minEpoch: number, at: number, sentAt: number): ElectionEvent {
    const cur = this.valid(at);
    if (cur) return { type: "lease-held", holder: cur.holder, sentAt };
    this.epoch = Math.max(this.epoch + 1, minEpoch + 1);
    const full = { ...holder, epoch: this.epoch };
    this.lease = { value: JSON.stringify(full), holder: full, exp: at + L };
    return { type: "lease-acquired", epoch: this.epoch, sentAt };
  }

  renew(value: string, holder: LeaseHolder, at: number, sentAt: number): ElectionEvent {
    const cur = this.valid(at);
    if (cur && cur.value === value) {
      cur.exp = at + L;
      return { type: "lease-renewed", epoch: holder.epoch, sentAt };
    }
    if (cur) return { type: "lease-lost", epoch: holder.epoch, sentAt, holder: cur.holder };
    if (this.epoch > holder.epoch)
      return { type: "lease-lost", epoch: holder.epoch, sentAt, topEpoch: this.epoch };
    this.epoch = Math.max(this.epoch, holder.epoch);
    this.lease = { value, holder, exp: at + L };
    return { type: "lease-renewed", epoch: holder.epoch, sentAt };
  }

  release(value: string, epoch: number, at: number): ElectionEvent {
    const cur = this.valid(at);
    const released = cur !== undefined && cur.value === value;
    if (released) this.lease = undefined;
    return { type: "lease-released", epoch, released };
  }

  clear(node: string, epoch: number, at: number): ElectionEvent {
    const cur = this.valid(at);
    const cleared = cur !== undefined && cur.holder.node === node && cur.holder.epoch === epoch;
    if (cleared) this.lease = undefined;
    return { type: "lease-cleared", node, epoch, cleared };
  }
}

interface Proc {
  pid: number;
  start: number;
  inc: string;
  up: number;
  host: string;
}

interface SimNodeSpec {
  name: string;
  priority: number;
  host: string;
}

interface Interval {
  node: string;
  inc: string;
  from: number;
  to: number;
}

interface SimOptions {
  seed: number;
  nodes: [SimNodeSpec, SimNodeSpec];
  preempt: { on: boolean; delay: number };
  fence: "kill" | "off";
  /** Largest ordinary network / Redis delay (ms); spikes come on top. */
  jitter: number;
  /** Probability that one delay is a spike of up to `spike` ms. */
  spikeRate: number;
  spike: number;
  /** Time after which delays stay small. */
  calmAfter: number;
}

type Chaos =
  | { at: number; kind: "crash"; node: number; downFor: number }
  | { at: number; kind: "freeze"; node: number; dur: number }
  | { at: number; kind: "stop"; node: number; graceful: boolean; downFor: number }
  | { at: number; kind: "redis"; dur: number; dataLoss: boolean }
  | { at: number; kind: "link"; dur: number }
  /** One node loses Redis (commands and pub/sub) while the other keeps it. */
  | { at: number; kind: "isolate"; node: number; dur: number };

class SimNode {
  proc: Proc;
  alive = true;
  frozenUntil = 0;
  backlog: (() => void)[] = [];
  state: ElectionState;
  stateSince: number;
  execFloor = 0;
  replyFloor = 0;
  linkFloor = 0;
  pubsubFloor = 0;
  values = new Map<string, { value: string; holder: LeaseHolder }>();
  tickToken = 0;
  isolatedUntil = 0;

  constructor(
    readonly sim: Sim,
    readonly spec: SimNodeSpec,
    readonly peer: SimNodeSpec,
    proc: Proc,
    now: number,
  ) {
    this.proc = proc;
    this.state = this.fresh(now);
    this.stateSince = now;
  }

  fresh(now: number): ElectionState {
    const o = this.sim.opts;
    return initialState(
      electionConfig({
        ha: "sim",
        name: this.spec.name,
        priority: this.spec.priority,
        peer: { name: this.peer.name, priority: this.peer.priority },
        advertInterval: A,
        leaseTime: L,
        preempt: o.preempt,
        fence: o.fence,
        checksum: "c",
        identity: {
          pid: this.proc.pid,
          start: this.proc.start,
          host: this.spec.host,
          boot: "b",
          inc: this.proc.inc,
          up: this.proc.up,
        },
      }),
      now,
    );
  }
}

class Sim {
  t = 0;
  private seq = 0;
  private queue: { t: number; seq: number; run: () => void }[] = [];
  readonly redis = new RedisModel();
  readonly nodes: SimNode[];
  readonly intervals: Interval[] = [];
  readonly dead = new Set<string>();
  linkCutUntil = 0;
  private readonly rand: () => number;
  private pidSeq = 100;
  readonly log: string[] = [];

  constructor(readonly opts: SimOptions) {
    this.rand = mulberry32(opts.seed);
    const [a, b] = opts.nodes;
    this.nodes = [
      new SimNode(this, a, b, this.newProc(a.host), 0),
      new SimNode(this, b, a, this.newProc(b.host), 0),
    ];
    for (const n of this.nodes) this.boot(n);
  }

  private newProc(host: string): Proc {
    this.pidSeq += 1;
    return { pid: this.pidSeq, start: this.pidSeq * 10, inc: `i${this.pidSeq}`, up: this.t, host };
  }

  delay(): number {
    // After the chaos, the network calms down (no spikes) so that liveness can be judged.
    const calm = this.t > this.opts.calmAfter;
    const base = Math.floor(this.rand() * ((calm ? Math.min(this.opts.jitter, 20) : this.opts.jitter) + 1));
    return !calm && this.rand() < this.opts.spikeRate
      ? base + Math.floor(this.rand() * this.opts.spike)
      : base;
  }

  at(t: number, run: () => void): void {
    this.seq += 1;
    this.queue.push({ t: Math.max(t, this.t), seq: this.seq, run });
  }

  runUntil(end: number): void {
    for (let guard = 0; guard < 2_000_000; guard++) {
      if (this.queue.length === 0) break;
      let best = 0;
      for (let i = 1; i < this.queue.length; i++) {
        const q = this.queue[i]!;
        const b = this.queue[best]!;
        if (q.t < b.t || (q.t === b.t && q.seq < b.seq)) best = i;
      }
      const next = this.queue[best]!;
      if (next.t > end) break;
      this.queue.splice(best, 1);
      this.t = next.t;
      next.run();
    }
    this.t = end;
    for (const n of this.nodes) this.record(n);
  }

  /** Serving interval of the state that held since `stateSince`, up to now. */
  record(n: SimNode): void {
    const s = n.state;
    if (n.alive && s.role === "MASTER") {
      const from = Math.max(n.stateSince, s.serveFrom);
      const to = Math.min(this.t, s.serveUntil);
      if (from < to) this.intervals.push({ node: n.spec.name, inc: n.proc.inc, from, to });
    }
    n.stateSince = this.t;
  }

  boot(n: SimNode): void {
    const inc = n.proc.inc;
    if (this.redis.up) this.deliver(n, inc, { type: "redis-up" }, this.t + 1 + this.delay());
    this.scheduleTick(n, this.t);
  }

  scheduleTick(n: SimNode, when: number): void {
    n.tickToken += 1;
    const token = n.tickToken;
    const inc = n.proc.inc;
    this.at(when, () => {
      if (token !== n.tickToken || !n.alive || n.proc.inc !== inc) return;
      if (this.t < n.frozenUntil) return; // the wake-up ticks
      this.process(n, { type: "tick", loopDelay: 0 });
    });
  }

  /** Hands an event to a process: dropped if that process is gone, queued while it is frozen. */
  deliver(n: SimNode, inc: string, ev: ElectionEvent, when: number): void {
    this.at(when, () => {
      if (!n.alive || n.proc.inc !== inc) return;
      if (this.t < n.frozenUntil) {
        n.backlog.push(() => this.process(n, ev));
        return;
      }
      this.process(n, ev);
    });
  }

  process(n: SimNode, ev: ElectionEvent): void {
    this.record(n);
    const r = transition(n.state, ev, this.t);
    n.state = r.state;
    if (r.rule !== "no-op" && !r.rule.endsWith("wait") && r.rule !== "master-ok") {
      this.log.push(`${this.t} ${n.spec.name}/${n.proc.inc} ${n.state.role} ${r.rule}: ${r.reason}`);
    }
    for (const a of r.actions) this.act(n, a);
    if (n.alive) this.scheduleTick(n, Math.max(this.t + 1, Math.min(nextWake(n.state), this.t + A)));
  }

  private other(n: SimNode): SimNode {
    return this.nodes[0] === n ? this.nodes[1]! : this.nodes[0]!;
  }

  private holderOf(n: SimNode): Omit<LeaseHolder, "epoch"> {
    return {
      node: n.spec.name,
      inc: n.proc.inc,
      pid: n.proc.pid,
      start: n.proc.start,
      host: n.spec.host,
      boot: "b",
    };
  }

  reaches(n: SimNode): boolean {
    return this.redis.up && this.t >= n.isolatedUntil;
  }

  private redisCmd(
    n: SimNode,
    op: "acquire" | "renew" | "release" | "clear" | "ping",
    exec: (at: number) => ElectionEvent,
  ): void {
    const inc = n.proc.inc;
    const sentAt = this.t;
    if (!this.reaches(n)) {
      this.deliver(n, inc, { type: "redis-error", op, sentAt, message: "down" }, this.t + 1);
      return;
    }
    const execAt = Math.max(this.t + this.delay(), n.execFloor);
    n.execFloor = execAt;
    this.at(execAt, () => {
      const result: ElectionEvent = this.reaches(n)
        ? exec(execAt)
        : { type: "redis-error", op, sentAt, message: "down" };
      const replyAt = Math.max(execAt + this.delay(), n.replyFloor);
      n.replyFloor = replyAt;
      this.deliver(n, inc, result, replyAt);
    });
  }

  act(n: SimNode, a: Action): void {
    const sentAt = this.t;
    const inc = n.proc.inc;
    const handlers: { [K in Action["type"]]?: (x: Extract<Action, { type: K }>) => void } = {
      acquire: (x) =>
        this.redisCmd(n, "acquire", (at) => {
          const ev = this.redis.acquire(this.holderOf(n), x.minEpoch, at, sentAt);
          if (ev.type === "lease-acquired") {
            const l = this.redis.lease!;
            n.values.set(`${inc}:${ev.epoch}`, { value: l.value, holder: l.holder });
          }
          return ev;
        }),
      renew: (x) =>
        this.redisCmd(n, "renew", (at) => {
          const v = n.values.get(`${inc}:${x.epoch}`)!;
          return this.redis.renew(v.value, v.holder, at, sentAt);
        }),
      release: (x) =>
        this.redisCmd(n, "release", (at) =>
          this.redis.release(n.values.get(`${inc}:${x.epoch}`)?.value ?? "", x.epoch, at),
        ),
      "clear-lease": (x) => this.redisCmd(n, "clear", (at) => this.redis.clear(x.node, x.epoch, at)),
      ping: () => this.redisCmd(n, "ping", () => ({ type: "redis-up" })),
      advert: (x) => this.sendAdvert(n, { ...x.advert, sent: this.t }),
      probe: (x) => {
        const gone = this.dead.has(`${x.pid}/${x.start}`);
        const ev: ElectionEvent = gone
          ? { type: "peer-dead", node: x.node, epoch: x.epoch, pid: x.pid, start: x.start, proof: "gone" }
          : { type: "peer-alive", node: x.node, pid: x.pid, start: x.start, why: "there" };
        this.deliver(n, n.proc.inc, ev, this.t + 1);
      },
      fence: (x) => {
        const target = this.nodes.find((m) => m.alive && m.proc.pid === x.pid && m.proc.start === x.start);
        if (target) {
          this.log.push(`${this.t} ${n.spec.name} fences ${target.spec.name}/${target.proc.inc}`);
          this.crash(target, 200 + Math.floor(this.rand() * 500));
        }
      },
      stopped: () => this.at(this.t + 1, () => this.crash(n, 300 + Math.floor(this.rand() * 700))),
    };
    const h = handlers[a.type] as ((x: Action) => void) | undefined;
    h?.(a);
  }

  sendAdvert(from: SimNode, advert: Advert): void {
    const to = this.other(from);
    const inc = to.proc.inc;
    if (to.alive && this.t >= this.linkCutUntil) {
      const when = Math.max(this.t + this.delay(), from.linkFloor);
      from.linkFloor = when;
      this.at(when, () => {
        if (this.t < this.linkCutUntil) return;
        this.deliverNow(to, inc, { type: "advert", advert, via: "link" });
      });
    }
    if (this.reaches(from)) {
      const when = Math.max(this.t + this.delay() + this.delay(), from.pubsubFloor);
      from.pubsubFloor = when;
      this.at(when, () => {
        if (!this.reaches(to)) return;
        this.deliverNow(to, to.proc.inc, { type: "advert", advert, via: "pubsub" });
      });
    }
  }

  private deliverNow(n: SimNode, inc: string, ev: ElectionEvent): void {
    this.deliver(n, inc, ev, this.t);
  }

  crash(n: SimNode, downFor: number): void {
    if (!n.alive) return;
    this.record(n);
    n.alive = false;
    n.backlog = [];
    this.dead.add(`${n.proc.pid}/${n.proc.start}`);
    this.log.push(`${this.t} ${n.spec.name}/${n.proc.inc} dies`);
    const peer = this.other(n);
    if (peer.alive && this.t >= this.linkCutUntil) {
      this.deliver(peer, peer.proc.inc, { type: "peer-link-down" }, this.t + 1 + this.delay());
    }
    this.at(this.t + downFor, () => this.restart(n));
  }

  restart(n: SimNode): void {
    if (n.alive) return;
    n.proc = this.newProc(n.spec.host);
    n.alive = true;
    n.frozenUntil = 0;
    n.state = n.fresh(this.t);
    n.stateSince = this.t;
    n.execFloor = n.replyFloor = n.linkFloor = n.pubsubFloor = 0;
    this.log.push(`${this.t} ${n.spec.name}/${n.proc.inc} starts`);
    this.boot(n);
  }

  freeze(n: SimNode, dur: number, stall: boolean): void {
    if (!n.alive || this.t < n.frozenUntil) return;
    n.frozenUntil = this.t + dur;
    const inc = n.proc.inc;
    this.log.push(`${this.t} ${n.spec.name} ${stall ? "stalls" : "frozen"} for ${dur}`);
    this.at(this.t + dur, () => {
      if (!n.alive || n.proc.inc !== inc) return;
      const backlog = n.backlog;
      n.backlog = [];
      for (const run of backlog) run();
      if (n.alive && n.proc.inc === inc) this.process(n, { type: "tick", loopDelay: dur });
    });
  }

  chaos(c: Chaos): void {
    this.at(c.at, () => {
      const handlers: { [K in Chaos["kind"]]: (x: Extract<Chaos, { kind: K }>) => void } = {
        crash: (x) => this.crash(this.nodes[x.node]!, x.downFor),
        freeze: (x) => this.freeze(this.nodes[x.node]!, x.dur, false),
        stop: (x) => {
          const n = this.nodes[x.node]!;
          if (n.alive)
            this.deliverNow(n, n.proc.inc, { type: "shutdown", mode: x.graceful ? "graceful" : "fast" });
        },
        redis: (x) => {
          if (!this.redis.up) return;
          this.redis.up = false;
          this.log.push(`${this.t} redis down for ${x.dur}${x.dataLoss ? " (data lost)" : ""}`);
          for (const n of this.nodes) {
            if (n.alive) this.deliver(n, n.proc.inc, { type: "redis-down" }, this.t + this.delay());
          }
          this.at(this.t + x.dur, () => {
            this.redis.up = true;
            if (x.dataLoss) {
              this.redis.lease = undefined;
              this.redis.epoch = 0;
            }
            this.log.push(`${this.t} redis up`);
            for (const n of this.nodes) {
              if (n.alive) this.deliver(n, n.proc.inc, { type: "redis-up" }, this.t + this.delay());
            }
          });
        },
        isolate: (x) => {
          const n = this.nodes[x.node]!;
          n.isolatedUntil = Math.max(n.isolatedUntil, this.t + x.dur);
          this.log.push(`${this.t} ${n.spec.name} cut off from Redis for ${x.dur}`);
          if (n.alive) this.deliver(n, n.proc.inc, { type: "redis-down" }, this.t + this.delay());
          const inc = n.proc.inc;
          this.at(this.t + x.dur, () => {
            if (n.alive && n.proc.inc === inc && this.redis.up)
              this.deliver(n, inc, { type: "redis-up" }, this.t + this.delay());
          });
        },
        link: (x) => {
          this.linkCutUntil = Math.max(this.linkCutUntil, this.t + x.dur);
          this.log.push(`${this.t} peer link cut for ${x.dur}`);
        },
      };
      (handlers[c.kind] as (x: Chaos) => void)(c);
    });
  }

  /** Pairs of serving intervals of different nodes that overlap. */
  overlaps(): [Interval, Interval][] {
    const out: [Interval, Interval][] = [];
    for (const x of this.intervals) {
      for (const y of this.intervals) {
        if (x.node < y.node && x.from < y.to && y.from < x.to) out.push([x, y]);
      }
    }
    return out;
  }

  servingAt(t: number): string[] {
    return this.nodes.filter((n) => n.alive && mayServe(n.state, t)).map((n) => n.spec.name);
  }
}

const CHAOS_END = 6000;
const SETTLE = 4000;

const chaosArb: fc.Arbitrary<Chaos> = fc.oneof(
  fc.record({
    at: fc.integer({ min: 0, max: CHAOS_END }),
    kind: fc.constant("crash" as const),
    node: fc.integer({ min: 0, max: 1 }),
    downFor: fc.integer({ min: 0, max: 1500 }),
  }),
  fc.record({
    at: fc.integer({ min: 0, max: CHAOS_END }),
    kind: fc.constant("freeze" as const),
    node: fc.integer({ min: 0, max: 1 }),
    dur: fc.oneof(fc.integer({ min: 20, max: 200 }), fc.integer({ min: 200, max: 2500 })),
  }),
  fc.record({
    at: fc.integer({ min: 0, max: CHAOS_END }),
    kind: fc.constant("stop" as const),
    node: fc.integer({ min: 0, max: 1 }),
    graceful: fc.boolean(),
    downFor: fc.integer({ min: 0, max: 1500 }),
  }),
  fc.record({
    at: fc.integer({ min: 0, max: CHAOS_END }),
    kind: fc.constant("redis" as const),
    dur: fc.integer({ min: 50, max: 3000 }),
    dataLoss: fc.boolean(),
  }),
  fc.record({
    at: fc.integer({ min: 0, max: CHAOS_END }),
    kind: fc.constant("isolate" as const),
    node: fc.integer({ min: 0, max: 1 }),
    dur: fc.integer({ min: 50, max: 3000 }),
  }),
  fc.record({
    at: fc.integer({ min: 0, max: CHAOS_END }),
    kind: fc.constant("link" as const),
    dur: fc.integer({ min: 50, max: 3000 }),
  }),
);

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  priorities: fc.constantFrom([100, 100], [150, 100], [100, 150]),
  sameHost: fc.boolean(),
  preempt: fc.record({ on: fc.boolean(), delay: fc.constantFrom(0, 400) }),
  fence: fc.constantFrom("kill" as const, "off" as const),
  jitter: fc.constantFrom(2, 20, 60),
  spikeRate: fc.constantFrom(0, 0.02, 0.1),
  spike: fc.constantFrom(100, 400, 1200),
  chaos: fc.array(chaosArb, { maxLength: 8 }),
});

interface Scenario {
  seed: number;
  priorities: readonly number[];
  sameHost: boolean;
  preempt: { on: boolean; delay: number };
  fence: "kill" | "off";
  jitter: number;
  spikeRate: number;
  spike: number;
  chaos: Chaos[];
}

function simulate(sc: Scenario): Sim {
  const sim = new Sim({
    seed: sc.seed,
    nodes: [
      { name: "lb1", priority: sc.priorities[0]!, host: "h1" },
      { name: "lb2", priority: sc.priorities[1]!, host: sc.sameHost ? "h1" : "h2" },
    ],
    preempt: sc.preempt,
    fence: sc.fence,
    jitter: sc.jitter,
    spikeRate: sc.spikeRate,
    spike: sc.spike,
    calmAfter: CHAOS_END,
  });
  for (const c of sc.chaos) sim.chaos(c);
  sim.runUntil(CHAOS_END + SETTLE);
  return sim;
}

function explain(sim: Sim, pairs: [Interval, Interval][]): string {
  const [x, y] = pairs[0]!;
  const from = Math.min(x.from, y.from) - 1500;
  const to = Math.max(x.to, y.to) + 200;
  const lines = sim.log.filter((l) => {
    const t = Number(l.split(" ")[0]);
    return t >= from && t <= to;
  });
  return `${JSON.stringify(pairs[0])}\n${lines.join("\n")}`;
}

describe("election simulation: two nodes, a modelled Redis, random failures", () => {
  it("two nodes never serve as MASTER at the same time, whatever fails and in whatever order", () => {
    fc.assert(
      fc.property(scenarioArb, (sc) => {
        const sim = simulate(sc);
        const pairs = sim.overlaps();
        if (pairs.length > 0) throw new Error(`overlapping MASTER periods:\n${explain(sim, pairs)}`);
      }),
      { numRuns: Number(process.env.HA_SIM_RUNS ?? 300) },
    );
  });

  it("once the failures stop, the pair settles on exactly one serving MASTER", () => {
    fc.assert(
      fc.property(scenarioArb, (sc) => {
        const sim = simulate(sc);
        const serving = sim.servingAt(sim.t - 1);
        if (serving.length !== 1) {
          throw new Error(`serving at the end: [${serving.join(", ")}]\n${sim.log.slice(-40).join("\n")}`);
        }
      }),
      { numRuns: Math.ceil(Number(process.env.HA_SIM_RUNS ?? 300) / 2) },
    );
  });

  const calm = {
    seed: 5,
    priorities: [150, 100],
    sameHost: true,
    preempt: { on: false, delay: 0 },
    fence: "kill" as const,
    jitter: 5,
    spikeRate: 0,
    spike: 100,
  };
  const servedBy = (sim: Sim, node: string, from: number, to: number) =>
    sim.intervals.filter((i) => i.node === node && i.from < to && i.to > from);

  it("Redis down for both: the MASTER keeps serving on its peer's confirmations, the BACKUP never serves", () => {
    const sim = simulate({ ...calm, chaos: [{ at: 2000, kind: "redis", dur: 3000, dataLoss: false }] });
    expect(servedBy(sim, "lb2", 0, sim.t)).toEqual([]);
    const lb1 = servedBy(sim, "lb1", 2000, 5000);
    expect(lb1.length).toBeGreaterThan(0);
    expect(sim.servingAt(4900)).toEqual(["lb1"]);
    expect(sim.servingAt(sim.t - 1)).toEqual(["lb1"]);
  });

  it("the MASTER cut off from Redis while its peer reaches it: failsafe holds, no takeover while the link confirms", () => {
    const sim = simulate({ ...calm, chaos: [{ at: 2000, kind: "isolate", node: 0, dur: 3000 }] });
    expect(servedBy(sim, "lb2", 0, sim.t)).toEqual([]);
    expect(sim.servingAt(4900)).toEqual(["lb1"]);
  });

  it("the MASTER cut off from Redis and from its peer: it steps down, the peer takes over after the window, never both", () => {
    const sim = simulate({
      ...calm,
      chaos: [
        { at: 2000, kind: "isolate", node: 0, dur: 3000 },
        { at: 2000, kind: "link", dur: 3000 },
      ],
    });
    expect(sim.servingAt(2000 + 2 * L)).toEqual(["lb2"]);
    expect(sim.overlaps()).toEqual([]);
  });

  it("Redis down and the peer link cut: nobody serves (outage by design), then service returns with Redis", () => {
    const sim = simulate({
      ...calm,
      chaos: [
        { at: 2000, kind: "redis", dur: 3000, dataLoss: true },
        { at: 2000, kind: "link", dur: 5000 },
      ],
    });
    expect(sim.servingAt(2000 + 2 * L)).toEqual([]);
    expect(sim.servingAt(4900)).toEqual([]);
    expect(sim.servingAt(5800)).toHaveLength(1);
  });

  it("with nothing failing, the higher-priority node is MASTER and stays MASTER", () => {
    const sim = simulate({
      seed: 7,
      priorities: [100, 150],
      sameHost: true,
      preempt: { on: false, delay: 0 },
      fence: "kill",
      jitter: 20,
      spikeRate: 0,
      spike: 100,
      chaos: [],
    });
    expect(sim.servingAt(sim.t - 1)).toEqual(["lb2"]);
    expect(sim.intervals.every((i) => i.node === "lb2")).toBe(true);
    const first = Math.min(...sim.intervals.map((i) => i.from));
    // One lease time of listening, then one round trip to Redis.
    expect(first).toBeGreaterThanOrEqual(L);
    expect(first).toBeLessThan(L + 200);
  });

  it("SIGKILL of the MASTER on the same host: the standby serves within a few tens of ms (proof of death)", () => {
    const sim = simulate({
      seed: 11,
      priorities: [150, 100],
      sameHost: true,
      preempt: { on: false, delay: 0 },
      fence: "kill",
      jitter: 2,
      spikeRate: 0,
      spike: 100,
      chaos: [{ at: 2000, kind: "crash", node: 0, downFor: 100_000 }],
    });
    const lb2 = sim.intervals.filter((i) => i.node === "lb2");
    expect(lb2.length).toBeGreaterThan(0);
    const gap = Math.min(...lb2.map((i) => i.from)) - 2000;
    expect(gap).toBeLessThan(50);
  });

  it("freeze of the MASTER on another host: the standby waits for the lease, then serves", () => {
    const sim = simulate({
      seed: 13,
      priorities: [150, 100],
      sameHost: false,
      preempt: { on: false, delay: 0 },
      fence: "kill",
      jitter: 2,
      spikeRate: 0,
      spike: 100,
      chaos: [{ at: 2000, kind: "freeze", node: 0, dur: 3000 }],
    });
    const lb2 = sim.intervals.filter((i) => i.node === "lb2");
    const gap = Math.min(...lb2.map((i) => i.from)) - 2000;
    expect(gap).toBeGreaterThanOrEqual(L - 100);
    expect(gap).toBeLessThan(2 * L);
    expect(sim.overlaps()).toEqual([]);
  });
});
