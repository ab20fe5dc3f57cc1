/**
 * The rise/fall state machine HAProxy runs for each checked server, as pure functions.
 *
 * The health counter goes from 0 to rise+fall-1. A server is UP while health >= rise. A
 * passed check adds one and, once at rise or above, jumps to the top (fully UP); a failed
 * check removes one and, once below rise, drops to 0 (DOWN). Servers start UP with health
 * equal to rise, so their first failed check takes them DOWN at once (HAProxy 2.6 does that:
 * `chkfail 1, chkdown 1` after one refused connection); in steady state `fall` failures in a
 * row take an UP server DOWN and `rise` successes bring a DOWN one back. A failed check only
 * counts in `chkfail` while health is above 0.
 */
import type { ServerModel } from "../config/model.js";
import type { BackendRuntime, ServerRuntime } from "../state.js";

export type RiseFall = Pick<ServerModel, "rise" | "fall">;

export interface HealthStep {
  readonly health: number;
  readonly up: boolean;
  /** Set when this check changes the server's state. */
  readonly transition: "up" | "down" | undefined;
  /** The check counts in `chkfail`. */
  readonly counted: boolean;
}

/** Health of a server that has not been checked yet: UP, one failure away from DOWN. */
export function initialHealth(p: RiseFall): number {
  return p.rise;
}

export function topHealth(p: RiseFall): number {
  return p.rise + p.fall - 1;
}

export function isUpHealth(health: number, p: RiseFall): boolean {
  return health >= p.rise;
}

/** Applies one check result to the health counter. */
export function afterCheck(health: number, p: RiseFall, passed: boolean): HealthStep {
  const top = topHealth(p);
  const wasUp = isUpHealth(health, p);
  let h = health;
  let counted = false;
  if (passed) {
    if (h < top) {
      h++;
      if (h >= p.rise) h = top;
    }
  } else if (h > 0) {
    counted = true;
    h--;
    if (h < p.rise) h = 0;
  }
  const up = isUpHealth(h, p);
  const transition = wasUp && !up ? "down" : !wasUp && up ? "up" : undefined;
  return { health: h, up, transition, counted };
}

/** What traffic a checked server takes: all, only its sticky clients (NOLB), none. */
export type RunState = "up" | "nolb" | "down";

/**
 * The run state after a check: DOWN below rise; NOLB on a conditional pass (a 404 under
 * `disable-on-404`); UP again on a plain pass; a failed check that leaves the server above
 * rise keeps what it was.
 */
export function runStateAfter(
  prev: RunState,
  step: HealthStep,
  conditional: boolean,
  passed: boolean,
): RunState {
  if (!step.up) return "down";
  if (conditional) return "nolb";
  if (passed || prev === "down") return "up";
  return prev;
}

/**
 * Delay before the next check: `inter` when fully UP, `downinter` when fully DOWN, `fastinter`
 * while changing state (the model fills fastinter/downinter with inter when not set).
 */
export function checkInterval(cfg: ServerModel, health: number): number {
  if (health === topHealth(cfg)) return cfg.inter;
  if (health === 0) return cfg.downinter;
  return cfg.fastinter;
}

/**
 * When each server's first check runs, counted from start: HAProxy spreads them over the
 * interval, the k-th checked server of n (all backends, in declaration order) waiting
 * `max(interval, minInter) * k / n` where interval is its own (at start health, so fastinter
 * unless fall is 1) and minInter the shortest interval of a second or more among them (a
 * 200 ms `inter` next to a 3 s one starts at 1.5 s).
 * Recorded with HAProxy 2.6: six servers with inter 2s, 5s, 2s, 1s, 10s, 1.5s started at
 * 0, 833, 666, 500, 6666 and 1250 ms.
 */
/** Intervals below this do not set the spread of the first checks (HAProxy's threshold). */
const SPREAD_THRESHOLD_MS = 1000;

export function planFirstChecks(backends: readonly BackendRuntime[]): Map<ServerRuntime, number> {
  const checked: ServerRuntime[] = [];
  for (const be of backends) for (const s of be.servers) if (s.cfg.check) checked.push(s);
  const plan = new Map<ServerRuntime, number>();
  const intervals = checked.map((s) => checkInterval(s.cfg, initialHealth(s.cfg)));
  // A server checked more often than every second does not set the spread for the others:
  // it is spread over the shortest interval of at least a second (when there is one).
  const long = intervals.filter((i) => i >= SPREAD_THRESHOLD_MS);
  const minInter = long.length > 0 ? Math.min(...long) : 0;
  checked.forEach((s, k) => {
    const interval = Math.max(minInter, intervals[k]!);
    plan.set(s, Math.floor((interval * k) / checked.length));
  });
  return plan;
}
