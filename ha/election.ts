/**
 * The HA election as a pure state machine: `transition(state, event, now)` returns the next
 * state, the actions the shell must carry out, and one sentence naming the rule that fired
 * and the facts it saw. No I/O, no clock of its own: `now` is a monotonic time in ms
 * (performance.now() in the shell, a fake clock in tests).
 *
 * The rules, in short (ha/README.md says why):
 * - The lease is the authority: a node serves only while it holds the lease key in Redis
 *   (SET NX PX) and its deadline, counted from the moment it SENT the last successful renew,
 *   minus a safety margin, has not passed. Each acquisition increments the epoch.
 * - Without Redis, a MASTER keeps serving only while its peer confirms (by acknowledging the
 *   MASTER's adverts while not MASTER itself) that it is not active: the peer promises never
 *   to acquire within one lease time of receiving a MASTER advert, so the MASTER may serve
 *   until (send time of the acknowledged advert + lease time - margin) (Patroni's failsafe).
 * - A standby never serves without the lease; it takes over at once when the active releases
 *   it (graceful stop, hand-over) or is proven dead on the same host, otherwise when the lease
 *   runs out.
 */
import type { Advert, Role } from "./advert.js";
import { ADVERT_VERSION } from "./advert.js";

export type { Role } from "./advert.js";

export interface NodeIdentity {
  readonly pid: number;
  readonly start: number;
  readonly host: string;
  readonly boot: string;
  readonly inc: string;
  readonly up: number;
}

export interface ElectionConfig {
  /** The `ha` section's name. */
  readonly ha: string;
  readonly name: string;
  readonly priority: number;
  /** The other node of the pair (absent: a node alone). */
  readonly peer: { readonly name: string; readonly priority: number } | undefined;
  readonly advertInterval: number;
  readonly leaseTime: number;
  /** A MASTER stops serving this long before its lease could expire. */
  readonly margin: number;
  /** Event-loop delay above which a node steps down / will not promote. */
  readonly stallThreshold: number;
  /** After stepping down, no acquisition for this long (hysteresis). */
  readonly holdDown: number;
  /** INIT listens for this long before taking part. */
  readonly startupWait: number;
  /** Longest a node defers to a better-ranked ready peer before trying itself. */
  readonly deferLimit: number;
  /** Stall-free ticks needed to leave FAULT. */
  readonly faultRise: number;
  readonly preempt: { readonly on: boolean; readonly delay: number };
  readonly fence: "kill" | "off";
  readonly checksum: string;
  readonly identity: NodeIdentity;
}

export interface ElectionInput {
  readonly ha: string;
  readonly name: string;
  readonly priority: number;
  readonly peer?: { readonly name: string; readonly priority: number } | undefined;
  readonly advertInterval: number;
  readonly leaseTime: number;
  readonly preempt: { readonly on: boolean; readonly delay: number };
  readonly fence: "kill" | "off";
  readonly checksum: string;
  readonly identity: NodeIdentity;
}

export type ElectionTuning = Partial<
  Pick<ElectionConfig, "margin" | "stallThreshold" | "holdDown" | "startupWait" | "deferLimit" | "faultRise">
>;

/**
 * The derived timings. Defaults for advert-interval A and lease-time L: margin L/4, stall
 * threshold = margin (a pause longer than the margin could outlast the lease between a serve
 * check and the write it allows), hold-down L, start-up wait max(L, 2A) (a new process must not
 * promote within one lease time of its start: an earlier incarnation may have promised a
 * failsafe MASTER exactly that), defer limit 2L, fault rise 3 ticks.
 */
export function electionConfig(input: ElectionInput, tuning: ElectionTuning = {}): ElectionConfig {
  const L = input.leaseTime;
  const A = input.advertInterval;
  const margin = tuning.margin ?? Math.round(L / 4);
  return {
    ha: input.ha,
    name: input.name,
    priority: input.priority,
    peer: input.peer,
    advertInterval: A,
    leaseTime: L,
    margin,
    stallThreshold: tuning.stallThreshold ?? margin,
    holdDown: tuning.holdDown ?? L,
    startupWait: tuning.startupWait ?? Math.max(L, 2 * A),
    deferLimit: tuning.deferLimit ?? 2 * L,
    faultRise: tuning.faultRise ?? 3,
    preempt: input.preempt,
    fence: input.fence,
    checksum: input.checksum,
    identity: input.identity,
  };
}

/** What the lease key holds (JSON in Redis): who, which epoch, and which process. */
export interface LeaseHolder {
  readonly node: string;
  readonly epoch: number;
  readonly inc: string;
  readonly pid: number;
  readonly start: number;
  readonly host: string;
  readonly boot: string;
}

export interface PeerView {
  /** The newest advert accepted from the peer. */
  readonly advert: Advert;
  readonly receivedAt: number;
  /** When an advert claiming MASTER was last received (-Infinity after a non-MASTER one). */
  readonly masterSeenAt: number;
  /** This incarnation is proven dead (same host, pid gone or reused). */
  readonly dead: boolean;
  readonly mismatch: boolean;
}

export interface ElectionState {
  readonly config: ElectionConfig;
  readonly role: Role;
  /** When the current role was entered. */
  readonly since: number;
  readonly startedAt: number;
  /** The epoch of the lease this node holds (0: none). */
  readonly epoch: number;
  readonly highestEpoch: number;
  /** The epoch released last, advertised so the peer takes over at once (0: none). */
  readonly releasedEpoch: number;
  readonly redisUp: boolean;
  /** MASTER: the serve gate is open for serveFrom <= now < serveUntil. */
  readonly serveFrom: number;
  readonly serveUntil: number;
  readonly leaseUntil: number;
  readonly failsafeUntil: number;
  /** A bind was issued for this MASTER period. */
  readonly serving: boolean;
  readonly lastRenewSentAt: number;
  readonly renewPendingSince: number | undefined;
  readonly lastAcquireSentAt: number;
  readonly acquirePendingSince: number | undefined;
  readonly lastAdvertAt: number;
  readonly lastPingAt: number;
  readonly seq: number;
  /** Send times of the recent adverts, for the failsafe acknowledgements. */
  readonly sent: readonly { readonly seq: number; readonly at: number }[];
  readonly peer: PeerView | undefined;
  readonly peerLinkUp: boolean;
  readonly holdDownUntil: number;
  readonly healthyTicks: number;
  readonly preemptSince: number | undefined;
  readonly deferSince: number | undefined;
  /** Last process probe (holder inc@epoch) and when, so probes are not repeated every tick. */
  readonly probedKey: string;
  readonly probedAt: number;
  readonly stopping: "graceful" | "fast" | undefined;
}

