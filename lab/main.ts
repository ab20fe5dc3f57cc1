/**
 * The lab's commands, one handler per row of cli/lab.ts's table. Flag values are checked
 * here (usage errors exit 2); each handler prints a human text or, with --json, only the
 * JSON document on stdout.
 */
import { resolve } from "node:path";
import type { LabFlags } from "../cli/lab.js";
import { UsageError } from "../proxy/errors.js";
import { LabError } from "./errors.js";
import { tailFile } from "./logs.js";
import { KILL_SIGNALS, type KillSignal, killNode, requireLab, startNode, stopLab } from "./ops.js";
import { refOf } from "./proc.js";
import { renderUrls, renderView } from "./render.js";
import {
  acquireLock,
  defaultLabDir,
  logPath,
  MODES,
  type Mode,
  NODE_NAMES,
  type NodeName,
  readState,
  writeState,
} from "./state.js";
import { labUp } from "./up.js";
import { gatherView, serviceUrl, statsUrls } from "./view.js";

export type Handler = (args: readonly string[], flags: LabFlags) => Promise<void>;

export function progress(line: string): void {
  process.stderr.write(`lab: ${line}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function labDir(flags: LabFlags): string {
  return resolve(flags.dir ?? defaultLabDir());
}

export function parseMode(text: string | undefined, fallback: Mode): Mode {
  if (text === undefined) return fallback;
  if (!(MODES as readonly string[]).includes(text))
    throw new UsageError(`unknown --mode "${text}": use cookie or shared`);
  return text as Mode;
}

export function parseCount(
  text: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`invalid --${name} "${text}": give a whole number from ${min} to ${max}`);
  }
  return n;
}

export function parseNode(text: string | undefined): NodeName {
  if (!(NODE_NAMES as readonly (string | undefined)[]).includes(text)) {
    throw new UsageError(`unknown node "${text ?? ""}": use one of ${NODE_NAMES.join(", ")}`);
  }
  return text as NodeName;
}

export function parseSignal(
  text: string | undefined,
  allowed: readonly KillSignal[],
  fallback: KillSignal,
): KillSignal {
  if (text === undefined) return fallback;
  const s = text.toUpperCase().replace(/^SIG/, "");
  if (!(allowed as readonly string[]).includes(s)) {
    throw new UsageError(`unsupported --signal "${text}": use ${allowed.join(", ")}`);
  }
  return s as KillSignal;
}

const up: Handler = async (_args, flags) => {
  const dir = labDir(flags);
  const lb = flags.lb ?? "fulcrum";
  if (lb !== "fulcrum" && lb !== "haproxy")
    throw new UsageError(`unknown --lb "${lb}": use fulcrum or haproxy`);
  if (flags.redis !== undefined && !/^rediss?:\/\/./.test(flags.redis)) {
    throw new UsageError(`--redis "${flags.redis}" is not a redis:// URL, e.g. redis://127.0.0.1:6379`);
  }
  const state = await labUp({
    dir,
    mode: parseMode(flags.mode, "shared"),
    ...(flags["base-port"] !== undefined
      ? { basePort: parseCount(flags["base-port"], "base-port", 0, 1, 65528) }
      : {}),
    ...(flags.redis !== undefined ? { redisUrl: flags.redis } : {}),
    topology: flags.single || lb === "haproxy" ? "single" : "pair",
    lb,
    progress,
  });
  const view = await gatherView(state);
  if (flags.json) printJson({ ...view, detached: flags.detach === true });
  else process.stdout.write(`${renderUrls(view)}\n`);
  if (flags.detach) return;
  state.supervisor = refOf(process.pid);
  writeState(state);
  const { runLive } = await import("./live.js");
  await runLive(state, { out: flags.json ? process.stderr : process.stdout, progress });
};

const status: Handler = async (_args, flags) => {
  const state = requireLab(labDir(flags));
  const view = await gatherView(state);
  if (flags.json) printJson(view);
  else process.stdout.write(`${renderView(view)}\n${renderUrls(view)}\n`);
};

const down: Handler = async (_args, flags) => {
  const dir = labDir(flags);
  const state = readState(dir);
  if (!state) {
    if (flags.json) printJson({ dir, stopped: [], left: [] });
    else process.stdout.write(`no lab in ${dir}: nothing to stop\n`);
    return;
  }
  const release = acquireLock(dir);
  try {
    const stopped: string[] = [];
    const left = await stopLab(state, (line) => {
      stopped.push(line);
      progress(line);
    });
    if (left.length > 0) {
      throw new LabError(`still running after down: ${left.join(", ")}: stop them by hand (kill PID)`);
    }
    if (flags.json) printJson({ dir, stopped, left });
    else process.stdout.write(`lab in ${dir} stopped; no process left\n`);
  } finally {
    release();
  }
};

const start: Handler = async (args, flags) => {
  const state = requireLab(labDir(flags));
  const node = parseNode(args[0]);
  const done = await startNode(state, node);
  if (flags.json) printJson({ node, action: done, pid: state.nodes[node]?.pid });
  else process.stdout.write(`${done}\n`);
};

const kill: Handler = async (args, flags) => {
  const state = requireLab(labDir(flags));
  const node = parseNode(args[0]);
  const signal = parseSignal(flags.signal, KILL_SIGNALS, "KILL");
  const done = killNode(state, node, signal);
  if (flags.json) printJson({ node, signal: `SIG${signal}`, pid: state.nodes[node]?.pid });
  else process.stdout.write(`${done}\n`);
};

const logs: Handler = async (args, flags) => {
  const dir = labDir(flags);
  const node = parseNode(args[0]);
  const lines = parseCount(flags.lines, "lines", 100, 1, 1_000_000);
  const text = tailFile(logPath(dir, node), lines);
  if (text === "") throw new LabError(`no log for ${node} in ${dir}: has the lab run there?`);
  process.stdout.write(`${text}\n`);
};

async function drill(kind: string): Promise<Handler> {
  const { DRILLS } = await import("./drills/index.js");
  const h = DRILLS[kind];
  if (!h) throw new UsageError(`unknown drill "${kind}"`);
  return h;
}

const HANDLERS: Readonly<Record<string, () => Promise<Handler>>> = {
  up: async () => up,
  status: async () => status,
  down: async () => down,
  start: async () => start,
  kill: async () => kill,
  logs: async () => logs,
  "drill failover": () => drill("failover"),
  "drill sessions": () => drill("sessions"),
  "drill redis": () => drill("redis"),
  "drill compare": () => drill("compare"),
  chaos: async () => (await import("./chaos.js")).chaosCommand,
};

export async function runLab(command: string, args: readonly string[], flags: LabFlags): Promise<void> {
  const get = HANDLERS[command];
  if (!get) throw new UsageError(`unknown lab command "${command}"`);
  try {
    await (await get())(args, flags);
  } catch (err) {
    if (err instanceof LabError && err.details !== "") process.stderr.write(`${err.details}\n`);
    throw err;
  }
}

export { serviceUrl, statsUrls };
