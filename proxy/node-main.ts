/**
 * Runs a proxy node as a process, the way HAProxy runs: foreground (-db/-d) or daemon (-D or
 * `daemon`), pid file, privileges dropped after binding, signals (TERM/INT stop at once,
 * USR1 soft stop), -sf/-st to replace an older process, and -W master-worker where the
 * master keeps the listening sockets (node:cluster with its primary owning the handles) and
 * reloads the worker on SIGUSR2 without closing them.
 */
import { spawn } from "node:child_process";
import cluster from "node:cluster";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import type { ConfigModel, ConfigWarning } from "./config/model.js";
import { FulcrumError } from "./errors.js";
import { type NodeOptions, ProxyNode } from "./node.js";
import { formatNotice, notice } from "./notice.js";
import { RuntimeApi } from "./runtime-api.js";

export interface RunOptions {
  file: string[];
  db?: boolean;
  debug?: boolean;
  daemon?: boolean;
  masterWorker?: boolean;
  pidfile?: string;
  local?: string;
  sf?: string[];
  st?: string[];
  quiet?: boolean;
  verbose?: boolean;
}

/** Set in the environment of a process that is already the detached daemon. */
const DAEMON_ENV = "FULCRUM_DAEMONIZED";
/** Readiness line a detached child writes on its stdout pipe before the parent exits. */
const READY = "fulcrum-ready";

/** Extra hooks for what runs on top of a node (the HA pair). */
export interface NodeHooks {
  /** Options for the node before it is built (shared session tables, kept frontends). */
  prepare?(model: ConfigModel): Partial<NodeOptions>;
  /** Decides when to bind; default: bind at once. Returns a stop function. */
  start?(
    node: ProxyNode,
    opts: RunOptions,
    api: RuntimeApi,
  ): Promise<{ stop(graceful: boolean): Promise<void> }>;
}

let hooks: NodeHooks = {};
export function setNodeHooks(h: NodeHooks): void {
  hooks = h;
}

export async function runNode(
  model: ConfigModel,
  warnings: readonly ConfigWarning[],
  opts: RunOptions,
): Promise<void> {
  const foreground = opts.db === true || opts.debug === true;
  const daemon = !foreground && (opts.daemon === true || model.global.daemon);
  // Printed once: not again by the re-executed daemon nor by -W workers.
  if (!process.env.FULCRUM_WORKER && process.env[DAEMON_ENV] !== "1") {
    if (!opts.quiet) for (const w of warnings) notice("WARNING", `${w.loc.file}:${w.loc.line}: ${w.message}`);
  }
  if (daemon && process.env[DAEMON_ENV] !== "1") {
    await detach();
    return;
  }
  if (opts.masterWorker && cluster.isPrimary) {
    await runMaster(opts, opts.pidfile ?? model.global.pidfile);
    return;
  }
  await runWorker(model, opts);
}

/** Starts this same command again, detached, and exits once it reports ready (or failed). */
async function detach(): Promise<void> {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, [DAEMON_ENV]: "1" },
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  const result = await new Promise<"ready" | "exited">((resolve) => {
    const check = () => {
      if (out.includes(READY)) resolve("ready");
    };
    child.stdout.on("data", check);
    child.once("exit", () => resolve("exited"));
  });
  if (result !== "ready") {
    process.stderr.write(err);
    throw new FulcrumError("FUL_RUNTIME", "the daemon did not start (see the messages above)");
  }
  // Messages printed before readiness (warnings) belong to the user's terminal.
  process.stderr.write(err);
  child.stdout.destroy();
  child.stderr.destroy();
  child.unref();
}

/**
 * A daemon's stdout and stderr are pipes to the parent that started it, which exits once
 * the daemon is ready: later writes (server DOWN notices) would fail with EPIPE. As HAProxy
 * goes quiet once detached, they are dropped from then on.
 */
function releaseStdio(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", () => undefined);
    stream.write = ((_chunk: unknown, enc?: unknown, cb?: unknown) => {
      const done = typeof enc === "function" ? enc : cb;
      if (typeof done === "function") queueMicrotask(() => (done as () => void)());
      return true;
    }) as typeof stream.write;
  }
}

function writePidfile(path: string | undefined, pid: number): void {
  if (!path) return;
  try {
    writeFileSync(path, `${pid}\n`);
  } catch (e) {
    throw new FulcrumError("FUL_RUNTIME", `cannot write pid file ${path}: ${(e as Error).message}`);
  }
}

function readIfExists(path: string | undefined): string | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function restorePidfile(path: string | undefined, previous: string | undefined): void {
  if (!path) return;
  try {
    if (previous === undefined) rmSync(path, { force: true });
    else writeFileSync(path, previous);
  } catch {
    // the start already failed with a clearer error; a pid file left behind is secondary
  }
}

