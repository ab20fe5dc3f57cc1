/**
 * The counter updates the request path makes for the stats (CSV `stot`/`rate`/`rate_max`,
 * `req_tot`/`req_rate`/`req_rate_max`): one call per event, the per-second meters and their
 * maxima kept together so no caller forgets one. Pure apart from the counters it is given.
 */
import { type Counters, rateAdd } from "../state.js";

/** A new session: a connection on a frontend, or a stream assigned to a backend or server. */
export function countSession(c: Counters, now: number): void {
  c.stot++;
  const r = rateAdd(c.sessRate, now);
  if (r > c.rateMax) c.rateMax = r;
}

/** A new HTTP request (frontend, backend or server). */
export function countRequest(c: Counters, now: number): void {
  c.reqTot++;
  const r = rateAdd(c.reqRate, now);
  if (r > c.reqRateMax) c.reqRateMax = r;
}
