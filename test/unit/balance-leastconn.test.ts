/**
 * balance leastconn and balance first. Sequences recorded from HAProxy 2.6.12: sequential
 * curl requests for the idle case, and requests 100 ms apart to servers that answer after
 * 4 s (all still in flight) for the loaded case.
 */
import { describe, expect, it } from "vitest";
import { rig } from "./balance-fixture.js";

describe("balance leastconn (matches HAProxy 2.6)", () => {
  it("sequential requests rotate through idle servers in declaration order", () => {
    expect(rig("leastconn", "A B C").seq(9)).toBe("ABCABCABC");
  });

  it("sequential requests rotate even with weights 3:1 (idle servers tie)", () => {
    expect(rig("leastconn", "A:3 B:1").seq(8)).toBe("ABABABAB");
  });

  it("concurrent requests follow the weights 3:1 as HAProxy does", () => {
    expect(rig("leastconn", "A:3 B:1").hold(10)).toBe("ABAAAABAAA");
  });

  it("concurrent requests follow the weights 3:2:1 as HAProxy does", () => {
    expect(rig("leastconn", "A:3 B:2 C:1").hold(12)).toBe("ABCABAABACBA");
  });

  it("the server that finished first is at the back of the idle ones", () => {
    const r = rig("leastconn", "A B C");
    expect(r.hold(2)).toBe("AB");
    const a = r.srv("A");
    const b = r.srv("B");
    b.active--;
    r.lb.released(b);
    a.active--;
    r.lb.released(a);
    // C idle since the start, then B, then A.
    expect(r.seq(3)).toBe("CBA");
  });

  it("a server at its maxconn is skipped; all full answers 'full'", () => {
    const r = rig("leastconn", "A:1:maxconn=1 B:1:maxconn=1");
    expect(r.hold(3)).toBe("AB*");
  });

  it("a DOWN server leaves the tree and comes back idle", () => {
    const r = rig("leastconn", "A B");
    r.change("A", (s) => {
      s.up = false;
    });
    expect(r.seq(3)).toBe("BBB");
    r.change("A", (s) => {
      s.up = true;
    });
    expect(r.seq(2)).toBe("BA");
  });

  it("the excluded server is avoided while another one has room", () => {
    const r = rig("leastconn", "A B");
    expect(r.seq(3, { exclude: r.srv("A") })).toBe("BBB");
  });

  it("with no active server the first backup takes everything", () => {
    const r = rig("leastconn", "A B:1:backup C:1:backup");
    r.change("A", (s) => {
      s.admin = "maint";
    });
    expect(r.seq(3)).toBe("BBB");
  });
});

describe("balance first", () => {
  it("uses the server with the lowest id, whatever the declaration order", () => {
    expect(rig("first", "C:1:id=3 A:1:id=1 B:1:id=2").seq(4)).toBe("AAAA");
  });

  it("fills a server up to its maxconn before using the next one", () => {
    expect(rig("first", "A:1:maxconn=2 B:1:maxconn=2").hold(5)).toBe("AABB*");
  });
});
