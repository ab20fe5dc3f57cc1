/**
 * Cookie persistence as HAProxy 2.6 does it. Every expected string below was recorded from
 * HAProxy 2.6.12 (raw requests through `cookie SRV insert ...` to a server that logs the raw
 * request head and echoes configurable response headers; letters from `option httplog`).
 */
import { describe, expect, it } from "vitest";
import type { CookieConfig } from "../../proxy/config/model.js";
import {
  type CookiePlan,
  type CookieRequest,
  compileCookie,
  decideResponseCookie,
  readRequestCookies,
} from "../../proxy/persist/cookie.js";
import { decodeDate, encodeNow, encodeQuad } from "../../proxy/persist/dates.js";
import type { BackendRuntime, ServerRuntime } from "../../proxy/state.js";
import { backendRuntime, proxyModel, serverModel } from "./stats-fixture.js";

const NOW = 1795653323;

function cookieCfg(over: Partial<CookieConfig> = {}): CookieConfig {
  return {
    name: "SRV",
    mode: "insert",
    indirect: false,
    nocache: false,
    postonly: false,
    preserve: false,
    httponly: false,
    secure: false,
    attrs: [],
    domains: [],
    loc: { file: "t.cfg", line: 1 },
    ...over,
  };
}

interface Setup {
  be: BackendRuntime;
  plan: CookiePlan;
  srv(n: string): ServerRuntime;
  read(headers: string[], persist?: boolean, now?: number): CookieRequest;
}

/** Servers A, B, C with cookies A, B, C (and N without a cookie). */
function setup(over: Partial<CookieConfig> = {}): Setup {
  const servers = [
    serverModel({ name: "A", id: 1, cookie: "A" }),
    serverModel({ name: "B", id: 2, cookie: "B" }),
    serverModel({ name: "C", id: 3, cookie: "C" }),
    serverModel({ name: "N", id: 4 }),
  ];
  const cfg = proxyModel({ name: "L1", id: 1, kind: "listen", servers, cookie: cookieCfg(over) });
  const be = backendRuntime(cfg);
  const plan = compileCookie(be)!;
  const srv = (n: string) => be.servers.find((s) => s.cfg.name === n)!;
  return {
    be,
    plan,
    srv,
    read: (headers, persist = false, now = NOW) => readRequestCookies(plan, headers, now, { persist }),
  };
}

describe("indirect: our cookie leaves the Cookie header, the others stay as HAProxy forwards them", () => {
  const s = setup({ indirect: true });
  it.each([
    ["a=1; SRV=A; b=2", "a=1; b=2"],
    ["SRV=A; b=2", "b=2"],
    ["a=1; SRV=A", "a=1"],
    ["a=1;SRV=A;b=2", "a=1; b=2"],
    ["a=1 ;  SRV=A  ;   b=2", "a=1; b=2"],
    ["a=1, SRV=A, b=2", "a=1, b=2"],
    ["SRV=A, b=2", "b=2"],
    ["a=1,SRV=A", "a=1"],
    ["$Version=1; SRV=A; $Path=/; c=3", "$Version=1; c=3"],
    ["SRV=A; SRV=B; x=1", "x=1"],
    ["a=1;  SRV=A", "a=1"],
    ["SRV=A ; b=2", "b=2"],
    ["a=1; SRV=A;", "a=1; "],
    ["a=1; SRV", "a=1; SRV"],
    ["a=1; SRV=; b=2", "a=1; b=2"],
    ["a=1; SRVX=A; b=2", "a=1; SRVX=A; b=2"],
    ['SRV="A"; b=2', "b=2"],
    ["a=1; SRV=A, b=2", "a=1, b=2"],
    ["a=1, SRV=A; b=2", "a=1; b=2"],
    ["a=1; SRV=A; SRV=B; b=2", "a=1; b=2"],
    ["a=1 ; SRV=A", "a=1 "],
    ["a=1; SRV=A ;", "a=1; "],
    ["SRV=A;b=2", "b=2"],
    [";SRV=A; b=2", "b=2"],
    ["a=1;;SRV=A;;b=2", "a=1;; ;b=2"],
    ["a=1; $x=2; SRV=A; $Path=/; $Domain=x; b=2", "a=1; $x=2; b=2"],
    ["a = 1 ; SRV = A ; b = 2", "a=1; b=2"],
    ["a=1; SRV=A; b", "a=1; b"],
    ["a=x y; SRV=A; b=2", "a=x y; b=2"],
    ["a=1; SRV=A\t; b=2", "a=1; b=2"],
    [";a=1; SRV=A; b=2", ";a=1; b=2"],
    ["a=1;;SRV=A", "a=1;"],
    [";;SRV=A;b=2", ";; b=2"],
    ["SRV=A;;b=2", ";b=2"],
    ["x; SRV=A; b=2", "x; b=2"],
    ["SRV=A; x; b=2", "x; b=2"],
    ["a=1; SRV=A; x", "a=1; x"],
    ["SRV=A; $Path=/; b=2", "b=2"],
    ["a=1; SRV=A; $Path=/", "a=1"],
    ["a=1, b=2; SRV=A, c=3", "a=1, b=2, c=3"],
    ["a=1; SRV=A; c=3; SRV=B; d=4", "a=1; c=3; d=4"],
    ["SRV=A; a=1; SRV=B", "a=1"],
    ['a="x;y"; SRV=A; b=2', 'a="x;y"; b=2'],
    [",SRV=A,b=2", "b=2"],
  ])("Cookie: %s is forwarded as %s", (input, output) => {
    expect(s.read([input]).forward ?? [input]).toEqual([output]);
  });

  it.each([["SRV=A"], [";SRV=A"], ["SRV=A; SRV=A"], ["SRV=A;$Path=/"], ["$Version=1; SRV=A; $Path=/"]])(
    "Cookie: %s alone: the header is removed",
    (input) => {
      expect(s.read([input]).forward).toEqual([]);
    },
  );

  it("several Cookie headers are rewritten one by one; an emptied one disappears", () => {
    expect(s.read(["a=1", "SRV=A", "b=2"]).forward).toEqual(["a=1", "b=2"]);
  });

  it("nothing to change: forward is undefined (the headers go as they came)", () => {
    expect(s.read(["a=1; b=2"]).forward).toBeUndefined();
  });
});

