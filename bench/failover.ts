/**
 * bench/failover: issue 6's failover figure. Each repetition starts a fresh HA pair
 * (`fulcrum proxy -db -f pair.cfg -L lb1` / `-L lb2`) on one real redis-server, in front of
 * the two nginx upstreams; a client asks the service every 10 ms on a fresh connection; the
 * active node gets SIGKILL (a crash) or SIGUSR1 (graceful hand-over); the figure is the
 * longest time the client went without a successful answer. Over N repetitions: p50 and max.
 *
 * Who is active is read from the outside: the node whose process holds the listening socket
 * of the service port (/proc/net/tcp + /proc/PID/fd), since with `takeover bind` only the
 * MASTER listens. The standby is ready when its log says BACKUP.
 *
 * Run: `fulcrum bench --failover [--signal KILL|USR1] [--reps N] [--json]`
 *  or  `node dist/bench/failover.js [--signal KILL|USR1] [--reps N] [--json]`.
 */
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { startLoad } from "../lab/drills/load.js";
import { failuresByKind, longestGap } from "../lab/drills/stats.js";
import { requireProgram } from "../lab/nodes.js";
import { freePorts } from "../lab/ports.js";
import { projectRoot } from "../lab/state.js";
import { FulcrumError } from "../proxy/errors.js";
import {
  BIND_CONFLICT_LOG,
  type FailoverSignal,
  failedSent,
  failoverVerdict,
  firstAnswerAfter,
  listenInodes,
  masterSince,
  type NodeName,
  PAIR_HA,
  pairCfg,
  parseFailoverOptions,
  type RepResult,
  renderRepTable,
  STANDBY_LOG,
  type Summary,
  socketInode,
  summarise,
} from "./failover-core.js";
import { loadAvg1, machineFacts } from "./machine.js";
import { BODIES } from "./plan.js";
import { type Service, startService, stopAll, tail, waitUntil } from "./procs.js";
import type { Machine } from "./report.js";
import { startUpstreams } from "./upstreams.js";

export { parseFailoverOptions } from "./failover-core.js";

export interface FailoverOptions {
  readonly signal: FailoverSignal;
  readonly reps: number;
  readonly root: string;
  readonly command: string;
  readonly progress: (line: string) => void;
}

export interface FailoverReport {
  readonly kind: "failover";
  readonly date: string;
  readonly command: string;
  readonly machine: Machine;
  readonly signal: `SIG${FailoverSignal}`;
  readonly repsPlanned: number;
  readonly ha: typeof PAIR_HA;
  readonly clientIntervalMs: number;
  readonly reps: readonly RepResult[];
  readonly gapMs: Summary | null;
  readonly takeoverMs: Summary | null;
  /** Takeover -> first successful answer through the new MASTER. */
  readonly firstAnswerMs: Summary | null;
  readonly failedRequests: number;
  /** Of them, requests that had reached a node (not refused connections). */
  readonly failedSent: number;
  readonly verdict: string;
  /** Why the run stopped early (HA does not elect, a node died, ...). */
  readonly failure?: string;
}

const CLIENT_INTERVAL_MS = 10;
/** Successful answers the client must see before the signal, and after the takeover. */
const STEADY_ANSWERS = 20;
const ELECTION_DEADLINE_MS = 10_000;
const TAKEOVER_DEADLINE_MS = 5_000;

/** Thrown when the pair does not behave as an HA pair: the run stops with this message. */
class NotElecting extends FulcrumError {
  constructor(message: string) {
    super("FUL_RUNTIME", message);
  }
}

