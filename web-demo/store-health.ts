/**
 * The session store's health, as seen from this server: a pure state machine fed with the
 * outcome of every Redis command and the client's connection events. It answers one question
 * per event: did the state change, and if so, what one line says it. Requests while the store
 * is down therefore log nothing; only the edges (down, up again) do.
 */

export type StoreStatus = "starting" | "up" | "down";

export type StoreEvent = { kind: "ok" } | { kind: "fail"; reason: string };

export interface StoreHealth {
  readonly status: StoreStatus;
  /** When the current status began (ms, injected clock). */
  readonly since: number;
  /** Why the store is down (the first failure of this outage). */
  readonly reason?: string;
}

export interface StoreStep {
  readonly health: StoreHealth;
  /** The line to log, only when the status changed. */
  readonly line?: string;
}

/** Next status for each (status, event kind): one table says every rule. */
const NEXT: Readonly<Record<StoreStatus, Readonly<Record<StoreEvent["kind"], StoreStatus>>>> = {
  starting: { ok: "up", fail: "down" },
  up: { ok: "up", fail: "down" },
  down: { ok: "up", fail: "down" },
};

export function initialHealth(now: number): StoreHealth {
  return { status: "starting", since: now };
}

export function observe(health: StoreHealth, event: StoreEvent, now: number, what = "redis"): StoreStep {
  const status = NEXT[health.status][event.kind];
  if (status === health.status) return { health };
  if (event.kind === "fail") {
    return {
      health: { status, since: now, reason: event.reason },
      line: `session store ${what} DOWN (${event.reason}): answering 503 until it returns`,
    };
  }
  const line =
    health.status === "starting"
      ? `session store ${what} UP`
      : `session store ${what} UP again after ${((now - health.since) / 1000).toFixed(1)} s down`;
  return { health: { status, since: now }, line };
}