describe("without indirect the cookie stays; spaces around '=' are tightened as HAProxy does", () => {
  const s = setup();
  it.each([
    ["a =1; b= 2; SRV=A", "a=1; b=2; SRV=A"],
    ["a = 1; b=2", "a=1; b=2"],
    ["a  =  1 ;b=2; SRV=A", "a=1 ;b=2; SRV=A"],
    ["SRV = A; b=2", "SRV=A; b=2"],
  ])("Cookie: %s is forwarded as %s", (input, output) => {
    expect(s.read([input]).forward ?? [input]).toEqual([output]);
  });

  it.each([["a=1 ; b=2"], ["a=1;  ;b=2"], ["a=1; SRV=A; b=2"]])("Cookie: %s goes unchanged", (input) => {
    expect(s.read([input]).forward).toBeUndefined();
  });
});

describe("which server the cookie designates (letters as in HAProxy's log)", () => {
  it("no cookie: N, no server", () => {
    const r = setup().read([]);
    expect([r.server, r.state]).toEqual([undefined, "N"]);
    expect(setup().read(["a=1"]).state).toBe("N");
  });

  it("a valid cookie: V, that server", () => {
    const s = setup();
    const r = s.read(["SRV=C"]);
    expect(r.server).toBe(s.srv("C"));
    expect(r.state).toBe("V");
  });

  it.each([["SRV=Z"], ["SRV="], ['SRV="A"'], ["SRV=a"]])("an unknown value (%s): I, balance", (c) => {
    const r = setup().read([c]);
    expect([r.server, r.state]).toEqual([undefined, "I"]);
  });

  it("the name is case-sensitive: srv=B is not our cookie", () => {
    expect(setup().read(["srv=B"]).state).toBe("N");
  });

  it("a DOWN server's cookie: D, balance (with or without redispatch)", () => {
    const s = setup();
    s.srv("A").up = false;
    const r = s.read(["SRV=A"]);
    expect([r.server, r.state]).toEqual([undefined, "D"]);
  });

  it("option persist: a DOWN server still gets its cookie holders (letter D)", () => {
    const s = setup();
    s.srv("A").up = false;
    const r = s.read(["SRV=A"], true);
    expect(r.server).toBe(s.srv("A"));
    expect(r.state).toBe("D");
  });

  it("a drained server keeps its cookie holders (V); a server in maint loses them (D)", () => {
    const s = setup();
    s.srv("C").admin = "drain";
    expect(s.read(["SRV=C"]).server).toBe(s.srv("C"));
    s.srv("C").admin = "maint";
    expect(s.read(["SRV=C"]).state).toBe("D");
    expect(s.read(["SRV=C"]).server).toBeUndefined();
  });

  it("a server with weight 0 keeps its cookie holders", () => {
    const s = setup();
    s.srv("C").effectiveWeight = 0;
    expect(s.read(["SRV=C"]).state).toBe("V");
  });

  it("the first usable occurrence wins and later ones change nothing (SRV=B; SRV=C -> B, V)", () => {
    const s = setup();
    expect(s.read(["SRV=B; SRV=C"]).server).toBe(s.srv("B"));
    expect(s.read(["SRV=Z; SRV=C"]).server).toBe(s.srv("C"));
    expect(s.read(["SRV=Z", "SRV=C"]).state).toBe("V");
    s.srv("A").up = false;
    expect(s.read(["SRV=A; SRV=C"]).state).toBe("V");
    expect(s.read(["SRV=C; SRV=A"]).state).toBe("V");
  });
});

