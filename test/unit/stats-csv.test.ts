/**
 * The stats CSV against what haproxy 2.6.12 wrote for the same kinds of rows. HAPROXY_CSV
 * was captured from `curl 'http://127.0.0.1:PORT/haproxy-stats;csv'` on this config:
 *
 *   global: maxconn 100 / defaults: mode http, option httplog
 *   listen web_proxy: stats enable, stats uri /haproxy-stats, option httpchk,
 *     server web1 ... check (answering), server web2 ... check rise 2 fall 3 (stopped),
 *     server web3 ... check (nothing listening), server web4 ... (no check, then
 *     `set server web_proxy/web4 state maint`), server web5 ... backup check (stopped)
 *   frontend fe_only -> backend be_only (server s1, no check)
 */
import { describe, expect, it } from "vitest";
import type { ConfigModel } from "../../proxy/config/model.js";
import {
  COLUMNS,
  CSV_HEADER,
  columnIndex,
  csvCell,
  serverStatus,
  statsCsv,
  statsRows,
} from "../../proxy/stats/csv.js";
import { fullconnTable, type StatsSnapshot } from "../../proxy/stats/snapshot.js";
import {
  backendRuntime,
  frontendRuntime,
  L4CON,
  L7OK,
  proxyModel,
  serverModel,
  statsConfig,
} from "./stats-fixture.js";

const HAPROXY_CSV = [
  "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,",
  "web_proxy,FRONTEND,,,1,2,100,40,5986,54285,0,0,10,,,,,OPEN,,,,,,,,,1,2,0,,,,0,1,0,7,,,,0,27,1,10,1,0,,1,7,40,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,http,,1,7,40,12,0,0,0,,,0,0,,,,,,,0,,,,,,,,,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,1,40,39,6664,57133,0,0,",
  "web_proxy,web1,0,0,0,1,,14,4833,1834,,0,,0,0,0,0,UP,1,1,0,2,3,291,2,,1,2,1,,14,,2,0,,6,L7OK,200,2,0,14,0,0,0,0,,,,14,0,0,,,,,218,,,0,1,5,5,,,,Layer7 check passed,,2,3,4,,,,,,http,,,,,,,,0,14,0,,,0,,0,1,43,43,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,",
  "web_proxy,web2,0,0,0,1,,2,212,297,,0,,0,0,0,0,DOWN,1,1,0,8,3,359,399,,1,2,2,,1,,2,0,,2,L4CON,,0,0,2,0,0,0,0,,,,2,0,0,,,,,548,Connection refused,,0,0,2,2,,,,Layer4 connection problem,,2,3,0,,,,,,http,,,,,,,,0,2,0,,,0,,0,0,2,2,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,",
  "web_proxy,web3,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,1,1,559,559,,1,2,3,,0,,2,0,,0,L4CON,,0,0,0,0,0,0,0,,,,0,0,0,,,,,-1,Connection refused,,0,0,0,0,,,,Layer4 connection problem,,2,3,0,,,,,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,",
  "web_proxy,web4,0,0,0,1,,2,148,662,,0,,0,0,0,0,MAINT,1,1,0,,,458,,,1,2,4,,2,,2,0,,1,,,,0,1,0,0,1,0,,,,2,0,0,,,,,465,,,0,0,1,1,,,,,,,,,,,,,,http,,,,,,,,0,2,0,,,0,,0,0,1,1,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,",
  "web_proxy,web5,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,0,1,6,2,357,393,,1,2,5,,0,,2,0,,0,L4CON,,0,0,0,0,0,0,0,,,,0,0,0,,,,,-1,Connection refused,,0,0,0,0,,,,Layer4 connection problem,,2,3,0,,,,,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,",
  "web_proxy,BACKEND,0,0,0,1,10,18,5986,54285,0,0,,0,0,0,0,UP,1,1,0,,2,289,0,,1,2,0,,17,,1,0,,6,,,,0,17,0,0,1,0,,,,18,0,0,0,0,0,0,0,,,0,1,4,4,,,,,,,,,,,,,,http,,,,,,,,0,18,0,0,0,,,0,1,43,43,0,,,,,1,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1965,1965,90798,19984,0,0,",
  "fe_only,FRONTEND,,,0,1,100,2,165,262,0,0,0,,,,,OPEN,,,,,,,,,1,3,0,,,,0,0,0,1,,,,0,2,0,0,0,0,,0,1,2,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,http,,0,1,2,0,0,0,0,,,0,0,,,,,,,0,,,,,,,,,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2,2,159,256,0,0,",
  "be_only,s1,0,0,0,1,,2,165,262,,0,,0,0,0,0,no check,1,1,0,,,559,,,1,4,1,,2,,2,0,,1,,,,0,2,0,0,0,0,,,,2,0,0,,,,,314,,,0,0,1,1,,,,,,,,,,,,,,http,,,,,,,,0,2,0,,,0,,0,0,1,1,0,0,0,0,0,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,",
  "be_only,BACKEND,0,0,0,1,10,2,165,262,0,0,,0,0,0,0,UP,1,1,0,,0,559,0,,1,4,0,,2,,1,0,,1,,,,0,2,0,0,0,0,,,,2,0,0,0,0,0,0,314,,,0,0,1,1,,,,,,,,,,,,,,http,,,,,,,,0,2,0,0,0,,,0,0,1,1,0,,,,,1,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2,2,256,159,0,0,",
];

