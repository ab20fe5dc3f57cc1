/**
 * The counts every client connection keeps, HTTP or TCP: the node's and the frontend's
 * current connections (maxconn), the process's and the frontend's sessions (CumConns,
 * ConnRate; stot, scur, smax, rate), and the set a stop closes. One place, so the two kinds of connection cannot count differently.
 */
import type { FrontendPlan, NodeContext } from "./http/plan.js";
import { countAccept, countSession } from "./stats/meter.js";

type Client = { close(): void; isIdle(): boolean };

/** A connection was accepted on `fe` at `now`. */
export function admitClient(node: NodeContext, fe: FrontendPlan, client: Client, now: number): void {
  node.actconn++;
  countAccept(node.process, now);
  node.clients.add(client);
  fe.rt.conns++;
  const c = fe.rt.counters;
  c.scur++;
  countSession(c, now);
  if (c.scur > c.smax) c.smax = c.scur;
}

/** The connection ended (called once): a connection held over maxconn may start. */
export function releaseClient(node: NodeContext, fe: FrontendPlan, client: Client): void {
  node.clients.delete(client);
  node.actconn--;
  fe.rt.conns--;
  fe.rt.counters.scur--;
  node.connectionClosed?.();
}
