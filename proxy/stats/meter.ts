/**
 * The counter updates the request path makes for the stats (CSV `stot`/`rate`/`rate_max`,
 * `req_tot`/`req_rate`/`req_rate_max`): one call per event, the per-second meters and their
 * maxima kept together so no caller forgets one. Pure apart from the counters it is given.
 */
import { type Counters, type ProcessCounters, rateAdd } from "../state.js";

/** A new session: a connection on a frontend, or a stream assigned to a backend or server. */
export function countSession(c: Counters, now: number): void {
  c.stot++;
  const r = rateAdd(c.sessRate, now);
  if (r > c.rateMax) c.rateMax = r;
}

/**
 * A client connection accepted on a frontend, in the process-wide counts: HAProxy's listener
 * counts the connection and the session at the same moment, each rate with its own maximum.
 */
export function countAccept(p: ProcessCounters, now: number): void {
  p.cumConns++;
  p.connRateMax = Math.max(p.connRateMax, rateAdd(p.connRate, now));
  p.sessRateMax = Math.max(p.sessRateMax, rateAdd(p.sessRate, now));
}

/** A stream began: an HTTP request on a frontend, a TCP session, a runtime API connection. */
export function countStream(p: ProcessCounters): void {
  p.cumReq++;
}

/**
 * A runtime API connection: HAProxy's CLI listener counts in CumConns and its one stream in
 * CumReq, but it is "unlimited" (no maxconn, no rate), so ConnRate and SessRate leave it out.
 */
export function countCliConnection(p: ProcessCounters): void {
  p.cumConns++;
  p.cumReq++;
}

/** A new HTTP request (frontend, backend or server). */
export function countRequest(c: Counters, now: number): void {
  c.reqTot++;
  const r = rateAdd(c.reqRate, now);
  if (r > c.reqRateMax) c.reqRateMax = r;
}

/** HAProxy's window for the qtime/ctime/rtime/ttime averages. */
export const TIME_SAMPLES = 1024;

/**
 * A stream that reached its server ended: its queue, connect, response and total times join
 * the server's and backend's averages (summed while fewer than 1024 samples were taken, then
 * a sliding sum, as HAProxy's swrate), and the maxima. `samples` is how many streams the
 * counters had seen before this one (HTTP requests, or balanced TCP connections).
 */
export function countTimes(
  c: Counters,
  samples: number,
  t: { readonly queue: number; readonly connect: number; readonly response: number; readonly total: number },
): void {
  // Whole milliseconds, as HAProxy's timers (truncated).
  const add = (sum: number, v: number) =>
    samples > TIME_SAMPLES ? sum - Math.ceil(sum / TIME_SAMPLES) + Math.floor(v) : sum + Math.floor(v);
  c.qtime = add(c.qtime, t.queue);
  c.ctime = add(c.ctime, t.connect);
  c.rtime = add(c.rtime, t.response);
  c.ttime = add(c.ttime, t.total);
  c.qtimeMax = Math.max(c.qtimeMax, Math.floor(t.queue));
  c.ctimeMax = Math.max(c.ctimeMax, Math.floor(t.connect));
  c.rtimeMax = Math.max(c.rtimeMax, Math.floor(t.response));
  c.ttimeMax = Math.max(c.ttimeMax, Math.floor(t.total));
}

/** An average of `countTimes`, as HAProxy reads it: over min(samples, 1024), rounded up. */
export function averageTime(sum: number, samples: number): number {
  const n = Math.min(samples, TIME_SAMPLES);
  return n > 0 ? Math.ceil(sum / n) : 0;
}
