/**
 * balance source and balance uri with HAProxy's default map-based hashing. The expected
 * servers were recorded from HAProxy 2.6.12: curl --interface 127.x.y.z for source, and
 * one request per path for uri (whole, len 3, depth 2, weights 3:5:1).
 */
import { describe, expect, it } from "vitest";
import { sourceHash, uriHash } from "../../proxy/balance/hash.js";
import { buildMap } from "../../proxy/balance/map.js";
import { rig } from "./balance-fixture.js";

const IPS = [
  "127.0.0.1",
  "127.0.0.2",
  "127.0.0.3",
  "127.0.0.4",
  "127.0.0.5",
  "127.0.0.6",
  "127.0.0.7",
  "127.0.1.1",
  "127.1.2.3",
  "127.200.100.50",
  "127.255.255.254",
];

function bySource(spec: string, ips: readonly string[]): string {
  const r = rig("source", spec);
  return ips.map((ip) => r.seq(1, { srcIp: ip })).join("");
}

describe("balance source (matches HAProxy 2.6, hash-type map-based)", () => {
  it("three equal servers: the client address modulo 3 picks the server", () => {
    expect(bySource("A B C", IPS)).toBe("CABCABCABAA");
  });

  it("weights 1:2 use HAProxy's 3-slot map A,B,B", () => {
    expect(bySource("A:1 B:2", IPS)).toBe("BABBABBABAA");
  });

  it("weights 2:4:6 are reduced by their gcd to a 6-slot map, as HAProxy does", () => {
    expect(bySource("A:2 B:4 C:6", IPS)).toBe("CACBCBCCCAA");
  });

  it("a server in maint is left out of the map (A,C only)", () => {
    const r = rig("source", "A B C");
    r.change("B", (s) => {
      s.admin = "maint";
    });
    const got = IPS.slice(0, 6)
      .map((ip) => r.seq(1, { srcIp: ip }))
      .join("");
    expect(got).toBe("CACACA");
  });

  it("with every active server down, only the first backup serves", () => {
    const r = rig("source", "A C:1:backup B:1:backup");
    r.change("A", (s) => {
      s.admin = "maint";
    });
    expect(IPS.slice(0, 3).map((ip) => r.seq(1, { srcIp: ip }))).toEqual(["C", "C", "C"]);
  });

  it("an IPv4-mapped IPv6 client hashes like its IPv4 address; IPv6 XORs its four words", () => {
    expect(sourceHash("::ffff:127.0.0.1")).toBe(0x7f000001);
    expect(sourceHash("127.0.0.1")).toBe(0x7f000001);
    expect(sourceHash("::1")).toBe(1);
    expect(sourceHash("2001:db8::1")).toBe((0x20010db8 ^ 0 ^ 0 ^ 1) >>> 0);
    expect(sourceHash("2001:db8::ffff:1.2.3.4")).toBe((0x20010db8 ^ 0 ^ 0xffff ^ 0x01020304) >>> 0);
    expect(sourceHash("not-an-ip")).toBe(0);
  });
});

const URIS = [
  "/",
  "/a",
  "/b",
  "/abc",
  "/abcd",
  "/abc/def",
  "/abc/def/ghi",
  "/abc/dex/ghi",
  "/x?y=1",
  "/x?y=2",
  "/x",
  "/login",
  "/login/",
  "/a/b/c/d",
  "/aa/bb/cc",
];

function byUri(balance: Parameters<typeof rig>[0], spec: string): string {
  const r = rig(balance, spec);
  return URIS.map((uri) => r.seq(1, { uri })).join("");
}

describe("balance uri (matches HAProxy 2.6, hash-type map-based)", () => {
  it("hashes the path up to '?'", () => {
    expect(byUri("uri", "A B C")).toBe("CABABABCCCCCBAB");
  });

  it("uri whole: the query string counts too", () => {
    expect(byUri({ algo: "uri", uriWhole: true }, "A B C")).toBe("CABABABCCACCBAB");
  });

  it("uri len 3: only the first three characters count", () => {
    expect(byUri({ algo: "uri", uriLen: 3 }, "A B C")).toBe("CABAAAAACCCAAAC");
  });

  it("uri depth 2: the path stops before its third slash", () => {
    expect(byUri({ algo: "uri", uriDepth: 2 }, "A B C")).toBe("CABABAAACCCCBCB");
  });

  it("weights 3:5:1 index HAProxy's 9-slot map", () => {
    expect(byUri("uri", "A:3 B:5 C:1")).toBe("ABBBBABACCCCBAB");
  });

  it("an absolute-form target is hashed whole, scheme and host included (as HAProxy)", () => {
    const r = rig("uri", "A B C");
    const got = ["/abc/def/ghi", "/abc/dex/ghi", "/x", "/abcd", "/b"]
      .map((p) => r.seq(1, { uri: `http://127.0.0.1:18031${p}` }))
      .join("");
    expect(got).toBe("ABBAA");
  });

  it("the sdbm hash is 32-bit unsigned", () => {
    expect(uriHash("/", { whole: false, len: 0, depth: 0 })).toBe(47);
    expect(uriHash("/aa/bb/cc", { whole: false, len: 0, depth: 0 })).toBeLessThan(2 ** 32);
  });
});

describe("the static map", () => {
  it("interleaves 3:2:1 as A,A,B,A,B,C (HAProxy's quantised scores, first declared on ties)", () => {
    const names = ["A", "B", "C"].map((n) => ({ n }) as never);
    const map = buildMap(names, [3, 2, 1]).map((x) => (x as unknown as { n: string }).n);
    expect(map.join("")).toBe("AABABC");
  });
});
