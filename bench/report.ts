/**
 * The figures of a throughput run: one row per (scenario, target), ratios to HAProxy and to
 * the direct connection in the same scenario, and the table printed at the end. Pure.
 */
import type { BodyKind, RunPlan, TargetName } from "./plan.js";
import type { WrkErrors } from "./wrk.js";

/** What one measured wrk run against one target gave. */
export interface Measurement {
  readonly target: TargetName;
  readonly scenario: string;
  readonly body: BodyKind;
  readonly connections: number;
  readonly requests: number;
  readonly rps: number;
  /** Failed requests: socket errors, timeouts and non-2xx/3xx answers. */
  readonly errors: number;
  /** The same, by kind as wrk counts them. */
  readonly errorKinds: WrkErrors;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** The proxy process tree's largest RSS during the run; null for `direct` (no proxy). */
  readonly maxRssKiB: number | null;
  /** CPU seconds the proxy used during the run; null for `direct`. */
  readonly cpuSeconds: number | null;
}

export interface Row extends Measurement {
  /** rps / haproxy's rps in the same scenario (null: haproxy not measured). */
  readonly vsHaproxy: number | null;
  /** rps / direct's rps in the same scenario (null: direct not measured). */
  readonly vsDirect: number | null;
  /** Requests served per CPU-second of the proxy (null for direct or no CPU used). */
  readonly rpsPerCpuSecond: number | null;
}

export interface TargetInfo {
  readonly target: TargetName;
  /** The command that ran it (empty for direct). */
  readonly command: string;
  readonly idleRssKiB: number | null;
  /** What the pre-run check saw (balancing, X-Forwarded-For), one sentence per finding. */
  readonly checks: readonly string[];
}

export interface Skipped {
  readonly target: TargetName;
  readonly reason: string;
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memMiB: number;
  readonly kernel: string;
  /** 1-minute load average when the run started and when it ended: others' load skews figures. */
  readonly loadAvgStart: number;
  readonly loadAvgEnd: number;
  readonly node: string;
  readonly haproxy: string;
  readonly nginx: string;
  readonly wrk: string;
  readonly commit: string;
}

export interface ThroughputReport {
  readonly kind: "throughput";
  readonly date: string;
  readonly command: string;
  readonly machine: Machine;
  readonly plan: RunPlan;
  readonly targets: readonly TargetInfo[];
  readonly skipped: readonly Skipped[];
  readonly rows: readonly Row[];
}

function ratio(a: number, b: number | undefined): number | null {
  return b === undefined || b <= 0 ? null : a / b;
}

/** Adds the ratios: each measurement against haproxy and direct in the same scenario. */
export function withRatios(ms: readonly Measurement[]): Row[] {
  const rpsOf = (target: TargetName, scenario: string) =>
    ms.find((m) => m.target === target && m.scenario === scenario)?.rps;
  return ms.map((m) => ({
    ...m,
    vsHaproxy: ratio(m.rps, rpsOf("haproxy", m.scenario)),
    vsDirect: ratio(m.rps, rpsOf("direct", m.scenario)),
    rpsPerCpuSecond: m.cpuSeconds === null || m.cpuSeconds <= 0 ? null : m.requests / m.cpuSeconds,
  }));
}

const dash = "-";
const fixed = (v: number | null, digits: number) => (v === null ? dash : v.toFixed(digits));
const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const mib = (kib: number | null) => (kib === null ? dash : (kib / 1024).toFixed(1));
const thousands = (v: number | null) => (v === null ? dash : Math.round(v).toLocaleString("en-US"));

export const TABLE_COLUMNS = [
  "scenario",
  "target",
  "req/s",
  "x haproxy",
  "x direct",
  "p50 ms",
  "p99 ms",
  "errors",
  "max RSS MiB",
  "CPU s",
  "req/CPU-s",
] as const;

function cells(r: Row): string[] {
  return [
    r.scenario,
    r.target,
    thousands(r.rps),
    fixed(r.vsHaproxy, 2),
    fixed(r.vsDirect, 2),
    ms(r.latencyMs.p50),
    ms(r.latencyMs.p99),
    String(r.errors),
    mib(r.maxRssKiB),
    fixed(r.cpuSeconds, 2),
    thousands(r.rpsPerCpuSecond),
  ];
}

/** Columns aligned with spaces: text left, numbers right. */
export function renderTable(rows: readonly Row[]): string {
  const body = rows.map(cells);
  const all = [[...TABLE_COLUMNS], ...body];
  const widths = TABLE_COLUMNS.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) =>
    r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const out: string[] = [line(TABLE_COLUMNS)];
  let last = "";
  for (const [i, r] of body.entries()) {
    if (rows[i]!.scenario !== last && last !== "") out.push("");
    last = rows[i]!.scenario;
    out.push(line(r));
  }
  return `${out.join("\n")}\n`;
}

/** The whole report for a terminal: table, then what the reader must know to trust it. */
export function renderReport(rep: ThroughputReport): string {
  const m = rep.machine;
  const lines = [
    renderTable(rep.rows),
    `${rep.date}  ${m.cpu}, ${m.cores} cores, load ${m.loadAvgStart.toFixed(2)} -> ${m.loadAvgEnd.toFixed(2)}; ` +
      `wrk ${rep.plan.threads} thread, ${rep.plan.durationS} s per run; proxies: one process, one thread`,
  ];
  for (const t of rep.targets) {
    const idle = t.idleRssKiB === null ? "" : `; idle RSS ${mib(t.idleRssKiB)} MiB`;
    lines.push(`${t.target}: ${t.checks.join("; ")}${idle}`);
  }
  for (const s of rep.skipped) lines.push(`skipped ${s.target}: ${s.reason}`);
  return `${lines.join("\n")}\n`;
}
