/**
 * slowstart's weight ramp (HAProxy's formula, whole seconds) and the retry/redispatch
 * decision, whose rules were measured against HAProxy 2.6 with dead servers (timings from Tw
 * in its log: persistent + redispatch, retries 3: two 1 s waits then the last retry elsewhere;
 * not persistent: at once to another server; source hash: waits, and the redispatch lands on
 * the same server again; connect timeouts never add a wait).
 */
import { describe, expect, it } from "vitest";
import { decideRetry, type RetryInput } from "../../proxy/balance/retry.js";
import {
  slowstartApplies,
  slowstartFactor,
  slowstartStepMs,
  slowstartWeight,
} from "../../proxy/balance/slowstart.js";
import { rig } from "./balance-fixture.js";

describe("slowstart", () => {
  it("the weight starts at 1/16 and grows linearly to full over the slowstart seconds", () => {
    const ss = 10_000;
    const f = [0, 1, 2, 5, 9, 10, 11].map((s) => slowstartFactor(0, s * 1000, ss));
    expect(f).toEqual([1, 2, 4, 9, 15, 16, 16]);
    expect(slowstartWeight(3, 0, 5000, ss)).toBe((3 * 9) / 16);
  });

  it("it counts whole seconds, as HAProxy does", () => {
    expect(slowstartFactor(500, 1400, 10_000)).toBe(2);
    expect(slowstartFactor(0, 999, 10_000)).toBe(1);
  });

  it("it is recomputed every max(1 s, slowstart/20)", () => {
    expect(slowstartStepMs(10_000)).toBe(1000);
    expect(slowstartStepMs(60_000)).toBe(3000);
  });

  it("only the dynamic algorithms ramp", () => {
    expect(slowstartApplies("roundrobin", 1000)).toBe(true);
    expect(slowstartApplies("leastconn", 1000)).toBe(true);
    expect(slowstartApplies("static-rr", 1000)).toBe(false);
    expect(slowstartApplies("source", 1000)).toBe(false);
    expect(slowstartApplies("roundrobin", undefined)).toBe(false);
  });

  it("a ramping server gets its share of roundrobin picks (1/16 of weight 1 against 1)", () => {
    const r = rig("roundrobin", "A:1 B:1");
    r.change("A", (s) => {
      s.effectiveWeight = 1 / 16;
    });
    const seq = r.seq(34);
    expect(seq.split("A").length - 1).toBe(2);
  });
});

const base: RetryInput = {
  failures: 1,
  retries: 3,
  redispatch: true,
  persistent: false,
  serverUp: true,
  algo: "roundrobin",
  activeServers: 2,
  kind: "error",
  reused: false,
  timeoutConnect: 5000,
};

function plan(over: Partial<RetryInput>): string[] {
  const out: string[] = [];
  for (let f = 1; f <= 5; f++) {
    const d = decideRetry({ ...base, ...over, failures: f });
    out.push(d.action === "give-up" ? "503" : `${d.action}:${d.delayMs}`);
    if (d.action === "give-up") break;
  }
  return out;
}

describe("retries and redispatch (matches HAProxy 2.6)", () => {
  it("a persistent request retries its server twice with 1 s waits, the last retry goes elsewhere", () => {
    expect(plan({ persistent: true })).toEqual(["retry:1000", "retry:1000", "redispatch:0", "503"]);
  });

  it("a request that is not persistent goes to another server at once", () => {
    expect(decideRetry(base)).toMatchObject({ action: "redispatch", delayMs: 0 });
    expect(decideRetry({ ...base, algo: "leastconn" })).toMatchObject({ action: "redispatch", delayMs: 0 });
    expect(decideRetry({ ...base, algo: "first" })).toMatchObject({ action: "redispatch", delayMs: 0 });
  });

  it("without option redispatch every retry waits and goes to the same server, then 503", () => {
    expect(plan({ redispatch: false })).toEqual(["retry:1000", "retry:1000", "retry:1000", "503"]);
  });

  it("a hash algorithm retries the same server (the redispatch lands on it again)", () => {
    expect(plan({ algo: "source" })).toEqual(["retry:1000", "retry:1000", "redispatch:0", "503"]);
  });

  it("the wait is min(1 s, timeout connect) and only after errors, not timeouts", () => {
    expect(decideRetry({ ...base, persistent: true, timeoutConnect: 300 })).toMatchObject({ delayMs: 300 });
    expect(plan({ persistent: true, kind: "timeout" })).toEqual([
      "retry:0",
      "retry:0",
      "redispatch:0",
      "503",
    ]);
  });

  it("a failure on a reused keep-alive connection does not wait", () => {
    expect(decideRetry({ ...base, persistent: true, reused: true })).toMatchObject({
      action: "retry",
      delayMs: 0,
    });
  });

  it("a server seen DOWN is left at once", () => {
    expect(decideRetry({ ...base, persistent: true, serverUp: false })).toMatchObject({
      action: "redispatch",
    });
  });

  it("retries 0: the first failure is final", () => {
    expect(decideRetry({ ...base, retries: 0 })).toMatchObject({ action: "give-up" });
  });
});
