/**
 * The pure parts of `fulcrum bench`: the plan, wrk's result line, /proc parsing, ratios and
 * the table, the pre-run checks, the results file. Nothing here starts a process.
 */
import { describe, expect, it } from "vitest";
import { checkFindings, hasProblem } from "../../bench/checks.js";
import { haproxyCfg, nginxProxyConf, upstreamNginxConf } from "../../bench/configs.js";
import { BODIES, parseTargets, runPlan } from "../../bench/plan.js";
import { parseChildren, parseCpuTicks, parseVmRssKiB } from "../../bench/procstat.js";
import { type Measurement, renderTable, withRatios } from "../../bench/report.js";
import { mergeResults } from "../../bench/results.js";
import { parseWrkReport, totalErrors, WRK_MARK, WRK_SCRIPT, wrkArgs } from "../../bench/wrk.js";

/** A line real wrk 4.1 printed with WRK_SCRIPT (1 s, 10 connections, nginx). */
const WRK_STDOUT = `Running 1s test @ http://127.0.0.1:18081/small
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.01ms    6.27ms  48.47ms   92.19%
    Req/Sec     9.06k     2.68k   13.01k    60.00%
  9135 requests in 1.02s, 2.31MB read
Requests/sec:   8984.68
Transfer/sec:      2.27MB
FULCRUM-BENCH {"requests":9135,"durationUs":1016731,"bytes":2420775,"errors":{"connect":0,"read":0,"write":0,"status":0,"timeout":0},"latencyUs":{"mean":3005.3,"p50":459,"p90":6311,"p99":33935,"max":48468}}
`;

describe("bench plan", () => {
  it("keeps the canonical target order and drops duplicates", () => {
    expect(parseTargets("direct,HAProxy, fulcrum,direct")).toEqual(["fulcrum", "haproxy", "direct"]);
  });

  it("refuses an unknown target as a usage error naming the choices", () => {
    expect(() => parseTargets("fulcrum,envoy")).toThrow(
      /unknown target "envoy".*fulcrum,haproxy,nginx,direct/,
    );
    expect(() => parseTargets(" , ")).toThrow(expect.objectContaining({ code: "FUL_USAGE" }));
  });

  it("runs 10 s per scenario, 3 s with --quick, on small and 16 KiB bodies at 50 and 256 connections", () => {
    const full = runPlan(false);
    expect(full.durationS).toBe(10);
    expect(runPlan(true).durationS).toBe(3);
    expect(full.threads).toBe(1);
    expect(full.scenarios.map((s) => s.id)).toEqual(["small-c50", "small-c256", "16k-c50", "16k-c256"]);
    expect(BODIES["16k"].text.length).toBe(16384);
  });
});

describe("bench configurations", () => {
  const servers = [
    { name: "a", port: 4001 },
    { name: "b", port: 4002 },
  ];

  it("gives haproxy and fulcrum one thread, roundrobin, forwardfor and no log line", () => {
    const cfg = haproxyCfg({ port: 4000, servers });
    expect(cfg).toMatch(/^\s+nbthread 1$/m);
    expect(cfg).toMatch(/^\s+balance roundrobin$/m);
    expect(cfg).toMatch(/^\s+option forwardfor$/m);
    expect(cfg).toMatch(/^\s+server b 127\.0\.0\.1:4002$/m);
    expect(cfg).not.toMatch(/^\s*log\b/m);
  });

  it("gives nginx one process, keep-alive to the servers and X-Forwarded-For", () => {
    const conf = nginxProxyConf({ port: 4000, servers, dir: "/tmp/x" });
    expect(conf).toContain("master_process off;");
    expect(conf).toContain("worker_processes 1;");
    expect(conf).toMatch(/keepalive 512;/);
    expect(conf).toContain('proxy_set_header Connection "";');
    expect(conf).toContain("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;");
    expect(conf).toContain("access_log off;");
    expect(conf).toContain("client_body_temp_path /tmp/x/client_body_temp;");
  });

  it("makes each upstream name itself and echo the X-Forwarded-For it received", () => {
    const conf = upstreamNginxConf({ name: "b", port: 4002, dir: "/tmp/b", root: "/tmp/www" });
    expect(conf).toContain("add_header X-Upstream b;");
    expect(conf).toContain("add_header X-Seen-Forwarded-For $http_x_forwarded_for;");
    expect(conf).toContain("listen 127.0.0.1:4002;");
  });
});

