/**
 * Issue 4's "Done when": the tutorial's own HAProxy 1.4 file (examples/tutorial-1.4.cfg)
 * runs as a daemon with its pid file in front of two `fulcrum web-demo` servers, and every
 * feature the tutorial lists is exercised through it: roundrobin, the SRV cookie inserted
 * (indirect, nocache) and honoured, JSESSIONID learned (appsession), X-Forwarded-For,
 * health checks `HEAD /login HTTP/1.0` with the stats page showing L7OK/200 and then DOWN,
 * the monitor URI, logs to syslog local3, redispatch when a server dies, and a stop by the
 * pid file.
 *
 * The file is used unchanged except: its ports (listen, the two servers, the syslog
 * target), the pid file path (a temp folder), and uid/gid only when the test does not run
 * as root (it cannot drop privileges then). Each web-demo sits behind a recording tap so the
 * test sees exactly what "the server" received.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  freePort,
  isGone,
  type Proc,
  ROOT,
  runCli,
  spawnCli,
  tempDir,
  waitFor,
  waitForPort,
} from "../helpers/index.js";
import { parseHttpLog, type Receiver, startReceiver } from "../integration/log-fixture.js";

/** A TCP relay in front of a server that records the request bytes it forwards. */
interface Tap {
  port: number;
  received: () => string;
  close: () => Promise<void>;
}

async function startTap(targetPort: number, port: number): Promise<Tap> {
  let seen = "";
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    const upstream = connect(targetPort, "127.0.0.1");
    sockets.add(upstream);
    client.on("data", (d: Buffer) => {
      seen += d.toString("latin1");
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", end);
    upstream.on("error", end);
    client.on("close", end);
    upstream.on("close", end);
  });
  await new Promise<void>((res) => server.listen(port, "127.0.0.1", () => res()));
  return {
    port,
    received: () => seen,
    close: () =>
      new Promise<void>((res) => {
        for (const s of sockets) s.destroy();
        server.close(() => res());
      }),
  };
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function http(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const r = request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        text += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    r.on("error", reject);
    if (body !== undefined) r.end(body);
    else r.end();
  });
}

const setCookies = (r: Reply) => (r.headers["set-cookie"] as string[] | undefined) ?? [];
const served = (r: Reply) => r.headers["x-served-by"];

function cookieValue(r: Reply, name: string): string | undefined {
  for (const c of setCookies(r)) {
    const m = new RegExp(`^${name}=([^;]*)`).exec(c);
    if (m) return m[1];
  }
  return undefined;
}