export type LeaseOp = "acquire" | "renew" | "release" | "clear" | "ping";

export type ElectionEvent =
  /** Timer. `loopDelay`: the worst event-loop delay seen since the last tick (ms). */
  | { readonly type: "tick"; readonly loopDelay?: number }
  | { readonly type: "lease-acquired"; readonly epoch: number; readonly sentAt: number }
  | { readonly type: "lease-held"; readonly holder: LeaseHolder | undefined; readonly sentAt: number }
  /** The renew script confirmed (or re-created, after Redis lost its data) our lease. */
  | { readonly type: "lease-renewed"; readonly epoch: number; readonly sentAt: number }
  /** The renew script found another holder, or a newer epoch. */
  | {
      readonly type: "lease-lost";
      readonly epoch: number;
      readonly sentAt: number;
      readonly holder?: LeaseHolder | undefined;
      readonly topEpoch?: number | undefined;
    }
  | { readonly type: "lease-released"; readonly epoch: number; readonly released: boolean }
  | {
      readonly type: "lease-cleared";
      readonly node: string;
      readonly epoch: number;
      readonly cleared: boolean;
    }
  | { readonly type: "redis-error"; readonly op: LeaseOp; readonly sentAt: number; readonly message: string }
  | { readonly type: "redis-up" }
  | { readonly type: "redis-down"; readonly message?: string }
  | { readonly type: "advert"; readonly advert: Advert; readonly via: "link" | "pubsub" }
  | { readonly type: "peer-link-up" }
  | { readonly type: "peer-link-down" }
  /** A probe found the process gone: the proof the standby needs to take over at once. */
  | {
      readonly type: "peer-dead";
      readonly node: string;
      readonly epoch: number;
      readonly pid: number;
      readonly start: number;
      readonly proof: string;
    }
  | {
      readonly type: "peer-alive";
      readonly node: string;
      readonly pid: number;
      readonly start: number;
      readonly why: string;
    }
  /** graceful: SIGUSR1; fast: SIGTERM/SIGINT. Both release the lease and tell the peer. */
  | { readonly type: "shutdown"; readonly mode: "graceful" | "fast" };

export type NotifyState = "MASTER" | "BACKUP" | "FAULT" | "STOP";

export type Action =
  | { readonly type: "acquire"; readonly minEpoch: number }
  | { readonly type: "renew"; readonly epoch: number }
  | { readonly type: "release"; readonly epoch: number; readonly why: string }
  | { readonly type: "clear-lease"; readonly node: string; readonly epoch: number; readonly why: string }
  | { readonly type: "ping" }
  | { readonly type: "resync" }
  | { readonly type: "bind" }
  | {
      readonly type: "unbind";
      /**
       * An orderly hand-over (stop, preempt): the lease is still ours until it is released, so
       * requests on connections already accepted may still be answered until the shell sends
       * the release, and never after this deadline (the serve deadline at the hand-over).
       */
      readonly drainUntil?: number;
    }
  | { readonly type: "advert"; readonly advert: Omit<Advert, "sent"> }
  | {
      readonly type: "probe";
      readonly node: string;
      readonly epoch: number;
      readonly pid: number;
      readonly start: number;
    }
  | {
      readonly type: "fence";
      readonly node: string;
      readonly epoch: number;
      readonly pid: number;
      readonly start: number;
      readonly reason: string;
    }
  | { readonly type: "notify"; readonly state: NotifyState }
  | { readonly type: "log"; readonly level: "info" | "warn"; readonly message: string }
  /** Shutdown finished on the HA side (lease released or given up on, peer told). */
  | { readonly type: "stopped" };

export interface TransitionResult {
  readonly state: ElectionState;
  readonly actions: readonly Action[];
  /** One sentence: the rule that fired and the facts it saw. */
  readonly reason: string;
  /** Stable id of the rule (the shell logs a line when it changes, or when the role does). */
  readonly rule: string;
}

const NEVER = Number.NEGATIVE_INFINITY;
const SENT_KEPT = 32;

export function initialState(config: ElectionConfig, now: number): ElectionState {
  return {
    config,
    role: "INIT",
    since: now,
    startedAt: now,
    epoch: 0,
    highestEpoch: 0,
    releasedEpoch: 0,
    redisUp: false,
    serveFrom: Number.POSITIVE_INFINITY,
    serveUntil: NEVER,
    leaseUntil: NEVER,
    failsafeUntil: NEVER,
    serving: false,
    lastRenewSentAt: NEVER,
    renewPendingSince: undefined,
    lastAcquireSentAt: NEVER,
    acquirePendingSince: undefined,
    lastAdvertAt: NEVER,
    lastPingAt: NEVER,
    seq: 0,
    sent: [],
    peer: undefined,
    peerLinkUp: false,
    holdDownUntil: NEVER,
    healthyTicks: 0,
    preemptSince: undefined,
    deferSince: undefined,
    probedKey: "",
    probedAt: NEVER,
    stopping: undefined,
  };
}

/** Whether a request may be served as active at `now`: what the shell's serve gate checks. */
export function mayServe(state: ElectionState, now: number): boolean {
  return state.role === "MASTER" && state.serveFrom <= now && now < state.serveUntil;
}