function signalOld(pids: readonly string[] | undefined, signal: NodeJS.Signals): void {
  for (const p of pids ?? []) {
    const pid = Number(p);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
}

/** Binds, retrying while older processes (-sf/-st) release the ports. */
async function bindWithRetry(node: ProxyNode, waitForOld: boolean): Promise<void> {
  const deadline = Date.now() + (waitForOld ? 5000 : 0);
  for (;;) {
    try {
      await node.bindFrontends();
      return;
    } catch (err) {
      if (
        !waitForOld ||
        Date.now() > deadline ||
        !(err instanceof FulcrumError) ||
        !/already in use/.test(err.message)
      )
        throw err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

function dropPrivileges(model: ConfigModel): void {
  const g = model.global;
  if (typeof process.setgid === "function") {
    const gid = g.group ?? g.gid;
    if (gid !== undefined) process.setgid(gid);
  }
  if (typeof process.setuid === "function") {
    const uid = g.user ?? g.uid;
    if (uid !== undefined) process.setuid(uid);
  }
}

async function runWorker(model: ConfigModel, opts: RunOptions): Promise<void> {
  const debug = opts.debug
    ? (l: string) => process.stderr.write(formatNotice("DEBUG", process.pid, l))
    : undefined;
  const node = new ProxyNode(model, {
    ...(debug ? { debug } : {}),
    notice: (l, level) => notice(level, l),
    ...(hooks.prepare?.(model) ?? {}),
  });
  const replacing = (opts.sf?.length ?? 0) + (opts.st?.length ?? 0) > 0;
  // Like HAProxy: ask older processes to release their listeners before we bind.
  if (replacing) {
    signalOld(opts.sf, "SIGTTOU");
    signalOld(opts.st, "SIGTTOU");
  }
  node.startChecks();
  const api = new RuntimeApi(node);
  let stopper: { stop(graceful: boolean): Promise<void> };
  // The pid file exists before any port accepts a connection (whoever sees the service up
  // can read it). If binding fails, the file gets back what it held (a -sf reload that
  // fails leaves the old process's pid in place), or goes away.
  const pidfile = process.env.FULCRUM_WORKER ? undefined : (opts.pidfile ?? model.global.pidfile);
  const previousPid = readIfExists(pidfile);
  writePidfile(pidfile, process.pid);
  try {
    await api.listen(model.global.statsSockets);
    if (hooks.start) {
      await node.bindKept();
      stopper = await hooks.start(node, opts, api);
    } else {
      await bindWithRetry(node, replacing);
      stopper = { stop: (graceful) => (graceful ? node.softStop() : node.stop()) };
    }
  } catch (err) {
    if (replacing) {
      signalOld(opts.sf, "SIGTTIN");
      signalOld(opts.st, "SIGTTIN");
    }
    await api.close();
    await node.stop();
    restorePidfile(pidfile, previousPid);
    throw err;
  }
  signalOld(opts.sf, "SIGUSR1");
  signalOld(opts.st, "SIGTERM");
  dropPrivileges(model);
  let stopping = false;
  const stop = (graceful: boolean) => {
    if (stopping) {
      if (!graceful) process.exit(0);
      return;
    }
    stopping = true;
    void Promise.all([api.close(), stopper.stop(graceful)]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", () => stop(false));
  process.on("SIGINT", () => stop(false));
  process.on("SIGUSR1", () => stop(true));
  // SIGTTOU: release the listeners (a new process takes them); SIGTTIN: take them back.
  process.on("SIGTTOU", () => void node.unbindFrontends());
  process.on("SIGTTIN", () => void node.bindFrontends().catch(() => undefined));
  if (process.env[DAEMON_ENV] === "1") {
    // Under -W the master reports readiness; a worker only lets go of the parent's pipes.
    if (!process.env.FULCRUM_WORKER) process.stdout.write(`${READY}\n`);
    releaseStdio();
  }
  if (process.send) process.send({ type: "ready" });
}

/**
 * -W: the master forks a worker through node:cluster, whose primary owns the listening
 * sockets (SCHED_NONE: workers accept themselves, the primary only holds the handles). On
 * SIGUSR2 it reloads: the configuration is checked again, a new worker starts on the same
 * sockets, and the old one soft-stops once the new one is ready.
 */
async function runMaster(_opts: RunOptions, pidfile: string | undefined): Promise<void> {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  writePidfile(pidfile, process.pid);
  let current: ReturnType<typeof cluster.fork> | null = null;
  const fork = () =>
    new Promise<ReturnType<typeof cluster.fork>>((resolve, reject) => {
      const w = cluster.fork({ FULCRUM_WORKER: "1" });
      const onExit = (code: number) =>
        reject(new FulcrumError("FUL_RUNTIME", `worker exited with code ${code} before it was ready`));
      w.once("exit", onExit);
      w.on("message", (m: { type?: string }) => {
        if (m?.type === "ready") {
          w.removeListener("exit", onExit);
          resolve(w);
        }
      });
    });
  current = await fork();
  notice("NOTICE", `New worker (${current.process.pid}) forked`);
  if (process.env[DAEMON_ENV] === "1") {
    process.stdout.write(`${READY}\n`);
    releaseStdio();
  }
  let stopping = false;
  const watch = (w: ReturnType<typeof cluster.fork>) =>
    w.once("exit", (code) => {
      if (w === current && !stopping) {
        notice("ALERT", `Current worker (${w.process.pid}) exited with code ${code}`);
        process.exit(1);
      }
    });
  watch(current);
  process.on("SIGUSR2", () => {
    const old = current;
    notice("NOTICE", "Reexecuting Master process");
    fork().then(
      (w) => {
        current = w;
        watch(w);
        notice("NOTICE", `New worker (${w.process.pid}) forked`);
        old?.process.kill("SIGUSR1");
      },
      (err: Error) => notice("ALERT", `reload failed, the current worker keeps running: ${err.message}`),
    );
  });
  const stopAll = (sig: NodeJS.Signals) => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(sig);
    cluster.disconnect(() => {
      if (pidfile) rmSync(pidfile, { force: true });
      process.exit(0);
    });
  };
  process.on("SIGTERM", () => stopAll("SIGTERM"));
  process.on("SIGINT", () => stopAll("SIGTERM"));
  process.on("SIGUSR1", () => stopAll("SIGUSR1"));
}