describe("wrk result line", () => {
  it("reads exact figures from the script's line, latencies in ms", () => {
    const r = parseWrkReport(WRK_STDOUT);
    expect(r.requests).toBe(9135);
    expect(r.durationS).toBeCloseTo(1.016731, 6);
    expect(r.rps).toBeCloseTo(9135 / 1.016731, 3);
    expect(r.latencyMs.p50).toBeCloseTo(0.459, 6);
    expect(r.latencyMs.p99).toBeCloseTo(33.935, 6);
    expect(r.latencyMs.max).toBeCloseTo(48.468, 6);
    expect(totalErrors(r.errors)).toBe(0);
  });

  it("counts every kind of error", () => {
    const line = `${WRK_MARK}{"requests":10,"durationUs":1000000,"bytes":1,"errors":{"connect":1,"read":2,"write":3,"status":4,"timeout":5},"latencyUs":{"mean":1,"p50":1,"p90":1,"p99":1,"max":1}}`;
    expect(totalErrors(parseWrkReport(line).errors)).toBe(15);
  });

  it("fails with a clear error when the result line is missing or broken", () => {
    expect(() => parseWrkReport("Requests/sec: 100\n")).toThrow(/no result line/);
    expect(() => parseWrkReport(`${WRK_MARK}{"requests":`)).toThrow(/not JSON/);
    expect(() => parseWrkReport(`${WRK_MARK}{"requests":1}`)).toThrow(/no valid duration/);
  });

  it("asks wrk for one script-only hook, so wrk keeps its static request", () => {
    expect(WRK_SCRIPT).toMatch(/^done = function/m);
    expect(WRK_SCRIPT).not.toMatch(/^(request|response) = function/m);
    const args = wrkArgs({
      url: "http://127.0.0.1:1/small",
      connections: 256,
      threads: 1,
      durationS: 10,
      requestTimeoutS: 2,
      script: "/tmp/s.lua",
    });
    expect(args).toEqual([
      "-t1",
      "-c256",
      "-d10s",
      "--timeout",
      "2s",
      "-s",
      "/tmp/s.lua",
      "http://127.0.0.1:1/small",
    ]);
  });
});

describe("/proc parsing", () => {
  it("adds utime and stime of a stat line whose command holds spaces and parentheses", () => {
    const line = "6153 (node (x) y) R 6062 6062 30177 0 -1 4194304 99 0 0 0 250 37 0 0 20 0 1 0 246385";
    expect(parseCpuTicks(line)).toBe(287);
    expect(parseCpuTicks("garbage")).toBeUndefined();
  });

  it("reads VmRSS in KiB and nothing for a process without one", () => {
    expect(parseVmRssKiB("Name:\tnode\nVmPeak:\t  9 kB\nVmRSS:\t    1732 kB\nRssAnon: 5 kB\n")).toBe(1732);
    expect(parseVmRssKiB("Name:\tkthreadd\nState:\tS\n")).toBeUndefined();
  });

  it("reads a children file", () => {
    expect(parseChildren("31673 31700 \n")).toEqual([31673, 31700]);
    expect(parseChildren("")).toEqual([]);
  });
});

function m(
  target: Measurement["target"],
  scenario: string,
  rps: number,
  cpu: number | null = 1,
): Measurement {
  return {
    target,
    scenario,
    body: "small",
    connections: 50,
    requests: rps * 10,
    rps,
    errors: 0,
    errorKinds: { connect: 0, read: 0, write: 0, status: 0, timeout: 0 },
    latencyMs: { p50: 1.234, p99: 12.5, max: 40 },
    maxRssKiB: target === "direct" ? null : 51200,
    cpuSeconds: target === "direct" ? null : cpu,
  };
}

