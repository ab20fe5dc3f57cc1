/**
 * `slowstart`: after a server comes back UP, its weight grows from 1/16 to its full value over
 * the slowstart time, in whole seconds, as HAProxy computes it:
 *
 *   factor = floor((16 * elapsed_seconds + slowstart_seconds) / slowstart_seconds)   (1..16)
 *   effective weight = weight * factor / 16
 *
 * HAProxy applies it only to the dynamic algorithms (roundrobin, leastconn, first); static maps
 * (static-rr, source, uri) take the server at full weight at once. The weight is recomputed
 * every max(1 s, slowstart / 20).
 */
import type { BalanceAlgo } from "../config/model.js";
import { WEIGHT_SCALE } from "./common.js";

const DYNAMIC: ReadonlySet<BalanceAlgo> = new Set(["roundrobin", "leastconn", "first"]);

export function slowstartApplies(algo: BalanceAlgo, slowstartMs: number | undefined): boolean {
  return slowstartMs !== undefined && slowstartMs > 0 && DYNAMIC.has(algo);
}

/** Sixteenths of the weight in force `elapsedMs` after the server came UP (16 = full). */
export function slowstartFactor(sinceMs: number, nowMs: number, slowstartMs: number): number {
  const ss = Math.ceil(slowstartMs / 1000);
  const elapsed = Math.floor(nowMs / 1000) - Math.floor(sinceMs / 1000);
  if (ss <= 0 || elapsed >= ss || elapsed < 0) return WEIGHT_SCALE;
  return Math.min(WEIGHT_SCALE, Math.floor((WEIGHT_SCALE * elapsed + ss) / ss));
}

/** The effective weight (user units, a multiple of 1/16) during the ramp. */
export function slowstartWeight(weight: number, sinceMs: number, nowMs: number, slowstartMs: number): number {
  return (weight * slowstartFactor(sinceMs, nowMs, slowstartMs)) / WEIGHT_SCALE;
}

/** How often the ramp is recomputed: every max(1 s, slowstart / 20). */
export function slowstartStepMs(slowstartMs: number): number {
  return Math.max(1000, Math.floor(slowstartMs / 20));
}
