/**
 * balance roundrobin and static-rr. Every sequence here was recorded from HAProxy 2.6.12 with
 * one echo server per name, 20 sequential curl requests (and `set server ... state/weight`
 * on the stats socket between runs for the dynamic cases).
 */
import { describe, expect, it } from "vitest";
import { rig } from "./balance-fixture.js";

describe("balance roundrobin (matches HAProxy 2.6 order)", () => {
  it.each([
    ["A:1 B:1", "ABABABABABABABABABAB"],
    ["A:3 B:1", "AAABAAABAAABAAABAAAB"],
    ["A:1 B:3", "BBBABBBABBBABBBABBBA"],
    ["A:3 B:2 C:1", "ABACABABACABABACABAB"],
    ["A:1 B:1 C:1", "ABCABCABCABCABCABCAB"],
    ["A:5 B:2", "AAABAABAAABAABAAABAA"],
  ])("servers %s answer in HAProxy's order", (spec, expected) => {
    expect(rig("roundrobin", spec).seq(20)).toBe(expected);
  });

  it("a server put in maint leaves the rotation and rejoins at HAProxy's place (3:2:1)", () => {
    const r = rig("roundrobin", "A:3 B:2 C:1");
    expect(r.seq(6)).toBe("ABACAB");
    r.change("A", (s) => {
      s.admin = "maint";
    });
    expect(r.seq(7)).toBe("BBCBBCB");
    r.change("A", (s) => {
      s.admin = "ready";
    });
    expect(r.seq(14)).toBe("ABCABAABCABAAB");
  });

  it("a weight change takes effect mid-window as in HAProxy (set weight B 6)", () => {
    const r = rig("roundrobin", "A:3 B:2 C:1");
    r.seq(6);
    r.change("A", (s) => {
      s.admin = "maint";
    });
    r.seq(7);
    r.change("A", (s) => {
      s.admin = "ready";
    });
    r.seq(14);
    r.change("B", (s) => {
      s.effectiveWeight = 6;
    });
    expect(r.seq(20)).toBe("CBABBABBABCBABBABBAB");
  });

  it("equal weights: a server DOWN then UP again comes back where HAProxy puts it", () => {
    const r = rig("roundrobin", "A:1 B:1 C:1");
    expect(r.seq(1)).toBe("A");
    r.change("B", (s) => {
      s.up = false;
    });
    expect(r.seq(5)).toBe("CACAC");
    r.change("B", (s) => {
      s.up = true;
    });
    expect(r.seq(9)).toBe("ACBACBACB");
  });

  it("weights 2:7:4, then set weight C 1, then drain B (HAProxy's recorded order)", () => {
    const r = rig("roundrobin", "A:2 B:7 C:4");
    expect(r.seq(39)).toBe("BBCBACBBCBABCBBCBACBBCBABCBBCBACBBCBABC");
    r.change("C", (s) => {
      s.effectiveWeight = 1;
    });
    expect(r.seq(20)).toBe("BBCBBABBBABBCBBABBBA");
    r.change("B", (s) => {
      s.admin = "drain";
    });
    expect(r.seq(6)).toBe("CAAACA");
  });

  it("a server with weight 0, in maint, drained or DOWN gets no new request", () => {
    const r = rig("roundrobin", "A:1 B:0 C:1 D:1 E:1");
    r.change("C", (s) => {
      s.admin = "maint";
    });
    r.change("D", (s) => {
      s.admin = "drain";
    });
    r.change("E", (s) => {
      s.up = false;
    });
    expect(r.seq(4)).toBe("AAAA");
  });

  it("no usable server: the balancer answers undefined (503)", () => {
    const r = rig("roundrobin", "A:1 B:1");
    r.change("A", (s) => {
      s.up = false;
    });
    r.change("B", (s) => {
      s.up = false;
    });
    expect(r.lb.pick({ srcIp: "127.0.0.1", uri: "/" })).toBeUndefined();
  });

  it("a server at its maxconn is skipped; when all are full the answer is 'full' (backend queue)", () => {
    const r = rig("roundrobin", "A:1:maxconn=1 B:1:maxconn=1");
    expect(r.hold(3)).toBe("AB*");
    r.srv("A").active = 0;
    expect(r.seq(2)).toBe("AA");
  });

  it("redispatch: the excluded server is avoided while another one is usable", () => {
    const r = rig("roundrobin", "A:1 B:1");
    const a = r.srv("A");
    expect(r.seq(4, { exclude: a })).toBe("BBBB");
    const only = rig("roundrobin", "A:1");
    expect(only.seq(2, { exclude: only.srv("A") })).toBe("AA");
  });
});

describe("backup servers (matches HAProxy 2.6)", () => {
  it("backups get nothing while an active server is usable", () => {
    expect(rig("roundrobin", "A:1 C:1:backup B:1:backup").seq(4)).toBe("AAAA");
  });

  it("without allbackups only the first declared usable backup serves", () => {
    const r = rig("roundrobin", "A:1 C:1:backup B:1:backup");
    r.change("A", (s) => {
      s.admin = "maint";
    });
    expect(r.seq(6)).toBe("CCCCCC");
    r.change("C", (s) => {
      s.admin = "maint";
    });
    expect(r.seq(4)).toBe("BBBB");
  });

  it("option allbackups: all usable backups share the traffic by weight (C:2 B:1)", () => {
    const r = rig("roundrobin", "A:1 C:2:backup B:1:backup", { allbackups: true });
    r.change("A", (s) => {
      s.admin = "maint";
    });
    expect(r.seq(9)).toBe("CCBCCBCCB");
  });
});

describe("balance static-rr (matches HAProxy 2.6 order)", () => {
  it.each([
    ["A:3 B:1", "AAABAAABAAABAAABAAAB"],
    ["A:3 B:2 C:1", "AABABCAABABCAABABCAA"],
  ])("servers %s answer in HAProxy's map order", (spec, expected) => {
    expect(rig("static-rr", spec).seq(20)).toBe(expected);
  });

  it("the rotation keeps its place when the map is rebuilt (maint, then ready)", () => {
    const r = rig("static-rr", "A:3 B:2 C:1");
    expect(r.seq(4)).toBe("AABA");
    r.change("C", (s) => {
      s.admin = "maint";
    });
    expect(r.seq(12)).toBe("BAABABAABABA");
    r.change("C", (s) => {
      s.admin = "ready";
    });
    expect(r.seq(12)).toBe("ABABCAABABCA");
  });

  it("after a pick on the map's last slot, a grown map resumes past that slot, not at 0", () => {
    // Recorded from haproxy 2.6.12 (checks taking servers down and up): after A comes back it
    // answered s1 s2 s3 s1 s1 s2 s1 s2 s3.
    const r = rig("static-rr", "A:3 B:2 C:1");
    r.seq(5);
    r.change("B", (s) => {
      s.up = false;
    });
    r.seq(5);
    r.change("B", (s) => {
      s.up = true;
    });
    r.seq(14);
    r.change("A", (s) => {
      s.up = false;
    });
    r.seq(3);
    r.change("A", (s) => {
      s.up = true;
    });
    expect(r.seq(9)).toBe("ABCAABABC");
  });

  it("a shrunk map continues from the same slot (A in maint after two picks)", () => {
    const r = rig("static-rr", "A:3 B:2 C:1");
    expect(r.seq(2)).toBe("AA");
    r.change("A", (s) => {
      s.admin = "maint";
    });
    expect(r.seq(6)).toBe("CBBCBB");
  });
});
