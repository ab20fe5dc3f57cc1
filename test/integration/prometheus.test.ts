import { get as httpGet } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EchoServer, startEcho } from "../helpers/echo.js";
import { freePort, HAVE_HAPROXY, type RunningProxy, startProxy, waitFor } from "../helpers/index.js";

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The text format: `# HELP`/`# TYPE` lines, then `name{a="x",b="y"} value`. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const t = /^# TYPE (\S+) (gauge|counter)$/.exec(line);
    if (t) {
      types.set(t[1]!, t[2]!);
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

function config(fe: number, ls: number, mon: number, up: EchoServer, dead: number): string {
  return [
    "defaults",
    "    mode http",
    "    timeout connect 1s",
    "    timeout client 5s",
    "    timeout server 5s",
    "frontend fe",
    `    bind 127.0.0.1:${fe}`,
    "    http-request use-service prometheus-exporter if { path /metrics }",
    "    default_backend be",
    "backend be",
    "    option httpchk GET /",
    `    server s1 127.0.0.1:${up.port} check inter 200 weight 3`,
    `    server s2 127.0.0.1:${dead} check inter 200 fall 1`,
    `    server s3 127.0.0.1:${up.port}`,
    `    server s4 127.0.0.1:${up.port} check disabled`,
    `    server s5 127.0.0.1:${up.port} check backup`,
    "listen ls",
    `    bind 127.0.0.1:${ls}`,
    "    stats enable",
    "    stats uri /st",
    `    server t1 127.0.0.1:${up.port} check inter 200 maxconn 10`,
    // Where the test watches the checks, so that polling leaves the other counters alone:
    // a frontend with its own stats page and no backend at all.
    "frontend mon",
    `    bind 127.0.0.1:${mon}`,
    "    stats enable",
    "    stats uri /st",
    "",
  ].join("\n");
}

interface Target {
  readonly proc: RunningProxy;
  readonly fe: number;
  readonly ls: number;
  readonly mon: number;
}

async function start(program: "fulcrum" | "haproxy", up: EchoServer, dead: number): Promise<Target> {
  const fe = await freePort();
  const ls = await freePort();
  const mon = await freePort();
  const proc = await startProxy(config(fe, ls, mon, up, dead), fe, { program });
  return { proc, fe, ls, mon };
}

/** One GET on a new connection (node:http decodes haproxy's chunked answers). */
function fetchText(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    httpGet({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }),
      );
    }).on("error", reject);
  });
}

