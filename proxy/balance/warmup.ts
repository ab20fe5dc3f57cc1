/**
 * The timer shell around slowstart: ramps one server's `effectiveWeight` and says when it
 * changed, so the node can rebuild its balancer. The arithmetic lives in slowstart.ts.
 */
import type { ServerRuntime } from "../state.js";
import { slowstartStepMs, slowstartWeight } from "./slowstart.js";

export interface WarmupOptions {
  now?: () => number;
  /** Called after each change of `effectiveWeight` (rebuild the balancer there). */
  onStep(server: ServerRuntime): void;
  /** Full weight to reach (default: the configured weight). */
  weight?: number;
}

export interface Warmup {
  stop(): void;
}

const running = new WeakMap<ServerRuntime, { timer: NodeJS.Timeout; weight: number }>();

/**
 * Starts (or restarts) the ramp of a server that just came UP. A ramp in progress keeps its
 * target weight. Returns a handle to stop it (a server going DOWN again).
 */
export function startWarmup(server: ServerRuntime, slowstartMs: number, opts: WarmupOptions): Warmup {
  const now = opts.now ?? Date.now;
  const previous = running.get(server);
  if (previous) clearTimeout(previous.timer);
  const weight = opts.weight ?? previous?.weight ?? server.cfg.weight;
  const since = now();
  const stepMs = slowstartStepMs(slowstartMs);
  const entry = { timer: undefined as unknown as NodeJS.Timeout, weight };
  let ramped = false;
  const step = () => {
    const w = slowstartWeight(weight, since, now(), slowstartMs);
    if (w !== server.effectiveWeight) {
      server.effectiveWeight = w;
      opts.onStep(server);
    }
    if (w >= weight) {
      // The ramp is over: HAProxy's server leaves its STARTING state, a state change that the
      // stats' lastchg counts from.
      if (ramped) server.lastChange = now();
      running.delete(server);
      return;
    }
    ramped = true;
    entry.timer = setTimeout(step, stepMs);
    entry.timer.unref();
  };
  running.set(server, entry);
  step();
  return {
    stop() {
      if (running.get(server) === entry) {
        clearTimeout(entry.timer);
        running.delete(server);
      }
    },
  };
}

/** Stops a server's ramp if one runs (server DOWN or in maint), leaving its weight as is. */
export function stopWarmup(server: ServerRuntime): void {
  const entry = running.get(server);
  if (entry) {
    clearTimeout(entry.timer);
    running.delete(server);
  }
}
