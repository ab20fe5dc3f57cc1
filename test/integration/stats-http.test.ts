import { existsSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ctlExchange } from "../../cli/ctl.js";
import { freePort, HAVE_HAPROXY, type Proc, spawnProgram, tempDir, waitFor } from "../helpers/index.js";
import { parseHttpLog, type Receiver, startReceiver, startUpstream, type Upstream } from "./log-fixture.js";

const AUTH = `Basic ${Buffer.from("admin:secret").toString("base64")}`;
const BAD_AUTH = `Basic ${Buffer.from("admin:wrong").toString("base64")}`;

interface Ports {
  fe: number;
  fe2: number;
  open: number;
}

function config(p: Ports, rx: number, up: number, dead: number, sock: string): string {
  return [
    "global",
    `    log 127.0.0.1:${rx} local3`,
    `    stats socket ${sock} level admin`,
    "defaults",
    "    mode http",
    "    log global",
    "    option httplog",
    "    timeout connect 1s",
    "    timeout client 5s",
    "    timeout server 5s",
    "frontend fe",
    `    bind 127.0.0.1:${p.fe}`,
    "    monitor-uri /haproxy_test",
    "    acl be_dead nbsrv(be) lt 1",
    "    monitor fail if be_dead",
    "    default_backend be",
    "frontend fe2",
    `    bind 127.0.0.1:${p.fe2}`,
    "    monitor-uri /mon",
    "    monitor fail unless { nbsrv(bdead) ge 1 }",
    "    default_backend be",
    "backend be",
    "    stats enable",
    "    stats uri /haproxy-stats",
    "    stats refresh 10s",
    "    stats realm Fulcrum\\ Stats",
    "    stats auth admin:secret",
    "    stats show-legends",
    "    option httpchk HEAD / HTTP/1.0",
    `    server s1 127.0.0.1:${up} check inter 200`,
    "backend bdead",
    `    server d 127.0.0.1:${dead} check inter 100 fall 1`,
    "listen open",
    `    bind 127.0.0.1:${p.open}`,
    "    stats enable",
    "    stats uri /st",
    "    stats hide-version",
    `    server s1 127.0.0.1:${up}`,
    "",
  ].join("\n");
}

/** Sends raw bytes; resolves with all bytes received once the proxy closes (or 2 s). */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1", () => s.write(bytes));
    let out = "";
    const t = setTimeout(() => s.destroy(), 2000);
    s.setEncoding("latin1");
    s.on("data", (d: string) => {
      out += d;
    });
    s.on("close", () => {
      clearTimeout(t);
      resolve(out);
    });
    s.on("error", () => undefined);
  });
}

const get = (path: string, headers: string[] = [], method = "GET", version = "1.1") =>
  `${method} ${path} HTTP/${version}\r\nhost: x\r\n${headers.map((h) => `${h}\r\n`).join("")}\r\n`;
const close = "connection: close";

/** A request and how its answer is compared: whole bytes, or status line and headers only. */
interface Case {
  readonly name: string;
  readonly port: keyof Ports;
  readonly bytes: string;
  readonly headOnly?: boolean;
}

