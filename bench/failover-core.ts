/**
 * The pure parts of bench/failover: flags, the pair's configuration, who listens on the
 * service port (from /proc/net/tcp and the nodes' fd links), the figures over the
 * repetitions, the verdict against issue 6's targets and the printed table.
 */
import { UsageError } from "../proxy/errors.js";

export const FAILOVER_SIGNALS = ["KILL", "USR1"] as const;
export type FailoverSignal = (typeof FAILOVER_SIGNALS)[number];
export const DEFAULT_REPS = 20;
export const MAX_REPS = 200;

export function parseFailoverOptions(
  signal: string | undefined,
  reps: string | undefined,
): { signal: FailoverSignal; reps: number } {
  const sig = (signal ?? "KILL").toUpperCase().replace(/^SIG/, "");
  if (!(FAILOVER_SIGNALS as readonly string[]).includes(sig)) {
    throw new UsageError(`--signal ${signal}: choose KILL (crash) or USR1 (graceful hand-over)`);
  }
  const n = reps === undefined ? DEFAULT_REPS : Number(reps);
  if (!Number.isInteger(n) || n < 1 || n > MAX_REPS) {
    throw new UsageError(`--reps ${reps}: give a whole number from 1 to ${MAX_REPS}`);
  }
  return { signal: sig as FailoverSignal, reps: n };
}

/** The HA timing the pair runs with (issue 2's defaults, written out). */
export const PAIR_HA = { advertInterval: "100ms", leaseTime: "300ms" } as const;
export const PAIR_PRIORITIES = { lb1: 150, lb2: 100 } as const;
export type NodeName = keyof typeof PAIR_PRIORITIES;
export const NODE_NAMES = Object.keys(PAIR_PRIORITIES) as NodeName[];

export interface PairPlan {
  /** `ha` section name: one per repetition, so no lease outlives its repetition. */
  readonly haName: string;
  readonly redisPort: number;
  readonly servicePort: number;
  readonly peerPorts: Readonly<Record<NodeName, number>>;
  readonly servers: readonly { readonly name: string; readonly port: number }[];
}

/** One file for both nodes (`-L lb1` / `-L lb2` says which one), as in production. */
export function pairCfg(p: PairPlan): string {
  return [
    "# fulcrum bench failover: the HA pair (the same file on lb1 and lb2)",
    "global",
    "    maxconn 4096",
    "",
    "defaults",
    "    mode http",
    "    timeout connect 1s",
    "    timeout client 10s",
    "    timeout server 10s",
    "",
    "listen service",
    `    bind 127.0.0.1:${p.servicePort}`,
    "    balance roundrobin",
    "    option forwardfor",
    ...p.servers.map((s) => `    server ${s.name} 127.0.0.1:${s.port}`),
    "",
    `ha ${p.haName}`,
    `    redis redis://127.0.0.1:${p.redisPort}`,
    ...NODE_NAMES.map((n) => `    peer ${n} 127.0.0.1:${p.peerPorts[n]} priority ${PAIR_PRIORITIES[n]}`),
    `    advert-interval ${PAIR_HA.advertInterval}`,
    `    lease-time ${PAIR_HA.leaseTime}`,
    "    preempt off",
    "    takeover bind",
    "    fence kill",
    "",
  ].join("\n");
}

/**
 * Inodes of the sockets listening on `port`, from /proc/net/tcp or tcp6 text: state 0A is
 * LISTEN, the local address is HEXIP:HEXPORT, the inode is the tenth column.
 */
export function listenInodes(procNetTcp: string, port: number): number[] {
  const out: number[] = [];
  for (const line of procNetTcp.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== "0A") continue;
    const p = Number.parseInt(f[1]!.split(":")[1] ?? "", 16);
    const inode = Number(f[9]);
    if (p === port && Number.isSafeInteger(inode) && inode > 0) out.push(inode);
  }
  return out;
}

/** `socket:[12345]` (a /proc/PID/fd link) -> 12345. */
export function socketInode(link: string): number | undefined {
  const m = /^socket:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : undefined;
}

/** How the standby says it is ready in its log: the election's transition line into BACKUP. */
export const STANDBY_LOG = /\bBACKUP\b/;

/** What `fulcrum proxy` prints when a node binds at start instead of waiting for the election. */
export const BIND_CONFLICT_LOG = /address already in use|EADDRINUSE/i;

/** The line a node logs once it listens as MASTER, with the wall-clock ms it began binding. */
const MASTER_SINCE_LOG = /serving as MASTER from (\d{12,})/g;

