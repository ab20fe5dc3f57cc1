/**
 * What the lab looks like right now, gathered from the outside: each recorded process
 * (alive? frozen?), Redis PING, each web server's /health, each load balancer's stats page
 * (role, server health, counters). A standby whose listeners are not bound cannot answer
 * for itself; the active node's page shows its peer's role from the adverts, which is used
 * instead.
 */

import { labNodes } from "./nodes.js";
import {
  type CsvFacts,
  type LbProbe,
  probeLb,
  probeWeb,
  type Role,
  redisPing,
  type ServerHealth,
} from "./probe.js";
import { isAlive, procStateLetter } from "./proc.js";
import {
  currentCondition,
  type LabCondition,
  type LabState,
  LB_NAMES,
  type LbName,
  type NodeName,
} from "./state.js";

export interface NodeView {
  readonly name: NodeName;
  readonly pid?: number;
  readonly alive: boolean;
  /** SIGSTOPped (state T). */
  readonly frozen: boolean;
  readonly port: number;
  /** MASTER/BACKUP/... for a load balancer, UP/DOWN for a web server, UP/DOWN for Redis. */
  readonly health: string;
  readonly detail?: string;
}

export interface LabView {
  readonly dir: string;
  readonly condition: LabCondition;
  readonly mode: LabState["mode"];
  readonly topology: LabState["topology"];
  readonly lb: LabState["lb"];
  readonly serviceUrl: string;
  readonly statsUrls: Partial<Record<LbName, string>>;
  readonly config: readonly string[];
  readonly redisUrl: string;
  readonly nodes: readonly NodeView[];
  /** Nodes reporting MASTER (SERVING for a node without the ha section). */
  readonly masters: readonly LbName[];
  /** Servers as the active node sees them. */
  readonly servers: readonly ServerHealth[];
  /** The active node's service counters. */
  readonly facts?: CsvFacts;
}

export function serviceUrl(state: LabState): string {
  return `http://127.0.0.1:${state.ports.service}/`;
}

export function statsUrls(state: LabState): Partial<Record<LbName, string>> {
  const lbs = state.topology === "pair" ? LB_NAMES : (["lb1"] as const);
  return Object.fromEntries(lbs.map((lb) => [lb, `http://127.0.0.1:${state.ports.stats[lb]}/haproxy-stats`]));
}

export function lbNames(state: LabState): LbName[] {
  return state.topology === "pair" ? ["lb1", "lb2"] : ["lb1"];
}

/** What the lab knows of a node's process: running, frozen (SIGSTOP) or gone. */
export type ProcState = "running" | "frozen" | "gone";

/** A peer's view is believed only while its adverts are fresh (5 advert intervals). */
export const PEER_VIEW_MAX_AGE_MS = 500;

/**
 * Role of each node: STOPPED or FROZEN from its process; else its own page when it
 * answers; else the view of its peer when that peer heard from it lately. Pure.
 */
export function resolveRoles(
  probes: Partial<Record<LbName, LbProbe>>,
  procs: Partial<Record<LbName, ProcState>>,
): Partial<Record<LbName, Role>> {
  const out: Partial<Record<LbName, Role>> = {};
  for (const lb of Object.keys(probes) as LbName[]) {
    const own = probes[lb]!;
    const proc = procs[lb] ?? "gone";
    if (proc !== "running") {
      out[lb] = proc === "frozen" ? "FROZEN" : "STOPPED";
      continue;
    }
    if (own.reachable) {
      out[lb] = own.role;
      continue;
    }
    const other = (Object.keys(probes) as LbName[]).find((o) => o !== lb && probes[o]?.peer?.name === lb);
    const view = other ? probes[other]!.peer! : undefined;
    const fresh = view !== undefined && (view.ageMs === undefined || view.ageMs <= PEER_VIEW_MAX_AGE_MS);
    out[lb] = fresh ? view.role : "UNREACHABLE";
  }
  return out;
}