const CASES: readonly Case[] = [
  { name: "monitor-uri GET: 200", port: "fe", bytes: get("/haproxy_test", [close]) },
  { name: "monitor-uri HEAD: 200 without a body", port: "fe", bytes: get("/haproxy_test", [close], "HEAD") },
  { name: "monitor-uri answers any method", port: "fe", bytes: get("/haproxy_test", [close], "POST") },
  { name: "monitor fail unless nbsrv(): 503", port: "fe2", bytes: get("/mon", [close]) },
  { name: "monitor fail HEAD: 503 without a body", port: "fe2", bytes: get("/mon", [close], "HEAD") },
  {
    name: "monitor-uri with a query string is an ordinary request",
    port: "fe",
    bytes: get("/haproxy_test?x=1", [close]),
  },
  { name: "monitor-uri on HTTP/1.0", port: "fe", bytes: get("/haproxy_test", [], "GET", "1.0") },
  {
    name: "monitor-uri on a keep-alive connection",
    port: "fe",
    bytes: get("/haproxy_test") + get("/haproxy_test", [close], "HEAD"),
  },
  {
    name: "stats without credentials: 401 with the realm",
    port: "fe",
    bytes: get("/haproxy-stats", [close]),
  },
  {
    name: "stats with a wrong password: 401",
    port: "fe",
    bytes: get("/haproxy-stats", [close, `authorization: ${BAD_AUTH}`]),
  },
  {
    name: "stats HEAD with credentials: 200, refresh",
    port: "fe",
    bytes: get("/haproxy-stats", [close, `authorization: ${AUTH}`], "HEAD"),
  },
  {
    name: "stats page with credentials: 200 headers",
    port: "fe",
    bytes: get("/haproxy-stats", [close, `authorization: ${AUTH}`]),
    headOnly: true,
  },
  {
    name: "stats CSV: 200 text/plain headers",
    port: "fe",
    bytes: get("/haproxy-stats;csv;norefresh", [close, `authorization: ${AUTH}`]),
    headOnly: true,
  },
  {
    name: "stats POST without stats admin: 303 to ;st=DENY",
    port: "open",
    bytes: get("/st", [close], "POST"),
  },
  { name: "stats with another method goes to a server", port: "open", bytes: get("/st", [close], "PUT") },
  {
    name: "stats page without auth: 200 headers",
    port: "open",
    bytes: get("/st;up", [close]),
    headOnly: true,
  },
];

/** Status lines and headers (framing headers left out), or the whole answer. */
function comparable(text: string, headOnly: boolean): string {
  if (!headOnly) return text;
  const head = text.split("\r\n\r\n", 1)[0] ?? "";
  return head
    .split("\r\n")
    .filter((l) => !/^(content-length|transfer-encoding):/i.test(l))
    .join("\r\n");
}

interface Side {
  proc: Proc;
  ports: Ports;
  rx: Receiver;
  answers: string[];
}

