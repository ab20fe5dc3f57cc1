/**
 * `fulcrum proxy` as a process, the way HAProxy runs: daemon and pid file, -db/-c, privileges
 * dropped after binding, signals (TERM/INT at once, USR1 soft stop), inherited sockets
 * (`bind fd@N`), a port in use, -W master-worker reloads and -sf replacement. Everything
 * runs the real compiled CLI.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import {
  CLI,
  freePort,
  isGone,
  type Proc,
  runCli,
  spawnCli,
  spawnProc,
  tempDir,
  waitFor,
  waitForPort,
} from "../helpers/index.js";
import { rawClient, startUpstream, type Upstream } from "./log-fixture.js";

let up: Upstream;
beforeAll(async () => {
  up = await startUpstream("s1");
});
afterAll(async () => {
  await up?.close();
});

function cfgText(port: number | string, extraGlobal: string[] = []): string {
  return [
    "global",
    ...extraGlobal.map((l) => `    ${l}`),
    "defaults",
    "    mode http",
    "    timeout connect 1s",
    "    timeout client 5s",
    "    timeout server 5s",
    "listen px",
    `    bind ${typeof port === "number" ? `127.0.0.1:${port}` : port}`,
    "    monitor-uri /alive",
    `    server s1 127.0.0.1:${up.port}`,
    "",
  ].join("\n");
}

function writeCfg(text: string): { dir: string; cfg: string } {
  const d = tempDir("process-");
  onTestFinished(() => d.remove());
  const cfg = join(d.path, "t.cfg");
  writeFileSync(cfg, text);
  return { dir: d.path, cfg };
}

/** One GET on a new connection: the status, or the error code (ECONNREFUSED, ...). */
function get(port: number, path = "/"): Promise<number | string> {
  return new Promise((resolve) => {
    const r = request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", () => resolve("ERESPONSE"));
    });
    r.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    r.end();
  });
}

function track(p: Proc): Proc {
  onTestFinished(() => p.stop());
  return p;
}

/** Kills a pid we started (a daemon) at the end of the test, if still there. */
function trackPid(pid: number): void {
  onTestFinished(async () => {
    if (isGone(pid)) return;
    process.kill(pid, "SIGKILL");
    await waitFor(() => isGone(pid), { what: `pid ${pid} gone` });
  });
}

async function started(p: Proc, port: number): Promise<void> {
  await Promise.race([
    waitForPort(port, { what: `fulcrum on ${port}` }),
    p.exited.then((c) => {
      throw new Error(`fulcrum exited with ${c}: ${p.stderr()}`);
    }),
  ]);
}