const HAPROXY_HEADER = HAPROXY_CSV[0]!;

/** Splits one CSV line the way a monitoring script does (no quoted cells here). */
function split(line: string): string[] {
  const cells = line.split(",");
  expect(cells.pop()).toBe(""); // HAProxy ends every line with a comma
  return cells;
}

function haproxyRow(px: string, sv: string): string[] {
  const line = HAPROXY_CSV.find((l) => l.startsWith(`${px},${sv},`));
  if (line === undefined) throw new Error(`no captured row ${px}/${sv}`);
  return split(line);
}

const NOW = 1_800_000_000_000;

/** The captured node, rebuilt as fulcrum's model and runtime records. */
function capturedNode(): StatsSnapshot {
  const web = proxyModel({
    name: "web_proxy",
    id: 2,
    kind: "listen",
    stats: statsConfig(),
    cookie: {
      name: "SRV",
      mode: "insert",
      indirect: true,
      nocache: true,
      postonly: false,
      preserve: false,
      httponly: false,
      secure: false,
      attrs: [],
      domains: [],
      loc: { file: "t", line: 1 },
    },
    servers: [
      serverModel({ name: "web1", id: 1, check: true, cookie: "A", port: 37617 }),
      serverModel({ name: "web2", id: 2, check: true, cookie: "B" }),
      serverModel({ name: "web3", id: 3, check: true, cookie: "C" }),
      serverModel({ name: "web4", id: 4, cookie: "D" }),
      serverModel({ name: "web5", id: 5, check: true, backup: true }),
    ],
  });
  const feOnly = proxyModel({ name: "fe_only", id: 3, kind: "frontend", defaultBackend: "be_only" });
  const beOnly = proxyModel({
    name: "be_only",
    id: 4,
    kind: "backend",
    servers: [serverModel({ name: "s1", id: 1 })],
  });
  const webBe = backendRuntime(web, {
    web1: { check: L7OK(NOW - 1000), lastChange: NOW - 291_000, downTime: 2000, chkfail: 2, chkdown: 3 },
    web2: {
      up: false,
      check: L4CON(NOW - 500),
      lastChange: NOW - 359_000,
      downSince: NOW - 359_000,
      downTime: 40_000,
      chkfail: 8,
      chkdown: 3,
    },
    web3: {
      up: false,
      check: L4CON(NOW - 500),
      lastChange: NOW - 559_000,
      downSince: NOW - 559_000,
      chkfail: 1,
      chkdown: 1,
    },
    web4: { admin: "maint", lastChange: NOW - 458_000 },
    web5: {
      up: false,
      check: L4CON(NOW - 500),
      lastChange: NOW - 357_000,
      downSince: NOW - 357_000,
      downTime: 36_000,
      chkfail: 6,
      chkdown: 2,
    },
  });
  webBe.lastChange = NOW - 289_000;
  webBe.chkdown = 2;
  return {
    pid: 4242,
    now: NOW,
    startedAt: NOW - 600_000,
    globalMaxconn: 100,
    version: "0.1.0",
    proxies: [
      { cfg: web, frontend: frontendRuntime(web), backend: webBe, fullconn: 10 },
      { cfg: feOnly, frontend: frontendRuntime(feOnly) },
      { cfg: beOnly, backend: backendRuntime(beOnly, { s1: { lastChange: NOW - 559_000 } }), fullconn: 10 },
    ],
  };
}

