import { describe, expect, test } from "vitest";
import { pickNode, tallyLine } from "../../lab/chaos.js";
import { tallySessions, type UserAnswer } from "../../lab/drills/common.js";
import { failoverVerdict } from "../../lab/drills/failover.js";
import { phaseFigures, type ServedEvent } from "../../lab/drills/redis.js";
import { htmlReport, renderResult, timelineSvg } from "../../lab/drills/report.js";
import { type SessionsResult, sessionsVerdict } from "../../lab/drills/sessions.js";
import {
  addToTally,
  availability,
  countRequests,
  emptyTally,
  failuresByKind,
  GapTracker,
  type LoadEvent,
  longestGap,
  timeline,
} from "../../lab/drills/stats.js";
import { classifyWhoami } from "../../lab/drills/users.js";
import type { HttpResult } from "../../lab/http.js";

const ok = (t: number, source: LoadEvent["source"] = "probe"): LoadEvent => ({
  t,
  ok: true,
  kind: "ok",
  source,
});
const bad = (t: number, kind = "refused", source: LoadEvent["source"] = "probe"): LoadEvent => ({
  t,
  ok: false,
  kind,
  source,
});

describe("failover gap", () => {
  test("the longest gap is the longest time between two successful answers", () => {
    const events = [ok(10), ok(20), bad(30), bad(100), ok(250), ok(260)];
    expect(longestGap(events, 0, 300)).toEqual({ ms: 230, from: 20, to: 250 });
  });

  test("a window with no success at all is one gap as long as the window", () => {
    expect(longestGap([bad(5), bad(50)], 0, 400)).toEqual({ ms: 400, from: 0, to: 400 });
  });

  test("the edges of the window count: silence after the last success is a gap", () => {
    expect(longestGap([ok(10), ok(20)], 0, 500).ms).toBe(480);
    expect(longestGap([ok(300)], 0, 310).ms).toBe(300);
  });

  test("events outside the window are ignored and order of arrival does not matter", () => {
    expect(longestGap([ok(600), ok(150), ok(100), ok(-5)], 100, 220)).toEqual({ ms: 70, from: 150, to: 220 });
  });

  test("the streaming tracker finds the same longest gap as the batch computation", () => {
    const events = [ok(0), ok(15), bad(20), ok(90), ok(95), bad(96), ok(400), ok(410)];
    const g = new GapTracker();
    for (const e of events) g.add(e.t, e.ok);
    expect(g.longest).toBe(longestGap(events, 0, 410).ms);
  });
});

describe("tallies", () => {
  test("failed requests are counted by kind, most frequent first", () => {
    const events = [bad(1, "reset"), bad(2, "refused"), bad(3, "refused"), ok(4), bad(5, "http-503")];
    expect(failuresByKind(events)).toEqual({ refused: 2, "http-503": 1, reset: 1 });
    expect(Object.keys(failuresByKind(events))[0]).toBe("refused");
  });

  test("requests are counted per source (probe, users)", () => {
    const events = [ok(1), bad(2), ok(3, "user"), bad(4, "logged-out", "user"), bad(5, "logged-out", "user")];
    expect(countRequests(events)).toEqual({ total: 5, ok: 2, failed: 3 });
    expect(countRequests(events, "user")).toEqual({ total: 3, ok: 1, failed: 2 });
    expect(availability(countRequests(events, "probe"))).toBe(0.5);
    expect(availability({ total: 0, ok: 0, failed: 0 })).toBe(1);
  });

  test("the timeline puts each request in its 100 ms bucket", () => {
    const b = timeline([ok(5), ok(99), bad(100), ok(250), bad(299)], 100, 0, 300);
    expect(b).toEqual([
      { t: 0, ok: 2, failed: 0 },
      { t: 100, ok: 0, failed: 1 },
      { t: 200, ok: 1, failed: 1 },
    ]);
  });

  test("the chaos tally counts availability and failure kinds without keeping events", () => {
    const t = emptyTally();
    for (const e of [ok(1), bad(2, "reset"), ok(3), bad(4, "reset")]) addToTally(t, e);
    t.rounds = 2;
    t.sessionsLost = 1;
    expect(t).toMatchObject({ requests: 4, ok: 2, failed: 2, byKind: { reset: 2 } });
    expect(tallyLine(t)).toContain("availability 50.0%");
    expect(tallyLine(t)).toContain("sessions lost 1");
  });

  test("chaos picks each node of the list for some random number", () => {
    const nodes = ["lb1", "lb2", "web1", "web2"] as const;
    expect([0, 0.3, 0.6, 0.99].map((r) => pickNode(nodes, r))).toEqual(["lb1", "lb2", "web1", "web2"]);
  });
});