/** When the shell should next call `tick` at the latest. */
export function nextWake(state: ElectionState): number {
  const s = state;
  const times = [s.lastAdvertAt + s.config.advertInterval];
  if (s.role === "MASTER") {
    times.push(s.serveUntil, s.lastRenewSentAt + s.config.advertInterval);
    if (!s.serving) times.push(s.serveFrom);
    if (s.preemptSince !== undefined) times.push(s.preemptSince + s.config.preempt.delay);
  }
  if (s.role === "INIT") times.push(s.startedAt + s.config.startupWait);
  return Math.min(...times.filter((t) => Number.isFinite(t)));
}

/** A outranks B: higher priority, or equal priority and the smaller name (VRRP breaks ties by address). */
export function outranks(
  a: { readonly priority: number; readonly node: string },
  b: { readonly priority: number; readonly node: string },
): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.node < b.node);
}

// ---- the transition ------------------------------------------------------------------------

/** Working context of one transition: pure, local to the call. */
interface Ctx {
  s: ElectionState;
  readonly now: number;
  readonly actions: Action[];
  reason: string;
  rule: string;
}

type Handler<E extends ElectionEvent> = (c: Ctx, e: E) => void;
type Handlers = { readonly [K in ElectionEvent["type"]]: Handler<Extract<ElectionEvent, { type: K }>> };

export function transition(state: ElectionState, event: ElectionEvent, now: number): TransitionResult {
  const c: Ctx = { s: state, now, actions: [], reason: "", rule: "" };
  const handler = HANDLERS[event.type] as Handler<ElectionEvent>;
  handler(c, event);
  if (c.reason === "") say(c, "no-op", `no action: ${state.role}`);
  return { state: c.s, actions: c.actions, reason: c.reason, rule: c.rule };
}

function say(c: Ctx, rule: string, reason: string): void {
  c.rule = rule;
  c.reason = reason;
}

const ms = (n: number): string => `${Math.round(n)} ms`;

const NOTIFY: Readonly<Record<Role, NotifyState | undefined>> = {
  INIT: undefined,
  BACKUP: "BACKUP",
  MASTER: "MASTER",
  FAULT: "FAULT",
  STOPPED: "STOP",
};

function setRole(c: Ctx, role: Role): void {
  if (c.s.role === role) return;
  c.s = { ...c.s, role, since: c.now };
  const notify = NOTIFY[role];
  if (notify !== undefined) c.actions.push({ type: "notify", state: notify });
}

function sendAdvert(c: Ctx): void {
  const s = c.s;
  const cfg = s.config;
  const seq = s.seq + 1;
  const advert: Omit<Advert, "sent"> = {
    v: ADVERT_VERSION,
    ha: cfg.ha,
    node: cfg.name,
    priority: cfg.priority,
    role: s.role,
    epoch: s.role === "MASTER" ? s.epoch : s.highestEpoch,
    released: s.releasedEpoch,
    redis: s.redisUp,
    checksum: cfg.checksum,
    pid: cfg.identity.pid,
    start: cfg.identity.start,
    host: cfg.identity.host,
    boot: cfg.identity.boot,
    inc: cfg.identity.inc,
    up: cfg.identity.up,
    seq,
    ack: s.peer?.advert.seq ?? 0,
    ackInc: s.peer?.advert.inc ?? "",
  };
  const sent = [...s.sent, { seq, at: c.now }].slice(-SENT_KEPT);
  c.s = { ...s, seq, sent, lastAdvertAt: c.now };
  c.actions.push({ type: "advert", advert });
}

/** The deadline a lease renew or acquisition sent at `sentAt` gives. */
const leaseDeadline = (s: ElectionState, sentAt: number): number =>
  sentAt + s.config.leaseTime - s.config.margin;

/**
 * Until when this node must not serve because the peer may be serving as a failsafe MASTER:
 * one lease time after the last MASTER advert received from it (the promise a non-MASTER
 * makes by acknowledging that advert). A peer proven dead, or that said it stopped being
 * MASTER, holds no such window.
 */
function peerMasterWindow(s: ElectionState): number {
  const p = s.peer;
  if (p === undefined || p.dead) return NEVER;
  return p.masterSeenAt + s.config.leaseTime;
}

interface StepDownOptions {
  readonly release: boolean;
  /** An orderly hand-over (preempt), not a loss: drain until the release is sent. */
  readonly handOver?: boolean;
}

/** The unbind action; an orderly hand-over drains until the release (see Action "unbind"). */
function unbindAction(s: ElectionState, now: number, handOver: boolean): Action {
  return handOver && mayServe(s, now) ? { type: "unbind", drainUntil: s.serveUntil } : { type: "unbind" };
}

/** Leave MASTER: close the gate, unbind, optionally release the lease, tell the peer. */
function stepDown(c: Ctx, to: Role, rule: string, why: string, opts: StepDownOptions): void {
  const s = c.s;
  const epoch = s.epoch;
  c.actions.push(unbindAction(s, c.now, opts.handOver === true && opts.release));
  c.s = {
    ...s,
    epoch: 0,
    serving: false,
    serveFrom: Number.POSITIVE_INFINITY,
    serveUntil: NEVER,
    leaseUntil: NEVER,
    failsafeUntil: NEVER,
    renewPendingSince: undefined,
    preemptSince: undefined,
    holdDownUntil: c.now + s.config.holdDown,
  };
  setRole(c, to === "BACKUP" && !s.redisUp ? "FAULT" : to);
  if (opts.release && epoch > 0) c.actions.push({ type: "release", epoch, why });
  sendAdvert(c);
  say(c, rule, why);
}

