/**
 * Health checks against real servers on loopback ports: TCP connect checks, `option httpchk`
 * (the bytes HAProxy 2.6 sends), rise/fall transitions with HAProxy's log lines, timeouts,
 * `http-check expect`, maint pausing, slowstart on the way back up, and a clean stop.
 */
import { once } from "node:events";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { HttpCheck, ProxyModel, ServerModel } from "../../proxy/config/model.js";
import { type CheckLog, type Checks, startChecks } from "../../proxy/health/checker.js";
import type { BackendRuntime, ServerRuntime } from "../../proxy/state.js";
import { freePort, waitFor } from "../helpers/index.js";
import { backendRuntime, proxyModel, serverModel } from "../unit/stats-fixture.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function listen<T extends Server | HttpServer>(srv: T): Promise<number> {
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const sockets = new Set<Socket>();
  srv.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
  });
  return (srv.address() as AddressInfo).port;
}

/** An HTTP server whose status can be switched, counting the checks it receives. */
async function toggleServer(): Promise<{ port: number; status: { code: number }; hits: () => number }> {
  const status = { code: 200 };
  let hits = 0;
  const srv = createHttpServer((_req, res) => {
    hits++;
    res.writeHead(status.code, { "content-type": "text/plain" });
    res.end(status.code === 200 ? "alive\n" : "dead\n");
  });
  srv.keepAliveTimeout = 1;
  const port = await listen(srv);
  return { port, status, hits: () => hits };
}

interface Rig {
  be: BackendRuntime;
  sv: ServerRuntime;
  logs: CheckLog[];
  changes: string[];
  weights: number[];
  /** Health after each check, in order. */
  healths: number[];
  checks: Checks;
}

function rig(
  server: Partial<ServerModel> & { port: number },
  backend: Partial<ProxyModel> = {},
  opts: { firstDelayMs?: number } = {},
): Rig {
  const cfg = proxyModel({
    name: "web_proxy",
    id: 1,
    kind: "listen",
    servers: [
      serverModel({
        name: "webA",
        id: 1,
        check: true,
        inter: 50,
        fastinter: 50,
        downinter: 50,
        ...server,
      }),
    ],
    ...backend,
  });
  const be = backendRuntime(cfg);
  const sv = be.servers[0]!;
  sv.health = sv.cfg.rise; // a fresh server: UP, one failure away from DOWN
  const logs: CheckLog[] = [];
  const changes: string[] = [];
  const weights: number[] = [];
  const healths: number[] = [];
  const checks = startChecks(be, {
    onCheck: (s) => healths.push(s.health),
    firstDelayMs: () => opts.firstDelayMs ?? 0,
    log: (l) => logs.push(l),
    onChange: (s, from, to) => {
      changes.push(`${s.cfg.name} ${from}->${to}`);
      return undefined;
    },
    onWeight: (s) => weights.push(s.effectiveWeight),
  });
  cleanups.push(() => checks.stop());
  return { be, sv, logs, changes, weights, healths, checks };
}

const httpchk = (over: Partial<HttpCheck> = {}): HttpCheck => ({
  method: "HEAD",
  uri: "/login",
  version: "HTTP/1.0",
  headers: [],
  ...over,
});

