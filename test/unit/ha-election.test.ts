import { describe, expect, it } from "vitest";
import type { Advert } from "../../ha/advert.js";
import {
  type Action,
  type ElectionEvent,
  type ElectionInput,
  type ElectionState,
  type ElectionTuning,
  electionConfig,
  initialState,
  type LeaseHolder,
  mayServe,
  nextWake,
  outranks,
  type TransitionResult,
  transition,
} from "../../ha/election.js";

// Timings of the `ha` section's defaults: advert-interval 100 ms, lease-time 300 ms,
// so margin 75 ms, start-up wait 300 ms, hold-down 300 ms, defer limit 600 ms.
const A = 100;
const L = 300;
const M = 75;

const identity = (over: Partial<ElectionInput["identity"]> = {}) => ({
  pid: 1000,
  start: 50_000,
  host: "host-a",
  boot: "boot-1",
  inc: "inc-lb1",
  up: 1_700_000_000_000,
  ...over,
});

function config(over: Partial<ElectionInput> = {}, tuning: ElectionTuning = {}) {
  return electionConfig(
    {
      ha: "web",
      name: "lb1",
      priority: 100,
      peer: { name: "lb2", priority: 100 },
      advertInterval: A,
      leaseTime: L,
      preempt: { on: false, delay: 0 },
      fence: "kill",
      checksum: "sum-1",
      identity: identity(),
      ...over,
    },
    tuning,
  );
}

/** A fake clock and the machine it drives: every step is recorded. */
class Node {
  state: ElectionState;
  now: number;
  readonly steps: TransitionResult[] = [];

  constructor(over: Partial<ElectionInput> = {}, tuning: ElectionTuning = {}, start = 0) {
    this.now = start;
    this.state = initialState(config(over, tuning), start);
  }

  at(t: number): this {
    this.now = t;
    return this;
  }

  feed(event: ElectionEvent): TransitionResult {
    const r = transition(this.state, event, this.now);
    this.state = r.state;
    this.steps.push(r);
    return r;
  }

  tick(loopDelay = 0): TransitionResult {
    return this.feed({ type: "tick", loopDelay });
  }

  get role() {
    return this.state.role;
  }
}

const types = (r: TransitionResult) => r.actions.map((a) => a.type);
const find = <T extends Action["type"]>(r: TransitionResult, t: T) =>
  r.actions.find((a): a is Extract<Action, { type: T }> => a.type === t);

let peerSeq = 0;
function peerAdvert(over: Partial<Advert> = {}): Advert {
  peerSeq += 1;
  return {
    v: 1,
    ha: "web",
    node: "lb2",
    priority: 100,
    role: "BACKUP",
    epoch: 0,
    released: 0,
    redis: true,
    checksum: "sum-1",
    pid: 2000,
    start: 60_000,
    host: "host-a",
    boot: "boot-1",
    inc: "inc-lb2",
    up: 1_700_000_000_500,
    seq: peerSeq,
    ack: 0,
    ackInc: "",
    sent: 0,
    ...over,
  };
}

const holder = (over: Partial<LeaseHolder> = {}): LeaseHolder => ({
  node: "lb2",
  epoch: 7,
  inc: "inc-lb2",
  pid: 2000,
  start: 60_000,
  host: "host-a",
  boot: "boot-1",
  ...over,
});

/** Brings a node through INIT to BACKUP with Redis up, at t = 300 (the start-up wait). */
function toBackup(n: Node): TransitionResult {
  n.at(0).feed({ type: "redis-up" });
  return n.at(L).tick();
}

/** ...and then to MASTER with epoch `epoch`, acquired with a request sent at t = 300. */
function toMaster(n: Node, epoch = 1): TransitionResult {
  toBackup(n);
  return n.at(L + 2).feed({ type: "lease-acquired", epoch, sentAt: L });
}

describe("INIT: listening before taking part", () => {
  it("a starting node listens for its peer for one lease time before trying to acquire", () => {
    const n = new Node();
    n.feed({ type: "redis-up" });
    const early = n.at(L - 1).tick();
    expect(n.role).toBe("INIT");
    expect(types(early)).not.toContain("acquire");
    const done = n.at(L).tick();
    expect(n.role).toBe("BACKUP");
    expect(find(done, "acquire")).toEqual({ type: "acquire", minEpoch: 0 });
    expect(done.reason).toMatch(/start-up wait over/);
  });

  it("a node whose start-up wait ends without Redis enters FAULT and does not acquire", () => {
    const n = new Node();
    const r = n.at(L).tick();
    expect(n.role).toBe("FAULT");
    expect(types(r)).not.toContain("acquire");
    expect(types(r)).toContain("notify");
  });

  it("a node sends adverts while in INIT so its peer can defer to it", () => {
    const n = new Node();
    const r = n.at(0).tick();
    const advert = find(r, "advert")?.advert;
    expect(advert).toMatchObject({ node: "lb1", role: "INIT", priority: 100, seq: 1, ha: "web" });
  });
});

