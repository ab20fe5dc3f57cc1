/**
 * What to do after a failed connection to a server (refused, reset before any byte, connect
 * timeout), as HAProxy 2.6 decides it. Measured against HAProxy with dead servers:
 * - up to `retries` more attempts, then 503;
 * - with `option redispatch`, a request that is not persistent goes to another server at once
 *   when the algorithm is not a hash (roundrobin, static-rr, leastconn, first) and more than
 *   one active server is usable; a persistent one (cookie, learned session) retries its
 *   server and only the last retry goes elsewhere; a server seen DOWN is left at once;
 * - without redispatch every retry goes to the same server;
 * - before retrying the same server after a connection error (not a timeout, which already
 *   waited), HAProxy waits min(1 s, timeout connect); a redispatch does not wait unless a
 *   single active server is left. A failure on a reused keep-alive connection never waits.
 */
import type { BalanceAlgo } from "../config/model.js";

export interface RetryInput {
  /** Failed attempts so far for this request, counting the one that just failed (>= 1). */
  readonly failures: number;
  /** The backend's `retries`. */
  readonly retries: number;
  readonly redispatch: boolean;
  /** The server was chosen by a persistence cookie or a learned session (HAProxy's SF_DIRECT). */
  readonly persistent: boolean;
  /** The server is still UP (not DOWN by checks nor in maint). */
  readonly serverUp: boolean;
  readonly algo: BalanceAlgo;
  /** Usable active servers in the backend. */
  readonly activeServers: number;
  /** "error": refused/reset/unreachable; "timeout": timeout connect expired. */
  readonly kind: "error" | "timeout";
  /** The attempt used a pooled keep-alive connection. */
  readonly reused: boolean;
  readonly timeoutConnect?: number | undefined;
}

export type RetryDecision =
  | { readonly action: "give-up"; readonly why: string }
  | { readonly action: "retry"; readonly delayMs: number; readonly why: string }
  | { readonly action: "redispatch"; readonly delayMs: number; readonly why: string };

const HASHED: ReadonlySet<BalanceAlgo> = new Set(["source", "uri"]);

export function decideRetry(r: RetryInput): RetryDecision {
  if (r.failures > r.retries) {
    return { action: "give-up", why: `${r.failures - 1} retries exhausted (retries ${r.retries})` };
  }
  const turnaround = r.kind === "error" && !r.reused ? Math.min(1000, r.timeoutConnect || 1000) : 0;
  if (r.redispatch) {
    const why = !r.serverUp
      ? "server is DOWN"
      : r.failures % r.retries === 0
        ? "last retry goes to another server (option redispatch)"
        : !r.persistent && r.activeServers > 1 && !HASHED.has(r.algo)
          ? "request is not persistent, another server can take it"
          : undefined;
    if (why !== undefined) {
      return { action: "redispatch", delayMs: r.activeServers <= 1 ? turnaround : 0, why };
    }
  }
  return {
    action: "retry",
    delayMs: turnaround,
    why: `retry ${r.failures}/${r.retries} on the same server${turnaround ? ` after ${turnaround} ms` : ""}`,
  };
}