describe("TCP connect checks", () => {
  it("a server that refuses connections goes DOWN after the first failed check (L4CON)", async () => {
    const port = await freePort();
    const r = rig({ port, rise: 2, fall: 3 });
    await waitFor(() => r.changes.length > 0, { what: "the first check" });
    expect(r.changes).toEqual(["webA up->down"]);
    expect(r.sv.up).toBe(false);
    expect([r.sv.chkfail, r.sv.chkdown, r.sv.health]).toEqual([1, 1, 0]);
    expect(r.sv.lastCheck).toMatchObject({
      status: "L4CON",
      info: "Connection refused",
      desc: "Layer4 connection problem",
    });
    expect(r.logs[0]!.syslog).toMatch(
      /^Server web_proxy\/webA is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: \d+ms\. 0 active and 0 backup servers left\. 0 sessions active, 0 requeued, 0 remaining in queue\.$/,
    );
    expect(r.logs[1]).toMatchObject({
      stderr: "proxy 'web_proxy' has no server available!",
      syslog: "proxy web_proxy has no server available!",
      stderrLevel: "ALERT",
      severity: 0,
    });
  });

  it("with addr (and port), checks go to that address instead of the server's", async () => {
    const seen: string[] = [];
    const srv = createServer((s) => {
      seen.push(s.localAddress ?? "");
      s.destroy();
    });
    srv.listen(0, "127.0.0.2");
    await once(srv, "listening");
    cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
    const checkPort = (srv.address() as AddressInfo).port;
    // Nothing listens on the server's own address and port.
    const r = rig({ port: await freePort(), checkAddr: "127.0.0.2", checkPort });
    await waitFor(() => r.sv.lastCheck !== undefined, { what: "a check result" });
    expect(r.sv.lastCheck).toMatchObject({ status: "L4OK" });
    expect(seen[0]).toBe("127.0.0.2");
  });

  it("a listening server passes (L4OK) and becomes fully UP", async () => {
    const port = await listen(createServer((s) => s.on("error", () => {})));
    const r = rig({ port });
    await waitFor(() => r.sv.lastCheck?.status === "L4OK", { what: "L4OK" });
    expect(r.sv.health).toBe(r.sv.cfg.rise + r.sv.cfg.fall - 1);
    expect(r.changes).toEqual([]);
  });

  it("a server that stops listening goes DOWN after `fall` checks and comes back after `rise`", async () => {
    const port = await freePort();
    let srv = createServer((s) => s.on("error", () => {}));
    srv.listen(port, "127.0.0.1");
    await once(srv, "listening");
    const r = rig({ port, rise: 2, fall: 3 });
    await waitFor(() => r.sv.health === 4, { what: "fully UP" });
    await new Promise<void>((res) => srv.close(() => res()));
    await waitFor(() => !r.sv.up, { what: "DOWN" });
    expect(r.sv.chkfail).toBe(3);
    srv = createServer((s) => s.on("error", () => {}));
    srv.listen(port, "127.0.0.1");
    await once(srv, "listening");
    cleanups.push(() => new Promise<void>((res) => srv.close(() => res())));
    await waitFor(() => r.sv.up, { what: "UP again" });
    expect(r.changes).toEqual(["webA up->down", "webA down->up"]);
    expect(r.sv.downTime).toBeGreaterThan(0);
    expect(r.logs.at(-1)!.syslog).toMatch(
      /^Server web_proxy\/webA is UP, reason: Layer4 check passed, check duration: \d+ms\. 1 active and 0 backup servers online\. 0 sessions requeued, 0 total in queue\.$/,
    );
  });
});