describe("acquiring the lease", () => {
  it("a node alone becomes MASTER once no one holds the lease", () => {
    const n = new Node({ peer: undefined });
    toBackup(n);
    const r = n.at(310).feed({ type: "lease-acquired", epoch: 7, sentAt: 300 });
    expect(n.role).toBe("MASTER");
    expect(r.reason).toBe("promoted to MASTER: acquired the lease at epoch 7 (no peer heard)");
    expect(types(r)).toEqual(["notify", "resync", "bind", "advert"]);
    expect(find(r, "notify")).toEqual({ type: "notify", state: "MASTER" });
    expect(mayServe(n.state, 310)).toBe(true);
  });

  it("the acquisition carries the highest epoch seen so the new epoch is always newer", () => {
    const n = new Node();
    toBackup(n);
    n.at(320).feed({ type: "lease-held", holder: holder({ epoch: 9, host: "host-b" }), sentAt: L });
    const r = n.at(L + A).tick();
    expect(find(r, "acquire")).toEqual({ type: "acquire", minEpoch: 9 });
  });

  it("a BACKUP retries the acquisition once per advert-interval, not on every event", () => {
    const n = new Node();
    toBackup(n);
    n.at(305).feed({ type: "lease-held", holder: holder({ host: "host-b" }), sentAt: L });
    expect(types(n.at(350).tick())).not.toContain("acquire");
    expect(types(n.at(400).tick())).toContain("acquire");
  });

  it("an acquisition whose reply arrives after the lease deadline is released, not served", () => {
    const n = new Node();
    toBackup(n);
    const r = n.at(L + L).feed({ type: "lease-acquired", epoch: 3, sentAt: L });
    expect(n.role).toBe("BACKUP");
    expect(find(r, "release")).toMatchObject({ epoch: 3 });
    expect(r.rule).toBe("acquired-late");
  });

  it("an epoch older than one already seen is refused (stale epoch)", () => {
    const n = new Node();
    toBackup(n);
    n.at(301).feed({ type: "advert", advert: peerAdvert({ epoch: 12 }), via: "link" });
    const r = n.at(302).feed({ type: "lease-acquired", epoch: 11, sentAt: 300 });
    expect(n.role).toBe("BACKUP");
    expect(find(r, "release")).toMatchObject({ epoch: 11 });
    expect(r.reason).toMatch(/epoch 12 has been seen, refusing an older one/);
  });

  it("an acquisition that succeeds after the node went FAULT is released at once", () => {
    const n = new Node();
    toBackup(n);
    n.at(310).feed({ type: "redis-down" });
    expect(n.role).toBe("FAULT");
    const r = n.at(320).feed({ type: "lease-acquired", epoch: 4, sentAt: 305 });
    expect(n.role).toBe("FAULT");
    expect(find(r, "release")).toMatchObject({ epoch: 4 });
  });

  it("a lease left to this very process by a lost reply is cleared and taken again", () => {
    const n = new Node();
    toBackup(n);
    const r = n
      .at(310)
      .feed({ type: "lease-held", holder: holder({ node: "lb1", inc: "inc-lb1", epoch: 5 }), sentAt: L });
    expect(types(r)).toEqual(["clear-lease", "acquire"]);
    expect(find(r, "clear-lease")).toMatchObject({ node: "lb1", epoch: 5 });
  });

  it("a holder on this host is probed once per lease time, not on every retry", () => {
    const n = new Node();
    toBackup(n);
    const first = n.at(310).feed({ type: "lease-held", holder: holder(), sentAt: L });
    expect(find(first, "probe")).toEqual({ type: "probe", node: "lb2", epoch: 7, pid: 2000, start: 60_000 });
    const again = n.at(410).feed({ type: "lease-held", holder: holder(), sentAt: 400 });
    expect(find(again, "probe")).toBeUndefined();
    const later = n.at(310 + L).feed({ type: "lease-held", holder: holder(), sentAt: 600 });
    expect(find(later, "probe")).toBeDefined();
  });

  it("a holder on another host is never probed (no proof possible)", () => {
    const n = new Node();
    toBackup(n);
    const r = n.at(310).feed({ type: "lease-held", holder: holder({ host: "host-b" }), sentAt: L });
    expect(find(r, "probe")).toBeUndefined();
    expect(r.reason).toBe("no action: lease held by lb2 (pid 2000) at epoch 7");
  });
});

