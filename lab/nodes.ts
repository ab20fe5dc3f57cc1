/**
 * What each lab node runs, and starting and stopping it as a detached process with its own
 * log file. The command line of a node is derived from the state alone (pure), so
 * `lab start NODE` after a kill, and the switch of store in `drill compare`, rebuild exactly
 * what `lab up` ran.
 */
import { spawn } from "node:child_process";
import { accessSync, closeSync, constants, mkdirSync, openSync, writeSync } from "node:fs";
import { delimiter, join } from "node:path";
import { FulcrumError } from "../proxy/errors.js";
import { isAlive, type ProcRef, procStartTime, signalRef } from "./proc.js";
import { type LabState, labPaths, logPath, type NodeName, type NodeRecord, projectRoot } from "./state.js";

export interface Launch {
  readonly cmd: string;
  readonly args: readonly string[];
}

/** The compiled `fulcrum` command of this checkout. */
export function fulcrumLaunch(args: readonly string[]): Launch {
  return { cmd: process.execPath, args: [join(projectRoot(), "dist", "cli", "main.js"), ...args] };
}

function redisLaunch(state: LabState): Launch {
  return {
    cmd: "redis-server",
    args: [
      "--port",
      String(state.ports.redis),
      "--bind",
      "127.0.0.1",
      "--dir",
      labPaths(state.dir).redisData,
      // sessions survive a killed Redis: every write is on disk before the reply.
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
      "--save",
      "",
      "--daemonize",
      "no",
    ],
  };
}

function webLaunch(state: LabState, name: "web1" | "web2"): Launch {
  const store = state.mode === "shared" ? "redis" : "memory";
  return fulcrumLaunch([
    "web-demo",
    "--name",
    name,
    "--port",
    String(state.ports[name]),
    "--store",
    store,
    "--redis",
    state.redisUrl,
    "--secret",
    state.secret,
  ]);
}

function lbLaunch(state: LabState, name: "lb1" | "lb2"): Launch {
  if (state.lb === "haproxy") {
    return { cmd: "haproxy", args: ["-db", "-f", state.configFiles[0] ?? "", "-L", name] };
  }
  return fulcrumLaunch(["proxy", "-db", ...state.configFiles.flatMap((f) => ["-f", f]), "-L", name]);
}

const LAUNCHERS: Readonly<Record<NodeName, (s: LabState) => Launch>> = {
  redis: redisLaunch,
  web1: (s) => webLaunch(s, "web1"),
  web2: (s) => webLaunch(s, "web2"),
  lb1: (s) => lbLaunch(s, "lb1"),
  lb2: (s) => lbLaunch(s, "lb2"),
};

/** Pure: the command line of a node in this lab. */
export function nodeLaunch(state: LabState, node: NodeName): Launch {
  return LAUNCHERS[node](state);
}

/** The nodes this lab runs, in start order. */
export function labNodes(state: Pick<LabState, "topology" | "redisManaged">): NodeName[] {
  const nodes: NodeName[] = state.redisManaged ? ["redis"] : [];
  nodes.push("web1", "web2", "lb1");
  if (state.topology === "pair") nodes.push("lb2");
  return nodes;
}

/** Stop order: the standby side first (lb2, then lb1), then the servers, Redis last. */
export function stopOrder(nodes: readonly NodeName[]): NodeName[] {
  const rank: Record<NodeName, number> = { lb2: 0, lb1: 1, web2: 2, web1: 3, redis: 4 };
  return [...nodes].sort((a, b) => rank[a] - rank[b]);
}

/** Full path of a program found in PATH, or undefined. */
export function whichProgram(name: string, path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const full = join(dir, name);
    try {
      accessSync(full, constants.X_OK);
      return full;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A one-line error for a program the lab needs and cannot find. */
export function requireProgram(name: string, pkg: string, alternative?: string): void {
  if (whichProgram(name) !== undefined) return;
  throw new FulcrumError(
    "FUL_RUNTIME",
    `${name} is not installed: run \`apt-get install -y ${pkg}\`${alternative ? ` (${alternative})` : ""}`,
  );
}

/**
 * Starts a node detached from this process (its own process group, so a Ctrl-C in the
 * terminal reaches only the lab, which then stops the nodes in order), output appended to
 * its log file. Returns its record (pid and start time).
 */
export function spawnNode(state: LabState, node: NodeName): NodeRecord {
  const launch = nodeLaunch(state, node);
  const log = logPath(state.dir, node);
  mkdirSync(labPaths(state.dir).logs, { recursive: true });
  if (node === "redis") mkdirSync(labPaths(state.dir).redisData, { recursive: true });
  const fd = openSync(log, "a");
  const startedAt = new Date().toISOString();
  writeSync(fd, `---- ${startedAt} lab: starting ${node}: ${launch.cmd} ${launch.args.join(" ")}\n`);
  try {
    const child = spawn(launch.cmd, launch.args, {
      cwd: state.dir,
      detached: true,
      stdio: ["ignore", fd, fd],
      env: { ...process.env, FULCRUM_LAB_NODE: node },
    });
    child.on("error", () => undefined); // a failed exec shows as a dead pid and its log
    child.unref();
    if (child.pid === undefined) {
      throw new FulcrumError("FUL_RUNTIME", `cannot start ${node} (${launch.cmd}): see ${log}`);
    }
    return { pid: child.pid, start: procStartTime(child.pid) ?? 0, log, startedAt };
  } finally {
    closeSync(fd);
  }
}

export type StopOutcome = "stopped" | "killed" | "not running";

/** TERM (after CONT, so a frozen process receives it), KILL after `graceMs`; waits until gone. */
export async function stopProcess(ref: ProcRef, graceMs = 3000): Promise<StopOutcome> {
  if (!isAlive(ref)) return "not running";
  signalRef(ref, "SIGCONT");
  signalRef(ref, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(ref)) return "stopped";
    await sleepMs(20);
  }
  signalRef(ref, "SIGKILL");
  const killDeadline = Date.now() + 2000;
  while (Date.now() < killDeadline) {
    if (!isAlive(ref)) return "killed";
    await sleepMs(20);
  }
  throw new FulcrumError("FUL_RUNTIME", `process ${ref.pid} survived SIGKILL: check it with ps`);
}

export function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
