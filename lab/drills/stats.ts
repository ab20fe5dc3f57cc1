/**
 * The numbers a drill reports, computed from the recorded requests. Pure: events in,
 * figures out, no clock and no I/O, so every rule is unit-tested.
 *
 * An event is one finished request: when it ended (ms since the load started), whether it
 * succeeded, and its kind (ok, refused, reset, timeout, http-503, logged-out, store-down).
 */

export type EventSource = "probe" | "user";

export interface LoadEvent {
  /** ms since the load started, when the answer (or the failure) arrived. */
  readonly t: number;
  readonly ok: boolean;
  readonly kind: string;
  readonly source: EventSource;
}

export interface Gap {
  readonly ms: number;
  /** Last success before the gap (or the window start). */
  readonly from: number;
  /** First success after the gap (or the window end). */
  readonly to: number;
}

/**
 * Longest time without a successful answer inside [from, to]: between two consecutive
 * successes, or between an edge of the window and the nearest success. A window without a
 * single success is one gap the whole window long.
 */
export function longestGap(events: readonly LoadEvent[], from: number, to: number): Gap {
  const oks = events
    .filter((e) => e.ok && e.t >= from && e.t <= to)
    .map((e) => e.t)
    .sort((a, b) => a - b);
  let best: Gap = { ms: 0, from, to: from };
  let prev = from;
  for (const t of [...oks, to]) {
    if (t - prev > best.ms) best = { ms: t - prev, from: prev, to: t };
    prev = t;
  }
  return best;
}

/** Failed requests counted by kind, kinds sorted by count (most first). */
export function failuresByKind(events: readonly LoadEvent[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const e of events) if (!e.ok) counts.set(e.kind, (counts.get(e.kind) ?? 0) + 1);
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

export interface Bucket {
  /** Bucket start, ms since the load started. */
  readonly t: number;
  readonly ok: number;
  readonly failed: number;
}

/** Successes and failures per `bucketMs` from `from` to `to` (the report's timeline). */
export function timeline(events: readonly LoadEvent[], bucketMs: number, from: number, to: number): Bucket[] {
  const n = Math.max(1, Math.ceil((to - from) / bucketMs));
  const ok = new Array<number>(n).fill(0);
  const failed = new Array<number>(n).fill(0);
  for (const e of events) {
    if (e.t < from || e.t > to) continue;
    const i = Math.min(n - 1, Math.floor((e.t - from) / bucketMs));
    if (e.ok) ok[i]! += 1;
    else failed[i]! += 1;
  }
  return ok.map((o, i) => ({ t: from + i * bucketMs, ok: o, failed: failed[i]! }));
}

export interface RequestCounts {
  readonly total: number;
  readonly ok: number;
  readonly failed: number;
}

export function countRequests(events: readonly LoadEvent[], source?: EventSource): RequestCounts {
  let ok = 0;
  let failed = 0;
  for (const e of events) {
    if (source !== undefined && e.source !== source) continue;
    if (e.ok) ok++;
    else failed++;
  }
  return { total: ok + failed, ok, failed };
}

/** Events whose time lies in [from, to). */
export function between(events: readonly LoadEvent[], from: number, to: number): LoadEvent[] {
  return events.filter((e) => e.t >= from && e.t < to);
}

/** Share of successful requests, 0..1 (1 when there were none). */
export function availability(c: RequestCounts): number {
  return c.total === 0 ? 1 : c.ok / c.total;
}

/** A running tally for long runs (chaos): counts only, nothing kept per request. */
export interface Tally {
  requests: number;
  ok: number;
  failed: number;
  byKind: Record<string, number>;
  sessionsLost: number;
  rounds: number;
  longestGapMs: number;
}

export function emptyTally(): Tally {
  return { requests: 0, ok: 0, failed: 0, byKind: {}, sessionsLost: 0, rounds: 0, longestGapMs: 0 };
}

/** Adds one finished request to the tally (mutates and returns it: called per request). */
export function addToTally(tally: Tally, e: Pick<LoadEvent, "ok" | "kind">): Tally {
  tally.requests++;
  if (e.ok) tally.ok++;
  else {
    tally.failed++;
    tally.byKind[e.kind] = (tally.byKind[e.kind] ?? 0) + 1;
  }
  return tally;
}

/** Tracks the longest gap between successes as events stream in (chaos: no event list). */
export class GapTracker {
  private lastOk: number | undefined;
  longest = 0;

  add(t: number, ok: boolean): void {
    if (!ok) return;
    if (this.lastOk !== undefined && t - this.lastOk > this.longest) this.longest = t - this.lastOk;
    if (this.lastOk === undefined || t > this.lastOk) this.lastOk = t;
  }
}