describe("examples/tutorial-1.4.cfg end to end (daemon, two web-demo servers)", () => {
  const dir = tempDir("tutorial-e2e-");
  let rx: Receiver;
  let web: Proc[] = [];
  let taps: Tap[] = [];
  let port = 0;
  let pidfile = "";
  let pid = 0;
  let cfgText = "";

  const startWeb = async (name: string, tapPort: number): Promise<{ proc: Proc; tap: Tap }> => {
    const wport = await freePort();
    const proc = spawnCli(["web-demo", "--name", name, "--port", String(wport), "--store", "memory"]);
    await waitForPort(wport, { what: `web-demo ${name}` });
    const tap = await startTap(wport, tapPort);
    return { proc, tap };
  };

  beforeAll(async () => {
    rx = await startReceiver();
    port = await freePort();
    const tapA = await freePort();
    const tapB = await freePort();
    pidfile = join(dir.path, "haproxy.pid");
    const original = readFileSync(join(ROOT, "examples/tutorial-1.4.cfg"), "utf8");
    const asRoot = process.getuid?.() === 0;
    cfgText = original
      .replace("listen web_proxy *:8080", `listen web_proxy *:${port}`)
      .replace("server webA 127.0.0.1:8081", `server webA 127.0.0.1:${tapA}`)
      .replace("server webB 127.0.0.1:8888", `server webB 127.0.0.1:${tapB}`)
      .replaceAll(/^log 127\.0\.0\.1 local3$/gm, `log 127.0.0.1:${rx.port} local3`)
      .replace(/^pidfile \/home\/haproxy\/logs\/haproxy\.pid$/m, `pidfile ${pidfile}`)
      .replace(/^(uid|gid) 65534$/gm, asRoot ? "$1 65534" : "#$1 65534 (not root: cannot drop privileges)");
    // Only ports and paths changed: every keyword line of the tutorial is still there.
    expect(cfgText.split("\n").length).toBe(original.split("\n").length);
    const cfg = join(dir.path, "tutorial.cfg");
    writeFileSync(cfg, cfgText);
    const w1 = await startWeb("web1", tapA);
    const w2 = await startWeb("web2", tapB);
    web = [w1.proc, w2.proc];
    taps = [w1.tap, w2.tap];
    const r = await runCli(["proxy", "-f", cfg]);
    expect(r.code, r.stderr).toBe(0);
    pid = Number(readFileSync(pidfile, "utf8").trim());
    await waitForPort(port, { what: "the tutorial's proxy" });
  }, 60_000);

  afterAll(async () => {
    if (pid > 0 && !isGone(pid)) process.kill(pid, "SIGKILL");
    for (const t of taps) await t.close();
    for (const w of web) await w.stop();
    await rx?.close();
    dir.remove();
  });

  it("runs as a daemon: the pid file names a live process that is not the command", () => {
    expect(pid).toBeGreaterThan(0);
    expect(isGone(pid)).toBe(false);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    if (process.getuid?.() === 0) expect(status).toMatch(/^Uid:\s+65534\s/m);
  });

  it("health checks: HEAD /login HTTP/1.0 to both servers, and the stats page shows L7OK/200 for each", async () => {
    await waitFor(() => taps.every((t) => t.received().includes("HEAD /login HTTP/1.0\r\n")), {
      what: "a health check on each server",
    });
    const page = await waitFor(
      async () => {
        const r = await http(port, "GET", "/haproxy-stats");
        return (r.body.match(/L7OK\/200 in \d+ms/g) ?? []).length >= 2 ? r : undefined;
      },
      { timeout: 10_000, what: "L7OK/200 for both servers on the stats page" },
    );
    expect(page.status).toBe(200);
    expect(page.headers.refresh).toBe("10");
    expect(page.body).toContain("webA");
    expect(page.body).toContain("webB");
    // stats hide-version
    expect(page.body).not.toMatch(/version \d/i);
    // The stats page never reaches a server.
    for (const t of taps) expect(t.received()).not.toContain("/haproxy-stats");
  });

  const cookieA = "SRV=A";
  it("roundrobin: two new clients go to web1 then web2, each given its SRV cookie (insert, nocache)", async () => {
    const a = await http(port, "GET", "/login");
    const b = await http(port, "GET", "/login");
    expect([served(a), served(b)].sort()).toEqual(["web1", "web2"]);
    const first = served(a) === "web1" ? a : b;
    expect(cookieValue(first, "SRV")).toBe("A");
    expect(cookieValue(served(a) === "web2" ? a : b, "SRV")).toBe("B");
    // nocache: a response with an inserted cookie is never cacheable (web-demo already says
    // no-store, so HAProxy adds nothing, and neither does fulcrum).
    expect(String(first.headers["cache-control"])).toMatch(/no-store|private/);
    // option httpclose
    expect(first.headers.connection).toBe("close");
  });

  it("persistence: a client with SRV=A stays on web1, and the server never sees SRV (indirect)", async () => {
    for (let i = 0; i < 4; i++) {
      const r = await http(port, "GET", `/login?persist=${i}`, { cookie: cookieA });
      expect(served(r)).toBe("web1");
      expect(cookieValue(r, "SRV")).toBeUndefined();
    }
    const seen = taps[0]!.received();
    const heads = seen.split("\r\n\r\n").filter((h) => h.includes("/login?persist="));
    expect(heads.length).toBe(4);
    for (const h of heads) expect(h.toLowerCase()).not.toMatch(/\r\ncookie:[^\r]*srv=/);
  });

  it("X-Forwarded-For: the server sees the client's address", () => {
    const heads = taps[0]!
      .received()
      .split("\r\n\r\n")
      .filter((h) => h.includes("/login?persist=0"));
    expect(heads[0]!.toLowerCase()).toContain("\r\nx-forwarded-for: 127.0.0.1");
  });

  it("appsession: JSESSIONID set by a server is learned; the session id alone brings the client back", async () => {
    // Log in through the proxy without any cookie: whichever server answers sets JSESSIONID.
    const login = await http(
      port,
      "POST",
      "/login",
      { "content-type": "application/json" },
      JSON.stringify({ user: "alice", password: "x" }),
    );
    expect(login.status).toBe(200);
    const owner = served(login);
    const jsid = cookieValue(login, "JSESSIONID");
    expect(jsid).toBeDefined();
    // Only the session cookie, no SRV: the learned table routes it (memory store: only that
    // server knows the session).
    for (let i = 0; i < 4; i++) {
      const r = await http(port, "GET", "/whoami", { cookie: `JSESSIONID=${jsid}` });
      expect(served(r)).toBe(owner);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body).user).toBe("alice");
    }
  });

  it("monitor-uri: /haproxy_test answers 200 itself, is never forwarded nor logged", async () => {
    const before = rx.datagrams.length;
    const r = await http(port, "GET", "/haproxy_test");
    expect(r.status).toBe(200);
    expect(r.body).toContain("200 OK");
    for (const t of taps) expect(t.received()).not.toContain("/haproxy_test");
    // A request logged after it shows that nothing was logged for the monitor request.
    await http(port, "GET", "/login?after-monitor");
    await waitFor(() => rx.datagrams.some((d) => d.includes("/login?after-monitor")), {
      what: "the next line",
    });
    expect(rx.datagrams.slice(before).some((d) => d.includes("haproxy_test"))).toBe(false);
  });

  it("logs: httplog lines to syslog local3, one per request and target, matching what the client saw", async () => {
    await http(port, "GET", "/login?logged=1", { cookie: cookieA });
    const lines = await waitFor(
      () => {
        const l = rx.datagrams.filter((d) => d.includes("/login?logged=1"));
        return l.length >= 2 ? l : undefined;
      },
      { what: "the request's log lines" },
    );
    // The file names the same target twice (global via `log global`, and in defaults).
    expect(lines).toHaveLength(2);
    const g = parseHttpLog(lines[0]!)!;
    expect(g).toBeDefined();
    expect(g.pri).toBe("158"); // local3 (19) * 8 + info (6)
    expect(g.tag).toBe("haproxy");
    expect(Number(g.pid)).toBe(pid);
    expect(g.fe).toBe("web_proxy");
    expect(`${g.be}/${g.srv}`).toBe("web_proxy/webA");
    expect(g.status).toBe("200");
    expect(g.ts).toBe("--VN");
    expect(g.req).toBe("GET /login?logged=1 HTTP/1.1");
    for (const t of ["TR", "Tw", "Tc", "Tr", "Ta"] as const) expect(Number(g[t])).toBeGreaterThanOrEqual(0);
    const stats = rx.datagrams.map(parseHttpLog).find((x) => x?.srv === "<STATS>");
    // The proxy has a persistence cookie: haproxy 2.6 logs the stats page's cookie letters as
    // NN (measured on the modern spelling of this file).
    expect(stats?.ts).toBe("LRNN");
  });

  it("redispatch: web1 dies, a client holding SRV=A is served by web2 and given SRV=B", async () => {
    await taps[0]!.close();
    await web[0]!.stop();
    const r = await http(port, "GET", "/login?after-death", { cookie: cookieA });
    expect(r.status).toBe(200);
    expect(served(r)).toBe("web2");
    expect(cookieValue(r, "SRV")).toBe("B");
    const line = await waitFor(
      () => rx.datagrams.map(parseHttpLog).find((x) => x?.req.includes("/login?after-death")),
      { what: "the redispatched request's line" },
    );
    expect(line.srv).toBe("webB");
  });

  it("the stats page shows web1 DOWN (Layer4) and web2 still L7OK/200", async () => {
    await waitFor(
      async () => {
        const csv = (await http(port, "GET", "/haproxy-stats;csv")).body;
        const row = (name: string) =>
          csv
            .split("\n")
            .find((l) => l.startsWith(`web_proxy,${name},`))
            ?.split(",");
        return row("webA")?.[17] === "DOWN" && row("webB")?.[17] === "UP" && row("webB")?.[36] === "L7OK";
      },
      { timeout: 15_000, what: "webA DOWN and webB UP on the stats CSV" },
    );
    const page = await http(port, "GET", "/haproxy-stats");
    expect(page.body).toMatch(/DOWN/);
    expect(page.body).toMatch(/L4CON/);
    expect(page.body).toMatch(/L7OK\/200 in \d+ms/);
  });

  it("stops by the pid file", async () => {
    process.kill(pid, "SIGTERM");
    await waitFor(() => isGone(pid), { what: "the daemon gone after SIGTERM" });
    await expect(http(port, "GET", "/haproxy_test")).rejects.toThrow(/ECONNREFUSED/);
  });
});

void spawnCli;