/** The stats CSV rows, keyed by the header's columns. */
async function statsCsv(port: number, uri: string): Promise<Record<string, string>[]> {
  const lines = (await fetchText(port, `${uri};csv`)).body.split("\n").filter((l) => l.length > 0);
  const cols = lines[0]!.replace(/^# /, "").split(",");
  return lines.slice(1).map((l) => {
    const cells = l.split(",");
    return Object.fromEntries(cols.map((c, i) => [c, cells[i] ?? ""]));
  });
}

/** The same traffic for each proxy: four requests on be (404 for one), one on ls, a scrape. */
async function traffic(t: Target): Promise<string> {
  // Every checked server has had its first check (s2 DOWN, the rest UP).
  await waitFor(
    async () => {
      const rows = await statsCsv(t.mon, "/st");
      const row = (px: string, sv: string) => rows.find((r) => r.pxname === px && r.svname === sv);
      const check = (px: string, sv: string) => (row(px, sv)?.check_status ?? "").replace(/^\* /, "");
      return (
        row("be", "s2")?.status === "DOWN" &&
        check("be", "s1") === "L7OK" &&
        check("be", "s5") === "L7OK" &&
        check("ls", "t1") === "L4OK"
      );
    },
    { what: "first checks" },
  );
  for (const path of ["/a", "/b", "/c?_status=404", "/d"]) await fetchText(t.fe, path);
  await fetchText(t.ls, "/y");
  await fetchText(t.fe, "/metrics");
  const r = await fetchText(t.fe, "/metrics");
  expect(r.status).toBe(200);
  expect(r.type).toBe("text/plain; version=0.0.4");
  return r.body;
}

describe("prometheus-exporter", () => {
  let up: EchoServer;
  let dead: number;
  let ours: Target;
  let text: string;
  let samples: Sample[];
  let types: Map<string, string>;

  beforeAll(async () => {
    up = await startEcho("up");
    dead = await freePort();
    ours = await start("fulcrum", up, dead);
    text = await traffic(ours);
    ({ samples, types } = parseExposition(text));
  });
  afterAll(async () => {
    await ours?.proc.stop();
    await up?.close();
  });

  it("every sample has a TYPE line, and counters end in _total", () => {
    for (const s of samples) {
      const type = types.get(s.name);
      expect(type, s.name).toBeDefined();
      if (type === "counter") expect(s.name).toMatch(/_total$/);
    }
  });

  it("server status is a state set: UP, DOWN, MAINT, and UP for a server without checks", () => {
    const states = (server: string) =>
      Object.fromEntries(
        samples
          .filter((s) => s.name === "haproxy_server_status" && s.labels.server === server)
          .map((s) => [s.labels.state, s.value]),
      );
    expect(states("s1")).toEqual({ DOWN: 0, UP: 1, MAINT: 0, DRAIN: 0, NOLB: 0 });
    expect(states("s2")).toEqual({ DOWN: 1, UP: 0, MAINT: 0, DRAIN: 0, NOLB: 0 });
    expect(states("s3")).toEqual({ DOWN: 0, UP: 1, MAINT: 0, DRAIN: 0, NOLB: 0 });
    expect(states("s4")).toEqual({ DOWN: 0, UP: 0, MAINT: 1, DRAIN: 0, NOLB: 0 });
    expect(value(samples, "haproxy_backend_agg_server_status", { proxy: "be", state: "UP" })).toBe(3);
    expect(value(samples, "haproxy_backend_status", { proxy: "be", state: "UP" })).toBe(1);
    expect(value(samples, "haproxy_backend_active_servers", { proxy: "be" })).toBe(2);
    expect(value(samples, "haproxy_backend_backup_servers", { proxy: "be" })).toBe(1);
  });

  it("check results only for servers that are checked", () => {
    const check = (server: string, state: string) =>
      value(samples, "haproxy_server_check_status", { proxy: "be", server, state });
    expect(check("s1", "L7OK")).toBe(1);
    expect(check("s2", "L4CON")).toBe(1);
    expect(check("s2", "L7OK")).toBe(0);
    expect(check("s3", "L7OK")).toBeUndefined();
    expect(value(samples, "haproxy_server_check_code", { server: "s1" })).toBe(200);
    expect(value(samples, "haproxy_backend_agg_check_status", { proxy: "be", state: "L4CON" })).toBe(1);
  });

  it("responses by class, sessions, the scrape counting itself, NaN for no limit", () => {
    const be = (code: string) =>
      value(samples, "haproxy_backend_http_responses_total", { proxy: "be", code });
    expect(be("2xx")).toBe(3);
    expect(be("4xx")).toBe(1);
    expect(value(samples, "haproxy_backend_sessions_total", { proxy: "be" })).toBe(4);
    // Two scrapes, the one being answered included.
    expect(value(samples, "haproxy_frontend_intercepted_requests_total", { proxy: "fe" })).toBe(2);
    // Four requests, two scrapes, and the test's wait for the port (a connection that sends
    // nothing: haproxy counts it as a request and a request error too).
    expect(value(samples, "haproxy_frontend_http_requests_total", { proxy: "fe" })).toBe(7);
    expect(value(samples, "haproxy_backend_last_session_seconds", { proxy: "be" })).toBeGreaterThanOrEqual(0);
    expect(value(samples, "haproxy_server_last_session_seconds", { server: "s2" })).toBe(-1);
    expect(value(samples, "haproxy_server_limit_sessions", { server: "s1" })).toBeNaN();
    expect(value(samples, "haproxy_server_limit_sessions", { server: "t1" })).toBe(10);
    expect(value(samples, "haproxy_process_nbproc", {})).toBe(1);
  });

  it("a frontend's own stats page answers, and counts itself as intercepted", async () => {
    const before = await statsCsv(ours.mon, "/st");
    const after = await statsCsv(ours.mon, "/st");
    const fe = (rows: Record<string, string>[]) =>
      rows.find((r) => r.pxname === "mon" && r.svname === "FRONTEND")!;
    expect(Number(fe(after).intercepted)).toBe(Number(fe(before).intercepted) + 1);
    expect(Number(fe(after).hrsp_5xx)).toBe(0);
  });

  it("agrees with the stats CSV", async () => {
    const rows = await statsCsv(ours.mon, "/st");
    const row = (px: string, sv: string) => rows.find((r) => r.pxname === px && r.svname === sv)!;
    for (const server of ["s1", "s2", "s3", "s5"]) {
      for (const [metric, column] of [
        ["sessions_total", "stot"],
        ["bytes_out_total", "bout"],
        ["check_failures_total", "chkfail"],
        ["weight", "weight"],
      ] as const) {
        const cell = row("be", server)[column]!;
        expect(
          value(samples, `haproxy_server_${metric}`, { proxy: "be", server }),
          `${server} ${metric}`,
        ).toBe(cell === "" ? Number.NaN : Number(cell));
      }
    }
  });

  it.runIf(HAVE_HAPROXY)("every frontend, backend and server sample equals haproxy 2.6's", async () => {
    const theirs = await start("haproxy", up, dead);
    let other: Sample[];
    try {
      other = parseExposition(await traffic(theirs)).samples;
    } finally {
      await theirs.proc.stop();
    }
    // What differs by design or by nature: limits derived from haproxy's ulimit-based maxconn,
    // the frontend's bytes (the scrape's own body), times, and the server connection pool
    // (haproxy opens a connection per client session under `http-reuse safe`), and the check
    // code, which haproxy shows as 0 while a check is in flight (every 200 ms here).
    const masked =
      /^haproxy_process_|limit_sessions$|frontend_bytes_out_total|_seconds(_total)?$|connection_(attempts|reuses)_total|_connections_current$|max_sessions$|check_code$/;
    const key = (s: Sample) => `${s.name}${JSON.stringify(s.labels)}`;
    const compared = (s: Sample) => !masked.test(s.name) && s.labels.proxy !== "mon";
    const mine = new Map(samples.filter(compared).map((s) => [key(s), s.value]));
    const expected = new Map(other.filter(compared).map((s) => [key(s), s.value]));
    expect(Object.fromEntries(mine)).toEqual(Object.fromEntries(expected));
    // And in the same order, metric by metric.
    const order = (list: Sample[]) => list.filter(compared).map(key);
    expect(order(samples)).toEqual(order(other));
  });
});