describe("fulcrum proxy as a process", () => {
  it("daemon: -D detaches, the command returns 0 and the pid file names the detached process", async () => {
    const port = await freePort();
    const { dir, cfg } = writeCfg(cfgText(port));
    const pidfile = join(dir, "f.pid");
    const r = await runCli(["proxy", "-D", "-f", cfg, "-p", pidfile]);
    expect(r.code, r.stderr).toBe(0);
    const pid = Number(readFileSync(pidfile, "utf8").trim());
    trackPid(pid);
    expect(isGone(pid)).toBe(false);
    expect(await get(port, "/alive")).toBe(200);
    // Detached: its own session, not a child of the command that started it.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    expect(Number(fields[3])).toBe(pid); // session id = its own pid (setsid)
    process.kill(pid, "SIGTERM");
    await waitFor(() => isGone(pid), { what: "the daemon to stop on SIGTERM" });
  });

  it("daemon: `daemon` and `pidfile` in global do the same, and survive notices after the start", async () => {
    const port = await freePort();
    const d = tempDir("process-");
    onTestFinished(() => d.remove());
    const pidfile = join(d.path, "g.pid");
    const dead = await freePort();
    const cfg = join(d.path, "t.cfg");
    writeFileSync(
      cfg,
      `${cfgText(port, ["daemon", `pidfile ${pidfile}`])}    stats enable\n    stats uri /st\n` +
        `backend b\n    server x 127.0.0.1:${dead} check inter 100 fall 1\n`,
    );
    const r = await runCli(["proxy", "-f", cfg]);
    expect(r.code, r.stderr).toBe(0);
    const pid = Number(readFileSync(pidfile, "utf8").trim());
    trackPid(pid);
    // The server's DOWN notice is written after the parent has gone: the daemon lives on.
    await waitFor(
      async () => (await rawClient(port, [{ write: "GET /st;csv HTTP/1.0\r\n\r\n" }])).text.includes("b,x,"),
      {
        what: "the stats page",
      },
    );
    await waitFor(
      async () =>
        /\nb,x,(?:[^,]*,){15}DOWN,/.test(
          (await rawClient(port, [{ write: "GET /st;csv HTTP/1.0\r\n\r\n" }])).text,
        ),
      {
        what: "server b/x DOWN (its notice written after the parent left)",
      },
    );
    expect(isGone(pid)).toBe(false);
    expect(await get(port, "/alive")).toBe(200);
    process.kill(pid, "SIGTERM");
    await waitFor(() => isGone(pid), { what: "the daemon to stop" });
  });

  it("-db keeps a `daemon` configuration in the foreground", async () => {
    const port = await freePort();
    const { dir, cfg } = writeCfg(cfgText(port, ["daemon"]));
    const pidfile = join(dir, "db.pid");
    const p = track(spawnCli(["proxy", "-db", "-f", cfg, "-p", pidfile]));
    await started(p, port);
    expect(Number(readFileSync(pidfile, "utf8").trim())).toBe(p.pid);
  });

  it("-d stays in the foreground and prints debug lines", async () => {
    const port = await freePort();
    const { cfg } = writeCfg(cfgText(port, ["daemon"]));
    const p = track(spawnCli(["proxy", "-d", "-f", cfg]));
    await started(p, port);
    await rawClient(port, [{ write: "GARBAGE\r\n\r\n" }]);
    await waitFor(() => /\[DEBUG\]\s+\(\d+\) : bad request from 127\.0\.0\.1/.test(p.stderr()), {
      what: "a debug line about the bad request",
    });
  });

  it("-c never detaches nor writes the pid file", async () => {
    const port = await freePort();
    const { dir, cfg } = writeCfg(cfgText(port, ["daemon"]));
    const pidfile = join(dir, "c.pid");
    const r = await runCli(["proxy", "-c", "-f", cfg, "-p", pidfile]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Configuration file is valid");
    expect(existsSync(pidfile)).toBe(false);
  });

  it.skipIf(process.getuid?.() !== 0)(
    "uid/gid drop privileges after binding (root binds, nobody serves)",
    async () => {
      const port = await freePort();
      const { cfg } = writeCfg(cfgText(port, ["uid 65534", "gid 65534"]));
      const p = track(spawnCli(["proxy", "-db", "-f", cfg]));
      await started(p, port);
      await waitFor(
        () => /^Uid:\s+65534\s+65534\s+65534\s+65534$/m.test(readFileSync(`/proc/${p.pid}/status`, "utf8")),
        {
          what: "Uid 65534",
        },
      );
      expect(readFileSync(`/proc/${p.pid}/status`, "utf8")).toMatch(
        /^Gid:\s+65534\s+65534\s+65534\s+65534$/m,
      );
      expect(await get(port, "/alive")).toBe(200);
    },
  );

  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    it(`${sig} stops at once, cutting a request in flight`, async () => {
      const port = await freePort();
      const { cfg } = writeCfg(cfgText(port));
      const p = track(spawnCli(["proxy", "-db", "-f", cfg]));
      await started(p, port);
      const inflight = get(port, "/slow?ms=3000");
      await waitFor(() => up.heads.some((h) => h.includes("/slow?ms=3000")), {
        what: "the request at the server",
      });
      const t0 = Date.now();
      p.kill(sig);
      expect(await p.exited).toBe(0);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(await inflight).not.toBe(200);
      up.heads.length = 0;
    });
  }

  it("SIGUSR1 stops accepting, lets the request in flight finish, then exits 0", async () => {
    const port = await freePort();
    const { cfg } = writeCfg(cfgText(port));
    const p = track(spawnCli(["proxy", "-db", "-f", cfg]));
    await started(p, port);
    const inflight = get(port, "/slow?ms=800");
    await waitFor(() => up.heads.some((h) => h.includes("/slow?ms=800")), {
      what: "the request at the server",
    });
    p.kill("SIGUSR1");
    // New connections are refused while the old request still runs.
    await waitFor(async () => (await get(port, "/alive")) === "ECONNREFUSED", {
      what: "the listener closed",
    });
    expect(isGone(p.pid)).toBe(false);
    expect(await inflight).toBe(200);
    expect(await p.exited).toBe(0);
    up.heads.length = 0;
  });

  it("bind fd@N listens on a socket inherited from the parent", async () => {
    const listener: Server = createServer();
    await new Promise<void>((r) => listener.listen(0, "127.0.0.1", () => r()));
    const port = (listener.address() as { port: number }).port;
    const fd = (listener as unknown as { _handle: { fd: number } })._handle.fd;
    // HAProxy's environment expansion: `"fd@${LISTEN_FD}"`, the variable inside double quotes.
    const { cfg } = writeCfg(cfgText(`"fd@$\{LISTEN_FD}"`));
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, [CLI, "proxy", "-db", "-f", cfg], {
      stdio: ["ignore", "pipe", "pipe", fd],
      env: { ...process.env, LISTEN_FD: "3" },
    });
    let err = "";
    child.stderr?.on("data", (d) => {
      err += d;
    });
    onTestFinished(async () => {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((r) => child.once("exit", r));
      }
    });
    // The parent closes its copy: the socket lives on in fulcrum alone.
    await new Promise<void>((r) => listener.close(() => r()));
    await waitFor(async () => (await get(port, "/alive")) === 200, { what: `fulcrum on fd 3 (${err})` });
    expect(await get(port, "/")).toBe(200);
  });

  it("a port already in use is a one-line error and exit 1", async () => {
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", () => r()));
    onTestFinished(() => new Promise<void>((r) => busy.close(() => r())));
    const port = (busy.address() as { port: number }).port;
    const { cfg } = writeCfg(cfgText(port));
    const r = await runCli(["proxy", "-db", "-f", cfg]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/t\.cfg:\d+: cannot bind 127\.0\.0\.1:\d+ for 'px': address already in use/);
  });

  it("a start that cannot bind leaves the pid file as it found it", async () => {
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", () => r()));
    onTestFinished(() => new Promise<void>((r) => busy.close(() => r())));
    const port = (busy.address() as { port: number }).port;
    const { dir, cfg } = writeCfg(cfgText(port));
    const held = join(dir, "held.pid");
    writeFileSync(held, "4242\n");
    const fresh = join(dir, "fresh.pid");
    expect((await runCli(["proxy", "-db", "-f", cfg, "-p", held])).code).toBe(1);
    expect((await runCli(["proxy", "-db", "-f", cfg, "-p", fresh])).code).toBe(1);
    expect(readFileSync(held, "utf8")).toBe("4242\n");
    expect(existsSync(fresh)).toBe(false);
  });

  it("-W reloads the worker on SIGUSR2 without refusing a single connection", async () => {
    const port = await freePort();
    const sd = tempDir("process-sock-");
    onTestFinished(() => sd.remove());
    const sock = join(sd.path, "w.sock");
    const { dir, cfg } = writeCfg(cfgText(port, [`stats socket ${sock} level admin`]));
    const pidfile = join(dir, "w.pid");
    const p = track(spawnCli(["proxy", "-W", "-db", "-f", cfg, "-p", pidfile]));
    await started(p, port);
    expect(Number(readFileSync(pidfile, "utf8").trim())).toBe(p.pid);
    const { ctlExchange } = await import("../../cli/ctl.js");
    const workerPid = async () => Number(/^Pid: (\d+)$/m.exec(await ctlExchange(sock, "show info"))?.[1]);
    const first = await workerPid();
    expect(first).not.toBe(p.pid);
    // A client loop runs through the reload: bounded in count and time.
    const results: (number | string)[] = [];
    let stop = false;
    const loop = (async () => {
      const deadline = Date.now() + 15_000;
      while (!stop && Date.now() < deadline && results.length < 5000) results.push(await get(port, "/"));
    })();
    await waitFor(() => results.length > 20, { what: "the client loop running" });
    p.kill("SIGUSR2");
    await waitFor(
      async () => {
        const w = await workerPid().catch(() => first);
        return w !== first && isGone(first);
      },
      { timeout: 10_000, what: "a new worker and the old one gone" },
    );
    const after = results.length;
    await waitFor(() => results.length > after + 20, { what: "requests after the reload" });
    stop = true;
    await loop;
    expect(results.filter((r) => r !== 200)).toEqual([]);
    expect(isGone(p.pid)).toBe(false);
  });

  it("-W with -D: the master detaches, reloads its worker on SIGUSR2, and SIGUSR1 stops it all", async () => {
    const port = await freePort();
    const { dir, cfg } = writeCfg(cfgText(port));
    const pidfile = join(dir, "mw.pid");
    const r = await runCli(["proxy", "-W", "-D", "-f", cfg, "-p", pidfile]);
    expect(r.code, r.stderr).toBe(0);
    const master = Number(readFileSync(pidfile, "utf8").trim());
    trackPid(master);
    expect(await get(port, "/alive")).toBe(200);
    const children = () =>
      readFileSync(`/proc/${master}/task/${master}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
    const [first] = children();
    process.kill(master, "SIGUSR2");
    await waitFor(() => children().length === 1 && children()[0] !== first, { what: "a new worker only" });
    expect(await get(port, "/alive")).toBe(200);
    process.kill(master, "SIGUSR1");
    await waitFor(() => isGone(master), { what: "the master gone after SIGUSR1" });
    expect(existsSync(pidfile)).toBe(false);
  });

  it("-sf PID: the new process takes over and the old one finishes and exits", async () => {
    const port = await freePort();
    const { cfg } = writeCfg(cfgText(port));
    const old = track(spawnCli(["proxy", "-db", "-f", cfg]));
    await started(old, port);
    const inflight = get(port, "/slow?ms=600");
    await waitFor(() => up.heads.some((h) => h.includes("/slow?ms=600")), {
      what: "the request at the server",
    });
    const next = track(spawnCli(["proxy", "-db", "-f", cfg, "-sf", String(old.pid)]));
    expect(await old.exited).toBe(0);
    expect(await inflight).toBe(200);
    expect(isGone(next.pid)).toBe(false);
    await waitFor(async () => (await get(port, "/alive")) === 200, { what: "the new process serving" });
    up.heads.length = 0;
  });
});

void spawnProc;
