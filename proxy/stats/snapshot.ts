/**
 * What the stats CSV and page read: the node's runtime records plus the few facts that are
 * not in them (pid, start time, global maxconn, HA state). Built by the node when a stats
 * request arrives; everything here is read, never written.
 */
import type { ConfigModel, ProxyModel } from "../config/model.js";
import type { BackendRuntime, FrontendRuntime } from "../state.js";

export interface StatsProxy {
  readonly cfg: ProxyModel;
  readonly frontend?: FrontendRuntime;
  readonly backend?: BackendRuntime;
  /** The BACKEND row's slim: `fullconn`, else see `fullconnTable`. */
  readonly fullconn?: number;
  /** The frontend does not listen (a standby node, a soft stop): STOP instead of OPEN. */
  readonly stopped?: boolean;
}

/** This node's HA view, shown on the page when the `ha` section exists (filled by ha/). */
export interface HaStatus {
  readonly node: string;
  /** keepalived's words: MASTER, BACKUP, FAULT, INIT. */
  readonly role: string;
  readonly epoch: number;
  readonly priority: number;
  /** Role changes since the node started. */
  readonly transitions: number;
  readonly peer?: {
    readonly name: string;
    readonly role: string;
    /** Age of the peer's last advert in ms, or undefined when never heard. */
    readonly lastAdvertMs?: number;
    readonly configChecksum?: string;
  };
  readonly configChecksum: string;
  /** One line of why the role is what it is (the last transition's rule). */
  readonly reason?: string;
}

export interface StatsSnapshot {
  /** OS process id (the page's "pid = N"). The CSV's pid column is the process number, 1. */
  readonly pid: number;
  /** Epoch ms when the snapshot was taken. */
  readonly now: number;
  /** Epoch ms when the node started (uptime). */
  readonly startedAt: number;
  /** Used as a frontend's slim when its own maxconn is 0. */
  readonly globalMaxconn: number;
  /** Current connections on the whole node. */
  readonly actconn?: number;
  /** fulcrum's version, e.g. "0.1.0" (hidden with `stats hide-version`). */
  readonly version: string;
  /** Host or node name for `stats show-node`. */
  readonly nodeName?: string;
  readonly proxies: readonly StatsProxy[];
  readonly ha?: HaStatus;
}

/**
 * BACKEND slim for each backend without `fullconn`: HAProxy's default, a tenth (rounded up)
 * of the sum of the maxconn of every frontend that can send traffic to it (default_backend,
 * use_backend, or itself for a listen). Computed once per model.
 */
export function fullconnTable(model: ConfigModel): ReadonlyMap<string, number> {
  const sums = new Map<string, number>();
  const add = (be: string, n: number) => sums.set(be, (sums.get(be) ?? 0) + n);
  for (const fe of model.proxies) {
    if (!fe.isFrontend) continue;
    const maxconn = fe.maxconn || model.global.maxconn;
    const targets = new Set<string>();
    if (fe.defaultBackend !== undefined) targets.add(fe.defaultBackend);
    else if (fe.isBackend) targets.add(fe.name);
    for (const u of fe.useBackends) targets.add(u.backend);
    for (const be of targets) add(be, maxconn);
  }
  const out = new Map<string, number>();
  for (const p of model.proxies) {
    if (!p.isBackend) continue;
    out.set(p.name, p.fullconn ?? Math.max(1, Math.ceil((sums.get(p.name) ?? 0) / 10)));
  }
  return out;
}
