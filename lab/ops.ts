/**
 * Acting on one node of a running lab (start, kill, wait until healthy) and on the whole
 * lab (stop everything). Every action goes through the state file and pid + start time.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { LabError } from "./errors.js";
import { tailFile } from "./logs.js";
import { labNodes, sleepMs, spawnNode, stopOrder, stopProcess } from "./nodes.js";
import { probeLb, probeWeb, redisPing } from "./probe.js";
import { isAlive, procStateLetter, signalRef } from "./proc.js";
import {
  currentCondition,
  type LabState,
  labPaths,
  logPath,
  type NodeName,
  readState,
  removeState,
  writeState,
} from "./state.js";
import { lbSnapshot } from "./view.js";

export const LOG_TAIL_LINES = 15;

/** Reads the lab in DIR or fails with what to do. */
export function requireLab(dir: string): LabState {
  const state = readState(dir);
  if (!state) {
    throw new LabError(`no lab in ${dir}: start one with \`fulcrum lab up --dir ${dir}\``);
  }
  return state;
}

export function nodeError(state: LabState, node: NodeName, why: string): LabError {
  const tail = tailFile(logPath(state.dir, node), LOG_TAIL_LINES);
  return new LabError(
    `${node} ${why} (log: ${logPath(state.dir, node)})`,
    tail === "" ? "" : `---- last lines of ${node}'s log ----\n${tail}`,
  );
}

/** Polls `check` every `everyMs` until true; fails fast when a watched process dies. */
export async function waitForNode(
  state: LabState,
  node: NodeName,
  check: () => Promise<boolean>,
  deadline: number,
  what: string,
  everyMs = 50,
): Promise<void> {
  for (;;) {
    const rec = state.nodes[node];
    if (rec && !isAlive(rec))
      throw nodeError(state, node, `exited while the lab waited for it to be ${what}`);
    if (await check()) return;
    if (Date.now() > deadline) throw nodeError(state, node, `was not ${what} in time`);
    await sleepMs(everyMs);
  }
}

/** The readiness check of one node: Redis PING, web /health, a load balancer's stats page. */
export function readiness(state: LabState, node: NodeName): () => Promise<boolean> {
  if (node === "redis") return () => redisPing(state.redisUrl);
  if (node === "web1" || node === "web2") return async () => (await probeWeb(state.ports[node])).up;
  if (state.topology === "single") return async () => (await probeLb(state.ports.stats[node])).reachable;
  // a node of the pair is ready when one node is MASTER and the other is BACKUP.
  return async () => {
    const snap = await lbSnapshot(state);
    return snap.active.length === 1 && Object.values(snap.roles).filter((r) => r === "BACKUP").length === 1;
  };
}

/** Starts one node (or resumes it when frozen) and records it; waits until ready. */
export async function startNode(state: LabState, node: NodeName, deadlineMs = 20_000): Promise<string> {
  if (!labNodes(state).includes(node))
    throw new LabError(`${node} is not part of this lab (${labNodes(state).join(", ")})`);
  const rec = state.nodes[node];
  let action: string;
  if (rec && isAlive(rec)) {
    if (procStateLetter(rec.pid) !== "T") {
      throw new LabError(
        `${node} is already running (pid ${rec.pid}): kill it first with \`fulcrum lab kill ${node}\``,
      );
    }
    signalRef(rec, "SIGCONT");
    action = `resumed ${node} (pid ${rec.pid})`;
  } else {
    const fresh = spawnNode(state, node);
    state.nodes[node] = fresh;
    writeState(state);
    action = `started ${node} (pid ${fresh.pid})`;
  }
  await waitForNode(state, node, readiness(state, node), Date.now() + deadlineMs, "ready");
  return action;
}

export const KILL_SIGNALS = ["KILL", "TERM", "STOP", "INT", "USR1"] as const;
export type KillSignal = (typeof KILL_SIGNALS)[number];

/** Sends SIGNAL to a node of the lab (by its recorded pid and start time). */
export function killNode(state: LabState, node: NodeName, signal: KillSignal): string {
  if (node === "redis" && !state.redisManaged) {
    throw new LabError("this lab uses an external Redis (--redis): the lab does not kill it");
  }
  const rec = state.nodes[node];
  if (!rec || !isAlive(rec)) {
    throw new LabError(`${node} is not running: start it with \`fulcrum lab start ${node}\``);
  }
  signalRef(rec, `SIG${signal}`);
  return `sent SIG${signal} to ${node} (pid ${rec.pid})`;
}

/** Stops every process of the lab in order, checks none is left, removes the state. */
export async function stopLab(
  state: LabState,
  progress: (line: string) => void,
  graceMs = 3000,
): Promise<string[]> {
  const left: string[] = [];
  for (const node of stopOrder(Object.keys(state.nodes) as NodeName[])) {
    const rec = state.nodes[node];
    if (!rec) continue;
    const outcome = await stopProcess(rec, graceMs);
    if (outcome !== "not running") progress(`${node}: ${outcome} (pid ${rec.pid})`);
  }
  for (const [node, rec] of Object.entries(state.nodes)) {
    if (rec && isAlive(rec)) left.push(`${node} (pid ${rec.pid})`);
  }
  if (left.length === 0) {
    removeState(state.dir);
    const paths = labPaths(state.dir);
    rmSync(paths.redisData, { recursive: true, force: true });
    rmSync(join(paths.dir, "run"), { recursive: true, force: true });
  }
  return left;
}

/** What `lab up` says about a folder that already holds a lab. */
export function describeExisting(dir: string): string | undefined {
  const state = readState(dir);
  if (!state) return undefined;
  const cond = currentCondition(state);
  if (cond === "running" || cond === "degraded") {
    return `a lab is already running in ${dir}: see \`fulcrum lab status --dir ${dir}\`, stop it with \`fulcrum lab down --dir ${dir}\`, or use another --dir`;
  }
  return `the lab folder ${dir} was left by a crash (none of its processes runs): clean it with \`fulcrum lab down --dir ${dir}\``;
}