function becomeMaster(c: Ctx, epoch: number, sentAt: number, why: string): void {
  const s = c.s;
  const now = c.now;
  const window = peerMasterWindow(s);
  const serveFrom = Math.max(now, window);
  const leaseUntil = leaseDeadline(s, sentAt);
  c.s = {
    ...s,
    epoch,
    highestEpoch: Math.max(s.highestEpoch, epoch),
    releasedEpoch: 0,
    serveFrom,
    leaseUntil,
    serveUntil: leaseUntil,
    failsafeUntil: NEVER,
    serving: false,
    lastRenewSentAt: sentAt,
    renewPendingSince: undefined,
    acquirePendingSince: undefined,
    deferSince: undefined,
    preemptSince: undefined,
  };
  setRole(c, "MASTER");
  c.actions.push({ type: "resync" });
  decideFence(c, epoch);
  let wait = "";
  if (serveFrom <= now) {
    c.actions.push({ type: "bind" });
    c.s = { ...c.s, serving: true };
  } else {
    wait = `; serving from ${ms(serveFrom - now)} from now, once ${s.peer?.advert.node}'s failsafe window has ended`;
  }
  sendAdvert(c);
  say(c, "promoted", `${why}${wait}`);
}

/** A frozen old active on this host still holds the port: kill it, or say why not. */
function decideFence(c: Ctx, epoch: number): void {
  const s = c.s;
  const p = s.peer;
  if (p === undefined || p.dead || p.advert.role !== "MASTER" || p.advert.epoch >= epoch) return;
  const a = p.advert;
  const silent = c.now - p.receivedAt;
  const id = s.config.identity;
  const what = `${a.node} (pid ${a.pid}) last advertised MASTER at epoch ${a.epoch} < ${epoch}, ${ms(silent)} ago`;
  const log = (message: string) => c.actions.push({ type: "log", level: "warn", message });
  if (silent < s.config.leaseTime) {
    log(`not fencing: ${what}; it is responsive and steps down on seeing epoch ${epoch}`);
  } else if (s.config.fence === "off") {
    log(`not fencing: ${what}; fence is off`);
  } else if (a.host !== id.host || a.boot !== id.boot) {
    log(`not fencing: ${what}; it runs on another host (${a.host})`);
  } else {
    c.actions.push({
      type: "fence",
      node: a.node,
      epoch: a.epoch,
      pid: a.pid,
      start: a.start,
      reason: `${what}: frozen on this host, still holding the service`,
    });
  }
}

/** BACKUP: try to take the lease when nothing speaks against it; returns the sentence. */
function maybeAcquire(c: Ctx, urgent: boolean): string {
  const s = c.s;
  const now = c.now;
  const cfg = s.config;
  if (!s.redisUp)
    return "no action: Redis unreachable, and a standby never promotes itself without the lease";
  if (!urgent && s.acquirePendingSince !== undefined && now - s.acquirePendingSince < cfg.leaseTime) {
    return "no action: an acquisition is in flight";
  }
  if (now < s.holdDownUntil)
    return `no action: holding down for ${ms(s.holdDownUntil - now)} after stepping down`;
  const window = peerMasterWindow(s);
  if (now < window) {
    const p = s.peer!;
    return `no action: ${p.advert.node} advertised MASTER at epoch ${p.advert.epoch} ${ms(now - p.masterSeenAt)} ago`;
  }
  const p = s.peer;
  const ready =
    p !== undefined &&
    !p.dead &&
    now - p.receivedAt < cfg.leaseTime &&
    (p.advert.role === "BACKUP" || p.advert.role === "INIT") &&
    p.advert.redis &&
    outranks(p.advert, { priority: cfg.priority, node: cfg.name });
  if (ready) {
    const deferSince = s.deferSince ?? now;
    c.s = { ...s, deferSince };
    if (now - deferSince < cfg.deferLimit) {
      return `no action: deferring to ${p.advert.node} (priority ${p.advert.priority} vs ${cfg.priority}), ready and reaching Redis`;
    }
  } else if (s.deferSince !== undefined) {
    c.s = { ...s, deferSince: undefined };
  }
  if (!urgent && now - s.lastAcquireSentAt < cfg.advertInterval) return "no action: acquired recently";
  c.s = { ...c.s, acquirePendingSince: now, lastAcquireSentAt: now };
  c.actions.push({ type: "acquire", minEpoch: c.s.highestEpoch });
  return `trying to acquire the lease (highest epoch seen ${c.s.highestEpoch})`;
}

/** FAULT ends when Redis answers, the loop has been calm for a few ticks, and the start-up wait is over. */
function canLeaveFault(s: ElectionState, now: number): boolean {
  return s.redisUp && s.healthyTicks >= s.config.faultRise && now - s.startedAt >= s.config.startupWait;
}

function maybeAdvert(c: Ctx): void {
  if (c.s.role === "STOPPED") return;
  if (c.now - c.s.lastAdvertAt >= c.s.config.advertInterval) sendAdvert(c);
}

function maybePing(c: Ctx): void {
  if (c.s.redisUp || c.s.role === "STOPPED" || c.s.role === "MASTER") return;
  if (c.now - c.s.lastPingAt < c.s.config.advertInterval) return;
  c.s = { ...c.s, lastPingAt: c.now };
  c.actions.push({ type: "ping" });
}

// ---- handlers ------------------------------------------------------------------------------

const onTick: Handler<{ type: "tick"; loopDelay?: number }> = (c, e) => {
  const cfg = c.s.config;
  const delay = e.loopDelay ?? 0;
  const stalled = delay > cfg.stallThreshold;
  if (c.s.role === "STOPPED") return say(c, "stopped-idle", "no action: stopped");
  c.s = { ...c.s, healthyTicks: stalled ? 0 : c.s.healthyTicks + 1 };
  const stallFacts = `event-loop delay of ${ms(delay)} exceeds the ${ms(cfg.stallThreshold)} threshold`;
  if (stalled && c.s.role === "MASTER") {
    stepDown(
      c,
      "FAULT",
      "stall",
      `stepped down to FAULT: ${stallFacts}, stepping down rather than risk two actives`,
      {
        release: true,
      },
    );
    return;
  }
  if (stalled && (c.s.role === "BACKUP" || c.s.role === "INIT")) {
    // A standby serves nothing, so a stall is no danger in itself: it skips this tick's
    // acquisition (its view may be late) but stays ready, so that a proof of the active's
    // death still promotes it at once (a FAULT here cost a failover ~3 ticks under load).
    say(c, "stall", `no action: ${stallFacts}; not acquiring on this tick`);
    maybeAdvert(c);
    return;
  }
  TICK_BY_ROLE[c.s.role](c);
  maybePing(c);
  maybeAdvert(c);
};

