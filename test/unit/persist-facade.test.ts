/**
 * Persistence for a backend as the request path uses it: the cookie first, then the learned
 * session (the tutorial's `cookie SERVERID insert indirect nocache` + `appsession JSESSIONID
 * len 52 timeout 3h`).
 */
import { describe, expect, it } from "vitest";
import type { CookieConfig, LearnedSessionConfig } from "../../proxy/config/model.js";
import { MemorySessionTable, Persistence } from "../../proxy/persist/index.js";
import { backendRuntime, proxyModel, serverModel } from "./stats-fixture.js";

const loc = { file: "t.cfg", line: 1 };
const cookie: CookieConfig = {
  name: "SERVERID",
  mode: "insert",
  indirect: true,
  nocache: true,
  postonly: false,
  preserve: false,
  httponly: false,
  secure: false,
  attrs: [],
  domains: [],
  loc,
};
const learned: LearnedSessionConfig = {
  cookie: "JSESSIONID",
  len: 52,
  timeout: 3 * 3600_000,
  requestLearn: false,
  prefix: false,
  mode: "path-parameters",
  appsession: true,
  loc,
};

function setup(over: { cookie?: CookieConfig; learned?: LearnedSessionConfig } = { cookie, learned }) {
  const be = backendRuntime(
    proxyModel({
      name: "web_proxy",
      id: 1,
      kind: "listen",
      servers: [
        serverModel({ name: "webA", id: 1, cookie: "A" }),
        serverModel({ name: "webB", id: 2, cookie: "B" }),
      ],
      ...(over.cookie ? { cookie: over.cookie } : {}),
      ...(over.learned ? { learnedSession: over.learned } : {}),
    }),
  );
  const table = new MemorySessionTable({ timeoutMs: learned.timeout, now: () => 0 });
  const p = new Persistence(be, table);
  const [a, b] = be.servers;
  return { be, p, table, a: a!, b: b! };
}

const noHeaders = () => [] as string[];

describe("persistence for a backend", () => {
  it("a valid cookie wins and is removed from what the server sees", () => {
    const { p, b } = setup();
    const r = p.request({ method: "GET", target: "/", cookies: ["SERVERID=B; JSESSIONID=x"] }, 0);
    expect(r.server).toBe(b);
    expect(r.by).toBe("cookie");
    expect(r.clientCookie).toBe("V");
    expect(r.forwardCookies).toEqual(["JSESSIONID=x"]);
  });

  it("the server's Set-Cookie JSESSIONID is learned; later requests with that id go back to it", () => {
    const { p, a, table } = setup();
    const first = p.request({ method: "GET", target: "/login", cookies: [] }, 0);
    expect(first.server).toBeUndefined();
    const res = p.response(
      {
        method: "GET",
        status: 200,
        request: first,
        server: a,
        direct: false,
        setCookies: ["JSESSIONID=s3ss10n; Path=/"],
        header: noHeaders,
      },
      0,
    );
    expect(res.append).toEqual([["set-cookie", "SERVERID=A; path=/"]]);
    expect(res.serverCookie).toBe("I");
    expect(table.get("s3ss10n")).toBe("webA");
    const again = p.request({ method: "GET", target: "/", cookies: ["JSESSIONID=s3ss10n"] }, 1000);
    expect(again.server).toBe(a);
    expect(again.by).toBe("session");
    const viaUrl = p.request({ method: "GET", target: "/cart;jsessionid=s3ss10n", cookies: [] }, 1000);
    expect(viaUrl.server).toBe(a);
  });

  it("a learned session on a DOWN server is not used (balance instead)", () => {
    const { p, a, table } = setup();
    table.learn("id1", "webA", 0);
    a.up = false;
    expect(p.request({ method: "GET", target: "/", cookies: ["JSESSIONID=id1"] }, 0).server).toBeUndefined();
  });

  it("request-learn: an unknown id the client brings is learned with the server that answered", () => {
    const { p, b, table } = setup({ cookie, learned: { ...learned, requestLearn: true } });
    const r = p.request({ method: "GET", target: "/", cookies: ["JSESSIONID=fromclient"] }, 0);
    p.response(
      { method: "GET", status: 200, request: r, server: b, direct: false, setCookies: [], header: noHeaders },
      0,
    );
    expect(table.get("fromclient")).toBe("webB");
  });

  it("nocache adds cache-control: private after the inserted cookie on a cacheable response", () => {
    const { p, a } = setup();
    const r = p.request({ method: "GET", target: "/", cookies: [] }, 0);
    const res = p.response(
      {
        method: "GET",
        status: 200,
        request: r,
        server: a,
        direct: false,
        setCookies: [],
        header: (n) => (n === "cache-control" ? ["max-age=60"] : []),
      },
      0,
    );
    expect(res.append).toEqual([
      ["set-cookie", "SERVERID=A; path=/"],
      ["cache-control", "private"],
    ]);
  });

  it("without a cookie line the letters are '-'", () => {
    const { p, a } = setup({ learned });
    const r = p.request({ method: "GET", target: "/", cookies: [] }, 0);
    expect(r.clientCookie).toBe("-");
    const res = p.response(
      { method: "GET", status: 200, request: r, server: a, direct: false, setCookies: [], header: noHeaders },
      0,
    );
    expect(res.serverCookie).toBe("-");
  });
});