/** Nodes that serve: MASTER, or SERVING (no ha section). */
export function activeNodes(roles: Partial<Record<LbName, Role>>): LbName[] {
  return (Object.keys(roles) as LbName[]).filter((lb) => roles[lb] === "MASTER" || roles[lb] === "SERVING");
}

export interface LbSnapshot {
  readonly probes: Partial<Record<LbName, LbProbe>>;
  readonly roles: Partial<Record<LbName, Role>>;
  readonly procs: Partial<Record<LbName, ProcState>>;
  readonly active: LbName[];
}

export async function lbSnapshot(state: LabState, timeoutMs = 500): Promise<LbSnapshot> {
  const lbs = lbNames(state);
  const procs: Partial<Record<LbName, ProcState>> = {};
  for (const lb of lbs) {
    const rec = state.nodes[lb];
    procs[lb] =
      rec === undefined || !isAlive(rec) ? "gone" : procStateLetter(rec.pid) === "T" ? "frozen" : "running";
  }
  const results = await Promise.all(lbs.map((lb) => probeLb(state.ports.stats[lb], timeoutMs)));
  const probes: Partial<Record<LbName, LbProbe>> = {};
  lbs.forEach((lb, i) => {
    probes[lb] = results[i]!;
  });
  const roles = resolveRoles(probes, procs);
  return { probes, roles, procs, active: activeNodes(roles) };
}

function portOf(state: LabState, node: NodeName): number {
  if (node === "redis") return state.ports.redis;
  if (node === "web1" || node === "web2") return state.ports[node];
  return state.ports.stats[node];
}

export async function gatherView(state: LabState): Promise<LabView> {
  const nodes = labNodes(state);
  const lbs = await lbSnapshot(state);
  const views: NodeView[] = [];
  const [redisUp, web1, web2] = await Promise.all([
    redisPing(state.redisUrl),
    probeWeb(state.ports.web1),
    probeWeb(state.ports.web2),
  ]);
  const webs = { web1, web2 };
  for (const name of nodes) {
    const rec = state.nodes[name];
    const alive = rec !== undefined && isAlive(rec);
    const frozen = alive && procStateLetter(rec.pid) === "T";
    let health: string;
    let detail: string | undefined;
    if (name === "redis") health = redisUp ? "UP" : "DOWN";
    else if (name === "web1" || name === "web2") {
      const w = webs[name];
      health = w.up ? "UP" : "DOWN";
      detail = w.up ? `store ${w.store ?? "?"}` : w.error;
    } else {
      health = lbs.roles[name] ?? "UNREACHABLE";
      detail = lbs.probes[name]?.reachable ? undefined : "own stats not bound";
      if (!["UNREACHABLE", "STOPPED", "FROZEN"].includes(health) && !lbs.probes[name]?.reachable) {
        detail = "seen by its peer (own stats not bound)";
      }
    }
    views.push({
      name,
      ...(rec ? { pid: rec.pid } : {}),
      alive,
      frozen,
      port: portOf(state, name),
      health: frozen && health !== "FROZEN" ? `${health} (frozen)` : health,
      ...(detail !== undefined ? { detail } : {}),
    });
  }
  if (!state.redisManaged) {
    views.unshift({
      name: "redis",
      alive: redisUp,
      frozen: false,
      port: 0,
      health: redisUp ? "UP" : "DOWN",
      detail: "external",
    });
  }
  const active = lbs.active[0];
  const facts = active ? lbs.probes[active]?.facts : undefined;
  return {
    dir: state.dir,
    condition: currentCondition(state),
    mode: state.mode,
    topology: state.topology,
    lb: state.lb,
    serviceUrl: serviceUrl(state),
    statsUrls: statsUrls(state),
    config: state.configFiles,
    redisUrl: state.redisUrl,
    nodes: views,
    masters: lbs.active,
    servers: facts?.servers ?? [],
    ...(facts ? { facts } : {}),
  };
}