const TICK_BY_ROLE: Readonly<Record<Role, (c: Ctx) => void>> = {
  INIT: (c) => {
    const s = c.s;
    if (c.now - s.startedAt < s.config.startupWait) {
      return say(
        c,
        "init-wait",
        `no action: listening for the peer for ${ms(s.config.startupWait)} before taking part`,
      );
    }
    if (!s.redisUp) {
      setRole(c, "FAULT");
      return say(c, "init-no-redis", "entered FAULT: start-up wait over and Redis unreachable");
    }
    setRole(c, "BACKUP");
    const next = maybeAcquire(c, true);
    say(c, "init-done", `entered BACKUP: start-up wait over; ${next}`);
  },
  BACKUP: (c) => {
    const sentence = maybeAcquire(c, false);
    say(c, sentence.startsWith("trying") ? "acquire" : "backup-wait", sentence);
  },
  FAULT: (c) => {
    const s = c.s;
    if (canLeaveFault(s, c.now)) {
      setRole(c, "BACKUP");
      const next = maybeAcquire(c, true);
      say(
        c,
        "fault-cleared",
        `entered BACKUP: Redis reachable and ${s.healthyTicks} stall-free ticks; ${next}`,
      );
      return;
    }
    const why = s.redisUp ? `${s.healthyTicks}/${s.config.faultRise} stall-free ticks` : "Redis unreachable";
    say(c, "fault-wait", `no action: FAULT (${why})`);
  },
  MASTER: (c) => tickMaster(c),
  STOPPED: () => {},
};

function tickMaster(c: Ctx): void {
  const s = c.s;
  const cfg = s.config;
  const now = c.now;
  if (now >= s.serveUntil) {
    const lease = Number.isFinite(s.leaseUntil)
      ? `lease deadline passed ${ms(now - s.leaseUntil)} ago (last confirmed renew sent ${ms(now - (s.leaseUntil + cfg.margin - cfg.leaseTime))} ago, lease ${ms(cfg.leaseTime)}, margin ${ms(cfg.margin)})`
      : "no lease deadline";
    const failsafe = Number.isFinite(s.failsafeUntil)
      ? `, and no confirmation from the peer since ${ms(now - s.failsafeUntil)} ago`
      : ", and no failsafe confirmation from the peer";
    const to: Role = s.redisUp ? "BACKUP" : "FAULT";
    stepDown(c, to, "deadline", `stepped down to ${to}: ${lease}${failsafe}`, { release: true });
    return;
  }
  const p = c.s.peer;
  if (c.s.preemptSince !== undefined && p !== undefined && now - c.s.preemptSince >= cfg.preempt.delay) {
    if (now - p.receivedAt < cfg.leaseTime && !p.dead) {
      const a = p.advert;
      stepDown(
        c,
        "BACKUP",
        "preempt",
        `handing over to ${a.node}: preempt on, its priority ${a.priority} is above ${cfg.priority} and it has been ready for ${ms(now - c.s.preemptSince)} (delay ${ms(cfg.preempt.delay)}); releasing epoch ${s.epoch}`,
        { release: true, handOver: true },
      );
      return;
    }
    c.s = { ...c.s, preemptSince: undefined };
  }
  if (!s.serving && now >= s.serveFrom) {
    c.actions.push({ type: "bind" });
    c.s = { ...c.s, serving: true };
    say(c, "serve-start", `started serving: the peer's failsafe window has ended, lease epoch ${s.epoch}`);
  }
  const renewDue = now - s.lastRenewSentAt >= cfg.advertInterval;
  const renewFree = s.renewPendingSince === undefined || now - s.renewPendingSince >= cfg.leaseTime;
  if (renewDue && renewFree) {
    c.s = { ...c.s, lastRenewSentAt: now, renewPendingSince: now };
    c.actions.push({ type: "renew", epoch: s.epoch });
  }
  if (c.rule === "") {
    say(c, "master-ok", `no action: MASTER at epoch ${s.epoch}, serving for ${ms(s.serveUntil - now)} more`);
  }
}

const onAcquired: Handler<{ type: "lease-acquired"; epoch: number; sentAt: number }> = (c, e) => {
  c.s = { ...c.s, acquirePendingSince: undefined, redisUp: true };
  const s = c.s;
  const releaseIt = (rule: string, why: string) => {
    c.actions.push({ type: "release", epoch: e.epoch, why });
    c.s = { ...c.s, highestEpoch: Math.max(c.s.highestEpoch, e.epoch) };
    say(c, rule, why);
  };
  if (s.role !== "BACKUP" || s.stopping !== undefined) {
    return releaseIt("acquired-unwanted", `released epoch ${e.epoch} at once: acquired while ${s.role}`);
  }
  if (e.epoch <= s.highestEpoch) {
    return releaseIt(
      "acquired-stale",
      `released epoch ${e.epoch} at once: epoch ${s.highestEpoch} has been seen, refusing an older one`,
    );
  }
  if (leaseDeadline(s, e.sentAt) <= c.now) {
    return releaseIt(
      "acquired-late",
      `released epoch ${e.epoch} at once: the reply took ${ms(c.now - e.sentAt)}, past the lease deadline`,
    );
  }
  const alone = s.peer === undefined ? "no peer heard" : `${s.peer.advert.node} is ${s.peer.advert.role}`;
  becomeMaster(c, e.epoch, e.sentAt, `promoted to MASTER: acquired the lease at epoch ${e.epoch} (${alone})`);
};