describe("keeping the lease: the MASTER's deadline", () => {
  it("a MASTER renews its lease every advert-interval with the epoch it holds", () => {
    const n = new Node();
    toMaster(n, 4);
    expect(types(n.at(L + A - 1).tick())).not.toContain("renew");
    const r = n.at(L + A).tick();
    expect(find(r, "renew")).toEqual({ type: "renew", epoch: 4 });
  });

  it("the deadline is counted from the moment the renew was SENT, minus the margin", () => {
    const n = new Node();
    toMaster(n);
    n.at(L + A).tick();
    // The reply comes 60 ms later: the deadline still counts from 400.
    n.at(460).feed({ type: "lease-renewed", epoch: 1, sentAt: 400 });
    expect(n.state.serveUntil).toBe(400 + L - M);
    expect(mayServe(n.state, 400 + L - M - 1)).toBe(true);
    expect(mayServe(n.state, 400 + L - M)).toBe(false);
  });

  it("the serve gate closes at the deadline by itself, before any timer fires (a frozen node wakes up closed)", () => {
    const n = new Node();
    toMaster(n);
    const deadline = n.state.serveUntil;
    expect(deadline).toBe(L + L - M);
    // No events at all between: the process was frozen.
    expect(mayServe(n.state, deadline + 5000)).toBe(false);
    expect(n.role).toBe("MASTER");
  });

  it("a MASTER whose renews fail steps down at its deadline, before the lease can expire, and releases", () => {
    const n = new Node();
    toMaster(n, 2);
    n.at(400).tick();
    n.at(401).feed({ type: "redis-error", op: "renew", sentAt: 400, message: "ETIMEDOUT" });
    expect(n.role).toBe("MASTER");
    n.at(500).tick();
    const r = n.at(L + L - M).tick();
    expect(n.role).toBe("FAULT");
    expect(types(r)).toContain("unbind");
    expect(find(r, "release")).toMatchObject({ epoch: 2 });
    expect(r.rule).toBe("deadline");
    expect(r.reason).toMatch(/^stepped down to FAULT: lease deadline passed 0 ms ago/);
    // Redis's own expiry (counted from when it executed the SET, at or after 300) is later.
    expect(L + L).toBeGreaterThan(n.now);
  });

  it("a renew confirmed too late does not extend the lease, and the MASTER steps down (lease expired during a renew)", () => {
    const n = new Node();
    toMaster(n);
    n.at(400).tick();
    // The renew sent at 400 is answered at 700: 400 + 300 - 75 = 625 has passed.
    const r = n.at(700).feed({ type: "lease-renewed", epoch: 1, sentAt: 400 });
    expect(r.rule).toBe("renew-too-late");
    expect(n.role).toBe("BACKUP");
    expect(types(r)).toContain("unbind");
  });

  it("a renew that finds the lease taken makes the MASTER step down at once, without releasing", () => {
    const n = new Node();
    toMaster(n, 3);
    n.at(400).tick();
    const r = n.at(405).feed({ type: "lease-lost", epoch: 3, sentAt: 400, holder: holder({ epoch: 4 }) });
    expect(n.role).toBe("BACKUP");
    expect(types(r)).toContain("unbind");
    expect(types(r)).not.toContain("release");
    expect(n.state.highestEpoch).toBe(4);
    expect(r.reason).toBe("stepped down: renew found the lease held by lb2 at epoch 4 (mine was 3)");
    expect(mayServe(n.state, 405)).toBe(false);
  });

  it("a renew result for an epoch no longer held is ignored", () => {
    const n = new Node();
    toMaster(n, 3);
    n.at(400).feed({ type: "lease-lost", epoch: 3, sentAt: 350 });
    const r = n.at(410).feed({ type: "lease-renewed", epoch: 3, sentAt: 380 });
    expect(n.role).toBe("BACKUP");
    expect(r.rule).toBe("renew-stale");
  });

  it("only one renew is in flight at a time; a lost one is retried after a lease time", () => {
    const n = new Node();
    toMaster(n);
    expect(types(n.at(400).tick())).toContain("renew");
    expect(types(n.at(500).tick())).not.toContain("renew");
    n.at(501).feed({ type: "lease-renewed", epoch: 1, sentAt: 400 });
    expect(types(n.at(600).tick())).toContain("renew");
  });

  it("nextWake asks for a tick no later than the deadline", () => {
    const n = new Node();
    toMaster(n);
    n.at(500).feed({ type: "redis-down" });
    n.state = { ...n.state, lastAdvertAt: 10_000, lastRenewSentAt: 10_000 };
    expect(nextWake(n.state)).toBe(n.state.serveUntil);
  });
});

describe("stale epochs and frozen nodes", () => {
  it("a frozen MASTER that wakes up after losing the lease sees the newer epoch and steps down without serving", () => {
    const n = new Node();
    toMaster(n, 7);
    // Frozen at 320 for 5 s. On waking, the buffered advert from lb2 (MASTER at 8) is read first.
    const wake = 5320;
    expect(mayServe(n.state, wake)).toBe(false);
    const r = n
      .at(wake)
      .feed({ type: "advert", advert: peerAdvert({ role: "MASTER", epoch: 8 }), via: "link" });
    expect(n.role).toBe("BACKUP");
    expect(r.rule).toBe("newer-epoch");
    expect(r.reason).toBe(
      "stepped down without serving further: lb2 advertises MASTER at epoch 8, newer than my 7",
    );
    expect(types(r)).toContain("unbind");
    expect(types(r)).not.toContain("bind");
  });

  it("a MASTER ignores a peer claiming MASTER at an older epoch (it must step down itself)", () => {
    const n = new Node();
    toMaster(n, 9);
    const r = n
      .at(330)
      .feed({ type: "advert", advert: peerAdvert({ role: "MASTER", epoch: 8 }), via: "pubsub" });
    expect(n.role).toBe("MASTER");
    expect(r.rule).toBe("stale-master");
  });

  it("every node remembers the highest epoch it has seen in adverts and lease replies", () => {
    const n = new Node();
    toBackup(n);
    n.at(301).feed({ type: "advert", advert: peerAdvert({ epoch: 5 }), via: "link" });
    n.at(302).feed({ type: "lease-held", holder: holder({ epoch: 4, host: "host-b" }), sentAt: 300 });
    expect(n.state.highestEpoch).toBe(5);
  });
});

