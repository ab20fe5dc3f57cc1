/**
 * Who this process is, in terms a peer on the same host can check: host name + kernel boot id
 * (the same host, and not rebooted since), pid + start time (the same process, not a new one
 * that reused the pid). The election uses these to prove a peer process dead (so the standby
 * takes over without waiting for the lease to expire) and to fence a frozen old active.
 *
 * Linux only (/proc). Elsewhere nothing can be proven: `processState` answers "unknown",
 * which the election treats as "no proof" (it waits for the lease to expire).
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

export interface HostIdentity {
  readonly host: string;
  /** /proc/sys/kernel/random/boot_id, or "" when unknown. */
  readonly boot: string;
}

export interface ProcessIdentity extends HostIdentity {
  readonly pid: number;
  /** Start time in clock ticks since boot (field 22 of /proc/PID/stat); 0 when unknown. */
  readonly start: number;
  /** Random per process: names this incarnation in adverts and lease values. */
  readonly inc: string;
  /** Wall-clock ms when the process started: orders two incarnations of one node. */
  readonly up: number;
}

export type ProcessState = "alive" | "gone" | "unknown";

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

export function hostIdentity(): HostIdentity {
  return { host: hostname(), boot: (readText("/proc/sys/kernel/random/boot_id") ?? "").trim() };
}

/**
 * Parses the text of /proc/PID/stat: the command name (field 2) is in parentheses and may
 * itself hold spaces and parentheses, so fields are counted from the last ')'.
 * Returns the state letter (field 3) and the start time (field 22).
 */
export function parseProcStat(text: string): { state: string; start: number } | undefined {
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state); field 22 is rest[19].
  const state = rest[0];
  const start = Number(rest[19]);
  if (state === undefined || !Number.isSafeInteger(start)) return undefined;
  return { state, start };
}

/** Start time of a process in clock ticks since boot, or undefined when it does not exist. */
export function processStartTime(pid: number): number | undefined {
  const text = readText(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
  return parseProcStat(text)?.start;
}

const procAvailable = (): boolean => readText("/proc/self/stat") !== undefined;

/**
 * Is the process `pid` that started at `start` still there? "gone" is a proof: no such pid,
 * a different process under the same pid, or a zombie (killed, not yet reaped by its parent).
 */
export function processState(pid: number, start: number): ProcessState {
  if (!procAvailable() || !(pid > 0) || !(start > 0)) return "unknown";
  const text = readText(`/proc/${pid}/stat`);
  if (text === undefined) return "gone";
  const stat = parseProcStat(text);
  if (stat === undefined) return "unknown";
  if (stat.start !== start) return "gone";
  if (stat.state === "Z" || stat.state === "X" || stat.state === "x") return "gone";
  return "alive";
}

/** True unless the process is proven gone (no /proc counts as alive: no proof). */
export function isSameProcessAlive(pid: number, start: number): boolean {
  return processState(pid, start) !== "gone";
}

let self: ProcessIdentity | undefined;

/** This process, computed once. */
export function selfIdentity(): ProcessIdentity {
  if (self === undefined) {
    self = {
      ...hostIdentity(),
      pid: process.pid,
      start: processStartTime(process.pid) ?? 0,
      inc: randomUUID().slice(0, 8),
      up: Math.round(Date.now() - process.uptime() * 1000),
    };
  }
  return self;
}
