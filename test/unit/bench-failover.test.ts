/**
 * The pure parts of bench/failover: flags, the pair's configuration (read by fulcrum's own
 * configuration reader), who listens on the service port, p50/max, the verdict against
 * issue 6's targets.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  failedSent,
  failoverVerdict,
  firstAnswerAfter,
  listenInodes,
  masterSince,
  pairCfg,
  parseFailoverOptions,
  type RepResult,
  renderRepTable,
  socketInode,
  summarise,
} from "../../bench/failover-core.js";
import { loadConfig } from "../../proxy/config/index.js";
import { tempDir } from "../helpers/index.js";

describe("failover bench flags", () => {
  it("defaults to 20 repetitions of SIGKILL", () => {
    expect(parseFailoverOptions(undefined, undefined)).toEqual({ signal: "KILL", reps: 20 });
  });

  it("takes USR1 with or without SIG, any case", () => {
    expect(parseFailoverOptions("sigusr1", "3")).toEqual({ signal: "USR1", reps: 3 });
  });

  it("refuses other signals and silly repetition counts as usage errors", () => {
    expect(() => parseFailoverOptions("STOP", undefined)).toThrow(/choose KILL .* or USR1/);
    for (const bad of ["0", "2.5", "x", "201"]) {
      expect(() => parseFailoverOptions("KILL", bad)).toThrow(expect.objectContaining({ code: "FUL_USAGE" }));
    }
  });
});

describe("failover pair configuration", () => {
  const plan = {
    haName: "bench_failover_1",
    redisPort: 6400,
    servicePort: 5000,
    peerPorts: { lb1: 5001, lb2: 5002 },
    servers: [
      { name: "a", port: 5003 },
      { name: "b", port: 5004 },
    ],
  };

  it("is one file both nodes load, each finding itself with -L", () => {
    const dir = tempDir("fulcrum-bench-test-");
    onTestFinished(dir.remove);
    const file = join(dir.path, "pair.cfg");
    writeFileSync(file, pairCfg(plan));
    for (const node of ["lb1", "lb2"]) {
      const { model } = loadConfig([file], { localNode: node });
      expect(model.ha?.localPeer).toBe(node);
      expect(model.ha?.takeover.kind).toBe("bind");
      expect(model.ha?.peers.map((p) => [p.name, p.port, p.priority])).toEqual([
        ["lb1", 5001, 150],
        ["lb2", 5002, 100],
      ]);
    }
  });
});

describe("who listens on the service port", () => {
  const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 275615 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1388 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 299999 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:1389 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 277158 1 0000000000000000 100 0 0 10 0
`;

  it("finds the LISTEN socket of the port (0x1388 = 5000), not its established connections", () => {
    expect(listenInodes(TCP, 5000)).toEqual([275615]);
    expect(listenInodes(TCP, 5001)).toEqual([277158]);
    expect(listenInodes(TCP, 5002)).toEqual([]);
  });

  it("reads the inode of a socket fd link and nothing else", () => {
    expect(socketInode("socket:[275615]")).toBe(275615);
    expect(socketInode("pipe:[275615]")).toBeUndefined();
    expect(socketInode("/dev/null")).toBeUndefined();
  });
});

function rep(gapMs: number, failed = 0, newActive: "lb2" | null = "lb2", kind = "reset"): RepResult {
  return {
    rep: 1,
    signalled: "lb1",
    newActive,
    takeoverMs: newActive === null ? null : gapMs / 2,
    takeoverFrom: "log",
    firstAnswerMs: newActive === null ? null : 7,
    gapMs,
    requests: 100,
    failed,
    failedSent: kind === "refused" ? 0 : failed,
    failedByKind: failed > 0 ? { [kind]: failed } : {},
  };
}

describe("failover figures", () => {
  it("takes the takeover time from the new MASTER's own log line after the signal", () => {
    const out = [
      "[NOTICE]   (1) : ha x/lb2: serving as MASTER from 1795656200000 (epoch 1)",
      "[NOTICE]   (1) : ha x/lb2: BACKUP -> MASTER: promoted",
      "[NOTICE]   (1) : ha x/lb2: serving as MASTER from 1795656203061 (epoch 2)",
    ].join("\n");
    expect(masterSince(out, 1795656203000)).toBe(1795656203061);
    expect(masterSince(out, 1795656204000)).toBeUndefined();
  });

  it("measures from the takeover to the first successful answer after it", () => {
    const events = [
      { t: 10, ok: true },
      { t: 120, ok: false },
      { t: 150, ok: true },
      { t: 140, ok: true },
    ];
    expect(firstAnswerAfter(events, 100)).toBe(40);
    expect(firstAnswerAfter(events, 150)).toBeNull();
  });

  it("counts refused connections as requests never sent", () => {
    expect(failedSent({ refused: 3, reset: 1, timeout: 2, "http-503": 1 })).toBe(4);
    expect(failedSent({ refused: 3 })).toBe(0);
  });

  it("gives the median (mean of the middle two for an even count) and the max", () => {
    expect(summarise([30, 10, 20])).toEqual({ n: 3, p50: 20, max: 30, min: 10 });
    expect(summarise([40, 10, 20, 30])).toEqual({ n: 4, p50: 25, max: 40, min: 10 });
    expect(summarise([])).toBeNull();
  });

  it("meets the SIGKILL target with p50 under 150 ms and max under 250 ms, failures allowed", () => {
    expect(failoverVerdict("KILL", [rep(100, 3), rep(120), rep(240)])).toMatch(/^meets/);
    expect(failoverVerdict("KILL", [rep(100), rep(120), rep(260)])).toMatch(/misses.*max 260 ms >= 250 ms/);
  });

  it("misses the SIGUSR1 target on a sent request that failed or a gap of 100 ms", () => {
    expect(failoverVerdict("USR1", [rep(40), rep(60)])).toMatch(/^meets/);
    expect(failoverVerdict("USR1", [rep(40, 1), rep(60)])).toMatch(/misses.*1 sent requests failed/);
    expect(failoverVerdict("USR1", [rep(40, 1, "lb2", "refused"), rep(60)])).toMatch(/^meets/);
    expect(failoverVerdict("USR1", [rep(40), rep(100)])).toMatch(/max 100 ms >= 100 ms/);
  });

  it("says so when a standby never took over", () => {
    expect(failoverVerdict("KILL", [rep(10, 0, null)])).toMatch(/a standby never took over/);
    expect(failoverVerdict("KILL", [])).toBe("no repetition finished");
  });

  it("prints one aligned line per repetition", () => {
    const lines = renderRepTable([rep(123.4), rep(5, 2, null)])
      .trimEnd()
      .split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/lb1\s+lb2\s+62\s+7\s+123\s+100\s+0\s+0$/);
    expect(lines[2]).toMatch(/lb1\s+none\s+-\s+-\s+5\s+100\s+2\s+2$/);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });
});
