/**
 * The throughput run: two upstreams, every target in front of them, the same wrk load on
 * each in turn, scenario by scenario (all targets on small-c50, then all on small-c256, ...)
 * so a change in the machine's background load spreads over every target instead of
 * landing on one. Everything runs under a temp folder and is stopped by pid at the end.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { httpRequest } from "../lab/http.js";
import { requireProgram } from "../lab/nodes.js";
import { freePorts } from "../lab/ports.js";
import { FulcrumError } from "../proxy/errors.js";
import { type CheckSample, checkFindings } from "./checks.js";
import { haproxyCfg, nginxProxyConf, type ServerAddr } from "./configs.js";
import { loadAvg1, machineFacts } from "./machine.js";
import { BODIES, BODY_KINDS, plannedSeconds, type RunPlan, runPlan, type TargetName } from "./plan.js";
import { type Service, startService, stopAll, tail, waitUntil } from "./procs.js";
import { ProcSampler, type ProcUsage, processTree, treeRssKiB } from "./procstat.js";
import {
  type Measurement,
  type Skipped,
  type TargetInfo,
  type ThroughputReport,
  withRatios,
} from "./report.js";
import { answers, startNginx, startUpstreams } from "./upstreams.js";
import { runWrk, totalErrors, WRK_SCRIPT, type WrkErrors, type WrkResult, wrkArgs } from "./wrk.js";

export interface ThroughputOptions {
  readonly targets: readonly TargetName[];
  readonly quick: boolean;
  /** The project folder (dist/cli/main.js for the fulcrum target, bench/results). */
  readonly root: string;
  /** How the run was asked for, kept in the report. */
  readonly command: string;
  /** One line of progress (stderr). */
  readonly progress: (line: string) => void;
}

interface RunningTarget {
  readonly target: TargetName;
  readonly port: number;
  /** undefined for direct: nothing between wrk and the upstream. */
  readonly service: Service | undefined;
}

interface LaunchContext {
  readonly dir: string;
  readonly port: number;
  readonly servers: readonly ServerAddr[];
  readonly root: string;
}

type Launcher = (c: LaunchContext) => Service | undefined;

