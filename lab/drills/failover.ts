/**
 * Drill "failover": the tutorial's second weakness. While logged-in users make requests and
 * a probe asks the service every 10 ms, the active load balancer is killed (or frozen, or
 * stopped with TERM); the drill measures the time until the standby is MASTER, the longest
 * time without a successful answer, the failed requests by kind, and whether every user is
 * still logged in; then the node is brought back as the standby.
 */

import { LabError } from "../errors.js";
import { sleepMs } from "../nodes.js";
import { killNode, startNode } from "../ops.js";
import { probeLb, type Role } from "../probe.js";
import { isAlive, procStateLetter, signalRef } from "../proc.js";
import type { LabState, LbName, Mode } from "../state.js";
import { lbSnapshot } from "../view.js";
import {
  activeNode,
  checkUsers,
  type Progress,
  requireAllRunning,
  type SessionsCheck,
  tallySessions,
} from "./common.js";
import { startLoad } from "./load.js";
import {
  type Bucket,
  countRequests,
  failuresByKind,
  longestGap,
  type RequestCounts,
  timeline,
} from "./stats.js";
import { loginUsers } from "./users.js";

export const FAILOVER_SIGNALS = ["KILL", "STOP", "TERM"] as const;
export type FailoverSignal = (typeof FAILOVER_SIGNALS)[number];

export interface Mark {
  readonly t: number;
  readonly label: string;
}

export interface FailoverResult {
  readonly drill: "failover";
  readonly mode: Mode;
  readonly signal: `SIG${FailoverSignal}`;
  readonly killed: LbName;
  readonly newMaster: LbName | null;
  /** From the signal until the other node reports MASTER (null: it never did). */
  readonly takeoverMs: number | null;
  readonly longestGapMs: number;
  readonly gap: { readonly from: number; readonly to: number };
  readonly requests: RequestCounts;
  readonly probe: RequestCounts;
  readonly userRequests: RequestCounts;
  readonly failuresByKind: Record<string, number>;
  readonly sessions: SessionsCheck;
  /** Nodes reporting MASTER once the drill ended (before the restore). */
  readonly mastersAfter: readonly LbName[];
  /** Roles after the killed node was brought back. */
  readonly rolesAfterRestore: Partial<Record<LbName, Role>>;
  readonly restored: string;
  readonly marks: readonly Mark[];
  readonly timeline: readonly Bucket[];
  readonly verdict: string;
}

export interface FailoverOptions {
  readonly signal: FailoverSignal;
  readonly users: number;
  readonly progress: Progress;
  /** Load before the kill (default 500 ms). */
  readonly warmupMs?: number;
  /** Load kept after the takeover (default 1000 ms). */
  readonly settleMs?: number;
  /** Longest wait for the standby to take over (default 10 s). */
  readonly takeoverDeadlineMs?: number;
}

/** Pure: one sentence. */
export function failoverVerdict(
  r: Pick<
    FailoverResult,
    "newMaster" | "takeoverMs" | "longestGapMs" | "sessions" | "mastersAfter" | "requests"
  >,
): string {
  if (r.newMaster === null) return "the standby never became MASTER: the service is down";
  const masters = r.mastersAfter.length === 1 ? "one MASTER" : `${r.mastersAfter.length} MASTERs (!)`;
  return `${r.newMaster} took over in ${Math.round(r.takeoverMs ?? 0)} ms; longest gap ${Math.round(r.longestGapMs)} ms; ${r.requests.failed} failed requests; ${r.sessions.loggedIn}/${r.sessions.total} users still logged in; ${masters}`;
}

const other = (lb: LbName): LbName => (lb === "lb1" ? "lb2" : "lb1");

export async function failoverDrill(state: LabState, opts: FailoverOptions): Promise<FailoverResult> {
  if (state.topology !== "pair") {
    throw new LabError(
      "drill failover needs the HA pair: this lab runs one load balancer (start it without --single)",
    );
  }
  requireAllRunning(state);
  const killed = await activeNode(state);
  const standby = other(killed);
  opts.progress(`active: ${killed}, standby: ${standby}; logging in ${opts.users} users`);
  const users = await loginUsers(state.ports.service, opts.users, `failover-${state.mode}`);
  const load = startLoad({ port: state.ports.service, users, maxMs: 60_000 });
  let takeoverMs: number | null = null;
  let newMaster: LbName | null = null;
  try {
    await sleepMs(opts.warmupMs ?? 500);
    opts.progress(`sending SIG${opts.signal} to ${killed}`);
    const tKill = load.mark(`SIG${opts.signal} ${killed}`);
    killNode(state, killed, opts.signal);
    const deadline = tKill + (opts.takeoverDeadlineMs ?? 10_000);
    while (load.now() < deadline) {
      // only the standby: a frozen old active would hold each probe for its whole timeout.
      const seen = await probeLb(state.ports.stats[standby], 200);
      if (seen.reachable && seen.role === "MASTER") {
        const t = load.mark(`${standby} MASTER`);
        takeoverMs = t - tKill;
        newMaster = standby;
        break;
      }
      await sleepMs(10);
    }
    opts.progress(
      newMaster ? `${standby} is MASTER after ${Math.round(takeoverMs!)} ms` : `${standby} did not take over`,
    );
    await sleepMs(opts.settleMs ?? 1000);
  } finally {
    await load.stop();
  }
  const end = load.now();
  const events = load.events;
  // the whole load window: the gap a user feels starts at the last success before the kill.
  const gap = longestGap(events, 0, end);
  const sessions = tallySessions(await checkUsers(users));
  const mastersAfter = (await lbSnapshot(state)).active;
  const restored = await restore(state, killed, opts.progress);
  const rolesAfterRestore = (await lbSnapshot(state)).roles;
  const base = {
    newMaster,
    takeoverMs,
    longestGapMs: gap.ms,
    sessions,
    mastersAfter,
    requests: countRequests(events),
  };
  return {
    drill: "failover",
    mode: state.mode,
    signal: `SIG${opts.signal}`,
    killed,
    ...base,
    gap: { from: gap.from, to: gap.to },
    probe: countRequests(events, "probe"),
    userRequests: countRequests(events, "user"),
    failuresByKind: failuresByKind(events),
    rolesAfterRestore,
    restored,
    marks: load.marks,
    timeline: timeline(events, 100, 0, end),
    verdict: failoverVerdict(base),
  };
}

/** Brings the killed node back: resumed when still frozen, started again when gone. */
async function restore(state: LabState, node: LbName, progress: Progress): Promise<string> {
  const rec = state.nodes[node];
  let action: string;
  if (rec && isAlive(rec)) {
    if (procStateLetter(rec.pid) === "T") {
      signalRef(rec, "SIGCONT");
      action = `resumed ${node}`;
    } else action = `${node} still running`;
  } else {
    try {
      action = await startNode(state, node);
    } catch (err) {
      progress(`could not restart ${node}: ${(err as Error).message}`);
      return `failed: ${(err as Error).message}`;
    }
  }
  // back as the standby: the active node's page shows it as its peer in BACKUP.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const snap = await lbSnapshot(state);
    if (snap.active.length === 1 && snap.roles[node] === "BACKUP") return `${action}; BACKUP again`;
    await sleepMs(50);
  }
  progress(`${node} runs but was not seen as BACKUP within 10 s`);
  return `${action}; role not confirmed`;
}
