/**
 * Test helpers shared by every suite: free ports, waiting for a condition with a deadline,
 * spawning the real CLI and real redis-server with cleanup registered at once.
 *
 * Cleanup: every helper that starts something registers its stop with vitest's
 * `onTestFinished` when called inside a test, or returns a handle the caller stops in
 * `afterAll`/`afterEach`.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = join(ROOT, "dist/cli/main.js");

/** Whether haproxy is installed here (the side-by-side comparisons run only then). */
export const HAVE_HAPROXY = (() => {
  try {
    execFileSync("haproxy", ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** The two programs the side-by-side tests run on one configuration. */
export type Program = "haproxy" | "fulcrum";

/** Both when haproxy is installed here, else fulcrum alone. */
export const PROGRAMS: readonly Program[] = HAVE_HAPROXY ? ["haproxy", "fulcrum"] : ["fulcrum"];

/** `haproxy -db -f CFG` or `fulcrum proxy -db -f CFG` (extra arguments after). */
export function spawnProgram(
  program: Program,
  cfg: string,
  extra: readonly string[] = [],
  env: { env?: NodeJS.ProcessEnv } = {},
): Proc {
  const args = ["-db", "-f", cfg, ...extra];
  return program === "haproxy" ? spawnProc("haproxy", args, env) : spawnCli(["proxy", ...args], env);
}

/**
 * Ports this process has handed out. The kernel may give the same port to two port-0 binds
 * a moment apart; two listeners of one test on the same port would then both bind it when
 * they set SO_REUSEPORT (haproxy does), and the kernel would share connections between them.
 */
const handedOut = new Set<number>();

/** A port that was free a moment ago (bind 0, read it back, close), never the same one twice. */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const srv: Server = createServer();
    await new Promise<void>((res, rej) => {
      srv.once("error", rej);
      srv.listen(0, host, () => res());
    });
    const addr = srv.address();
    await new Promise<void>((res) => srv.close(() => res()));
    if (addr === null || typeof addr === "string") throw new Error("no port");
    if (!handedOut.has(addr.port)) {
      handedOut.add(addr.port);
      return addr.port;
    }
  }
  throw new Error("the kernel gave back only ports already handed out");
}

/**
 * A free port below the kernel's ephemeral range, for a port bound long after it is chosen (an
 * HA standby binds the service port only when it becomes MASTER). freePort()'s ports come from
 * the ephemeral range, where every outgoing connection and port-0 bind of every test running
 * meanwhile picks its local port: one of them may take the port first (EADDRINUSE).
 */
export async function stablePort(host = "127.0.0.1"): Promise<number> {
  const low = 20_000;
  const high = await ephemeralLow();
  for (let i = 0; i < 200; i++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (handedOut.has(port)) continue;
    const srv: Server = createServer();
    const ok = await new Promise<boolean>((res) => {
      srv.once("error", () => res(false));
      srv.listen(port, host, () => res(true));
    });
    if (ok) {
      await new Promise<void>((res) => srv.close(() => res()));
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port between ${low} and ${high}`);
}

/** First port of the kernel's ephemeral range (32768 when unknown). */
async function ephemeralLow(): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const text = await readFile("/proc/sys/net/ipv4/ip_local_port_range", "utf8").catch(() => "");
  const low = Number(text.trim().split(/\s+/)[0]);
  return Number.isInteger(low) && low > 21_000 ? low : 32_768;
}

export interface WaitOptions {
  /** Give up after this many ms (default 5000). */
  timeout?: number;
  /** Poll every this many ms (default 10). */
  interval?: number;
  /** Named in the error when the deadline passes. */
  what?: string;
}

/** Polls `check` until it returns a truthy value (returned) or the deadline passes (throws). */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  opts: WaitOptions = {},
): Promise<NonNullable<T>> {
  const timeout = opts.timeout ?? 5000;
  const interval = opts.interval ?? 10;
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : "";
      throw new Error(`timed out after ${timeout} ms waiting for ${opts.what ?? "a condition"}${why}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** A temporary folder removed by the returned function. */
export function tempDir(prefix = "fulcrum-test-"): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface Proc {
  child: ChildProcess;
  pid: number;
  /** Everything written so far. */
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
  /** Sends a signal if still running. */
  kill: (signal?: NodeJS.Signals) => void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when gone. */
  stop: (graceMs?: number) => Promise<void>;
}

/** Spawns a command with output captured; the caller (or `track`) stops it. */
export function spawnProc(
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Proc {
  const child = spawn(cmd, args, {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  const exited = new Promise<number | string>((res) => {
    child.once("exit", (code, signal) => res(code ?? signal ?? -1));
    child.once("error", () => res(-1));
  });
  let ended = false;
  void exited.then(() => {
    ended = true;
  });
  const kill = (signal: NodeJS.Signals = "SIGTERM") => {
    if (!ended && child.pid !== undefined) {
      try {
        process.kill(child.pid, signal);
      } catch {
        // already gone
      }
    }
  };
  return {
    child,
    pid: child.pid ?? -1,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill,
    stop: async (graceMs = 3000) => {
      if (ended) return;
      kill("SIGCONT");
      kill("SIGTERM");
      const t = setTimeout(() => kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Runs the real `fulcrum` CLI (compiled) as users run it. */
export function spawnCli(
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Proc {
  return spawnProc(process.execPath, [CLI, ...args], opts);
}

/** Runs the CLI to completion and returns its exit code and output. */
export async function runCli(
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeout?: number } = {},
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const p = spawnCli(args, opts);
  const timer = setTimeout(() => p.kill("SIGKILL"), opts.timeout ?? 15_000);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

export interface RedisServer {
  port: number;
  url: string;
  proc: Proc;
  dir: string;
  stop: () => Promise<void>;
  /** Starts it again on the same port (after stop or a kill). */
  restart: () => Promise<void>;
}

/** Starts a real redis-server on a free loopback port, data in a temp folder. */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const dir = tempDir("fulcrum-redis-");
  const start = async (): Promise<Proc> => {
    const proc = spawnProc("redis-server", [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir.path,
    ]);
    await waitFor(() => proc.stdout().includes("Ready to accept connections"), {
      timeout: 10_000,
      what: `redis-server on port ${port}`,
    });
    return proc;
  };
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir: dir.path,
    proc: await start(),
    stop: async () => {
      await server.proc.stop();
    },
    restart: async () => {
      await server.proc.stop();
      server.proc = await start();
    },
  };
  const originalStop = server.stop;
  server.stop = async () => {
    await originalStop();
    dir.remove();
  };
  return server;
}

/** True when no process with this pid exists any more. */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

/** Resolves once something accepts TCP connections on host:port. */
export async function waitForPort(port: number, opts: WaitOptions & { host?: string } = {}): Promise<void> {
  const { connect } = await import("node:net");
  await waitFor(
    () =>
      new Promise<boolean>((res) => {
        const s = connect({ host: opts.host ?? "127.0.0.1", port });
        s.once("connect", () => {
          s.destroy();
          res(true);
        });
        s.once("error", () => res(false));
      }),
    {
      timeout: opts.timeout ?? 10_000,
      interval: 20,
      what: opts.what ?? `port ${port} to accept connections`,
    },
  );
}

export interface RunningProxy {
  proc: Proc;
  cfgPath: string;
  dir: string;
  stop: () => Promise<void>;
}

/**
 * Writes `cfgText` to a temp folder and runs `fulcrum proxy -db -f` on it, as users do; waits
 * until `port` accepts connections. Extra CLI flags go in `args`.
 */
export async function startProxy(
  cfgText: string,
  port: number,
  opts: {
    args?: string[];
    env?: NodeJS.ProcessEnv;
    waitPort?: boolean;
    program?: "fulcrum" | "haproxy";
  } = {},
): Promise<RunningProxy> {
  const { writeFileSync } = await import("node:fs");
  const program = opts.program ?? "fulcrum";
  const dir = tempDir(`${program}-proxy-`);
  const cfgPath = join(dir.path, "test.cfg");
  writeFileSync(cfgPath, cfgText);
  const env = opts.env ? { env: opts.env } : {};
  const proc = spawnProgram(program, cfgPath, opts.args ?? [], env);
  if (opts.waitPort !== false) {
    try {
      await Promise.race([
        waitForPort(port, { what: `${program} on port ${port}` }),
        proc.exited.then((code) => {
          throw new Error(`${program} exited with ${code}: ${proc.stderr()}`);
        }),
      ]);
    } catch (err) {
      await proc.stop();
      dir.remove();
      throw err;
    }
  }
  return {
    proc,
    cfgPath,
    dir: dir.path,
    stop: async () => {
      await proc.stop();
      dir.remove();
    },
  };
}

/** Sends raw bytes on a new connection and returns everything received until close or `idleMs` of silence. */
export async function rawRequest(
  port: number,
  data: string | Buffer,
  opts: { idleMs?: number; host?: string } = {},
): Promise<{ text: string; closed: boolean }> {
  const { connect } = await import("node:net");
  return new Promise((resolve, reject) => {
    const s = connect({ host: opts.host ?? "127.0.0.1", port });
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const done = (closed: boolean) => {
      if (timer) clearTimeout(timer);
      s.destroy();
      resolve({ text: Buffer.concat(chunks).toString("latin1"), closed });
    };
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => done(false), opts.idleMs ?? 1000);
    };
    s.on("connect", () => {
      s.write(data);
      arm();
    });
    s.on("data", (d: Buffer) => {
      chunks.push(d);
      arm();
    });
    s.on("end", () => done(true));
    s.on("error", (err) => (chunks.length ? done(true) : reject(err)));
  });
}