const onHeld: Handler<{ type: "lease-held"; holder: LeaseHolder | undefined; sentAt: number }> = (c, e) => {
  c.s = { ...c.s, acquirePendingSince: undefined, redisUp: true };
  const h = e.holder;
  if (h === undefined) return say(c, "held-unknown", "no action: the lease key holds something unreadable");
  c.s = { ...c.s, highestEpoch: Math.max(c.s.highestEpoch, h.epoch) };
  const s = c.s;
  const id = s.config.identity;
  if (s.role !== "BACKUP") return say(c, "held", `no action: lease held by ${h.node} at epoch ${h.epoch}`);
  if (h.inc === id.inc) {
    c.actions.push({
      type: "clear-lease",
      node: h.node,
      epoch: h.epoch,
      why: "a lost reply left it to this process",
    });
    c.s = { ...c.s, acquirePendingSince: c.now, lastAcquireSentAt: c.now };
    c.actions.push({ type: "acquire", minEpoch: c.s.highestEpoch });
    return say(
      c,
      "held-self",
      `clearing the lease at epoch ${h.epoch}: held by this very process after a lost reply`,
    );
  }
  const key = `${h.inc}@${h.epoch}`;
  const sameHost = h.host === id.host && h.boot === id.boot;
  const probeDue = key !== s.probedKey || c.now - s.probedAt >= s.config.leaseTime;
  if (sameHost && probeDue) {
    c.actions.push({ type: "probe", node: h.node, epoch: h.epoch, pid: h.pid, start: h.start });
    c.s = { ...c.s, probedKey: key, probedAt: c.now };
  }
  say(c, "held", `no action: lease held by ${h.node} (pid ${h.pid}) at epoch ${h.epoch}`);
};

const onRenewed: Handler<{ type: "lease-renewed"; epoch: number; sentAt: number }> = (c, e) => {
  c.s = { ...c.s, redisUp: true };
  const s = c.s;
  if (s.role !== "MASTER" || e.epoch !== s.epoch) {
    return say(
      c,
      "renew-stale",
      `no action: renew result for epoch ${e.epoch}, which this node no longer serves`,
    );
  }
  c.s = { ...s, renewPendingSince: undefined };
  if (e.epoch < s.highestEpoch) {
    stepDown(
      c,
      "BACKUP",
      "renew-stale-epoch",
      `stepped down: epoch ${s.highestEpoch} exists, newer than my ${s.epoch}`,
      {
        release: true,
      },
    );
    return;
  }
  const until = leaseDeadline(s, e.sentAt);
  if (until <= c.now) {
    if (s.serveUntil <= c.now) {
      stepDown(
        c,
        s.redisUp ? "BACKUP" : "FAULT",
        "renew-too-late",
        `stepped down: renew confirmed after ${ms(c.now - e.sentAt)}, too late to extend the lease (deadline passed)`,
        { release: true },
      );
      return;
    }
    return say(c, "renew-too-late", `no extension: renew confirmed after ${ms(c.now - e.sentAt)}, too late`);
  }
  const leaseUntil = Math.max(s.leaseUntil, until);
  c.s = { ...c.s, leaseUntil, serveUntil: Math.max(leaseUntil, s.failsafeUntil, s.serveUntil) };
  say(c, "renewed", `lease renewed at epoch ${s.epoch}: serving for ${ms(c.s.serveUntil - c.now)} more`);
};

const onLost: Handler<Extract<ElectionEvent, { type: "lease-lost" }>> = (c, e) => {
  c.s = { ...c.s, redisUp: true };
  const top = Math.max(e.holder?.epoch ?? 0, e.topEpoch ?? 0);
  c.s = { ...c.s, highestEpoch: Math.max(c.s.highestEpoch, top) };
  if (c.s.role !== "MASTER" || e.epoch !== c.s.epoch) {
    return say(
      c,
      "lost-stale",
      `no action: renew for epoch ${e.epoch} refused, which this node no longer serves`,
    );
  }
  const who = e.holder
    ? `held by ${e.holder.node} at epoch ${e.holder.epoch}`
    : `gone, and epoch ${e.topEpoch ?? "?"} has been issued`;
  stepDown(c, "BACKUP", "lease-lost", `stepped down: renew found the lease ${who} (mine was ${e.epoch})`, {
    release: false,
  });
};

const onReleased: Handler<{ type: "lease-released"; epoch: number; released: boolean }> = (c, e) => {
  c.s = { ...c.s, redisUp: true, releasedEpoch: Math.max(c.s.releasedEpoch, e.epoch) };
  const what = e.released
    ? `released the lease at epoch ${e.epoch}`
    : `lease at epoch ${e.epoch} was no longer mine`;
  if (c.s.stopping !== undefined) return finishStop(c, what);
  sendAdvert(c);
  say(c, "released", `${what}; told the peer`);
};

function finishStop(c: Ctx, what: string): void {
  setRole(c, "STOPPED");
  sendAdvert(c);
  c.actions.push({ type: "stopped" });
  say(c, "stopped", `stopped (${c.s.stopping}): ${what}; told the peer`);
}

const onCleared: Handler<{ type: "lease-cleared"; node: string; epoch: number; cleared: boolean }> = (
  c,
  e,
) => {
  c.s = { ...c.s, redisUp: true };
  say(
    c,
    "cleared",
    e.cleared
      ? `cleared ${e.node}'s lease at epoch ${e.epoch}`
      : `did not clear ${e.node}'s lease at epoch ${e.epoch}: it no longer held it`,
  );
};