describe("the Set-Cookie HAProxy inserts", () => {
  const respond = (
    s: Setup,
    server: string,
    over: Partial<Parameters<typeof decideResponseCookie>[1]> = {},
  ) =>
    decideResponseCookie(s.plan, {
      method: "GET",
      request: s.read([]),
      server: s.srv(server),
      direct: false,
      setCookies: [],
      cacheable: false,
      nowSec: NOW,
      ...over,
    });

  it("plain insert: SRV=A; path=/ (letter I)", () => {
    const r = respond(setup(), "A");
    expect(r.insert).toBe("SRV=A; path=/");
    expect(r.state).toBe("I");
  });

  it("httponly secure attr domain: the attributes in HAProxy's order", () => {
    const s = setup({ httponly: true, secure: true, attrs: ["SameSite=Lax"], domains: [".example.com"] });
    expect(respond(s, "A").insert).toBe("SRV=A; path=/; domain=.example.com; HttpOnly; Secure; SameSite=Lax");
  });

  it("several domains and attrs are all written, in order", () => {
    const s = setup({
      domains: ["a.com", "b.com"],
      attrs: ["x=y", "Max-Age=60"],
      maxidle: 1800_000,
      maxlife: 7200_000,
    });
    expect(respond(s, "A").insert).toBe(
      "SRV=A|awd+z|awd+z; path=/; domain=a.com; domain=b.com; x=y; Max-Age=60",
    );
  });

  it("maxidle adds the last-seen date, maxlife also the first-seen date (HAProxy wrote awd+z at 1795653323)", () => {
    expect(respond(setup({ maxidle: 3600_000 }), "A").insert).toBe("SRV=A|awd+z; path=/");
    expect(respond(setup({ maxlife: 7200_000 }), "A").insert).toBe("SRV=A|awd+z|awd+z; path=/");
  });

  it("a server without a cookie value makes the client drop its cookie", () => {
    expect(respond(setup(), "N").insert).toBe("SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/");
    const s = setup({ httponly: true, domains: ["d.com"], maxidle: 3600_000, maxlife: 7200_000 });
    expect(respond(s, "N").insert).toBe(
      "SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/; domain=d.com; HttpOnly",
    );
  });

  it("a client with a valid cookie gets no new one (VN)", () => {
    const s = setup();
    const r = respond(s, "B", { request: s.read(["SRV=B"]), direct: true });
    expect([r.insert, r.state]).toEqual([undefined, "N"]);
  });

  it("after a redispatch the client gets the new server's cookie", () => {
    const s = setup();
    const r = respond(s, "B", { request: s.read(["SRV=A"]), direct: false });
    expect(r.insert).toBe("SRV=B; path=/");
  });

  it("postonly: only a POST response gets the cookie (GET: NN, POST: NI)", () => {
    const s = setup({ postonly: true });
    expect(respond(s, "B").state).toBe("N");
    expect(respond(s, "B", { method: "POST" }).insert).toBe("SRV=B; path=/");
  });

  it("insert mode drops the server's own SRV cookie and inserts ours after the others (NI)", () => {
    const s = setup();
    const r = respond(s, "B", { setCookies: ["a=1", "SRV=mine", "b=2"] });
    expect(r.remove).toEqual([1]);
    expect(r.insert).toBe("SRV=B; path=/");
    expect(r.state).toBe("I");
    expect(respond(s, "B", { setCookies: [" SRV = x; a=b"] }).remove).toEqual([0]);
  });

  it("a valid client cookie and a server SRV cookie: the server's is deleted, none inserted (VD)", () => {
    const s = setup();
    const r = respond(s, "B", {
      request: s.read(["SRV=B"]),
      direct: true,
      setCookies: ["SRV=mine", "x=1", "SRV=two"],
    });
    expect(r.remove).toEqual([0, 2]);
    expect([r.insert, r.state]).toEqual([undefined, "D"]);
  });

  it("preserve: the server's own SRV cookie goes untouched and none is inserted (NP, VP)", () => {
    const s = setup({ preserve: true });
    const r = respond(s, "B", { setCookies: ["SRV=mine"] });
    expect([r.remove, r.insert, r.state]).toEqual([[], undefined, "P"]);
    expect(respond(s, "B", { setCookies: ["a=1"] }).insert).toBe("SRV=B; path=/");
  });

  it("the server's srv (other case) is not ours", () => {
    const r = respond(setup(), "B", { setCookies: ["srv=mine"] });
    expect(r.remove).toEqual([]);
  });

  it("nocache: Cache-Control: private only when the response is cacheable", () => {
    const s = setup({ nocache: true });
    expect(respond(s, "B", { cacheable: true }).cachePrivate).toBe(true);
    expect(respond(s, "B", { cacheable: false }).cachePrivate).toBe(false);
    expect(respond(setup(), "B", { cacheable: true }).cachePrivate).toBe(false);
  });
});

