/**
 * The processes of a bench run (upstreams, targets, HA nodes, redis): started as children
 * with their output kept (the last few KiB, for error messages), stopped by pid with the
 * lab's TERM-then-KILL, and waited for with a deadline, never a fixed sleep.
 */
import { spawn } from "node:child_process";
import { stopProcess } from "../lab/nodes.js";
import { isAlive, type ProcRef, refOf, signalRef } from "../lab/proc.js";
import { FulcrumError } from "../proxy/errors.js";

const OUTPUT_KEEP = 8192;

export interface Service {
  readonly name: string;
  readonly pid: number;
  readonly ref: ProcRef;
  /** The command line, for the report. */
  readonly command: string;
  /** The last few KiB of stdout and stderr, interleaved. */
  output(): string;
  /** Exit code or signal once it has ended. */
  ended(): number | string | undefined;
  signal(sig: NodeJS.Signals): boolean;
  /** TERM, KILL after `graceMs`; resolves once gone. */
  stop(graceMs?: number): Promise<void>;
}

export function startService(
  name: string,
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Service {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (d: string) => {
    out = (out + d).slice(-OUTPUT_KEEP);
  };
  child.stdout.setEncoding("utf8").on("data", keep);
  child.stderr.setEncoding("utf8").on("data", keep);
  let end: number | string | undefined;
  child.once("exit", (code, sig) => {
    end = code ?? sig ?? -1;
  });
  child.once("error", (err) => {
    keep(`cannot start ${cmd}: ${err.message}\n`);
    end = -1;
  });
  if (child.pid === undefined) {
    throw new FulcrumError("FUL_RUNTIME", `cannot start ${name} (${cmd}): is it installed?`);
  }
  const ref = refOf(child.pid);
  return {
    name,
    pid: child.pid,
    ref,
    command: [cmd, ...args].join(" "),
    output: () => out,
    ended: () => end,
    signal: (sig) => end === undefined && signalRef(ref, sig),
    stop: async (graceMs = 3000) => {
      if (end !== undefined || !isAlive(ref)) return;
      await stopProcess(ref, graceMs);
    },
  };
}

export function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The last `n` lines of a process's output, on one line, for an error message. */
export function tail(s: Service, n = 3): string {
  const lines = s.output().trim().split("\n").filter(Boolean).slice(-n);
  return lines.length === 0 ? "(no output)" : lines.join(" | ");
}

/**
 * Polls `check` every `intervalMs` until it returns a value (returned), the service dies
 * (error with its output) or `timeoutMs` passes (error naming `what`).
 */
export async function waitUntil<T>(
  check: () => Promise<T | undefined> | T | undefined,
  opts: { timeoutMs: number; what: string; service?: Service; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    const s = opts.service;
    if (s !== undefined && s.ended() !== undefined) {
      throw new FulcrumError(
        "FUL_RUNTIME",
        `${s.name} exited (${s.ended()}) before ${opts.what}: ${tail(s)}`,
      );
    }
    if (Date.now() > deadline) {
      const seen = s === undefined ? "" : `; ${s.name} said: ${tail(s)}`;
      throw new FulcrumError("FUL_RUNTIME", `no ${opts.what} within ${opts.timeoutMs} ms${seen}`);
    }
    await sleepMs(opts.intervalMs ?? 20);
  }
}

/** Stops every service, the last started first; never throws (it runs in `finally`). */
export async function stopAll(services: readonly Service[]): Promise<void> {
  for (const s of [...services].reverse()) {
    try {
      await s.stop();
    } catch {
      // stopProcess already tried KILL; nothing more to do here
    }
  }
}