function readOr(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Which of the nodes holds the listening socket of `port` (undefined: none). */
export function listener(
  port: number,
  nodes: readonly { name: NodeName; service: Service }[],
): NodeName | undefined {
  const inodes = new Set([
    ...listenInodes(readOr("/proc/net/tcp"), port),
    ...listenInodes(readOr("/proc/net/tcp6"), port),
  ]);
  if (inodes.size === 0) return undefined;
  for (const n of nodes) {
    if (n.service.ended() !== undefined) continue;
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${n.service.pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link = "";
      try {
        link = readlinkSync(`/proc/${n.service.pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = socketInode(link);
      if (inode !== undefined && inodes.has(inode)) return n.name;
    }
  }
  return undefined;
}

/** The node failed in a way that says the HA driver is not there: explain it in one line. */
function notElectingReason(node: NodeName, s: Service): string {
  const why = tail(s, 2);
  if (BIND_CONFLICT_LOG.test(s.output())) {
    return (
      `HA does not elect in this build: ${node} bound the service port at start instead of waiting ` +
      `for the election (is the HA node driver wired into \`fulcrum proxy\`?): ${why}`
    );
  }
  return `HA pair did not come up: ${node} exited (${s.ended()}): ${why}`;
}

interface Pair {
  readonly nodes: readonly { name: NodeName; service: Service }[];
  readonly active: NodeName;
}

async function startPair(
  dir: string,
  rep: number,
  redisPort: number,
  servers: readonly { name: string; port: number }[],
  root: string,
  services: Service[],
): Promise<{ pair: Pair; servicePort: number }> {
  const [servicePort, p1, p2] = await freePorts(3);
  const cfg = join(dir, `pair-${rep}.cfg`);
  writeFileSync(
    cfg,
    pairCfg({
      haName: `bench_failover_${process.pid}_${rep}`,
      redisPort,
      servicePort: servicePort!,
      peerPorts: { lb1: p1!, lb2: p2! },
      servers,
    }),
  );
  const main = join(root, "dist", "cli", "main.js");
  const nodes: { name: NodeName; service: Service }[] = [];
  const start = (name: NodeName) => {
    const service = startService(name, process.execPath, [main, "proxy", "-db", "-f", cfg, "-L", name]);
    services.push(service);
    nodes.push({ name, service });
    return service;
  };
  // lb1 first, alone: it must become MASTER and listen.
  const lb1 = start("lb1");
  await waitUntil(
    () => {
      if (lb1.ended() !== undefined) throw new NotElecting(notElectingReason("lb1", lb1));
      return listener(servicePort!, nodes) === "lb1" ? true : undefined;
    },
    { timeoutMs: ELECTION_DEADLINE_MS, what: "lb1 listening on the service port (MASTER)", service: lb1 },
  ).catch((err) => {
    throw err instanceof NotElecting
      ? err
      : new NotElecting(`HA pair did not come up: ${(err as Error).message}`);
  });
  // then lb2: it must stay up without the port and say BACKUP.
  const lb2 = start("lb2");
  await waitUntil(
    () => {
      if (lb2.ended() !== undefined) throw new NotElecting(notElectingReason("lb2", lb2));
      if (lb1.ended() !== undefined) throw new NotElecting(notElectingReason("lb1", lb1));
      return STANDBY_LOG.test(lb2.output()) && listener(servicePort!, nodes) === "lb1" ? true : undefined;
    },
    { timeoutMs: ELECTION_DEADLINE_MS, what: "lb2 as BACKUP while lb1 serves" },
  ).catch((err) => {
    throw err instanceof NotElecting
      ? err
      : new NotElecting(
          `HA pair did not settle: ${(err as Error).message}; lb1 said: ${tail(lb1, 4)}; lb2 said: ${tail(lb2, 4)}`,
        );
  });
  return { pair: { nodes, active: "lb1" }, servicePort: servicePort! };
}

/** The client's clock starts before its first answer: the gap is counted from that answer. */
function firstOk(events: readonly { t: number; ok: boolean }[]): number {
  return events.find((e) => e.ok)?.t ?? 0;
}

async function oneRep(
  rep: number,
  o: FailoverOptions,
  ctx: { dir: string; redisPort: number; servers: readonly { name: string; port: number }[] },
): Promise<RepResult> {
  const services: Service[] = [];
  try {
    const { pair, servicePort } = await startPair(ctx.dir, rep, ctx.redisPort, ctx.servers, o.root, services);
    const active = pair.nodes.find((n) => n.name === pair.active)!;
    const standby = pair.nodes.find((n) => n.name !== pair.active)!;
    const load = startLoad({ port: servicePort, users: [], probePath: BODIES.small.path, maxMs: 30_000 });
    let takeoverMs: number | null = null;
    let newActive: NodeName | null = null;
    let wallSignal = 0;
    let tSignal = 0;
    try {
      const oks = (after: number) => load.events.filter((e) => e.ok && e.t > after).length;
      await waitUntil(() => (oks(0) >= STEADY_ANSWERS ? true : undefined), {
        timeoutMs: 5000,
        what: `${STEADY_ANSWERS} successful answers before the signal`,
        intervalMs: 5,
      });
      tSignal = load.mark(`SIG${o.signal} ${active.name}`);
      wallSignal = Date.now();
      active.service.signal(`SIG${o.signal}`);
      try {
        await waitUntil(() => (listener(servicePort, pair.nodes) === standby.name ? true : undefined), {
          timeoutMs: TAKEOVER_DEADLINE_MS,
          what: `${standby.name} listening on the service port`,
          intervalMs: 2,
        });
        takeoverMs = load.mark(`${standby.name} listens`) - tSignal;
        newActive = standby.name;
        const tTakeover = tSignal + takeoverMs;
        await waitUntil(() => (oks(tTakeover) >= STEADY_ANSWERS ? true : undefined), {
          timeoutMs: TAKEOVER_DEADLINE_MS,
          what: `${STEADY_ANSWERS} successful answers after the takeover`,
          intervalMs: 5,
        });
      } catch (err) {
        o.progress(`rep ${rep}: ${(err as Error).message}`);
      }
    } finally {
      await load.stop();
    }
    const failures = failuresByKind(load.events);
    // the node's own log says when it started binding (wall clock): exact, where polling lags.
    const since = newActive === null ? undefined : masterSince(standby.service.output(), wallSignal);
    const takeover = since === undefined ? takeoverMs : since - wallSignal;
    return {
      rep,
      signalled: active.name,
      newActive,
      takeoverMs: takeover,
      takeoverFrom: since === undefined ? "listen" : "log",
      firstAnswerMs: takeover === null ? null : firstAnswerAfter(load.events, tSignal + takeover),
      gapMs: longestGap(load.events, firstOk(load.events), load.now()).ms,
      requests: load.events.length,
      failed: Object.values(failures).reduce((a, b) => a + b, 0),
      failedSent: failedSent(failures),
      failedByKind: failures,
    };
  } finally {
    await stopAll(services);
  }
}

async function startRedis(dir: string, services: Service[]): Promise<number> {
  const [port] = await freePorts(1);
  const redis = startService("redis", "redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
  ]);
  services.push(redis);
  await waitUntil(() => (redis.output().includes("Ready to accept connections") ? true : undefined), {
    timeoutMs: 10_000,
    what: `redis-server ready on port ${port}`,
    service: redis,
  });
  return port!;
}

export async function runFailover(o: FailoverOptions): Promise<FailoverReport> {
  requireProgram("redis-server", "redis-server");
  requireProgram("nginx", "nginx");
  const loadStart = loadAvg1();
  const date = new Date().toISOString();
  const dir = mkdtempSync(join(tmpdir(), "fulcrum-bench-failover-"));
  const services: Service[] = [];
  const reps: RepResult[] = [];
  let failure: string | undefined;
  try {
    const redisPort = await startRedis(dir, services);
    const [pa, pb] = await freePorts(2);
    const servers = await startUpstreams(dir, [pa!, pb!], services);
    o.progress(
      `redis on ${redisPort}, upstreams a:${pa} b:${pb}; ${o.reps} x SIG${o.signal} of the active node`,
    );
    for (let rep = 1; rep <= o.reps; rep++) {
      try {
        const r = await oneRep(rep, o, { dir, redisPort, servers });
        reps.push(r);
        o.progress(
          `rep ${rep}/${o.reps}: ${r.signalled} -> ${r.newActive ?? "none"}, takeover ${
            r.takeoverMs === null ? "-" : Math.round(r.takeoverMs)
          } ms, gap ${Math.round(r.gapMs)} ms, ${r.failed} failed`,
        );
      } catch (err) {
        failure = (err as Error).message;
        o.progress(`stopping: ${failure}`);
        break;
      }
    }
  } finally {
    await stopAll(services);
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    kind: "failover",
    date,
    command: o.command,
    machine: machineFacts(o.root, loadStart),
    signal: `SIG${o.signal}`,
    repsPlanned: o.reps,
    ha: PAIR_HA,
    clientIntervalMs: CLIENT_INTERVAL_MS,
    reps,
    gapMs: summarise(reps.map((r) => r.gapMs)),
    takeoverMs: summarise(reps.flatMap((r) => (r.takeoverMs === null ? [] : [r.takeoverMs]))),
    firstAnswerMs: summarise(reps.flatMap((r) => (r.firstAnswerMs === null ? [] : [r.firstAnswerMs]))),
    failedRequests: reps.reduce((a, r) => a + r.failed, 0),
    failedSent: reps.reduce((a, r) => a + r.failedSent, 0),
    verdict: failure === undefined ? failoverVerdict(o.signal, reps) : `did not run: ${failure}`,
    ...(failure !== undefined ? { failure } : {}),
  };
}

const r0 = (s: Summary | null, k: "p50" | "max") => (s === null ? "-" : String(Math.round(s[k])));

export function renderFailover(r: FailoverReport): string {
  const lines = [
    r.reps.length > 0 ? renderRepTable(r.reps).trimEnd() : "(no repetition finished)",
    "",
    `${r.signal} of the active node, ${r.reps.length}/${r.repsPlanned} repetitions, client every ${r.clientIntervalMs} ms, ` +
      `advert-interval ${r.ha.advertInterval}, lease-time ${r.ha.leaseTime}`,
    `gap ms: p50 ${r0(r.gapMs, "p50")}, max ${r0(r.gapMs, "max")}; takeover ms: p50 ${r0(r.takeoverMs, "p50")}, ` +
      `max ${r0(r.takeoverMs, "max")}; takeover to 1st answer ms: p50 ${r0(r.firstAnswerMs, "p50")}, ` +
      `max ${r0(r.firstAnswerMs, "max")}`,
    `failed requests: ${r.failedRequests} (${r.failedSent} sent, the rest refused connections)`,
    r.verdict,
  ];
  return `${lines.join("\n")}\n`;
}

async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: { signal: { type: "string" }, reps: { type: "string" }, json: { type: "boolean" } },
  });
  const parsed = parseFailoverOptions(values.signal, values.reps);
  const root = projectRoot();
  const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);
  const report = await runFailover({
    ...parsed,
    root,
    command: ["node dist/bench/failover.js", ...argv].join(" "),
    progress,
  });
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderFailover(report));
  if (report.failure !== undefined) {
    progress("results not written: the run did not finish");
    process.exitCode = 1;
    return;
  }
  const { writeLatest } = await import("./results.js");
  progress(`results written to ${writeLatest(root, "failover", report, report.signal)}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`fulcrum bench: ${(err as Error).message}\n`);
    process.exitCode = (err as { code?: string }).code === "FUL_USAGE" ? 2 : 1;
  });
}
