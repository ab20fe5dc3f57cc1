/**
 * Pieces shared by the balancers: weights in HAProxy's scale, saturation, and which group of
 * servers (active or backup) takes traffic.
 */
import type { ServerRuntime } from "../state.js";
import { isUsable } from "../state.js";

/**
 * HAProxy scales user weights (0..256) by 16 for the dynamic algorithms, so that slowstart
 * can ramp a weight in sixteenths (BE_WEIGHT_SCALE).
 */
export const WEIGHT_SCALE = 16;
/** User weights range (SRV_UWGHT_RANGE) and the largest scaled weight (SRV_EWGHT_MAX). */
export const UWEIGHT_RANGE = 256;
export const EWEIGHT_MAX = UWEIGHT_RANGE * WEIGHT_SCALE;

/**
 * The scaled weight a dynamic balancer uses: `effectiveWeight` is in user units and may be a
 * fraction during slowstart (a multiple of 1/16), 0 when the server takes no new traffic.
 */
export function scaledWeight(s: ServerRuntime): number {
  return isUsable(s) ? Math.max(1, Math.round(s.effectiveWeight * WEIGHT_SCALE)) : 0;
}

/** At its maxconn, or others already wait for it: HAProxy gives it nothing new. */
export function isSaturated(s: ServerRuntime): boolean {
  const max = s.cfg.maxconn;
  return max > 0 && (s.active >= max || s.counters.qcur > 0);
}

/**
 * leastconn and first accept a server while its queue has room: HAProxy's
 * `served + queued < maxconn + maxqueue` (maxqueue 0 meaning no extra room).
 */
export function hasQueueRoom(s: ServerRuntime): boolean {
  const max = s.cfg.maxconn;
  return max === 0 || s.active + s.counters.qcur < max + s.cfg.maxqueue;
}

/** Which servers take traffic now: the usable active ones, else the backups. */
export interface Groups {
  readonly active: readonly ServerRuntime[];
  readonly backup: readonly ServerRuntime[];
  /**
   * Without `option allbackups`, only the first usable backup in declaration order serves
   * when no active server is usable (HAProxy's `fbck`).
   */
  readonly firstBackup: ServerRuntime | undefined;
}

export function usableGroups(servers: readonly ServerRuntime[], allBackups: boolean): Groups {
  const active: ServerRuntime[] = [];
  const backup: ServerRuntime[] = [];
  for (const s of servers) {
    if (!isUsable(s)) continue;
    (s.cfg.backup ? backup : active).push(s);
  }
  return { active, backup, firstBackup: allBackups ? undefined : backup[0] };
}

/** Greatest common divisor of the configured non-zero weights (HAProxy reduces maps by it). */
export function weightGcd(servers: readonly ServerRuntime[]): number {
  let g = 0;
  for (const s of servers) {
    let w = s.cfg.weight;
    if (w === 0) continue;
    let a = g;
    while (w !== 0) {
      const t = a % w;
      a = w;
      w = t;
    }
    g = a;
  }
  return g === 0 ? 1 : g;
}
