/**
 * Learned-session persistence (appsession): the in-memory table with lazy expiry and a
 * bounded sweep, and where ids are found (HAProxy 1.4's rules).
 */
import { describe, expect, it } from "vitest";
import type { LearnedSessionConfig } from "../../proxy/config/model.js";
import { idFromSetCookies, idFromUrl, idsFromCookies, lookupFirst } from "../../proxy/persist/session-id.js";
import { MemorySessionTable } from "../../proxy/persist/session-table.js";

function table(timeoutMs = 1000) {
  let now = 0;
  const events: string[] = [];
  const t = new MemorySessionTable({
    timeoutMs,
    now: () => now,
    listener: {
      onLearn: (id, server, at) => events.push(`learn ${id} ${server} ${at}`),
      onDelete: (id) => events.push(`delete ${id}`),
    },
  });
  const at = (ms: number) => {
    now = ms;
  };
  return { t, events, at };
}

describe("the learned-session table", () => {
  it("remembers id -> server until the timeout", () => {
    const { t, at } = table(1000);
    t.learn("abc", "webA");
    expect(t.get("abc")).toBe("webA");
    at(999);
    expect(t.get("abc")).toBe("webA");
    at(1000);
    expect(t.get("abc")).toBeUndefined();
    expect(t.size).toBe(0);
  });

  it("a use (touch) pushes the expiry back", () => {
    const { t, at } = table(1000);
    t.learn("abc", "webA");
    at(900);
    t.touch("abc");
    at(1800);
    expect(t.get("abc")).toBe("webA");
    at(1900);
    expect(t.get("abc")).toBeUndefined();
  });

  it("learning again moves the id to the new server", () => {
    const { t } = table();
    t.learn("abc", "webA");
    t.learn("abc", "webB");
    expect(t.get("abc")).toBe("webB");
    expect(t.size).toBe(1);
  });

  it("writes notify the listener with the expiry; restore does not", () => {
    const { t, events, at } = table(1000);
    t.learn("a", "webA");
    at(10);
    t.touch("a");
    t.delete("a");
    t.restore("b", "webB", 5000);
    expect(events).toEqual(["learn a webA 1000", "learn a webA 1010", "delete a"]);
    expect(t.get("b")).toBe("webB");
  });

  it("the sweep drops expired entries oldest first and stops at the first live one", () => {
    const { t, at } = table(1000);
    for (let i = 0; i < 10; i++) {
      at(i * 100);
      t.learn(`id${i}`, "webA");
    }
    expect(t.sweep(1450)).toBe(5);
    expect(t.size).toBe(5);
    expect(t.sweep(5000, 2)).toBe(2);
    expect(t.size).toBe(3);
  });

  it("out-of-order restores are put back in order by the next sweep", () => {
    const { t } = table(1000);
    t.restore("late", "webA", 5000);
    t.restore("early", "webB", 2000);
    expect(t.sweep(3000)).toBe(1);
    expect(t.get("late")).toBe("webA");
    expect(t.get("early")).toBeUndefined();
  });
});

const rules: Pick<LearnedSessionConfig, "cookie" | "len" | "prefix" | "mode" | "appsession"> = {
  cookie: "JSESSIONID",
  len: 52,
  prefix: false,
  mode: "path-parameters",
  appsession: true,
};

describe("finding the session id (HAProxy 1.4 appsession rules)", () => {
  it("from the server's Set-Cookie, exact name, the last one wins", () => {
    expect(idFromSetCookies(rules, ["a=1", "JSESSIONID=abc; Path=/; HttpOnly"])).toBe("abc");
    expect(idFromSetCookies(rules, ["JSESSIONID=one", "JSESSIONID=two"])).toBe("two");
    expect(idFromSetCookies(rules, ["jsessionid=abc"])).toBeUndefined();
  });

  it("cut to len characters", () => {
    expect(idFromSetCookies({ ...rules, len: 4 }, ["JSESSIONID=abcdefgh"])).toBe("abcd");
  });

  it("from the client's Cookie headers, every occurrence in order", () => {
    expect(idsFromCookies(rules, ["a=1; JSESSIONID=x1", "JSESSIONID=x2"])).toEqual(["x1", "x2"]);
    const known = new Map([["x2", "webB"]]);
    expect(lookupFirst((id) => known.get(id), ["x1", "x2"])).toEqual({ id: "x2", server: "webB" });
  });

  it("from a ;jsessionid= path parameter, name in any case, on GET/HEAD/POST only", () => {
    expect(idFromUrl(rules, "GET", "/shop/cart;jsessionid=abc123?x=1")).toBe("abc123");
    expect(idFromUrl(rules, "POST", "/a;JSESSIONID=Z9")).toBe("Z9");
    expect(idFromUrl(rules, "PUT", "/a;jsessionid=Z9")).toBeUndefined();
    expect(idFromUrl(rules, "GET", "/a;x=1;jsessionid=first;jsessionid=last")).toBe("last");
    expect(idFromUrl(rules, "GET", "/a?jsessionid=q")).toBeUndefined();
  });

  it("with stick match urlp(C,;) as HAProxy 2.6: exact name, any method, the first one wins", () => {
    const modern = { ...rules, appsession: undefined };
    expect(idFromUrl(modern, "GET", "/a;jsessionid=abc")).toBeUndefined();
    expect(idFromUrl(modern, "PUT", "/a;JSESSIONID=Z9")).toBe("Z9");
    expect(idFromUrl(modern, "GET", "/a;JSESSIONID=first;JSESSIONID=last")).toBe("first");
    expect(idFromUrl(modern, "GET", "/a;x=1&JSESSIONID=amp")).toBe("amp");
    expect(idFromUrl(modern, "GET", "/a;JSESSIONID=v?q=1")).toBe("v?q=1");
  });

  it("mode query-string looks in the query instead", () => {
    expect(idFromUrl({ ...rules, mode: "query-string" }, "GET", "/a?x=1&jsessionid=q")).toBe("q");
  });

  it("prefix: the name only has to start the cookie name; the id is what follows", () => {
    const p = { ...rules, cookie: "ASPSESSIONID", prefix: true };
    expect(idFromSetCookies(p, ["ASPSESSIONIDQQ=v1"])).toBe("QQ=v1");
  });
});
