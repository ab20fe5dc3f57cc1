/**
 * The transition lines, word for word as HAProxy 2.6 prints them with -db (and sends them to
 * syslog with the severities shown).
 */
import { describe, expect, it } from "vitest";
import {
  downMessage,
  drainMessage,
  healthCheckMessage,
  leaveMessages,
  maintMessage,
  maintWhileDownMessage,
  noServerMessage,
  stoppingMessage,
  upMessage,
} from "../../proxy/health/messages.js";

const webA = { backend: "web_proxy", server: "webA", backup: false, activeLeft: 1, backupLeft: 0 };

describe("server state messages (recorded from HAProxy 2.6)", () => {
  it("DOWN after a refused connection (alert)", () => {
    const m = downMessage(
      webA,
      { outcome: { status: "L4CON", info: "Connection refused" }, durationMs: 0 },
      { active: 0, requeued: 0, remaining: 0 },
    );
    expect(m.text).toBe(
      'Server web_proxy/webA is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
    );
    expect(m.severity).toBe(1);
  });

  it("DOWN on a wrong status, with code and reason phrase", () => {
    const m = downMessage(
      webA,
      { outcome: { status: "L7STS", code: 503, info: "Service Unavailable" }, durationMs: 6 },
      { active: 0, requeued: 0, remaining: 0 },
    );
    expect(m.text).toBe(
      'Server web_proxy/webA is DOWN, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: 6ms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
    );
  });

  it("DOWN on timeouts: no info", () => {
    const facts = { backend: "b3", server: "s3", backup: false, activeLeft: 0, backupLeft: 0 };
    expect(
      downMessage(
        facts,
        { outcome: { status: "L4TOUT" }, durationMs: 301 },
        { active: 0, requeued: 0, remaining: 0 },
      ).text,
    ).toBe(
      "Server b3/s3 is DOWN, reason: Layer4 timeout, check duration: 301ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
    );
  });

  it("UP after a passed HTTP check (notice)", () => {
    const m = upMessage(
      { ...webA, activeLeft: 2 },
      { outcome: { status: "L7OK", code: 200, info: "" }, durationMs: 4 },
      { requeued: 0, queued: 0 },
    );
    expect(m.text).toBe(
      "Server web_proxy/webA is UP, reason: Layer7 check passed, code: 200, check duration: 4ms. 2 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
    );
    expect(m.severity).toBe(5);
  });

  it("a backup server, and 'Running on backup.' when only backups are left", () => {
    const t1 = { backend: "b2", server: "t1", backup: false, activeLeft: 0, backupLeft: 1 };
    expect(
      downMessage(
        t1,
        { outcome: { status: "L4CON", info: "Connection refused" }, durationMs: 0 },
        { active: 0, requeued: 0, remaining: 0 },
      ).text,
    ).toBe(
      'Server b2/t1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 0 active and 1 backup servers left. Running on backup. 0 sessions active, 0 requeued, 0 remaining in queue.',
    );
    const t2 = { backend: "b2", server: "t2", backup: true, activeLeft: 0, backupLeft: 1 };
    expect(
      upMessage(t2, { outcome: { status: "L4OK" }, durationMs: 0 }, { requeued: 0, queued: 0 }).text,
    ).toBe(
      "Backup Server b2/t2 is UP, reason: Layer4 check passed, check duration: 0ms. 0 active and 1 backup servers online. Running on backup. 0 sessions requeued, 0 total in queue.",
    );
  });

  it("no server left: quoted on stderr, plain in syslog (emerg); a listen is a 'proxy'", () => {
    expect(noServerMessage("backend", "b6").stderr).toBe("backend 'b6' has no server available!");
    expect(noServerMessage("backend", "b2").syslog).toEqual({
      text: "backend b2 has no server available!",
      severity: 0,
    });
    expect(noServerMessage("listen", "web_proxy").stderr).toBe("proxy 'web_proxy' has no server available!");
  });

  it("admin changes: drain, maint, ready", () => {
    const u1 = { backend: "b3", server: "u1", backup: false, activeLeft: 1, backupLeft: 0 };
    expect(drainMessage(u1, { requeued: 0, queued: 0 }).text).toBe(
      "Server b3/u1 enters drain state. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
    );
    expect(
      maintMessage({ ...u1, server: "u2", activeLeft: 0 }, { active: 0, requeued: 0, remaining: 0 }).text,
    ).toBe(
      "Server b3/u2 is going DOWN for maintenance. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
    );
    expect(leaveMessages(u1, "drain", "ready").map((m) => m.text)).toEqual([
      "Server b3/u1 is UP (leaving forced drain).",
    ]);
    expect(leaveMessages({ ...u1, server: "u2" }, "maint", "ready").map((m) => m.text)).toEqual([
      "Server b3/u2 is UP/READY (leaving forced maintenance).",
    ]);
    expect(leaveMessages(u1, "maint", "drain").map((m) => m.text)).toEqual([
      "Server b3/u1 is UP/DRAIN (leaving forced maintenance).",
      "Server b3/u1 remains in forced drain mode.",
    ]);
    expect(maintWhileDownMessage({ ...u1, backup: true })).toEqual({
      text: "Backup Server b3/u1 was DOWN and now enters maintenance.",
      severity: 5,
    });
  });
});

describe("disable-on-404 and log-health-checks lines (haproxy 2.6.12)", () => {
  const f = { backend: "b", server: "s1", backup: false, activeLeft: 0, backupLeft: 0 };
  const c404 = { outcome: { status: "L7OKC" as const, code: 404, info: "" }, durationMs: 2 };
  it("an UP server answering 404 is stopping (notice)", () => {
    expect(stoppingMessage(f, c404, { requeued: 0, queued: 0 })).toEqual({
      text: "Server b/s1 is stopping, reason: Layer7 check conditionally passed, code: 404, check duration: 2ms. 0 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
      severity: 5,
    });
  });
  it("a check line gives the health as checks left before DOWN, or successes toward rise", () => {
    const c503 = {
      outcome: { status: "L7STS" as const, code: 503, info: "Service Unavailable" },
      durationMs: 1,
    };
    expect(healthCheckMessage(f, c503, { health: 3, rise: 2, fall: 3, weighted: true }).text).toBe(
      'Health check for server b/s1 failed, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: 1ms, status: 2/3 UP.',
    );
    expect(healthCheckMessage(f, c404, { health: 4, rise: 2, fall: 3, weighted: true }).text).toBe(
      "Health check for server b/s1 conditionally succeeded, reason: Layer7 check conditionally passed, code: 404, check duration: 2ms, status: 3/3 UP.",
    );
  });
  it("with log-health-checks the transition lines carry no reason", () => {
    expect(downMessage(f, undefined, { active: 0, requeued: 0, remaining: 0 }).text).toBe(
      "Server b/s1 is DOWN. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
    );
  });
});