const onRedisError: Handler<Extract<ElectionEvent, { type: "redis-error" }>> = (c, e) => {
  const s = c.s;
  c.s = {
    ...s,
    redisUp: false,
    acquirePendingSince: e.op === "acquire" ? undefined : s.acquirePendingSince,
    renewPendingSince: e.op === "renew" ? undefined : s.renewPendingSince,
  };
  if (e.op === "release" && s.stopping !== undefined) {
    return finishStop(c, `could not release the lease (${e.message}); the peer waits for it to expire`);
  }
  redisLost(c, `${e.op} failed: ${e.message}`);
};

const redisLost = (c: Ctx, facts: string) => {
  const s = c.s;
  if (s.role === "MASTER") {
    const left = ms(s.serveUntil - c.now);
    return say(
      c,
      "master-no-redis",
      `staying MASTER for ${left} at most: ${facts}; serving on while the lease deadline or the peer's confirmation holds`,
    );
  }
  if (s.role === "BACKUP") {
    setRole(c, "FAULT");
    return say(c, "no-redis", `entered FAULT: ${facts}; a standby never promotes itself without the lease`);
  }
  say(c, "no-redis", `no action: ${facts}`);
};

const onRedisUp: Handler<{ type: "redis-up" }> = (c) => {
  const was = c.s.redisUp;
  c.s = { ...c.s, redisUp: true };
  if (c.s.role === "FAULT" && canLeaveFault(c.s, c.now)) {
    setRole(c, "BACKUP");
    const next = maybeAcquire(c, true);
    return say(c, "redis-up", `entered BACKUP: Redis reachable again; ${next}`);
  }
  say(c, was ? "redis-ok" : "redis-up", was ? "no action: Redis reachable" : `Redis reachable (${c.s.role})`);
};

const onRedisDown: Handler<{ type: "redis-down"; message?: string }> = (c, e) => {
  c.s = { ...c.s, redisUp: false };
  redisLost(c, `Redis unreachable${e.message ? ` (${e.message})` : ""}`);
};

const onAdvert: Handler<{ type: "advert"; advert: Advert; via: "link" | "pubsub" }> = (c, e) => {
  const a = e.advert;
  const s = c.s;
  const cfg = s.config;
  if (a.ha !== cfg.ha) return say(c, "advert-foreign", `ignored an advert for ha section ${a.ha}`);
  if (a.node === cfg.name) {
    if (a.inc === cfg.identity.inc) return say(c, "advert-own", "no action: my own advert");
    c.actions.push({
      type: "log",
      level: "warn",
      message: `another process (pid ${a.pid} on ${a.host}) also calls itself ${a.node}: check -L`,
    });
    return say(c, "advert-duplicate", `ignored an advert from another process named ${a.node}`);
  }
  if (cfg.peer === undefined || a.node !== cfg.peer.name) {
    return say(c, "advert-unknown", `ignored an advert from ${a.node}, not a peer of this ha section`);
  }
  const p = s.peer;
  if (p !== undefined && a.inc === p.advert.inc) {
    if (p.dead)
      return say(c, "advert-dead", `ignored a late advert from ${a.node} pid ${a.pid}, proven dead`);
    if (a.seq <= p.advert.seq) {
      return say(
        c,
        "advert-late",
        `ignored a late or reordered advert from ${a.node} (seq ${a.seq} <= ${p.advert.seq})`,
      );
    }
  }
  if (p !== undefined && a.inc !== p.advert.inc && a.up < p.advert.up) {
    return say(
      c,
      "advert-old-process",
      `ignored an advert from an older process of ${a.node} (pid ${a.pid})`,
    );
  }
  const mismatch = a.checksum !== cfg.checksum;
  if (mismatch && (p === undefined || !p.mismatch)) {
    c.actions.push({
      type: "log",
      level: "warn",
      message: `configuration differs from ${a.node}'s (checksum ${cfg.checksum.slice(0, 12)} here, ${a.checksum.slice(0, 12)} there): both keep working, fix it`,
    });
  } else if (!mismatch && p?.mismatch) {
    c.actions.push({ type: "log", level: "info", message: `configuration now matches ${a.node}'s` });
  }
  const masterSeenAt = a.role === "MASTER" ? c.now : NEVER;
  c.s = {
    ...s,
    highestEpoch: Math.max(s.highestEpoch, a.epoch),
    peer: { advert: a, receivedAt: c.now, masterSeenAt, dead: false, mismatch },
  };
  ADVERT_BY_ROLE[c.s.role](c, a);
  if (c.rule === "") say(c, "advert", `no action: ${a.node} is ${a.role} at epoch ${a.epoch}`);
};

const ADVERT_BY_ROLE: Readonly<Record<Role, (c: Ctx, a: Advert) => void>> = {
  MASTER: (c, a) => advertWhileMaster(c, a),
  BACKUP: (c, a) => advertWhileStandby(c, a),
  INIT: (c, a) => advertWhileStandby(c, a),
  FAULT: (c, a) => advertWhileStandby(c, a),
  STOPPED: () => {},
};

const advertWhileMaster = (c: Ctx, a: Advert) => {
  const s = c.s;
  const cfg = s.config;
  if (a.role === "MASTER") {
    if (a.epoch > s.epoch) {
      stepDown(
        c,
        "BACKUP",
        "newer-epoch",
        `stepped down without serving further: ${a.node} advertises MASTER at epoch ${a.epoch}, newer than my ${s.epoch}`,
        { release: false },
      );
      return;
    }
    if (a.epoch === s.epoch) {
      // Epochs come from one counter: two holders of one epoch means something is badly wrong.
      if (outranks(a, { priority: cfg.priority, node: cfg.name })) {
        stepDown(
          c,
          "BACKUP",
          "same-epoch",
          `stepped down: ${a.node} also claims epoch ${a.epoch} and outranks me`,
          {
            release: false,
          },
        );
      }
      return;
    }
    return say(
      c,
      "stale-master",
      `no action: ${a.node} claims MASTER at stale epoch ${a.epoch} < ${s.epoch}; it must step down`,
    );
  }
  // A non-MASTER peer acknowledging one of our adverts: the failsafe confirmation.
  if (a.ackInc === cfg.identity.inc) {
    const acked = s.sent.find((x) => x.seq === a.ack);
    if (acked !== undefined) {
      const failsafeUntil = Math.max(s.failsafeUntil, leaseDeadline(s, acked.at));
      c.s = { ...c.s, failsafeUntil, serveUntil: Math.max(s.serveUntil, failsafeUntil) };
    }
  }
  // Preemption needs a strictly higher priority: equal priorities never hand over back and forth.
  const eligible = cfg.preempt.on && a.role === "BACKUP" && a.redis && a.priority > cfg.priority;
  c.s = { ...c.s, preemptSince: eligible ? (c.s.preemptSince ?? c.now) : undefined };
};