describe("sessions", () => {
  const res = (status: number, body: unknown, server = "web2"): HttpResult => ({
    ok: true,
    status,
    headers: { "x-served-by": server },
    body: JSON.stringify(body),
    ms: 1,
  });

  test("a /whoami answer is kept (200, same user), lost (401), unknown (503 FUL_REDIS) or failed", () => {
    expect(classifyWhoami(res(200, { user: "u1" }), "u1")).toEqual({
      answer: "kept",
      kind: "ok",
      server: "web2",
    });
    expect(classifyWhoami(res(401, { user: null }), "u1").answer).toBe("lost");
    expect(classifyWhoami(res(503, { code: "FUL_REDIS" }), "u1").answer).toBe("store-down");
    expect(classifyWhoami(res(503, "<html>"), "u1")).toMatchObject({ answer: "failed", kind: "http-503" });
    expect(classifyWhoami({ ok: false, failure: "refused", message: "", ms: 1 }, "u1")).toEqual({
      answer: "failed",
      kind: "refused",
    });
  });

  test("a user answered by another server than its login one and logged out was silently moved and lost", () => {
    const answers: UserAnswer[] = [
      { user: "a", loginServer: "web1", answer: "lost", server: "web2" },
      { user: "b", loginServer: "web1", answer: "kept", server: "web2" },
      { user: "c", loginServer: "web2", answer: "kept", server: "web2" },
      { user: "d", loginServer: "web2", answer: "store-down", server: "web2" },
      { user: "e", loginServer: "web2", answer: "failed" },
    ];
    expect(tallySessions(answers)).toEqual({
      total: 5,
      loggedIn: 2,
      movedKept: 1,
      lost: 1,
      movedLost: 1,
      unknown: 1,
      failed: 1,
    });
  });

  test("the sessions verdict says how many of web1's users lost their session", () => {
    const after = { total: 20, loggedIn: 10, movedKept: 0, lost: 10, movedLost: 10, unknown: 0, failed: 0 };
    const v = sessionsVerdict({
      mode: "cookie",
      users: 20,
      after,
      loggedInOn: { web1: 10, web2: 10 },
      lostFromWeb1: 10,
    });
    expect(v).toBe("10 of 20 users lost their session (10 of the 10 who lived on web1)");
    const kept = { ...after, loggedIn: 20, movedKept: 10, lost: 0, movedLost: 0 };
    expect(
      sessionsVerdict({
        mode: "shared",
        users: 20,
        after: kept,
        loggedInOn: { web1: 10, web2: 10 },
        lostFromWeb1: 0,
      }),
    ).toContain("every user is still logged in");
  });

  test("persistence during a Redis outage is the share of answers from the user's own server", () => {
    const ev = (t: number, own: boolean | undefined, okay = false): ServedEvent => ({
      t,
      ok: okay,
      kind: okay ? "ok" : "store-down",
      source: "user",
      ...(own !== undefined ? { server: own ? "web1" : "web2", own } : {}),
    });
    const f = phaseFigures(
      [ev(1, true), ev(2, true), ev(3, false), ev(4, undefined), ev(50, true, true)],
      0,
      10,
    );
    expect(f.persistence).toBeCloseTo(2 / 3);
    expect(f.users).toEqual({ total: 4, ok: 0, failed: 4 });
  });
});

describe("reports", () => {
  const sessions: SessionsResult = {
    drill: "sessions",
    mode: "cookie",
    users: 4,
    loggedInOn: { web1: 2, web2: 2 },
    killed: "web1",
    web1DownAfterMs: 300,
    after: { total: 4, loggedIn: 2, movedKept: 0, lost: 2, movedLost: 2, unknown: 0, failed: 0 },
    lostFromWeb1: 2,
    restored: true,
    verdict: "2 of 4 users lost their session",
    answers: [],
  };

  test("the table of the sessions drill names the users moved to web2 and lost", () => {
    const text = renderResult(sessions);
    expect(text).toMatch(/moved to web2 and lost\s+2/);
    expect(text).toContain("=> 2 of 4 users lost their session");
  });

  test("the HTML report is self-contained: no script, no external resource, escaped text", () => {
    const html = htmlReport({ ...sessions, verdict: "<b>x</b>" }, "now");
    expect(html).not.toMatch(/<script|src=|href=/);
    expect(html).toContain("&#60;b&#62;x");
  });

  test("the timeline chart marks the kill and the takeover", () => {
    const svg = timelineSvg(
      [
        { t: 0, ok: 5, failed: 0 },
        { t: 100, ok: 0, failed: 3 },
        { t: 200, ok: 4, failed: 0 },
      ],
      [
        { t: 90, label: "SIGKILL lb1" },
        { t: 180, label: "lb2 MASTER" },
      ],
    );
    expect(svg).toContain("SIGKILL lb1");
    expect(svg).toContain("lb2 MASTER");
    expect(svg.match(/class="ok"/g)).toHaveLength(2);
    expect(svg.match(/class="fail"/g)).toHaveLength(1);
  });

  test("the failover verdict says the takeover time, the gap and the users still logged in", () => {
    const v = failoverVerdict({
      newMaster: "lb2",
      takeoverMs: 120.4,
      longestGapMs: 180,
      sessions: { total: 20, loggedIn: 20, movedKept: 0, lost: 0, movedLost: 0, unknown: 0, failed: 0 },
      mastersAfter: ["lb2"],
      requests: { total: 100, ok: 97, failed: 3 },
    });
    expect(v).toBe(
      "lb2 took over in 120 ms; longest gap 180 ms; 3 failed requests; 20/20 users still logged in; one MASTER",
    );
  });
});
