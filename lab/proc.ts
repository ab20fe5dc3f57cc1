/**
 * Which process is which, without trusting a bare pid: a pid is reused by the kernel once its
 * process is gone, so the lab records each process's start time (field 22 of /proc/PID/stat,
 * clock ticks since boot) next to its pid and signals a pid only while both still match.
 */
import { readFileSync } from "node:fs";

export interface ProcRef {
  readonly pid: number;
  /** Start time in clock ticks since boot; 0 when unknown (no /proc): then the pid alone. */
  readonly start: number;
}

/** Start time of a process, or undefined when it does not exist (or /proc is missing). */
export function procStartTime(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  return parseStartTime(text);
}

/** Field 22 of a /proc/PID/stat line; the command name (field 2) may hold spaces and ')'. */
export function parseStartTime(statLine: string): number | undefined {
  const close = statLine.lastIndexOf(")");
  if (close < 0) return undefined;
  // after ") " come fields 3.. ; field 22 is the 20th of them.
  const rest = statLine.slice(close + 2).split(" ");
  const v = Number(rest[19]);
  return Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

/** Process state letter (R, S, T stopped, Z zombie, ...), or undefined when gone. */
export function procStateLetter(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2, text.lastIndexOf(")") + 3) || undefined;
  } catch {
    return undefined;
  }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The recorded process still runs: same pid, same start time, and not a zombie. */
export function isAlive(ref: ProcRef): boolean {
  if (!Number.isInteger(ref.pid) || ref.pid <= 0) return false;
  const start = procStartTime(ref.pid);
  if (start === undefined) return ref.start === 0 && pidExists(ref.pid);
  if (ref.start !== 0 && start !== ref.start) return false;
  return procStateLetter(ref.pid) !== "Z";
}

/** A reference to a process that has just been spawned. */
export function refOf(pid: number): ProcRef {
  return { pid, start: procStartTime(pid) ?? 0 };
}

/** Sends a signal only to the recorded process (never to a newer one that reused its pid). */
export function signalRef(ref: ProcRef, signal: NodeJS.Signals): boolean {
  if (!isAlive(ref)) return false;
  try {
    process.kill(ref.pid, signal);
    return true;
  } catch {
    return false;
  }
}
