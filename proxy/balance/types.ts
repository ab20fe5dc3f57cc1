/**
 * What every balancer offers the request path. A balancer is built once per backend from its
 * runtime records and rebuilt incrementally when a server changes state (not per request).
 */
import type { BalanceAlgo } from "../config/model.js";
import type { ServerRuntime } from "../state.js";

/** What a balancer may look at in a request. */
export interface PickContext {
  /** Client address as the socket reports it: IPv4, IPv6 or IPv4-mapped IPv6 (`balance source`). */
  readonly srcIp: string;
  /**
   * The request target exactly as received (`/path?query`, or the absolute form
   * `http://host/path`), for `balance uri`: HAProxy hashes what the client sent.
   */
  readonly uri: string;
  /** A server to avoid when another one is available (the one that just failed: redispatch). */
  readonly exclude?: ServerRuntime | undefined;
}

/**
 * The balancer's answer:
 * - a server: send the request there (it may still be at its maxconn for hash algorithms and
 *   for the single backup server: then the request waits in that server's queue);
 * - `"full"`: usable servers exist but every one is at its maxconn: wait in the backend queue;
 * - `undefined`: no usable server at all (HAProxy answers 503).
 */
export type PickResult = ServerRuntime | "full" | undefined;

export interface Balancer {
  readonly algo: BalanceAlgo;
  /** Chooses a server for one request. Advances the rotation (roundrobin, static-rr). */
  pick(ctx: PickContext): PickResult;
  /**
   * Re-reads every server's `up`, `admin` and `effectiveWeight` and updates the tables. Call it
   * after a health transition, an admin change (`set server ... state/weight`) or a slowstart
   * step; never per request.
   */
  onServerStateChange(): void;
  /** Call right after `server.active` was incremented (leastconn keeps its order by load). */
  taken(server: ServerRuntime): void;
  /** Call right after `server.active` was decremented. */
  released(server: ServerRuntime): void;
}
