/**
 * Driving wrk. Its human summary rounds and changes units ("1.20ms", "300.00us", "21.26k"),
 * so the run asks wrk's own Lua `done` hook for exact figures instead: one line, a marker
 * then JSON, parsed here. Pure except `runWrk`.
 */
import { spawn } from "node:child_process";
import { FulcrumError } from "../proxy/errors.js";

export const WRK_MARK = "FULCRUM-BENCH ";

/**
 * The Lua script given to wrk with -s. It defines only `done`, so wrk keeps its fast path
 * (one pre-built request, no Lua per request). Latencies are in microseconds.
 */
export const WRK_SCRIPT = `-- fulcrum bench: print exact figures as one JSON line
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '${WRK_MARK}{"requests":%d,"durationUs":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latencyUs":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d}}\\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;

export interface WrkErrors {
  readonly connect: number;
  readonly read: number;
  readonly write: number;
  /** Responses with a status outside 2xx/3xx. */
  readonly status: number;
  readonly timeout: number;
}

export interface WrkResult {
  readonly requests: number;
  readonly durationS: number;
  readonly bytes: number;
  /** Requests per second over the measured duration. */
  readonly rps: number;
  readonly errors: WrkErrors;
  readonly latencyMs: {
    readonly mean: number;
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly max: number;
  };
}

export interface WrkOptions {
  readonly url: string;
  readonly connections: number;
  readonly threads: number;
  readonly durationS: number;
  readonly requestTimeoutS: number;
  /** Path of a file holding WRK_SCRIPT. */
  readonly script: string;
}

export function wrkArgs(o: WrkOptions): string[] {
  return [
    `-t${o.threads}`,
    `-c${o.connections}`,
    `-d${o.durationS}s`,
    "--timeout",
    `${o.requestTimeoutS}s`,
    "-s",
    o.script,
    o.url,
  ];
}

function count(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new FulcrumError("FUL_RUNTIME", `wrk's report has no valid ${what}`);
  }
  return v;
}

const us = (v: unknown, what: string) => count(v, what) / 1000;

/** The figures of wrk's stdout (the marker line written by WRK_SCRIPT). */
export function parseWrkReport(stdout: string): WrkResult {
  const line = stdout.split("\n").find((l) => l.startsWith(WRK_MARK));
  if (line === undefined) {
    throw new FulcrumError("FUL_RUNTIME", "wrk printed no result line: is the -s script the bench's?");
  }
  let raw: Record<string, Record<string, unknown> | unknown>;
  try {
    raw = JSON.parse(line.slice(WRK_MARK.length)) as typeof raw;
  } catch {
    throw new FulcrumError("FUL_RUNTIME", `wrk's result line is not JSON: ${line.slice(0, 120)}`);
  }
  const e = (raw.errors ?? {}) as Record<string, unknown>;
  const l = (raw.latencyUs ?? {}) as Record<string, unknown>;
  const requests = count(raw.requests, "request count");
  const durationS = count(raw.durationUs, "duration") / 1e6;
  return {
    requests,
    durationS,
    bytes: count(raw.bytes, "byte count"),
    rps: durationS > 0 ? requests / durationS : 0,
    errors: {
      connect: count(e.connect, "connect errors"),
      read: count(e.read, "read errors"),
      write: count(e.write, "write errors"),
      status: count(e.status, "status errors"),
      timeout: count(e.timeout, "timeouts"),
    },
    latencyMs: {
      mean: us(l.mean, "mean latency"),
      p50: us(l.p50, "p50 latency"),
      p90: us(l.p90, "p90 latency"),
      p99: us(l.p99, "p99 latency"),
      max: us(l.max, "max latency"),
    },
  };
}

export function totalErrors(e: WrkErrors): number {
  return e.connect + e.read + e.write + e.status + e.timeout;
}

/** Runs wrk to completion, killed (by pid) if it outlives `deadlineMs`. */
export function runWrk(args: readonly string[], deadlineMs: number): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      err += d;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, deadlineMs);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(new FulcrumError("FUL_RUNTIME", `cannot run wrk: ${e.message}`));
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new FulcrumError("FUL_RUNTIME", `wrk ran longer than ${deadlineMs} ms and was killed`));
        return;
      }
      if (code !== 0) {
        const why = (err || out).trim().split("\n").slice(-2).join(" / ");
        reject(new FulcrumError("FUL_RUNTIME", `wrk exited with ${code}: ${why}`));
        return;
      }
      try {
        resolve(parseWrkReport(out));
      } catch (e) {
        reject(e);
      }
    });
  });
}