function ourRows(snap: StatsSnapshot, legends = false): Map<string, string[]> {
  const text = statsCsv(snap, { legends });
  const lines = text.split("\n");
  expect(lines.pop()).toBe("");
  const out = new Map<string, string[]>();
  for (const l of lines.slice(1)) {
    const cells = split(l);
    out.set(`${cells[0]}/${cells[1]}`, cells);
  }
  return out;
}

const emptyMask = (cells: readonly string[]) => cells.map((c) => (c === "" ? "." : "x")).join("");

describe("stats CSV (stats uri ...;csv)", () => {
  it("writes HAProxy 2.6's header: the same 128 columns in the same order, trailing comma", () => {
    expect(CSV_HEADER).toBe(`${HAPROXY_HEADER}\n`);
    expect(COLUMNS).toHaveLength(128);
    expect(split(HAPROXY_HEADER)).toHaveLength(128);
  });

  it("gives every FRONTEND, server and BACKEND row as many fields as the header", () => {
    const rows = ourRows(capturedNode());
    expect([...rows.keys()]).toEqual(HAPROXY_CSV.slice(1).map((l) => l.split(",").slice(0, 2).join("/")));
    for (const cells of rows.values()) expect(cells).toHaveLength(128);
  });

  it.each([
    ["web_proxy", "FRONTEND"],
    ["web_proxy", "web1"],
    ["web_proxy", "web3"],
    ["web_proxy", "web4"],
    ["web_proxy", "web5"],
    ["web_proxy", "BACKEND"],
    ["fe_only", "FRONTEND"],
    ["be_only", "s1"],
    ["be_only", "BACKEND"],
  ])("leaves empty exactly the cells HAProxy leaves empty on %s/%s", (px, sv) => {
    const ours = ourRows(capturedNode()).get(`${px}/${sv}`)!;
    const theirs = haproxyRow(px, sv);
    const diff = COLUMNS.map((c, i) => ((ours[i] === "") !== (theirs[i] === "") ? c.name : null)).filter(
      Boolean,
    );
    expect(diff).toEqual([]);
    expect(emptyMask(ours)).toBe(emptyMask(theirs));
  });

  it.each([
    [
      "web_proxy",
      "web1",
      [
        "status",
        "check_status",
        "check_code",
        "check_desc",
        "check_rise",
        "check_fall",
        "check_health",
        "lastchg",
        "weight",
        "act",
        "bck",
        "chkfail",
        "chkdown",
        "downtime",
      ],
    ],
    [
      "web_proxy",
      "web3",
      [
        "status",
        "check_status",
        "check_code",
        "last_chk",
        "check_desc",
        "check_health",
        "lastchg",
        "downtime",
        "lastsess",
      ],
    ],
    ["web_proxy", "web4", ["status", "lastchg", "chkfail", "downtime", "check_status"]],
    ["web_proxy", "web5", ["status", "act", "bck", "check_status", "last_chk"]],
    ["web_proxy", "BACKEND", ["status", "weight", "act", "bck", "slim", "chkdown", "lastchg", "type", "sid"]],
    ["web_proxy", "FRONTEND", ["status", "slim", "type", "sid", "iid", "pid", "mode"]],
    ["be_only", "s1", ["status", "type", "sid", "iid"]],
  ])("spells %s/%s's state columns as HAProxy does", (px, sv, names) => {
    const ours = ourRows(capturedNode()).get(`${px}/${sv}`)!;
    const theirs = haproxyRow(px, sv);
    for (const name of names) {
      const i = columnIndex(name);
      expect({ name, value: ours[i] }).toEqual({ name, value: theirs[i] });
    }
  });

  it("spells server states UP, UP 2/3, UP 1/3, DOWN, DOWN 1/2, DRAIN, DRAIN 2/3, MAINT, no check", () => {
    const px = proxyModel({
      name: "b",
      id: 1,
      kind: "backend",
      servers: [
        serverModel({ name: "up", id: 1, check: true }),
        serverModel({ name: "going-down-1", id: 2, check: true }),
        serverModel({ name: "going-down-2", id: 3, check: true }),
        serverModel({ name: "down", id: 4, check: true }),
        serverModel({ name: "going-up", id: 5, check: true }),
        serverModel({ name: "drain", id: 6, check: true }),
        serverModel({ name: "drain-going-down", id: 7, check: true }),
        serverModel({ name: "maint", id: 8, check: true }),
        serverModel({ name: "unchecked", id: 9 }),
        serverModel({ name: "unchecked-drain", id: 10 }),
        serverModel({ name: "disabled", id: 11, disabled: true }),
      ],
    });
    const be = backendRuntime(px, {
      "going-down-1": { health: 3 },
      "going-down-2": { health: 2 },
      down: { up: false, health: 0 },
      "going-up": { up: false, health: 1 },
      drain: { admin: "drain" },
      "drain-going-down": { admin: "drain", health: 3 },
      maint: { admin: "maint" },
      "unchecked-drain": { admin: "drain" },
    });
    expect(be.servers.map((s) => [s.cfg.name, serverStatus(s)])).toEqual([
      ["up", "UP"],
      ["going-down-1", "UP 2/3"],
      ["going-down-2", "UP 1/3"],
      ["down", "DOWN"],
      ["going-up", "DOWN 1/2"],
      ["drain", "DRAIN"],
      ["drain-going-down", "DRAIN 2/3"],
      ["maint", "MAINT"],
      ["unchecked", "no check"],
      ["unchecked-drain", "DRAIN"],
      ["disabled", "MAINT"],
    ]);
  });

  it("counts only usable servers in the BACKEND's weight, act and bck, and reports DOWN when none is left", () => {
    const px = proxyModel({
      name: "b",
      id: 1,
      kind: "backend",
      servers: [
        serverModel({ name: "a", id: 1, weight: 5 }),
        serverModel({ name: "b", id: 2, weight: 3, check: true }),
        serverModel({ name: "bk", id: 3, weight: 2, backup: true }),
      ],
    });
    const rowOf = (be: ReturnType<typeof backendRuntime>) => {
      const snap: StatsSnapshot = {
        pid: 1,
        now: NOW,
        startedAt: NOW,
        globalMaxconn: 100,
        version: "x",
        proxies: [{ cfg: px, backend: be }],
      };
      const r = statsRows(snap, { legends: false }).find((x) => x.kind === "backend")!;
      return ["status", "weight", "act", "bck"].map((n) => r.fields[columnIndex(n)]);
    };
    expect(rowOf(backendRuntime(px))).toEqual(["UP", "8", "2", "1"]);
    expect(rowOf(backendRuntime(px, { b: { up: false } }))).toEqual(["UP", "5", "1", "1"]);
    expect(rowOf(backendRuntime(px, { a: { admin: "maint" }, b: { up: false } }))).toEqual([
      "UP",
      "2",
      "0",
      "1",
    ]);
    expect(rowOf(backendRuntime(px, { a: { admin: "drain" }, b: { up: false }, bk: { up: false } }))).toEqual(
      ["DOWN", "0", "0", "0"],
    );
  });

  it("running on backup, weighs the first usable backup alone, or every one with option allbackups", () => {
    const servers = [
      serverModel({ name: "a", id: 1, weight: 5 }),
      serverModel({ name: "b1", id: 2, weight: 3, backup: true }),
      serverModel({ name: "b2", id: 3, weight: 5, backup: true }),
    ];
    const weightOf = (allbackups: boolean, states: Parameters<typeof backendRuntime>[1]) => {
      const px = proxyModel({ name: "b", id: 1, kind: "backend", servers });
      const cfg = { ...px, options: { ...px.options, allbackups } };
      const snap: StatsSnapshot = {
        pid: 1,
        now: NOW,
        startedAt: NOW,
        globalMaxconn: 100,
        version: "x",
        proxies: [{ cfg, backend: backendRuntime(cfg, states) }],
      };
      const r = statsRows(snap, { legends: false }).find((x) => x.kind === "backend")!;
      return ["weight", "act", "bck"].map((n) => r.fields[columnIndex(n)]);
    };
    expect(weightOf(false, { a: { up: false } })).toEqual(["3", "0", "2"]);
    expect(weightOf(false, { a: { up: false }, b1: { admin: "maint" } })).toEqual(["5", "0", "1"]);
    expect(weightOf(true, { a: { up: false } })).toEqual(["8", "0", "2"]);
  });

  it("fills addr, cookie and algo only with stats show-legends", () => {
    const plain = ourRows(capturedNode(), false);
    const legends = ourRows(capturedNode(), true);
    const at = (rows: Map<string, string[]>, key: string, name: string) => rows.get(key)![columnIndex(name)];
    expect(at(plain, "web_proxy/web1", "addr")).toBe("");
    expect(at(legends, "web_proxy/web1", "addr")).toBe("127.0.0.1:37617");
    expect(at(legends, "web_proxy/web1", "cookie")).toBe("A");
    expect(at(legends, "web_proxy/web5", "cookie")).toBe("");
    expect(at(legends, "web_proxy/BACKEND", "cookie")).toBe("SRV");
    expect(at(legends, "web_proxy/BACKEND", "algo")).toBe("roundrobin");
    expect(at(plain, "web_proxy/BACKEND", "algo")).toBe("");
  });

  it("leaves out servers that are not UP with ;up, and MAINT ones with ;no-maint", () => {
    const snap = capturedNode();
    const names = (o: { hideDown?: boolean; hideMaint?: boolean }) =>
      statsRows(snap, { legends: false, ...o })
        .filter((r) => r.kind === "server")
        .map((r) => r.server!.cfg.name);
    expect(names({})).toEqual(["web1", "web2", "web3", "web4", "web5", "s1"]);
    expect(names({ hideDown: true })).toEqual(["web1", "s1"]);
    expect(names({ hideMaint: true })).toEqual(["web1", "web2", "web3", "web5", "s1"]);
  });

  it("shows the slowstart throttle in percent while the weight ramps, and nothing once it is full", () => {
    const snap = capturedNode();
    const web1 = snap.proxies[0]!.backend!.servers[0]!;
    // A 4 s ramp of weight 1 measured on haproxy 2.6: 6, 31, 56, 81 (sixteenths 1, 5, 9, 13).
    const seen = [1, 5, 9, 13, 16].map((sixteenths) => {
      web1.effectiveWeight = (web1.cfg.weight * sixteenths) / 16;
      return ourRows(snap).get("web_proxy/web1")![columnIndex("throttle")];
    });
    expect(seen).toEqual(["6", "31", "56", "81", ""]);
  });

  it("reports lastsess -1 for a server that never had a session, else seconds since the last one", () => {
    const snap = capturedNode();
    const be = snap.proxies[0]!.backend!;
    be.servers[0]!.counters.lastSess = NOW - 218_400;
    const rows = ourRows(snap);
    // 218.4 s ago, in whole seconds as HAProxy subtracts them: 1800000000 - 1799999781.
    expect(rows.get("web_proxy/web1")![columnIndex("lastsess")]).toBe("219");
    expect(rows.get("web_proxy/web3")![columnIndex("lastsess")]).toBe("-1");
  });

  it("counts lastchg from the node's start for a server that never changed state", () => {
    const snap = capturedNode();
    snap.proxies[0]!.backend!.servers[0]!.lastChange = 0;
    expect(ourRows(snap).get("web_proxy/web1")![columnIndex("lastchg")]).toBe("600");
  });

  it("quotes a cell only when it holds a comma, a quote or a line break", () => {
    expect(csvCell("Connection refused")).toBe("Connection refused");
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
  });

  it("defaults a backend's slim to a tenth (rounded up) of the maxconn of the frontends that reach it", () => {
    const model = {
      global: { maxconn: 1000 },
      proxies: [
        proxyModel({ name: "f1", id: 1, kind: "frontend", maxconn: 105, defaultBackend: "b1" }),
        proxyModel({
          name: "f2",
          id: 2,
          kind: "frontend",
          maxconn: 33,
          defaultBackend: "b2",
          useBackends: [
            {
              backend: "b1",
              cond: { polarity: "if", anyOf: [], loc: { file: "t", line: 1 } },
              loc: { file: "t", line: 1 },
            },
          ],
        }),
        proxyModel({ name: "b1", id: 3, kind: "backend" }),
        proxyModel({ name: "b2", id: 4, kind: "backend", fullconn: 55 }),
        proxyModel({ name: "l3", id: 5, kind: "listen" }),
      ],
    } as unknown as ConfigModel;
    expect(Object.fromEntries(fullconnTable(model))).toEqual({ b1: 14, b2: 55, l3: 100 });
  });
});