describe("option httpchk", () => {
  it("sends exactly `HEAD /login HTTP/1.0\\r\\n\\r\\n` (as HAProxy 2.6) and passes on 200", async () => {
    const seen: string[] = [];
    const port = await listen(
      createServer((s) => {
        s.on("error", () => {});
        s.once("data", (d) => {
          seen.push(d.toString("latin1"));
          s.end("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
        });
      }),
    );
    const r = rig({ port }, { httpCheck: httpchk() });
    await waitFor(() => r.sv.lastCheck?.status === "L7OK", { what: "L7OK" });
    expect(seen[0]).toBe("HEAD /login HTTP/1.0\r\n\r\n");
    expect(r.sv.lastCheck).toMatchObject({ code: 200, desc: "Layer7 check passed" });
  });

  it("a 503 takes the server down after `fall` checks (UP 2/3, UP 1/3, DOWN) and `rise` 200s bring it back", async () => {
    const t = await toggleServer();
    const r = rig({ port: t.port, rise: 2, fall: 3 }, { httpCheck: httpchk() });
    await waitFor(() => r.sv.health === 4, { what: "fully UP" });
    const from = r.healths.length;
    t.status.code = 503;
    await waitFor(() => !r.sv.up, { what: "DOWN" });
    const down = r.healths.slice(from);
    expect(down.slice(down.indexOf(3))).toEqual([3, 2, 0]);
    expect(r.sv.lastCheck).toMatchObject({ status: "L7STS", code: 503, info: "Service Unavailable" });
    expect(r.logs[0]!.syslog).toMatch(
      /^Server web_proxy\/webA is DOWN, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: \d+ms\./,
    );
    t.status.code = 200;
    const back = r.healths.length;
    await waitFor(() => r.sv.up, { what: "UP" });
    const up = r.healths.slice(back);
    expect(up.slice(up.indexOf(1))).toEqual([1, 4]);
    expect(r.logs.at(-1)!.syslog).toMatch(
      /^Server web_proxy\/webA is UP, reason: Layer7 check passed, code: 200, check duration: \d+ms\./,
    );
  });

  it("timeout check: a server that accepts and never answers is a Layer7 timeout", async () => {
    const port = await listen(createServer((s) => s.on("error", () => {})));
    const r = rig({ port }, { httpCheck: httpchk(), timeouts: { connect: 1000, check: 100 } });
    await waitFor(() => r.sv.lastCheck !== undefined, { what: "a check result" });
    expect(r.sv.lastCheck).toMatchObject({ status: "L7TOUT", desc: "Layer7 timeout" });
    expect(r.sv.lastCheck!.durationMs).toBeGreaterThanOrEqual(90);
    expect(r.sv.lastCheck!.durationMs).toBeLessThan(1000);
  });

  it("without timeout check, inter bounds the whole check", async () => {
    const port = await listen(createServer((s) => s.on("error", () => {})));
    const r = rig({ port, inter: 150 }, { httpCheck: httpchk() });
    await waitFor(() => r.sv.lastCheck !== undefined, { what: "a check result" });
    expect(r.sv.lastCheck!.status).toBe("L7TOUT");
    expect(r.sv.lastCheck!.durationMs).toBeGreaterThanOrEqual(140);
  });

  it("a reply that is not HTTP is a Layer7 invalid response", async () => {
    const port = await listen(
      createServer((s) => {
        s.on("error", () => {});
        s.once("data", () => s.end("hello world\r\n\r\n"));
      }),
    );
    const r = rig({ port }, { httpCheck: httpchk() });
    await waitFor(() => r.sv.lastCheck !== undefined, { what: "a check result" });
    expect(r.sv.lastCheck).toMatchObject({ status: "L7RSP", desc: "Layer7 invalid response" });
  });

  it("a server that resets the check is a socket error with strerror's text (SOCKERR), as HAProxy 2.6", async () => {
    const port = await listen(
      createServer((s) => {
        s.on("error", () => {});
        s.once("data", () => s.resetAndDestroy());
      }),
    );
    const r = rig({ port }, { httpCheck: httpchk() });
    await waitFor(() => r.sv.lastCheck !== undefined, { what: "a check result" });
    expect(r.sv.lastCheck).toMatchObject({
      status: "SOCKERR",
      desc: "Socket error",
      info: "Connection reset by peer",
    });
  });

  it("keeps 127 characters of a reason phrase and escapes its quotes in the log", async () => {
    const phrase = `Bad "thing" ${"x".repeat(200)}`;
    const port = await listen(
      createServer((s) => {
        s.on("error", () => {});
        s.once("data", () => s.end(`HTTP/1.1 503 ${phrase}\r\ncontent-length: 0\r\n\r\n`));
      }),
    );
    const r = rig({ port, fall: 1 }, { httpCheck: httpchk() });
    await waitFor(() => r.logs.length > 0, { what: "the DOWN line" });
    expect(r.sv.lastCheck?.info).toBe(phrase.slice(0, 127));
    expect(r.logs[0]!.syslog).toContain(`info: "Bad <22>thing<22> ${"x".repeat(115)}", check duration`);
  });

  it("http-check expect string reads the body", async () => {
    const t = await toggleServer();
    const expect_ = { kind: "string" as const, value: "alive", negate: false };
    const r = rig(
      { port: t.port, rise: 1, fall: 1 },
      { httpCheck: httpchk({ method: "GET", expect: expect_ }) },
    );
    await waitFor(() => r.sv.lastCheck?.status === "L7OK", { what: "L7OK" });
    t.status.code = 500;
    await waitFor(() => r.sv.lastCheck?.status === "L7RSP", { what: "L7RSP" });
    expect(r.sv.lastCheck!.info).toBe("HTTP content check did not match");
  });
});

describe("the check shell", () => {
  it("checks pause while the server is in maint", async () => {
    const t = await toggleServer();
    const r = rig({ port: t.port }, { httpCheck: httpchk() });
    await waitFor(() => t.hits() >= 1, { what: "a first check" });
    r.sv.admin = "maint";
    const other = await toggleServer();
    const r2 = rig({ port: other.port }, { httpCheck: httpchk() });
    const before = t.hits();
    await waitFor(() => other.hits() >= 4, { what: "several checks elsewhere" });
    expect(t.hits()).toBeLessThanOrEqual(before + 1);
    r2.checks.stop();
  });

  it("slowstart: a server coming back UP starts at 1/16 of its weight and tells the node", async () => {
    const t = await toggleServer();
    t.status.code = 503;
    const r = rig({ port: t.port, rise: 1, fall: 1, weight: 8, slowstart: 60_000 }, { httpCheck: httpchk() });
    await waitFor(() => !r.sv.up, { what: "DOWN" });
    t.status.code = 200;
    await waitFor(() => r.sv.up, { what: "UP" });
    expect(r.sv.effectiveWeight).toBe(8 / 16);
    expect(r.weights).toEqual([0.5]);
  });

  it("stop() ends the checks: no more connections reach the server", async () => {
    const t = await toggleServer();
    const r = rig({ port: t.port }, { httpCheck: httpchk() });
    await waitFor(() => t.hits() >= 2, { what: "two checks" });
    r.checks.stop();
    const after = t.hits();
    const other = await toggleServer();
    rig({ port: other.port }, { httpCheck: httpchk() });
    await waitFor(() => other.hits() >= 4, { what: "time passing for other checks" });
    expect(t.hits()).toBe(after);
  });

  it("first checks wait their spread delay", async () => {
    const t = await toggleServer();
    const started = Date.now();
    rig({ port: t.port }, { httpCheck: httpchk() }, { firstDelayMs: 200 });
    await waitFor(() => t.hits() >= 1, { what: "the first check" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });
});