describe.skipIf(!HAVE_HAPROXY)("stats page and monitor-uri side by side with haproxy 2.6", () => {
  const dir = tempDir("stats-http-");
  let up: Upstream;
  let ha: Side;
  let fu: Side;

  async function start(kind: "haproxy" | "fulcrum", dead: number): Promise<Side> {
    const rx = await startReceiver();
    const ports: Ports = { fe: await freePort(), fe2: await freePort(), open: await freePort() };
    const cfg = join(dir.path, `${kind}.cfg`);
    const sock = join(dir.path, `${kind}.sock`);
    writeFileSync(cfg, config(ports, rx.port, up.port, dead, sock));
    const proc = spawnProgram(kind, cfg);
    await waitFor(() => existsSync(sock), { what: `${kind}'s stats socket` });
    // bdead/d DOWN and be/s1 checked before anything is compared.
    await waitFor(
      async () => {
        // Read on the stats socket: the traffic compared later is only the test's own.
        const csv = await ctlExchange(sock, "show stat");
        return /\nbdead,d,(?:[^,]*,){15}DOWN,/.test(csv) && /\nbe,s1,(?:[^,]*,){34}L7OK,/.test(csv);
      },
      { what: `${kind}: checks settled` },
    );
    const answers: string[] = [];
    for (const c of CASES) answers.push(await raw(ports[c.port], c.bytes));
    return { proc, ports, rx, answers };
  }

  beforeAll(async () => {
    up = await startUpstream("s1");
    const dead = await freePort();
    ha = await start("haproxy", dead);
    fu = await start("fulcrum", dead);
  }, 60_000);

  afterAll(async () => {
    for (const s of [ha, fu]) {
      await s?.proc.stop();
      await s?.rx.close();
    }
    await up?.close();
    dir.remove();
  });

  CASES.forEach((c, i) => {
    it(`${c.name}, as haproxy answers`, () => {
      const a = comparable(ha.answers[i]!, c.headOnly === true);
      const b = comparable(fu.answers[i]!, c.headOnly === true);
      expect(b).toBe(a);
    });
  });

  it("never forwards a stats or monitor request to a server", () => {
    const seen = up.heads.map((h) => h.split("\r\n", 1)[0]);
    expect(seen.filter((l) => /haproxy-stats|^\w+ \/st\b|\/mon\b|\/haproxy_test/.test(l ?? ""))).toEqual([
      // Only what is not theirs: the query string request and the PUT, once per proxy.
      "GET /haproxy_test?x=1 HTTP/1.1",
      "PUT /st HTTP/1.1",
      "GET /haproxy_test?x=1 HTTP/1.1",
      "PUT /st HTTP/1.1",
    ]);
  });

  it("never logs a monitor request, and logs a stats request as <STATS> LR--", async () => {
    for (const side of [ha, fu]) {
      await raw(side.ports.open, get("/after", [close]));
      await waitFor(() => side.rx.datagrams.some((d) => d.includes("GET /after ")), {
        what: "the last line",
      });
      const lines = side.rx.datagrams.map(parseHttpLog).filter((g) => g !== undefined);
      expect(lines.filter((g) => /\/haproxy_test |\/mon /.test(g!.req))).toEqual([]);
      const stats = lines.find((g) => g!.req.startsWith("HEAD /haproxy-stats"));
      expect(`${stats?.srv} ${stats?.ts} ${stats?.status}`).toBe("<STATS> LR-- 200");
    }
  });

  it("counts the same traffic the same way in the stats CSV", async () => {
    const csv = async (s: Side) => {
      const text = await raw(s.ports.fe, get("/haproxy-stats;csv", [close, `authorization: ${AUTH}`]));
      const body = text.slice(text.indexOf("# pxname"));
      const lines = body.split("\n").filter((l) => /^\w+,/.test(l));
      const header = body.split("\n", 1)[0]!.replace(/^# /, "").split(",");
      return new Map(
        lines.map((l) => {
          const cells = l.split(",");
          return [`${cells[0]}/${cells[1]}`, Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ""]))];
        }),
      );
    };
    const a = await csv(ha);
    const b = await csv(fu);
    // Everything the same traffic decides. Left out: rates (a second's boundary), bout (the
    // page bodies differ), idle server connections and check timings (see the report).
    const cols = [
      "scur",
      "stot",
      "bin",
      "req_tot",
      "hrsp_1xx",
      "hrsp_2xx",
      "hrsp_3xx",
      "hrsp_4xx",
      "hrsp_5xx",
      "hrsp_other",
      "intercepted",
      "status",
      "ereq",
      "econ",
      "eresp",
      "lbtot",
      "wretr",
      "wredis",
      "weight",
      "act",
      "bck",
    ];
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const key of a.keys()) {
      for (const col of cols) {
        expect(`${key} ${col}=${b.get(key)?.[col]}`).toBe(`${key} ${col}=${a.get(key)?.[col]}`);
      }
    }
  });

  it("shows each server's row with its check result, legends, and the version unless hidden", async () => {
    // The first checks of both servers must be in (a loaded machine may run them late).
    const page = await waitFor(
      async () => {
        const p = await raw(fu.ports.fe, get("/haproxy-stats", [close, `authorization: ${AUTH}`]));
        return /L7OK\/200 in \d+ms/.test(p) && /L4CON in \d+ms/.test(p) ? p : undefined;
      },
      { what: "both check results on the stats page", interval: 50 },
    );
    for (const row of ["Frontend", "Backend", ">s1<", ">d<"]) expect(page).toContain(row);
    expect(page).toMatch(/L7OK\/200 in \d+ms/);
    expect(page).toMatch(/L4CON in \d+ms/);
    expect(page).toContain("active server, address 127.0.0.1");
    expect(page).toMatch(/version \d+\.\d+\.\d+/);
    const hidden = await raw(fu.ports.open, get("/st", [close]));
    expect(hidden).toContain("Statistics Report");
    expect(hidden).not.toMatch(/version \d+\.\d+\.\d+/);
  });
});
