/**
 * Drill "compare": the table the tutorial's reader wants. On the running lab, whatever its
 * mode, runs the sessions drill and the failover drill with the web servers in cookie mode
 * (sessions in memory) and in shared mode (sessions in Redis), switching their store by
 * restarting them, and puts the two side by side; then puts the lab back in its mode.
 */
import type { LabState, Mode } from "../state.js";
import { type Progress, switchMode } from "./common.js";
import { type FailoverResult, failoverDrill } from "./failover.js";
import { type SessionsResult, sessionsDrill } from "./sessions.js";

export interface CompareColumn {
  readonly sessions: SessionsResult;
  /** Absent with a single load balancer (no pair to fail over). */
  readonly failover?: FailoverResult;
}

export interface CompareResult {
  readonly drill: "compare";
  readonly originalMode: Mode;
  readonly modes: Readonly<Record<Mode, CompareColumn>>;
  readonly durationMs: number;
}

export interface CompareOptions {
  readonly users: number;
  readonly progress: Progress;
}

export async function compareDrill(state: LabState, opts: CompareOptions): Promise<CompareResult> {
  const started = Date.now();
  const originalMode = state.mode;
  // the lab's own mode last: one store switch fewer.
  const order: Mode[] = originalMode === "cookie" ? ["shared", "cookie"] : ["cookie", "shared"];
  const modes: Partial<Record<Mode, CompareColumn>> = {};
  try {
    for (const mode of order) {
      await switchMode(state, mode, opts.progress);
      opts.progress(`${mode} mode: sessions drill`);
      const sessions = await sessionsDrill(state, { users: opts.users, progress: opts.progress });
      let failover: FailoverResult | undefined;
      if (state.topology === "pair") {
        opts.progress(`${mode} mode: failover drill`);
        failover = await failoverDrill(state, {
          signal: "KILL",
          users: opts.users,
          progress: opts.progress,
          settleMs: 700,
        });
      }
      modes[mode] = { sessions, ...(failover ? { failover } : {}) };
    }
  } finally {
    await switchMode(state, originalMode, opts.progress);
  }
  return {
    drill: "compare",
    originalMode,
    modes: modes as Record<Mode, CompareColumn>,
    durationMs: Date.now() - started,
  };
}
