/**
 * The per-second meters (`rate`, `req_rate`, `conn_rate`, their `_max`, `show info`'s
 * ConnRate/SessRate) on a fake clock. Every expected value was read from haproxy 2.6.12's CSV
 * and `show info` after the same traffic, at the same offsets (ms after the first event):
 * requests on fresh connections at known times, `show stat; show info` at known times.
 */
import { describe, expect, it } from "vitest";
import { newCounters, newRateMeter, rateAdd, rateRead } from "../../proxy/state.js";
import { countSession } from "../../proxy/stats/meter.js";

/** A clock far from 0, as Date.now() is: events at `t0 + offset`. */
const T0 = 1_795_676_127_000;

/** The meter after `events` ([offset, count]), read at each offset of `reads`. */
function readings(events: readonly [number, number][], reads: readonly number[]) {
  const m = newRateMeter();
  const c = newCounters();
  const out: { at: number; rate: number; max: number }[] = [];
  const timeline = [...events.map(([at, n]) => ({ at, n })), ...reads.map((at) => ({ at, n: 0 }))].sort(
    (a, b) => a.at - b.at || b.n - a.n,
  );
  for (const { at, n } of timeline) {
    for (let i = 0; i < n; i++) {
      rateAdd(m, T0 + at);
      countSession(c, T0 + at);
    }
    if (n === 0) out.push({ at, rate: rateRead(m, T0 + at), max: c.rateMax });
  }
  // The Counters' own meter went through the same events: both read alike.
  expect(rateRead(c.sessRate, T0 + (reads.at(-1) ?? 0))).toBe(out.at(-1)?.rate);
  return out.map(({ at, rate, max }) => `${at}:${rate}/${max}`);
}

describe("rate meters read as haproxy 2.6's freq_ctr", () => {
  it("one connection reads 1 for two seconds from it, whatever the wall clock's second", () => {
    // haproxy: 1 at 50, 300, 700, 990, 1010, 1300, 1700, 1990 ms; 0 at 2010 and 2300.
    for (const start of [0, 300, 999]) {
      const offsets = [50, 300, 700, 990, 1010, 1300, 1700, 1990, 2010, 2300];
      expect(
        readings(
          [[start, 1]],
          offsets.map((o) => start + o),
        ),
      ).toEqual(offsets.map((o) => `${start + o}:${o < 2000 ? 1 : 0}/1`));
    }
  });

  it("three then three a second later read above the maximum, which counts one period", () => {
    expect(
      readings(
        [
          [0, 3],
          [1100, 3],
        ],
        [50, 1050, 1150, 1200, 1500, 1900, 2050, 2200, 2500, 3050],
      ),
    ).toEqual([
      "50:3/3",
      "1050:2/3",
      "1150:5/3",
      "1200:5/3",
      "1500:4/3",
      "1900:3/3",
      "2050:2/3",
      "2200:2/3",
      "2500:1/3",
      "3050:0/3",
    ]);
  });

  it("periods follow on from the first event while events keep coming", () => {
    expect(
      readings(
        [
          [0, 4],
          [1500, 1],
          [2900, 2],
        ],
        [100, 1400, 1600, 1990, 2500, 2950, 3100, 4100, 4500],
      ),
    ).toEqual([
      "100:4/4",
      "1400:2/4",
      "1600:2/4",
      "1990:1/4",
      // 1 in the last period and none since: read whole (haproxy's anti-flapping).
      "2500:1/4",
      "2950:2/4",
      "3100:1/4",
      "4100:0/4",
      "4500:0/4",
    ]);
  });

  it("after two idle periods the next event starts a new period at its own time", () => {
    const m = newRateMeter();
    rateAdd(m, T0);
    expect(rateAdd(m, T0 + 5_321)).toBe(1);
    expect(m.tick).toBe(T0 + 5_320);
    expect(rateRead(m, T0 + 6_319)).toBe(1);
    rateAdd(m, T0 + 6_400);
    // The second event belongs to the period after 5320, and the first is its previous count.
    expect([m.tick, m.prev, m.curr]).toEqual([T0 + 6_320, 1, 1]);
  });

  it("a meter without events reads 0", () => {
    expect(rateRead(newRateMeter(), T0)).toBe(0);
  });
});
