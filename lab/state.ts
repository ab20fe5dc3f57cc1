/**
 * The lab folder: one JSON state file (ports, pids with their start times, mode, Redis URL,
 * config path), one log file per node, the generated configuration, Redis's data, and a lock
 * that keeps two `lab up` from starting in the same folder at once.
 *
 * Every command reads the state file, so `lab status` in another terminal, `lab down` after
 * a crash and a drill all act on the same processes. Pids are never trusted alone (proc.ts).
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { FulcrumError } from "../proxy/errors.js";
import { isAlive, type ProcRef, refOf } from "./proc.js";

export const NODE_NAMES = ["redis", "web1", "web2", "lb1", "lb2"] as const;
export type NodeName = (typeof NODE_NAMES)[number];
export const LB_NAMES = ["lb1", "lb2"] as const;
export type LbName = (typeof LB_NAMES)[number];
export const WEB_NAMES = ["web1", "web2"] as const;
export type WebName = (typeof WEB_NAMES)[number];

/** cookie: sessions in each web server's memory (the tutorial); shared: sessions in Redis. */
export const MODES = ["cookie", "shared"] as const;
export type Mode = (typeof MODES)[number];
/** pair: lb1 + lb2 with the `ha` section; single: lb1 alone, the tutorial's one HAProxy. */
export type Topology = "pair" | "single";
/** Which program runs the load balancers: fulcrum, or HAProxy itself (single only) to compare. */
export type LbProgram = "fulcrum" | "haproxy";

export interface LabPorts {
  /** The service address: the tutorial's `listen web_proxy`, bound by the active node. */
  readonly service: number;
  /** Each node's own stats listener. */
  readonly stats: Readonly<Record<LbName, number>>;
  /** Each node's direct peer link (`peer` lines of the ha section). */
  readonly peer: Readonly<Record<LbName, number>>;
  readonly web1: number;
  readonly web2: number;
  /** Port of the lab's own redis-server (0 with --redis). */
  readonly redis: number;
}

export interface NodeRecord extends ProcRef {
  /** Log file (stdout and stderr of the process). */
  readonly log: string;
  /** ISO time it was started. */
  readonly startedAt: string;
}

export interface LabState {
  readonly version: 1;
  readonly dir: string;
  readonly createdAt: string;
  mode: Mode;
  readonly topology: Topology;
  readonly lb: LbProgram;
  readonly ports: LabPorts;
  readonly redisUrl: string;
  /** The lab started this Redis (false with --redis URL: never killed by the lab). */
  readonly redisManaged: boolean;
  /** Session secret shared by web1 and web2 (shared mode needs one secret everywhere). */
  readonly secret: string;
  /** Folder holding the generated configuration files. */
  readonly configDir: string;
  /** Files given to `fulcrum proxy -f` in order (the ha section in its own file). */
  readonly configFiles: readonly string[];
  nodes: Partial<Record<NodeName, NodeRecord>>;
  /** The foreground `lab up` process (Ctrl-C stops everything), when there is one. */
  supervisor?: ProcRef;
}

/** The fulcrum checkout this module runs from (where package.json names "fulcrum"). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string };
      if (pkg.name === "fulcrum") return dir;
    } catch {
      // not here
    }
    dir = dirname(dir);
  }
  return process.cwd();
}

export function defaultLabDir(): string {
  return join(projectRoot(), ".lab", "default");
}

export interface LabPaths {
  readonly dir: string;
  readonly state: string;
  readonly lock: string;
  readonly logs: string;
  readonly config: string;
  readonly redisData: string;
  readonly reports: string;
}

export function labPaths(dir: string): LabPaths {
  const d = resolve(dir);
  return {
    dir: d,
    state: join(d, "state.json"),
    lock: join(d, "lock"),
    logs: join(d, "logs"),
    config: join(d, "config"),
    redisData: join(d, "redis"),
    reports: join(d, "reports"),
  };
}

export function logPath(dir: string, node: NodeName): string {
  return join(labPaths(dir).logs, `${node}.log`);
}

function isLabState(v: unknown): v is LabState {
  const s = v as Partial<LabState> | null;
  return (
    typeof s === "object" &&
    s !== null &&
    s.version === 1 &&
    typeof s.ports === "object" &&
    typeof s.nodes === "object" &&
    typeof s.redisUrl === "string"
  );
}

/** The state of the lab in DIR, or undefined when there is none. */
export function readState(dir: string): LabState | undefined {
  const { state } = labPaths(dir);
  let text: string;
  try {
    text = readFileSync(state, "utf8");
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!isLabState(parsed)) {
    throw new FulcrumError(
      "FUL_RUNTIME",
      `the lab state ${state} is unreadable: run \`fulcrum lab down --dir ${dir}\` to clean the folder`,
    );
  }
  return parsed;
}

/** Writes the state atomically (a reader never sees half a file). */
export function writeState(state: LabState): void {
  const { state: file } = labPaths(state.dir);
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, `${JSON.stringify(state, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export function removeState(dir: string): void {
  rmSync(labPaths(dir).state, { force: true });
}

/** Whether each recorded process still runs: running (all), degraded (some), crashed (none). */
export type LabCondition = "running" | "degraded" | "crashed" | "empty";

/** Pure: what the recorded processes' liveness says about the lab. */
export function labCondition(state: LabState, alive: (ref: ProcRef) => boolean): LabCondition {
  const recs = Object.values(state.nodes).filter((r): r is NodeRecord => r !== undefined);
  if (recs.length === 0) return "empty";
  const up = recs.filter((r) => alive(r)).length;
  if (up === recs.length) return "running";
  return up > 0 ? "degraded" : "crashed";
}

export function currentCondition(state: LabState): LabCondition {
  return labCondition(state, isAlive);
}

/**
 * Lock against two `lab up` in one folder: a file created exclusively, holding the pid and
 * start time of its owner. A lock whose owner is gone (a crash) is taken over.
 */
export function acquireLock(dir: string): () => void {
  const { lock } = labPaths(dir);
  mkdirSync(dirname(lock), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, "wx");
      writeSync(fd, JSON.stringify(refOf(process.pid)));
      closeSync(fd);
      return () => rmSync(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = readLockOwner(lock);
      if (owner && isAlive(owner)) {
        throw new FulcrumError(
          "FUL_RUNTIME",
          `another \`fulcrum lab\` command (pid ${owner.pid}) is starting or changing the lab in ${dir}: wait for it, or use another --dir`,
        );
      }
      rmSync(lock, { force: true });
    }
  }
  throw new FulcrumError("FUL_RUNTIME", `cannot take the lock ${lock}: remove it if no lab command runs`);
}

function readLockOwner(lock: string): ProcRef | undefined {
  try {
    const v = JSON.parse(readFileSync(lock, "utf8")) as ProcRef;
    return typeof v.pid === "number" ? { pid: v.pid, start: Number(v.start) || 0 } : undefined;
  } catch {
    return undefined;
  }
}

export function labExists(dir: string): boolean {
  return existsSync(labPaths(dir).state);
}