describe("adverts: late, reordered, foreign", () => {
  it("a late or reordered advert (seq not newer) is ignored", () => {
    const n = new Node();
    toBackup(n);
    n.at(301).feed({ type: "advert", advert: peerAdvert({ seq: 10, role: "BACKUP" }), via: "link" });
    const r = n
      .at(302)
      .feed({ type: "advert", advert: peerAdvert({ seq: 9, role: "MASTER", epoch: 3 }), via: "pubsub" });
    expect(r.rule).toBe("advert-late");
    expect(n.state.peer?.advert.role).toBe("BACKUP");
    expect(n.state.peer?.masterSeenAt).toBe(Number.NEGATIVE_INFINITY);
  });

  it("the same advert arriving on the peer link and on pub/sub counts once", () => {
    const n = new Node();
    toBackup(n);
    const a = peerAdvert({ seq: 20 });
    n.at(301).feed({ type: "advert", advert: a, via: "link" });
    expect(n.at(302).feed({ type: "advert", advert: a, via: "pubsub" }).rule).toBe("advert-late");
  });

  it("an advert from an older process of the peer is ignored once a newer one spoke", () => {
    const n = new Node();
    toBackup(n);
    n.at(301).feed({ type: "advert", advert: peerAdvert({ inc: "new", up: 2000, seq: 1 }), via: "link" });
    const r = n.at(302).feed({
      type: "advert",
      advert: peerAdvert({ inc: "old", up: 1000, seq: 99, role: "MASTER" }),
      via: "pubsub",
    });
    expect(r.rule).toBe("advert-old-process");
  });

  it("an advert from a process proven dead is ignored even with a newer seq", () => {
    const n = new Node();
    toBackup(n);
    n.at(301).feed({
      type: "advert",
      advert: peerAdvert({ seq: 30, role: "MASTER", epoch: 2 }),
      via: "link",
    });
    n.at(302).feed({
      type: "peer-dead",
      node: "lb2",
      epoch: 2,
      pid: 2000,
      start: 60_000,
      proof: "pid 2000 gone",
    });
    const r = n
      .at(303)
      .feed({ type: "advert", advert: peerAdvert({ seq: 31, role: "MASTER", epoch: 2 }), via: "pubsub" });
    expect(r.rule).toBe("advert-dead");
  });

  it("adverts from another ha section or an unknown node are ignored", () => {
    const n = new Node();
    expect(n.feed({ type: "advert", advert: peerAdvert({ ha: "other" }), via: "pubsub" }).rule).toBe(
      "advert-foreign",
    );
    expect(n.feed({ type: "advert", advert: peerAdvert({ node: "lb9" }), via: "pubsub" }).rule).toBe(
      "advert-unknown",
    );
    expect(n.state.peer).toBeUndefined();
  });

  it("another process calling itself by this node's name is reported loudly", () => {
    const n = new Node();
    const r = n.feed({
      type: "advert",
      advert: peerAdvert({ node: "lb1", inc: "someone-else" }),
      via: "pubsub",
    });
    expect(find(r, "log")?.message).toMatch(/also calls itself lb1: check -L/);
    expect(
      n.feed({ type: "advert", advert: peerAdvert({ node: "lb1", inc: "inc-lb1" }), via: "pubsub" }).rule,
    ).toBe("advert-own");
  });

  it("a config checksum mismatch is said once, loudly, and both keep working", () => {
    const n = new Node();
    toBackup(n);
    const first = n.at(301).feed({ type: "advert", advert: peerAdvert({ checksum: "sum-2" }), via: "link" });
    expect(find(first, "log")).toMatchObject({ level: "warn" });
    expect(find(first, "log")?.message).toMatch(/configuration differs from lb2's/);
    const second = n.at(302).feed({ type: "advert", advert: peerAdvert({ checksum: "sum-2" }), via: "link" });
    expect(find(second, "log")).toBeUndefined();
    const fixed = n.at(303).feed({ type: "advert", advert: peerAdvert({ checksum: "sum-1" }), via: "link" });
    expect(find(fixed, "log")?.message).toBe("configuration now matches lb2's");
    expect(n.role).toBe("BACKUP");
  });
});

describe("both nodes starting at once: priority and ties", () => {
  it("equal priorities: the node with the larger name defers to the smaller one", () => {
    const lb2 = new Node({
      name: "lb2",
      peer: { name: "lb1", priority: 100 },
      identity: identity({ inc: "i2" }),
    });
    lb2.feed({ type: "redis-up" });
    lb2.at(100).feed({
      type: "advert",
      advert: peerAdvert({ node: "lb1", role: "INIT", inc: "i1", priority: 100 }),
      via: "link",
    });
    const r = lb2.at(L).tick();
    expect(lb2.role).toBe("BACKUP");
    expect(types(r)).not.toContain("acquire");
    expect(r.reason).toMatch(/deferring to lb1 \(priority 100 vs 100\)/);
  });

  it("equal priorities: the node with the smaller name does not defer", () => {
    const lb1 = new Node();
    lb1.feed({ type: "redis-up" });
    lb1.at(100).feed({ type: "advert", advert: peerAdvert({ role: "INIT" }), via: "link" });
    expect(types(lb1.at(L).tick())).toContain("acquire");
  });

  it("the higher priority wins the start-up election whatever the names", () => {
    expect(outranks({ priority: 150, node: "lb2" }, { priority: 100, node: "lb1" })).toBe(true);
    expect(outranks({ priority: 100, node: "lb1" }, { priority: 100, node: "lb2" })).toBe(true);
    expect(outranks({ priority: 100, node: "lb2" }, { priority: 100, node: "lb1" })).toBe(false);
  });

  it("deference is bounded: a better peer that never acquires is overtaken after the defer limit", () => {
    const n = new Node({ priority: 50 });
    n.feed({ type: "redis-up" });
    let t = 0;
    let acquiredAt: number | undefined;
    while (t <= 2000 && acquiredAt === undefined) {
      n.at(t).feed({ type: "advert", advert: peerAdvert({ role: "BACKUP", priority: 200 }), via: "link" });
      if (types(n.at(t).tick()).includes("acquire")) acquiredAt = t;
      t += A;
    }
    expect(acquiredAt).toBe(L + 2 * L);
  });

  it("a peer that does not reach Redis is not deferred to", () => {
    const n = new Node({ priority: 50 });
    n.feed({ type: "redis-up" });
    n.at(100).feed({ type: "advert", advert: peerAdvert({ priority: 200, redis: false }), via: "link" });
    expect(types(n.at(L).tick())).toContain("acquire");
  });
});

describe("preempt", () => {
  function masterWithBetterPeer(preempt: { on: boolean; delay: number }) {
    const n = new Node({ priority: 100, peer: { name: "lb2", priority: 150 }, preempt });
    toMaster(n, 5);
    return n;
  }

  it("preempt off: a higher-priority node that comes back stays BACKUP", () => {
    const n = masterWithBetterPeer({ on: false, delay: 0 });
    for (let t = 400; t <= 3000; t += A) {
      n.at(t).feed({ type: "advert", advert: peerAdvert({ priority: 150 }), via: "link" });
      n.at(t).feed({ type: "lease-renewed", epoch: 5, sentAt: t - A });
      n.at(t).tick();
    }
    expect(n.role).toBe("MASTER");
  });

  it("preempt on with a delay: the lower-priority MASTER hands over after the delay, releasing the lease", () => {
    const n = masterWithBetterPeer({ on: true, delay: 1000 });
    let handedAt: number | undefined;
    let release: TransitionResult | undefined;
    for (let t = 400; t <= 3000 && handedAt === undefined; t += A) {
      n.at(t).feed({ type: "advert", advert: peerAdvert({ priority: 150 }), via: "link" });
      n.at(t).feed({ type: "lease-renewed", epoch: 5, sentAt: t - 1 });
      const r = n.at(t).tick();
      if (n.role !== "MASTER") {
        handedAt = t;
        release = r;
      }
    }
    expect(handedAt).toBe(1400);
    expect(release?.rule).toBe("preempt");
    expect(types(release!).slice(0, 2)).toEqual(["unbind", "notify"]);
    // An orderly hand-over: the gate may stay open on accepted connections until the release.
    expect(find(release!, "unbind")?.drainUntil).toBeGreaterThan(1400);
    expect(find(release!, "release")).toMatchObject({ epoch: 5 });
    expect(release?.reason).toMatch(/^handing over to lb2: preempt on, its priority 150 is above 100/);
    // Once released, the next advert tells the peer which epoch was released.
    const told = n.at(1401).feed({ type: "lease-released", epoch: 5, released: true });
    expect(find(told, "advert")?.advert).toMatchObject({ role: "BACKUP", released: 5 });
  });

  it("preempt on: a better peer that goes away before the delay ends does not take over", () => {
    const n = masterWithBetterPeer({ on: true, delay: 500 });
    n.at(400).feed({ type: "advert", advert: peerAdvert({ priority: 150 }), via: "link" });
    n.at(450).feed({ type: "advert", advert: peerAdvert({ priority: 150, role: "FAULT" }), via: "link" });
    n.at(1000).feed({ type: "lease-renewed", epoch: 5, sentAt: 999 });
    n.at(1000).tick();
    expect(n.role).toBe("MASTER");
  });

  it("equal priority never preempts", () => {
    const n = new Node({
      name: "lb2",
      peer: { name: "lb1", priority: 100 },
      preempt: { on: true, delay: 0 },
    });
    toMaster(n);
    n.at(400).feed({ type: "advert", advert: peerAdvert({ node: "lb1", priority: 100 }), via: "link" });
    n.at(401).feed({ type: "lease-renewed", epoch: 1, sentAt: 400 });
    n.at(500).tick();
    expect(n.role).toBe("MASTER");
  });

  it("the higher-priority BACKUP takes the released lease at once (orderly hand-over)", () => {
    const n = new Node({ priority: 150, peer: { name: "lb2", priority: 100 } });
    toBackup(n);
    n.at(305).feed({ type: "advert", advert: peerAdvert({ role: "MASTER", epoch: 5 }), via: "link" });
    n.at(310).feed({ type: "lease-held", holder: holder({ epoch: 5, host: "host-b" }), sentAt: 300 });
    const r = n
      .at(320)
      .feed({ type: "advert", advert: peerAdvert({ role: "BACKUP", epoch: 5, released: 5 }), via: "link" });
    expect(find(r, "acquire")).toEqual({ type: "acquire", minEpoch: 5 });
    expect(r.reason).toMatch(/^lb2 released the lease at epoch 5/);
    n.at(322).feed({ type: "lease-acquired", epoch: 6, sentAt: 320 });
    expect(mayServe(n.state, 322)).toBe(true);
  });
});

describe("graceful and fast stop", () => {
  it("SIGUSR1 on the MASTER: unbind first, then release the lease, then tell the peer", () => {
    const n = new Node();
    toMaster(n, 3);
    const r = n.at(350).feed({ type: "shutdown", mode: "graceful" });
    expect(types(r)).toEqual(["unbind", "notify", "release"]);
    expect(mayServe(n.state, 350)).toBe(false);
    const done = n.at(352).feed({ type: "lease-released", epoch: 3, released: true });
    expect(find(done, "advert")?.advert).toMatchObject({ role: "STOPPED", released: 3, epoch: 3 });
    expect(types(done)).toContain("stopped");
    expect(done.reason).toBe("stopped (graceful): released the lease at epoch 3; told the peer");
  });

  it("a stopping MASTER drains: requests on accepted connections until the release, never past its deadline", () => {
    const n = new Node();
    toMaster(n, 3);
    const deadline = n.state.serveUntil;
    const r = n.at(350).feed({ type: "shutdown", mode: "graceful" });
    // The shell keeps the gate open until it sends the release, and at most until then.
    expect(find(r, "unbind")).toEqual({ type: "unbind", drainUntil: deadline });
    expect(deadline).toBeLessThanOrEqual(L + L - M);
  });

  it("a MASTER that loses its footing does not drain: stall, lost lease, passed deadline", () => {
    const stalled = new Node();
    toMaster(stalled, 6);
    expect(find(stalled.at(350).tick(M + 1), "unbind")).toEqual({ type: "unbind" });
    const late = new Node();
    toMaster(late, 6);
    expect(find(late.at(L + L).tick(), "unbind")).toEqual({ type: "unbind" });
    const stopping = new Node();
    toMaster(stopping, 6);
    // Already past its deadline when the stop comes: nothing left to drain.
    expect(find(stopping.at(L + L).feed({ type: "shutdown", mode: "fast" }), "unbind")).toEqual({
      type: "unbind",
    });
  });

  it("SIGTERM on the MASTER while Redis is down still stops, and says the peer must wait", () => {
    const n = new Node();
    toMaster(n, 3);
    n.at(350).feed({ type: "shutdown", mode: "fast" });
    const r = n
      .at(351)
      .feed({ type: "redis-error", op: "release", sentAt: 350, message: "connection closed" });
    expect(types(r)).toContain("stopped");
    expect(find(r, "advert")?.advert).toMatchObject({ role: "STOPPED", released: 0 });
  });

  it("a stopping MASTER does not step down or renew on later ticks", () => {
    const n = new Node();
    toMaster(n, 3);
    n.at(350).feed({ type: "shutdown", mode: "graceful" });
    const r = n.at(2000).tick();
    expect(r.actions).toEqual([]);
    expect(n.role).toBe("STOPPED");
  });

  it("stopping a BACKUP tells the peer at once", () => {
    const n = new Node();
    toBackup(n);
    const r = n.at(320).feed({ type: "shutdown", mode: "fast" });
    expect(types(r)).toEqual(["notify", "advert", "stopped"]);
    expect(find(r, "notify")).toEqual({ type: "notify", state: "STOP" });
  });

  it("the BACKUP takes over at once on a release advert, before the lease would expire", () => {
    const n = new Node();
    toBackup(n);
    n.at(310).feed({ type: "advert", advert: peerAdvert({ role: "MASTER", epoch: 3 }), via: "link" });
    const r = n
      .at(330)
      .feed({ type: "advert", advert: peerAdvert({ role: "STOPPED", epoch: 3, released: 3 }), via: "link" });
    expect(types(r)).toContain("acquire");
    n.at(332).feed({ type: "lease-acquired", epoch: 4, sentAt: 330 });
    expect(n.state.serveFrom).toBe(332);
  });

  it("a peer that stopped without releasing: its lease is cleared on its own word and taken", () => {
    const n = new Node();
    toBackup(n);
    n.at(310).feed({ type: "advert", advert: peerAdvert({ role: "MASTER", epoch: 3 }), via: "link" });
    const r = n
      .at(330)
      .feed({ type: "advert", advert: peerAdvert({ role: "STOPPED", epoch: 3 }), via: "link" });
    expect(types(r)).toEqual(["clear-lease", "acquire"]);
    expect(find(r, "clear-lease")).toMatchObject({ node: "lb2", epoch: 3 });
  });
});

describe("a dead peer process", () => {
  it("peer link down on the same host: the standby checks whether the pid is still there", () => {
    const n = new Node();
    toBackup(n);
    n.at(310).feed({ type: "advert", advert: peerAdvert({ role: "MASTER", epoch: 3 }), via: "link" });
    const r = n.at(320).feed({ type: "peer-link-down" });
    expect(find(r, "probe")).toEqual({ type: "probe", node: "lb2", epoch: 3, pid: 2000, start: 60_000 });
  });

  it("proof of death: the standby clears that holder's lease (holder and epoch) and takes over at once", () => {
    const n = new Node();
    toBackup(n);
    n.at(310).feed({ type: "advert", advert: peerAdvert({ role: "MASTER", epoch: 3 }), via: "link" });
    n.at(320).feed({ type: "peer-link-down" });
    const r = n.at(321).feed({
      type: "peer-dead",
      node: "lb2",
      epoch: 3,
      pid: 2000,
      start: 60_000,
      proof: "pid 2000 no longer exists",
    });
    expect(types(r)).toEqual(["clear-lease", "acquire"]);
    expect(r.reason).toBe(
      "lb2 (pid 2000) is gone: pid 2000 no longer exists; clearing its lease at epoch 3 and trying to acquire the lease (highest epoch seen 3)",
    );
    n.at(323).feed({ type: "lease-acquired", epoch: 4, sentAt: 321 });
    expect(mayServe(n.state, 323)).toBe(true);
  });

  it("peer link down on another host: no proof, the standby waits one lease time after the last MASTER advert", () => {
    const n = new Node();
    toBackup(n);
    n.at(310).feed({
      type: "advert",
      advert: peerAdvert({ role: "MASTER", epoch: 3, host: "host-b" }),
      via: "link",
    });
    const down = n.at(320).feed({ type: "peer-link-down" });
    expect(find(down, "probe")).toBeUndefined();
    expect(down.reason).toMatch(/another host, so no proof of death/);
    expect(types(n.at(500).tick())).not.toContain("acquire");
    expect(types(n.at(310 + L).tick())).toContain("acquire");
  });

  it("the peer process still there (frozen): no takeover before the lease expires", () => {
    const n = new Node();
    toBackup(n);
    n.at(310).feed({ type: "advert", advert: peerAdvert({ role: "MASTER", epoch: 3 }), via: "link" });
    const r = n.at(320).feed({ type: "peer-alive", node: "lb2", pid: 2000, start: 60_000, why: "state T" });
    expect(r.actions).toEqual([]);
    expect(types(n.at(400).tick())).not.toContain("acquire");
  });
});

describe("fencing a frozen old active (fence kill)", () => {
  function frozenPeerThenAcquire(over: Partial<ElectionInput> = {}, peerOver: Partial<Advert> = {}) {
    const n = new Node(over);
    toBackup(n);
    n.at(310).feed({
      type: "advert",
      advert: peerAdvert({ role: "MASTER", epoch: 3, ...peerOver }),
      via: "link",
    });
    n.at(310 + L).tick();
    return n.at(310 + L + 5).feed({ type: "lease-acquired", epoch: 4, sentAt: 310 + L });
  }

  it("same host, silent for a lease time, older epoch: the new MASTER kills it before binding", () => {
    const r = frozenPeerThenAcquire();
    const fence = find(r, "fence");
    expect(fence).toMatchObject({ node: "lb2", pid: 2000, start: 60_000, epoch: 3 });
    expect(fence?.reason).toMatch(/last advertised MASTER at epoch 3 < 4/);
    expect(types(r).indexOf("fence")).toBeLessThan(types(r).indexOf("bind"));
  });

  it("another host: not fenced, and the log says why", () => {
    const r = frozenPeerThenAcquire({}, { host: "host-b" });
    expect(find(r, "fence")).toBeUndefined();
    expect(find(r, "log")?.message).toMatch(/runs on another host \(host-b\)/);
  });

  it("a rebooted host (boot id differs) is another host", () => {
    const r = frozenPeerThenAcquire({}, { boot: "boot-2" });
    expect(find(r, "fence")).toBeUndefined();
  });

  it("fence off: not fenced, and the log says why", () => {
    const r = frozenPeerThenAcquire({ fence: "off" });
    expect(find(r, "fence")).toBeUndefined();
    expect(find(r, "log")?.message).toMatch(/fence is off/);
  });
});

describe("losing Redis (failsafe)", () => {
  it("a BACKUP that loses Redis enters FAULT and never promotes itself without the lease", () => {
    const n = new Node();
    toBackup(n);
    const r = n.at(310).feed({ type: "redis-down", message: "ECONNREFUSED" });
    expect(n.role).toBe("FAULT");
    expect(r.reason).toBe(
      "entered FAULT: Redis unreachable (ECONNREFUSED); a standby never promotes itself without the lease",
    );
    for (let t = 400; t < 3000; t += A) {
      n.at(t).feed({ type: "peer-dead", node: "lb2", epoch: 3, pid: 2000, start: 60_000, proof: "gone" });
      expect(types(n.at(t).tick())).not.toContain("acquire");
    }
  });

  it("a FAULT node without Redis pings it once per advert-interval and returns to BACKUP when it answers", () => {
    const n = new Node();
    toBackup(n);
    n.at(310).feed({ type: "redis-down" });
    expect(types(n.at(400).tick())).toContain("ping");
    expect(types(n.at(450).tick())).not.toContain("ping");
    n.at(460).feed({ type: "redis-up" });
    expect(n.role).toBe("BACKUP");
  });

  it("a MASTER without Redis stays MASTER while its peer acknowledges its adverts as BACKUP", () => {
    const n = new Node();
    toMaster(n, 2);
    n.at(320).feed({ type: "redis-down" });
    let t = 320;
    for (; t < 3000; t += A) {
      const r = n.at(t).tick();
      const sent = find(r, "advert")?.advert;
      if (sent) {
        // The peer (BACKUP) receives it 5 ms later and its next advert acknowledges it.
        n.at(t + 10).feed({
          type: "advert",
          advert: peerAdvert({ role: "BACKUP", ack: sent.seq, ackInc: "inc-lb1", redis: false }),
          via: "link",
        });
      }
      expect(n.role).toBe("MASTER");
    }
    expect(mayServe(n.state, t)).toBe(true);
  });

  it("failsafe deadline: counted from the SEND time of the advert the peer acknowledged", () => {
    const n = new Node();
    toMaster(n, 2);
    n.at(320).feed({ type: "redis-down" });
    const sent = find(n.at(410).tick(), "advert")!.advert;
    n.at(480).feed({ type: "advert", advert: peerAdvert({ ack: sent.seq, ackInc: "inc-lb1" }), via: "link" });
    expect(n.state.failsafeUntil).toBe(410 + L - M);
  });

  it("an acknowledgement of another process's advert (old incarnation) does not count", () => {
    const n = new Node();
    toMaster(n, 2);
    n.at(320).feed({ type: "redis-down" });
    const sent = find(n.at(410).tick(), "advert")!.advert;
    n.at(480).feed({
      type: "advert",
      advert: peerAdvert({ ack: sent.seq, ackInc: "previous-lb1" }),
      via: "link",
    });
    expect(n.state.failsafeUntil).toBe(Number.NEGATIVE_INFINITY);
  });

  it("Redis down and peer link cut: the MASTER steps down at its deadline (outage by design)", () => {
    const n = new Node();
    toMaster(n, 2);
    n.at(320).feed({ type: "redis-down" });
    n.at(330).feed({ type: "peer-link-down" });
    let t = 330;
    while (n.role === "MASTER" && t < 5000) {
      t += 5;
      n.at(t).tick();
    }
    expect(n.role).toBe("FAULT");
    expect(t).toBe(L + L - M);
  });

  it("a standby acknowledges at once an advert from a MASTER that has lost Redis", () => {
    const n = new Node();
    toBackup(n);
    n.at(305).feed({
      type: "advert",
      advert: peerAdvert({ role: "MASTER", epoch: 2, redis: true, seq: 500 }),
      via: "link",
    });
    const r = n.at(310).feed({
      type: "advert",
      advert: peerAdvert({ role: "MASTER", epoch: 2, redis: false, seq: 501 }),
      via: "link",
    });
    expect(find(r, "advert")?.advert).toMatchObject({ ack: 501, ackInc: "inc-lb2", role: "BACKUP" });
    expect(r.rule).toBe("failsafe-ack");
  });

  it("a standby that acknowledged a MASTER advert does not acquire for one lease time, even with the lease free", () => {
    const n = new Node();
    toBackup(n);
    n.at(310).feed({
      type: "advert",
      advert: peerAdvert({ role: "MASTER", epoch: 2, redis: false }),
      via: "link",
    });
    // Its lease expired in Redis (the MASTER cannot reach Redis), and this node can.
    expect(types(n.at(400).tick())).not.toContain("acquire");
    expect(types(n.at(609).tick())).not.toContain("acquire");
    expect(types(n.at(610).tick())).toContain("acquire");
  });

  it("a standby whose acquisition lands inside the peer's failsafe window holds the lease but serves only after it", () => {
    const n = new Node();
    toBackup(n);
    // Acquisition sent at 300, MASTER advert (failsafe) received at 305, reply at 306.
    n.at(305).feed({
      type: "advert",
      advert: peerAdvert({ role: "MASTER", epoch: 2, redis: false }),
      via: "link",
    });
    const r = n.at(306).feed({ type: "lease-acquired", epoch: 3, sentAt: 300 });
    expect(n.role).toBe("MASTER");
    expect(types(r)).not.toContain("bind");
    expect(n.state.serveFrom).toBe(305 + L);
    expect(mayServe(n.state, 400)).toBe(false);
    // Its MASTER advert at epoch 3 makes the old MASTER step down.
    expect(find(r, "advert")?.advert).toMatchObject({ role: "MASTER", epoch: 3 });
    n.at(400).feed({ type: "lease-renewed", epoch: 3, sentAt: 399 });
    n.at(500).feed({ type: "lease-renewed", epoch: 3, sentAt: 499 });
    expect(types(n.at(605).tick())).toContain("bind");
    expect(mayServe(n.state, 605)).toBe(true);
  });
});

describe("event-loop stalls and hysteresis", () => {
  it("a MASTER whose event loop stalls beyond the margin steps down to FAULT rather than risk two actives", () => {
    const n = new Node();
    toMaster(n, 6);
    const r = n.at(350).tick(M + 1);
    expect(n.role).toBe("FAULT");
    expect(types(r)).toContain("unbind");
    expect(find(r, "release")).toMatchObject({ epoch: 6 });
    expect(r.reason).toBe(
      "stepped down to FAULT: event-loop delay of 76 ms exceeds the 75 ms threshold, stepping down rather than risk two actives",
    );
  });

  it("a delay under the threshold is tolerated", () => {
    const n = new Node();
    toMaster(n);
    n.at(350).tick(M);
    expect(n.role).toBe("MASTER");
  });

  it("FAULT after a stall ends only after several stall-free ticks, and the hold-down delays the next acquisition", () => {
    const n = new Node();
    toMaster(n);
    n.at(350).tick(200);
    n.at(450).tick();
    n.at(550).tick();
    expect(n.role).toBe("FAULT");
    const back = n.at(650).tick();
    expect(n.role).toBe("BACKUP");
    expect(types(back)).toContain("acquire");
    const m = new Node({}, { faultRise: 1, holdDown: 1000 });
    toMaster(m);
    m.at(350).tick(200);
    const early = m.at(450).tick();
    expect(m.role).toBe("BACKUP");
    expect(types(early)).not.toContain("acquire");
    expect(early.reason).toMatch(/holding down/);
  });

  it("a BACKUP that stalls does not acquire on that tick but stays BACKUP, ready for a proof of death", () => {
    const n = new Node();
    toBackup(n);
    const r = n.at(400).tick(500);
    expect(n.role).toBe("BACKUP");
    expect(types(r)).not.toContain("acquire");
    expect(r.reason).toMatch(/not acquiring on this tick/);
  });

  it("a process restarted quickly never acquires within one lease time of its start", () => {
    const n = new Node({}, {}, 10_000);
    n.feed({ type: "redis-up" });
    n.at(10_000).tick(200);
    for (let t = 10_000; t < 10_000 + L; t += 10) {
      expect(types(n.at(t).tick())).not.toContain("acquire");
    }
  });
});

describe("explanations", () => {
  it("every transition names a rule and says one sentence", () => {
    const n = new Node();
    toMaster(n, 7);
    n.at(400).tick();
    n.at(401).feed({ type: "lease-renewed", epoch: 7, sentAt: 400 });
    for (const step of n.steps) {
      expect(step.rule).not.toBe("");
      expect(step.reason).not.toMatch(/\n/);
      expect(step.reason.length).toBeGreaterThan(5);
    }
  });
});
