/**
 * Memory and CPU of a target while it is under load, read from /proc: VmRSS from
 * /proc/PID/status (sampled, the maximum kept) and utime+stime from /proc/PID/stat (read
 * before and after a run). A target is its process and its descendants (nginx with a master
 * process, fulcrum with -W), so the figures stay right if a target grows a child.
 * The parsers are pure; `ProcSampler` does the reading.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** utime + stime (fields 14 and 15 of /proc/PID/stat), in clock ticks. */
export function parseCpuTicks(statLine: string): number | undefined {
  // the command name (field 2) is in parentheses and may hold spaces and ')'.
  const close = statLine.lastIndexOf(")");
  if (close < 0) return undefined;
  const rest = statLine.slice(close + 2).split(" ");
  // rest[0] is field 3 (state): field N is rest[N - 3].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return Number.isSafeInteger(utime) && Number.isSafeInteger(stime) ? utime + stime : undefined;
}

/** VmRSS of /proc/PID/status, in KiB (undefined for a kernel thread or a zombie). */
export function parseVmRssKiB(statusText: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(statusText);
  return m ? Number(m[1]) : undefined;
}

/** Pids listed in /proc/PID/task/TID/children files (space separated). */
export function parseChildren(text: string): number[] {
  return text
    .split(/\s+/)
    .filter((w) => w !== "")
    .map(Number)
    .filter((n) => Number.isSafeInteger(n) && n > 0);
}

let ticksPerSecond: number | undefined;

/** The kernel's clock ticks per second (getconf CLK_TCK, read once; 100 on Linux nearly always). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      const v = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8", timeout: 2000 }).trim());
      ticksPerSecond = Number.isInteger(v) && v > 0 ? v : 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** The process and its descendants (bounded: 64 processes), through the children files. */
export function processTree(root: number): number[] {
  const seen: number[] = [];
  const todo = [root];
  while (todo.length > 0 && seen.length < 64) {
    const pid = todo.shift()!;
    if (seen.includes(pid)) continue;
    seen.push(pid);
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) todo.push(...parseChildren(readOr(`/proc/${pid}/task/${tid}/children`) ?? ""));
  }
  return seen;
}

export function treeRssKiB(pids: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) sum += parseVmRssKiB(readOr(`/proc/${pid}/status`) ?? "") ?? 0;
  return sum;
}

export function treeCpuTicks(pids: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) sum += parseCpuTicks(readOr(`/proc/${pid}/stat`) ?? "") ?? 0;
  return sum;
}

export interface ProcUsage {
  /** Largest sum of VmRSS over the tree seen during the run. */
  readonly maxRssKiB: number;
  /** CPU time (user + system) the tree used during the run. */
  readonly cpuSeconds: number;
}

/** Samples one target from `start()` to `stop()`. The tree is re-read every second. */
export class ProcSampler {
  private pids: number[] = [];
  private maxRss = 0;
  private cpuStart = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;

  constructor(
    private readonly root: number,
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    this.pids = processTree(this.root);
    this.cpuStart = treeCpuTicks(this.pids);
    this.maxRss = treeRssKiB(this.pids);
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  private sample(): void {
    this.ticks++;
    if (this.ticks % Math.max(1, Math.round(1000 / this.intervalMs)) === 0)
      this.pids = processTree(this.root);
    this.maxRss = Math.max(this.maxRss, treeRssKiB(this.pids));
  }

  stop(): ProcUsage {
    clearInterval(this.timer);
    this.sample();
    const cpuTicks = treeCpuTicks(this.pids) - this.cpuStart;
    return { maxRssKiB: this.maxRss, cpuSeconds: Math.max(0, cpuTicks) / clockTicksPerSecond() };
  }
}