describe("maxidle / maxlife dates (matches HAProxy 2.6)", () => {
  const at = (sec: number) => encodeQuad(sec >>> 2);
  const idle = setup({ indirect: true, maxidle: 3600_000 });
  const life = setup({ indirect: true, maxlife: 3600_000 });
  const both = setup({ indirect: true, maxidle: 3600_000, maxlife: 7200_000 });
  const update = (s: Setup, cookie: string) => {
    const req = s.read([cookie]);
    const res = decideResponseCookie(s.plan, {
      method: "GET",
      request: req,
      server: s.srv("B"),
      direct: req.server !== undefined,
      setCookies: [],
      cacheable: false,
      nowSec: NOW,
    });
    return `${req.state}${res.state} ${res.insert ?? "-"}`;
  };

  it("the date codec: five base64 characters of the time in 4-second units", () => {
    expect(encodeNow(1795653323)).toBe("awd+z");
    expect(decodeDate("awd+z")).toBe(((1795653323 + 3) >>> 2) * 4);
    expect(decodeDate("abc")).toBe(0);
    expect(decodeDate("a#cde")).toBe(0);
    expect(decodeDate("AAAAA")).toBe(0);
  });

  it("a cookie without a date is valid and gets one (VU)", () => {
    expect(update(idle, "SRV=B")).toBe(`VU SRV=B|${encodeNow(NOW)}; path=/`);
  });

  it("a date at or after now is not refreshed (VN); an older one is (VU)", () => {
    expect(update(idle, `SRV=B|${encodeNow(NOW)}`)).toBe("VN -");
    expect(update(idle, `SRV=B|${at(NOW + 4)}`).slice(0, 2)).toBe("VN");
    expect(update(idle, `SRV=B|${at(NOW - 8)}`).slice(0, 2)).toBe("VU");
  });

  it("idle for more than maxidle: expired, ignored, balanced and re-inserted (EI)", () => {
    expect(update(idle, `SRV=B|${at(NOW - 3590)}`).slice(0, 2)).toBe("VU");
    expect(update(idle, `SRV=B|${at(NOW - 3610)}`).slice(0, 2)).toBe("EI");
  });

  it("a last date more than a day ahead is refused (EI); up to a day ahead is fine (VN)", () => {
    expect(update(idle, `SRV=B|${at(NOW + 86000)}`).slice(0, 2)).toBe("VN");
    expect(update(idle, `SRV=B|${at(NOW + 86500)}`).slice(0, 2)).toBe("EI");
  });

  it("a garbled date: 5 valid characters count (garbage -> far future -> EI), fewer are ignored", () => {
    expect(update(idle, "SRV=B|garbage").slice(0, 2)).toBe("EI");
    expect(update(idle, "SRV=B|").slice(0, 2)).toBe("VU");
  });

  it("without maxlife a first date is dropped on refresh", () => {
    expect(update(idle, `SRV=B|${at(NOW - 1800)}|${at(NOW - 10800)}`)).toBe(
      `VU SRV=B|${encodeNow(NOW)}; path=/`,
    );
  });

  it("maxlife: first date kept on refresh, too old -> O (fresh dates)", () => {
    expect(update(life, "SRV=B")).toBe(`VU SRV=B|${encodeNow(NOW)}|${encodeNow(NOW)}; path=/`);
    expect(update(life, `SRV=B|${at(NOW - 8)}|${at(NOW - 1800)}`)).toBe(
      `VU SRV=B|${encodeNow(NOW)}|${at(NOW - 1800)}; path=/`,
    );
    expect(update(life, `SRV=B|${encodeNow(NOW)}|${at(NOW - 1800)}`)).toBe("VN -");
    expect(update(life, `SRV=B|${encodeNow(NOW)}|${at(NOW - 7200)}`)).toBe(
      `OI SRV=B|${encodeNow(NOW)}|${encodeNow(NOW)}; path=/`,
    );
  });

  it("maxlife without maxidle does not expire on the last date", () => {
    expect(update(life, `SRV=B|${at(NOW - 864000)}|${at(NOW - 600)}`).slice(0, 2)).toBe("VU");
  });

  it("both too idle and too old: too old wins (O)", () => {
    expect(update(both, `SRV=B|${at(NOW - 4000)}|${at(NOW - 8000)}`).slice(0, 2)).toBe("OI");
    expect(update(both, `SRV=B|${at(NOW - 4000)}|${at(NOW - 5000)}`).slice(0, 2)).toBe("EI");
  });
});
