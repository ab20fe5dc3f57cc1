/**
 * Drill "redis": Redis dies under load. What keeps working: the load balancers go on
 * proxying (the probe), persistence goes on (each user is still answered by its own server),
 * one node stays MASTER. What does not, in shared mode: the sessions themselves (the web
 * servers answer 503 "cannot tell" instead of logging anyone out). Then Redis comes back
 * (its append-only file keeps the sessions) and the drill measures the recovery.
 */
import { LabError } from "../errors.js";
import { sleepMs } from "../nodes.js";
import { killNode, startNode } from "../ops.js";
import type { LabState, Mode } from "../state.js";
import { lbSnapshot } from "../view.js";
import { checkUsers, type Progress, requireAllRunning, type SessionsCheck, tallySessions } from "./common.js";
import type { Mark } from "./failover.js";
import { startLoad } from "./load.js";
import {
  availability,
  type Bucket,
  between,
  countRequests,
  failuresByKind,
  type LoadEvent,
  type RequestCounts,
  timeline,
} from "./stats.js";
import { loginUsers } from "./users.js";

export interface PhaseFigures {
  readonly durationMs: number;
  /** The service's monitor-uri: answered by the load balancer (proxying works). */
  readonly probe: RequestCounts;
  /** Logged-in users' /whoami: needs the session store. */
  readonly users: RequestCounts;
  readonly failuresByKind: Record<string, number>;
  /** Share of user answers that came from the server the user logged in on. */
  readonly persistence: number;
}

export interface RedisResult {
  readonly drill: "redis";
  readonly mode: Mode;
  readonly signal: "SIGKILL";
  readonly downMs: number;
  readonly before: PhaseFigures;
  readonly during: PhaseFigures;
  readonly after: PhaseFigures;
  /** From Redis back until a user request succeeds again. */
  readonly recoveryMs: number | null;
  readonly sessions: SessionsCheck;
  /** Fewest and most nodes seen MASTER at once while Redis was down. */
  readonly masters: { readonly min: number; readonly max: number };
  readonly marks: readonly Mark[];
  readonly timeline: readonly Bucket[];
  readonly verdict: string;
}

export interface RedisOptions {
  readonly users: number;
  readonly downMs: number;
  readonly progress: Progress;
}

/** A request and, for a user's, the server that answered (own: the one of the login). */
export interface ServedEvent extends LoadEvent {
  readonly server?: string;
  readonly own?: boolean;
}

/** Pure: the figures of one phase. */
export function phaseFigures(events: readonly ServedEvent[], from: number, to: number): PhaseFigures {
  const part = between(events, from, to) as ServedEvent[];
  const userAnswers = part.filter((e) => e.source === "user" && e.server !== undefined);
  return {
    durationMs: Math.round(to - from),
    probe: countRequests(part, "probe"),
    users: countRequests(part, "user"),
    failuresByKind: failuresByKind(part),
    persistence: userAnswers.length === 0 ? 1 : userAnswers.filter((e) => e.own).length / userAnswers.length,
  };
}

/** Pure: one sentence. */
export function redisVerdict(
  r: Pick<RedisResult, "mode" | "during" | "recoveryMs" | "sessions" | "masters">,
): string {
  const proxy = `proxying ${(availability(r.during.probe) * 100).toFixed(0)}% available`;
  const users = `users answered ${(availability(r.during.users) * 100).toFixed(0)}% while Redis was down`;
  const back =
    r.recoveryMs === null
      ? "sessions did not recover"
      : `recovered ${Math.round(r.recoveryMs)} ms after Redis returned`;
  return `${proxy}; ${users}; ${back}; ${r.sessions.loggedIn}/${r.sessions.total} still logged in; MASTERs seen ${r.masters.min}..${r.masters.max}`;
}

export async function redisDrill(state: LabState, opts: RedisOptions): Promise<RedisResult> {
  if (!state.redisManaged)
    throw new LabError("drill redis kills the lab's own Redis: this lab uses --redis (external)");
  requireAllRunning(state);
  const users = await loginUsers(state.ports.service, opts.users, `redis-${state.mode}`);
  const events: ServedEvent[] = [];
  const load = startLoad({
    port: state.ports.service,
    users,
    keepEvents: false,
    maxMs: 60_000,
    onEvent: (e, d) => {
      if (events.length >= 200_000) return;
      const server = d?.server;
      events.push({ ...e, ...(server !== undefined ? { server, own: server === d?.user.loginServer } : {}) });
    },
  });
  const masterCounts: number[] = [];
  let recoveryMs: number | null = null;
  let tDown = 0;
  let tBack = 0;
  try {
    await sleepMs(500);
    tDown = load.mark("SIGKILL redis");
    killNode(state, "redis", "KILL");
    opts.progress(`Redis killed; keeping it down ${opts.downMs} ms under load`);
    while (load.now() < tDown + opts.downMs) {
      masterCounts.push((await lbSnapshot(state, 200)).active.length);
      await sleepMs(100);
    }
    opts.progress("starting Redis again");
    await startNode(state, "redis");
    tBack = load.mark("redis back");
    const deadline = tBack + 10_000;
    while (load.now() < deadline) {
      const ok = events.find((e) => e.t > tBack && e.source === "user" && e.ok);
      if (ok) {
        recoveryMs = ok.t - tBack;
        load.mark("users served again");
        break;
      }
      await sleepMs(10);
    }
    await sleepMs(500);
  } finally {
    await load.stop();
  }
  const end = load.now();
  const sessions = tallySessions(await checkUsers(users));
  const before = phaseFigures(events, 0, tDown);
  const during = phaseFigures(events, tDown, tBack);
  const after = phaseFigures(events, tBack, end);
  const masters = { min: Math.min(...masterCounts, 1), max: Math.max(...masterCounts, 0) };
  const base = { mode: state.mode, during, recoveryMs, sessions, masters };
  return {
    drill: "redis",
    ...base,
    signal: "SIGKILL",
    downMs: opts.downMs,
    before,
    after,
    marks: load.marks,
    timeline: timeline(events, 100, 0, end),
    verdict: redisVerdict(base),
  };
}