function writeConfig(dir: string, name: string, text: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** How each target is started; `direct` starts nothing (wrk talks to upstream a). */
const LAUNCHERS: Readonly<Record<TargetName, Launcher>> = {
  direct: () => undefined,
  haproxy: (c) => {
    const cfg = writeConfig(join(c.dir, "haproxy"), "haproxy.cfg", haproxyCfg(c));
    return startService("haproxy", "haproxy", ["-db", "-f", cfg]);
  },
  nginx: (c) => {
    const d = join(c.dir, "nginx");
    return startNginx("nginx", d, nginxProxyConf({ ...c, dir: d }));
  },
  fulcrum: (c) => {
    const main = join(c.root, "dist", "cli", "main.js");
    if (!existsSync(main)) {
      throw new FulcrumError("FUL_RUNTIME", `${main} is missing: run \`npm run build\` first`);
    }
    const cfg = writeConfig(join(c.dir, "fulcrum"), "fulcrum.cfg", haproxyCfg(c));
    return startService("fulcrum", process.execPath, [main, "proxy", "-db", "-f", cfg]);
  },
};

const PROGRAMS: Readonly<Record<TargetName, readonly [string, string][]>> = {
  direct: [],
  haproxy: [["haproxy", "haproxy"]],
  nginx: [],
  fulcrum: [],
};

/** Starts one target and waits until it answers; throws (with its output) when it cannot. */
async function startTarget(
  target: TargetName,
  c: LaunchContext,
  services: Service[],
): Promise<RunningTarget> {
  for (const [prog, pkg] of PROGRAMS[target]) requireProgram(prog, pkg);
  const service = LAUNCHERS[target](c);
  if (service === undefined) return { target, port: c.servers[0]!.port, service };
  services.push(service);
  try {
    await waitUntil(() => answers(c.port), {
      timeoutMs: 15_000,
      what: `answer from ${target} on port ${c.port}`,
      service,
    });
  } catch (err) {
    await service.stop();
    throw err;
  }
  return { target, port: c.port, service };
}

/** Six small requests and one 16 KiB request, each on a fresh connection. */
async function sampleTarget(t: RunningTarget): Promise<string[]> {
  const small: CheckSample[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await httpRequest({ port: t.port, path: BODIES.small.path, timeoutMs: 2000 });
    if (!r.ok) {
      small.push({ status: 0, upstream: undefined, forwardedFor: undefined });
      continue;
    }
    const h = (name: string) => {
      const v = r.headers[name];
      return Array.isArray(v) ? v.join(",") : v;
    };
    small.push({ status: r.status, upstream: h("x-upstream"), forwardedFor: h("x-seen-forwarded-for") });
  }
  const big = await httpRequest({ port: t.port, path: BODIES["16k"].path, timeoutMs: 2000 });
  return checkFindings({
    target: t.target,
    small,
    bigBytes: big.ok ? Buffer.byteLength(big.body) : 0,
    bigExpected: BODIES["16k"].text.length,
  });
}

async function measure(
  t: RunningTarget,
  plan: RunPlan,
  script: string,
  body: keyof typeof BODIES,
  connections: number,
  durationS: number,
): Promise<{ wrk: WrkResult; usage: ProcUsage | undefined }> {
  const args = wrkArgs({
    url: `http://127.0.0.1:${t.port}${BODIES[body].path}`,
    connections,
    threads: plan.threads,
    durationS,
    requestTimeoutS: plan.requestTimeoutS,
    script,
  });
  const sampler = t.service === undefined ? undefined : new ProcSampler(t.service.pid);
  sampler?.start();
  try {
    const wrk = await runWrk(args, (durationS + plan.requestTimeoutS + 15) * 1000);
    return { wrk, usage: sampler?.stop() };
  } catch (err) {
    sampler?.stop();
    throw err;
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** `timeout 49, read 2`: the kinds wrk counted, zeros left out. */
function errorText(e: WrkErrors): string {
  return Object.entries(e)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
}

export async function runThroughput(o: ThroughputOptions): Promise<ThroughputReport> {
  requireProgram("wrk", "wrk");
  requireProgram("nginx", "nginx");
  const plan = runPlan(o.quick);
  const loadStart = loadAvg1();
  const date = new Date().toISOString();
  const dir = mkdtempSync(join(tmpdir(), "fulcrum-bench-"));
  const services: Service[] = [];
  const skipped: Skipped[] = [];
  const infos: TargetInfo[] = [];
  const measurements: Measurement[] = [];
  try {
    const script = join(dir, "report.lua");
    writeFileSync(script, WRK_SCRIPT);
    const ports = await freePorts(2 + o.targets.length);
    const servers = await startUpstreams(dir, [ports[0]!, ports[1]!], services);
    o.progress(`upstreams a:${servers[0]!.port} b:${servers[1]!.port} (nginx) answer`);

    const running: RunningTarget[] = [];
    for (const [i, target] of o.targets.entries()) {
      const port = ports[2 + i]!;
      try {
        const t = await startTarget(target, { dir, port, servers, root: o.root }, services);
        const checks = await sampleTarget(t);
        const idle = t.service === undefined ? null : treeRssKiB(processTree(t.service.pid));
        infos.push({ target, command: t.service?.command ?? "", idleRssKiB: idle, checks });
        running.push(t);
        o.progress(`${target} on port ${t.port}: ${checks.join("; ")}`);
      } catch (err) {
        const reason = (err as Error).message;
        skipped.push({ target, reason });
        o.progress(`skipping ${target}: ${reason}`);
      }
    }
    if (running.length === 0) throw new FulcrumError("FUL_RUNTIME", "no target could be started");
    o.progress(`about ${plannedSeconds(plan, running.length)} s of load ahead`);

    for (const t of running) {
      for (const body of BODY_KINDS) await measure(t, plan, script, body, 50, plan.warmupS);
    }
    const total = plan.scenarios.length * running.length;
    let n = 0;
    for (const sc of plan.scenarios) {
      for (const t of running) {
        n++;
        if (t.service !== undefined && t.service.ended() !== undefined) {
          throw new FulcrumError("FUL_RUNTIME", `${t.target} died during the run: ${tail(t.service)}`);
        }
        const { wrk, usage } = await measure(t, plan, script, sc.body, sc.connections, plan.durationS);
        const m: Measurement = {
          target: t.target,
          scenario: sc.id,
          body: sc.body,
          connections: sc.connections,
          requests: wrk.requests,
          rps: wrk.rps,
          errors: totalErrors(wrk.errors),
          errorKinds: wrk.errors,
          latencyMs: { p50: wrk.latencyMs.p50, p99: wrk.latencyMs.p99, max: wrk.latencyMs.max },
          maxRssKiB: usage?.maxRssKiB ?? null,
          cpuSeconds: usage?.cpuSeconds ?? null,
        };
        measurements.push(m);
        o.progress(
          `[${n}/${total}] ${sc.id} ${t.target}: ${fmt(m.rps)} req/s, p99 ${m.latencyMs.p99.toFixed(2)} ms` +
            `${m.errors > 0 ? `, ${m.errors} errors (${errorText(wrk.errors)})` : ""}`,
        );
      }
    }
  } finally {
    await stopAll(services);
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    kind: "throughput",
    date,
    command: o.command,
    machine: machineFacts(o.root, loadStart),
    plan,
    targets: infos,
    skipped,
    rows: withRatios(measurements),
  };
}