/** The first "serving as MASTER from T" in a node's output with T >= notBefore (ms). */
export function masterSince(output: string, notBefore: number): number | undefined {
  for (const m of output.matchAll(MASTER_SINCE_LOG)) {
    const t = Number(m[1]);
    if (t >= notBefore) return t;
  }
  return undefined;
}

/** Time from `t` to the first successful answer after it (client clock), or null. */
export function firstAnswerAfter(events: readonly { t: number; ok: boolean }[], t: number): number | null {
  let best: number | null = null;
  for (const e of events) if (e.ok && e.t > t && (best === null || e.t < best)) best = e.t;
  return best === null ? null : best - t;
}

export interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly max: number;
  readonly min: number;
}

/** Median (mean of the two middle values for an even count), max and min; null when empty. */
export function summarise(values: readonly number[]): Summary | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const p50 = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { n: s.length, p50, max: s[s.length - 1]!, min: s[0]! };
}

export interface RepResult {
  readonly rep: number;
  readonly signalled: NodeName;
  /** The node that listened on the service port afterwards (null: none within the deadline). */
  readonly newActive: NodeName | null;
  /** Signal -> the standby listens on the service port. */
  readonly takeoverMs: number | null;
  /** Where the takeover time comes from: the new MASTER's log line, or polling /proc. */
  readonly takeoverFrom: "log" | "listen";
  /** From the takeover to the client's first successful answer (null: none). */
  readonly firstAnswerMs: number | null;
  /** Longest time without a successful answer over the whole client run. */
  readonly gapMs: number;
  readonly requests: number;
  readonly failed: number;
  /** Failed requests that had reached a node (all but refused connections). */
  readonly failedSent: number;
  readonly failedByKind: Record<string, number>;
}

/**
 * A refused connection never carried the request: the client may simply retry it. Every
 * other failure (reset, timeout, an error status) hit a request the client had sent.
 */
export const NOT_SENT_KINDS: readonly string[] = ["refused"];

export function failedSent(byKind: Readonly<Record<string, number>>): number {
  return Object.entries(byKind).reduce((a, [k, n]) => (NOT_SENT_KINDS.includes(k) ? a : a + n), 0);
}

/** Issue 6's targets for each signal (`failedSent`: how many sent requests may fail; null: any). */
export const TARGETS: Readonly<
  Record<FailoverSignal, { p50: number; max: number; failedSent: number | null }>
> = {
  KILL: { p50: 150, max: 250, failedSent: null },
  USR1: { p50: 100, max: 100, failedSent: 0 },
};

export function failoverVerdict(signal: FailoverSignal, reps: readonly RepResult[]): string {
  const gaps = summarise(reps.map((r) => r.gapMs));
  if (gaps === null) return "no repetition finished";
  const t = TARGETS[signal];
  const sent = reps.reduce((a, r) => a + r.failedSent, 0);
  const misses: string[] = [];
  if (gaps.p50 >= t.p50) misses.push(`p50 ${Math.round(gaps.p50)} ms >= ${t.p50} ms`);
  if (gaps.max >= t.max) misses.push(`max ${Math.round(gaps.max)} ms >= ${t.max} ms`);
  if (t.failedSent !== null && sent > t.failedSent) misses.push(`${sent} sent requests failed`);
  if (reps.some((r) => r.newActive === null)) misses.push("a standby never took over");
  const goal = `p50 < ${t.p50} ms, max < ${t.max} ms${t.failedSent === null ? "" : ", no sent request failed"}`;
  return misses.length === 0
    ? `meets issue 6's target (${goal})`
    : `misses issue 6's target (${goal}): ${misses.join(", ")}`;
}

const r0 = (v: number | null) => (v === null ? "-" : String(Math.round(v)));

/** The per-repetition table and the summary lines. */
export function renderRepTable(reps: readonly RepResult[]): string {
  const head = [
    "rep",
    "signalled",
    "new active",
    "takeover ms",
    "1st answer ms",
    "gap ms",
    "requests",
    "failed",
    "of them sent",
  ];
  const rows = reps.map((r) => [
    String(r.rep),
    r.signalled,
    r.newActive ?? "none",
    r0(r.takeoverMs),
    r0(r.firstAnswerMs),
    r0(r.gapMs),
    String(r.requests),
    String(r.failed),
    String(r.failedSent),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) => r.map((c, i) => c.padStart(widths[i]!)).join("  ");
  return `${[line(head), ...rows.map(line)].join("\n")}\n`;
}