const advertWhileStandby = (c: Ctx, a: Advert) => {
  const s = c.s;
  if (a.role === "MASTER") {
    // A MASTER without Redis lives on our acknowledgements: answer at once rather than at our
    // next advert, so its failsafe deadline moves with the round trip, not the interval.
    if (!a.redis) {
      sendAdvert(c);
      say(c, "failsafe-ack", `acknowledged ${a.node}'s advert ${a.seq} at once: it is MASTER without Redis`);
    }
    return;
  }
  if (a.released > 0 && a.released >= s.highestEpoch) {
    if (s.role !== "BACKUP")
      return say(c, "peer-released", `${a.node} released the lease at epoch ${a.released}`);
    const next = maybeAcquire(c, true);
    return say(c, "peer-released", `${a.node} released the lease at epoch ${a.released}: ${next}`);
  }
  if (a.role === "STOPPED" && s.role === "BACKUP" && s.redisUp) {
    // It stopped without managing to release: it said itself it no longer serves.
    c.actions.push({ type: "clear-lease", node: a.node, epoch: a.epoch, why: `${a.node} stopped` });
    const next = maybeAcquire(c, true);
    return say(
      c,
      "peer-stopped",
      `${a.node} stopped without releasing: clearing its lease at epoch ${a.epoch}; ${next}`,
    );
  }
};

const onLinkUp: Handler<{ type: "peer-link-up" }> = (c) => {
  c.s = { ...c.s, peerLinkUp: true };
  say(c, "link-up", "peer link up");
};

const onLinkDown: Handler<{ type: "peer-link-down" }> = (c) => {
  c.s = { ...c.s, peerLinkUp: false };
  const p = c.s.peer;
  if (p === undefined || p.dead) return say(c, "link-down", "peer link down");
  const a = p.advert;
  const id = c.s.config.identity;
  if (a.host === id.host && a.boot === id.boot) {
    c.actions.push({ type: "probe", node: a.node, epoch: a.epoch, pid: a.pid, start: a.start });
    c.s = { ...c.s, probedKey: `${a.inc}@${a.epoch}`, probedAt: c.now };
    return say(c, "link-down", `peer link to ${a.node} down: checking whether pid ${a.pid} is still there`);
  }
  say(
    c,
    "link-down",
    `peer link to ${a.node} down; it runs on another host, so no proof of death: waiting for adverts or the lease to expire`,
  );
};

const onPeerDead: Handler<Extract<ElectionEvent, { type: "peer-dead" }>> = (c, e) => {
  const p = c.s.peer;
  if (p !== undefined && p.advert.pid === e.pid && p.advert.start === e.start) {
    c.s = { ...c.s, peer: { ...p, dead: true, masterSeenAt: NEVER } };
  }
  const facts = `${e.node} (pid ${e.pid}) is gone: ${e.proof}`;
  if (c.s.role !== "BACKUP" || !c.s.redisUp) return say(c, "peer-dead", `${facts}; no action as ${c.s.role}`);
  if (e.epoch > 0) c.actions.push({ type: "clear-lease", node: e.node, epoch: e.epoch, why: e.proof });
  const next = maybeAcquire(c, true);
  say(c, "peer-dead", `${facts}; clearing its lease at epoch ${e.epoch} and ${next}`);
};

const onPeerAlive: Handler<Extract<ElectionEvent, { type: "peer-alive" }>> = (c, e) => {
  say(
    c,
    "peer-alive",
    `${e.node} (pid ${e.pid}) is still there (${e.why}): no proof, waiting for the lease to expire`,
  );
};

const onShutdown: Handler<{ type: "shutdown"; mode: "graceful" | "fast" }> = (c, e) => {
  const s = c.s;
  if (s.stopping !== undefined) return say(c, "stopping", "no action: already stopping");
  c.s = { ...s, stopping: e.mode };
  if (s.role === "MASTER") {
    const epoch = s.epoch;
    c.actions.push(unbindAction(s, c.now, true));
    c.s = {
      ...c.s,
      epoch: 0,
      serving: false,
      serveFrom: Number.POSITIVE_INFINITY,
      serveUntil: NEVER,
      renewPendingSince: undefined,
      highestEpoch: Math.max(s.highestEpoch, epoch),
    };
    setRole(c, "STOPPED");
    c.actions.push({ type: "release", epoch, why: `${e.mode} stop` });
    return say(c, "stopping", `stopping (${e.mode}): unbinding, then releasing the lease at epoch ${epoch}`);
  }
  finishStop(c, `was ${s.role}, held no lease`);
};

const HANDLERS: Handlers = {
  tick: onTick,
  "lease-acquired": onAcquired,
  "lease-held": onHeld,
  "lease-renewed": onRenewed,
  "lease-lost": onLost,
  "lease-released": onReleased,
  "lease-cleared": onCleared,
  "redis-error": onRedisError,
  "redis-up": onRedisUp,
  "redis-down": onRedisDown,
  advert: onAdvert,
  "peer-link-up": onLinkUp,
  "peer-link-down": onLinkDown,
  "peer-dead": onPeerDead,
  "peer-alive": onPeerAlive,
  shutdown: onShutdown,
};
