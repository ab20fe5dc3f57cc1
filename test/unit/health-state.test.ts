/**
 * The rise/fall state machine, check intervals and first-check spreading. The behaviours were
 * recorded from HAProxy 2.6.12 (`check inter 200 rise 2 fall 3` against a refused port, a
 * server toggled between 200 and 503, and the stats CSV's status/chkfail/check_health).
 */
import { describe, expect, it } from "vitest";
import { afterCheck, checkInterval, initialHealth, planFirstChecks } from "../../proxy/health/state.js";
import { backendRuntime, proxyModel, serverModel } from "./stats-fixture.js";

const P = { rise: 2, fall: 3 };

function run(start: number, results: string): { health: number[]; transitions: string[]; counted: number } {
  let h = start;
  const health: number[] = [];
  const transitions: string[] = [];
  let counted = 0;
  for (const r of results) {
    const step = afterCheck(h, P, r === "+");
    h = step.health;
    health.push(h);
    if (step.transition) transitions.push(step.transition);
    if (step.counted) counted++;
  }
  return { health, transitions, counted };
}

describe("health counter (matches HAProxy 2.6)", () => {
  it("a server starts UP with health = rise (CSV 'UP 1/3', check_status INI)", () => {
    expect(initialHealth(P)).toBe(2);
  });

  it("one failed first check takes a fresh server DOWN (chkfail 1, chkdown 1)", () => {
    const r = run(initialHealth(P), "-");
    expect(r.health).toEqual([0]);
    expect(r.transitions).toEqual(["down"]);
    expect(r.counted).toBe(1);
  });

  it("one passed first check makes it fully UP (health rise+fall-1)", () => {
    expect(run(initialHealth(P), "+").health).toEqual([4]);
  });

  it("in steady state fall=3 failures take it DOWN: UP 2/3, UP 1/3, DOWN (chkfail 3)", () => {
    const r = run(4, "---");
    expect(r.health).toEqual([3, 2, 0]);
    expect(r.transitions).toEqual(["down"]);
    expect(r.counted).toBe(3);
  });

  it("failures while DOWN are not counted in chkfail", () => {
    expect(run(0, "----").counted).toBe(0);
  });

  it("rise=2 successes bring it back: DOWN 1/2, then UP (fully)", () => {
    const r = run(0, "++");
    expect(r.health).toEqual([1, 4]);
    expect(r.transitions).toEqual(["up"]);
  });

  it("a failure while coming up starts over from 0", () => {
    expect(run(0, "+-+").health).toEqual([1, 0, 1]);
  });

  it("one success while going down restores full health", () => {
    expect(run(4, "--+").health).toEqual([3, 2, 4]);
  });

  it("rise 1 fall 1: every check decides", () => {
    let h = 1;
    const seen: boolean[] = [];
    for (const r of "-+-") {
      const s = afterCheck(h, { rise: 1, fall: 1 }, r === "+");
      h = s.health;
      seen.push(s.up);
    }
    expect(seen).toEqual([false, true, false]);
  });
});

describe("check intervals", () => {
  const cfg = serverModel({ name: "s", id: 1, check: true, inter: 2000, fastinter: 500, downinter: 10000 });
  it("inter when fully UP, downinter when DOWN, fastinter while changing", () => {
    expect(checkInterval(cfg, 4)).toBe(2000);
    expect(checkInterval(cfg, 0)).toBe(10000);
    expect(checkInterval(cfg, 3)).toBe(500);
    expect(checkInterval(cfg, 1)).toBe(500);
  });
});

describe("first checks are spread as HAProxy 2.6 spreads them", () => {
  it("the k-th of n checked servers waits its own interval * k / n (recorded: 0, 833, 666, 500, 6666, 1250 ms)", () => {
    const inters = [2000, 5000, 2000, 1000, 10000, 1500];
    const backends = inters.map((inter, i) =>
      backendRuntime(
        proxyModel({
          name: `g${i + 1}`,
          id: i + 1,
          kind: "backend",
          servers: [
            serverModel({ name: `s${i + 1}`, id: 1, check: true, inter, fastinter: inter, downinter: inter }),
          ],
        }),
      ),
    );
    const plan = planFirstChecks(backends);
    expect(backends.map((b) => plan.get(b.servers[0]!))).toEqual([0, 833, 666, 500, 6666, 1250]);
  });

  it("a server checked more often than every second is spread over the shortest interval of a second or more", () => {
    // Measured with haproxy 2.6: inter 3s and inter 200 in one backend; the second server's
    // first check came 1.5 s after the start (3000 * 1 / 2), not 100 ms.
    const be = backendRuntime(
      proxyModel({
        name: "b",
        id: 1,
        kind: "backend",
        servers: [
          serverModel({ name: "a", id: 1, check: true, inter: 3000, fastinter: 3000, downinter: 3000 }),
          serverModel({ name: "b", id: 2, check: true, inter: 200, fastinter: 200, downinter: 200 }),
        ],
      }),
    );
    expect([...planFirstChecks([be]).values()]).toEqual([0, 1500]);
  });

  it("servers without check are not counted", () => {
    const be = backendRuntime(
      proxyModel({
        name: "b",
        id: 1,
        kind: "backend",
        servers: [
          serverModel({ name: "a", id: 1, check: true, inter: 10000, fastinter: 10000, downinter: 10000 }),
          serverModel({ name: "x", id: 2 }),
          serverModel({ name: "b", id: 3, check: true, inter: 10000, fastinter: 10000, downinter: 10000 }),
        ],
      }),
    );
    const plan = planFirstChecks([be]);
    expect([...plan.values()]).toEqual([0, 5000]);
  });
});