describe("ratios and table", () => {
  it("divides each target's req/s by haproxy's and direct's in the same scenario", () => {
    const rows = withRatios([
      m("haproxy", "small-c50", 20_000),
      m("fulcrum", "small-c50", 10_000, 4),
      m("direct", "small-c50", 40_000),
      m("fulcrum", "16k-c50", 5_000),
      m("haproxy", "16k-c50", 2_500),
    ]);
    const fulcrum = rows.find((r) => r.target === "fulcrum" && r.scenario === "small-c50")!;
    expect(fulcrum.vsHaproxy).toBe(0.5);
    expect(fulcrum.vsDirect).toBe(0.25);
    expect(fulcrum.rpsPerCpuSecond).toBe(25_000);
    expect(rows.find((r) => r.target === "haproxy" && r.scenario === "small-c50")!.vsHaproxy).toBe(1);
    const big = rows.find((r) => r.target === "fulcrum" && r.scenario === "16k-c50")!;
    expect(big.vsHaproxy).toBe(2);
    expect(big.vsDirect).toBeNull();
    expect(rows.find((r) => r.target === "direct")!.rpsPerCpuSecond).toBeNull();
  });

  it("has no ratio when the reference measured zero req/s", () => {
    const rows = withRatios([m("haproxy", "s", 0), m("fulcrum", "s", 100)]);
    expect(rows.find((r) => r.target === "fulcrum")!.vsHaproxy).toBeNull();
  });

  it("prints one aligned line per row with dashes where there is no figure", () => {
    const text = renderTable(
      withRatios([m("haproxy", "small-c50", 20_000), m("direct", "small-c50", 40_000)]),
    );
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^scenario\s+target\s+req\/s\s+x haproxy\s+x direct\s+p50 ms\s+p99 ms/);
    expect(lines[1]).toMatch(
      /^small-c50\s+haproxy\s+20,000\s+1\.00\s+0\.50\s+1\.23\s+12\.5\s+0\s+50\.0\s+1\.00\s+200,000$/,
    );
    expect(lines[2]).toMatch(/^small-c50\s+direct\s+40,000\s+2\.00\s+1\.00 .*\s-\s+-\s+-$/);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });
});

describe("pre-run checks", () => {
  const sample = (upstream: string, xff?: string) => ({ status: 200, upstream, forwardedFor: xff });

  it("accepts a proxy that balances over both upstreams and adds X-Forwarded-For", () => {
    const f = checkFindings({
      target: "haproxy",
      small: [sample("a", "127.0.0.1"), sample("b", "127.0.0.1")],
      bigBytes: 16384,
      bigExpected: 16384,
    });
    expect(f).toEqual(["balanced a,b", "X-Forwarded-For 127.0.0.1", "16384-byte body whole"]);
    expect(hasProblem(f)).toBe(false);
  });

  it("flags a proxy that sticks to one upstream, drops X-Forwarded-For or cuts the body", () => {
    const f = checkFindings({
      target: "fulcrum",
      small: [sample("a"), sample("a")],
      bigBytes: 100,
      bigExpected: 16384,
    });
    expect(f.filter((x) => x.startsWith("PROBLEM"))).toHaveLength(3);
  });

  it("expects one upstream and no X-Forwarded-For from direct", () => {
    const f = checkFindings({ target: "direct", small: [sample("a")], bigBytes: 1, bigExpected: 1 });
    expect(hasProblem(f)).toBe(false);
  });
});

describe("results file", () => {
  it("replaces its own section and keeps the other one", () => {
    const first = mergeResults(undefined, "failover", { gap: 1 });
    const second = JSON.parse(mergeResults(first, "throughput", { rows: [] }));
    expect(second).toEqual({ failover: { gap: 1 }, throughput: { rows: [] } });
  });

  it("keeps one failover report per signal", () => {
    const kill = mergeResults(undefined, "failover", { gap: 1 }, "SIGKILL");
    const both = JSON.parse(mergeResults(kill, "failover", { gap: 2 }, "SIGUSR1"));
    expect(both).toEqual({ failover: { SIGKILL: { gap: 1 }, SIGUSR1: { gap: 2 } } });
  });

  it("starts again from an unreadable file", () => {
    expect(JSON.parse(mergeResults("{oops", "throughput", 1))).toEqual({ throughput: 1 });
    expect(JSON.parse(mergeResults("[1]", "throughput", 1))).toEqual({ throughput: 1 });
  });
});
