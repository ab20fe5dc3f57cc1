/**
 * Sticky sessions as haproxy 2.6 keeps them on the same config: the `cookie SRV insert`
 * cookie with its options (indirect, nocache, postonly, preserve, httponly, secure, attr,
 * domain, maxidle/maxlife), invalid and foreign cookies, servers in maint, drain and
 * redispatch (admin state set through the `stats socket`), and learned sessions on
 * JSESSIONID (`stick` rules, and the tutorial's `appsession`, which haproxy 2.6 lacks).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/index.js";
import {
  DEFAULTS,
  echoReply,
  get,
  header,
  proxy,
  RawClient,
  type RawResponse,
  request,
  runtimeApi,
  type ScriptedServer,
  scriptedServer,
  UNDER_TEST,
} from "./proxy-fixture.js";

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

let a: ScriptedServer;
let b: ScriptedServer;
let sock: string;
const port: Record<string, number> = {};

const FRONTENDS: [string, string][] = [
  ["insert", "cookie SRV insert"],
  ["indirect", "cookie SRV insert indirect nocache"],
  ["postonly", "cookie SRV insert postonly"],
  ["preserve", "cookie SRV insert preserve"],
  ["attrs", "cookie SRV insert httponly secure attr SameSite=Lax domain .example.com"],
  ["dates", "cookie SRV insert maxidle 30m maxlife 8h"],
  ["redisp", "cookie SRV insert indirect\n  option redispatch"],
  ["admin", "cookie SRV insert indirect\n  option redispatch"],
  [
    "stick",
    "stick-table type string len 52 size 1m expire 3h\n  stick match req.cook(JSESSIONID)\n" +
      "  stick match urlp(JSESSIONID,;)\n  stick store-response res.cook(JSESSIONID)",
  ],
];

beforeAll(async () => {
  a = await scriptedServer(echoReply("A"));
  b = await scriptedServer(echoReply("B"));
  cleanup.push(
    () => a.close(),
    () => b.close(),
  );
  const dir = tempDir("proxy-persist-");
  cleanup.push(async () => dir.remove());
  sock = join(dir.path, "admin.sock");
  let cfg = `global\n  stats socket ${sock} level admin\n${DEFAULTS}`;
  FRONTENDS.forEach(([name, persist], i) => {
    const disabled = name === "redisp" ? " disabled" : "";
    cfg +=
      `frontend f_${name}\n  bind 127.0.0.1:@PORT${i + 1}\n  default_backend b_${name}\n` +
      `backend b_${name}\n  balance roundrobin\n  ${persist}\n` +
      `  server A 127.0.0.1:${a.port} cookie A\n  server B 127.0.0.1:${b.port} cookie B${disabled}\n`;
  });
  const { ports } = await proxy(cfg, cleanup);
  FRONTENDS.forEach(([name], i) => {
    port[name] = ports[i + 1]!;
  });
});

const setCookies = (r: RawResponse) => r.headers.filter(([n]) => n === "set-cookie").map(([, v]) => v);
const who = (r: RawResponse) => header(r, "x-echo");

describe("cookie SRV insert", () => {
  it("inserts 'SRV=A; path=/' after the server's own Set-Cookie, only while the client has no valid cookie", async () => {
    const c = await RawClient.open(port.insert!);
    c.send(get("/?_header=Set-Cookie:app=1"));
    const first = await c.response();
    expect(first.head).toBe(
      "HTTP/1.1 200 OK\r\nx-echo: A\r\nset-cookie: app=1\r\ncontent-length: 41\r\nset-cookie: SRV=A; path=/",
    );
    c.send(get("/", "Cookie: SRV=A\r\n"));
    const second = await c.response();
    expect(who(second)).toBe("A");
    expect(setCookies(second)).toEqual([]);
  });

  it("sends a request carrying SRV=B to B whatever the balancer's turn, and the cookie on to the server", async () => {
    const from = b.requests.length;
    for (let i = 0; i < 3; i++)
      expect(who(await request(port.insert!, get("/", "Cookie: SRV=B; x=1\r\n")))).toBe("B");
    expect(b.requests[from]!.head).toBe("GET / HTTP/1.1\r\nhost: test\r\ncookie: SRV=B; x=1\r\n\r\n");
  });

  it("load-balances a request with an unknown or wrongly cased value and inserts a fresh cookie", async () => {
    for (const cookie of ["SRV=Z", "SRV=a", "srv=A"]) {
      const r = await request(port.insert!, get("/", `Cookie: ${cookie}\r\n`));
      expect(setCookies(r)).toEqual([`SRV=${who(r)}; path=/`]);
    }
  });

  it("indirect: removes our cookie from what the server sees and leaves the others as they were", async () => {
    const from = b.requests.length;
    await request(port.indirect!, get("/", "Cookie: a=1; SRV=B; b=2\r\n"));
    await request(port.indirect!, get("/", "Cookie: SRV=B\r\nCookie: x=1\r\n"));
    expect(b.requests.slice(from).map((r) => r.head)).toEqual([
      "GET / HTTP/1.1\r\nhost: test\r\ncookie: a=1; b=2\r\n\r\n",
      "GET / HTTP/1.1\r\nhost: test\r\ncookie: x=1\r\n\r\n",
    ]);
  });

  it("nocache: a separate cache-control: private after the inserted cookie, only on a cacheable response", async () => {
    const cacheable = await request(port.indirect!, get("/?_header=Cache-Control:max-age=60"));
    expect(cacheable.headers.slice(-3).map(([n]) => n)).toEqual([
      "content-length",
      "set-cookie",
      "cache-control",
    ]);
    expect(cacheable.headers.filter(([n]) => n === "cache-control").map(([, v]) => v)).toEqual([
      "max-age=60",
      "private",
    ]);
    // Cacheable by HAProxy's rules means explicitly so (max-age, s-maxage, Expires); a plain
    // 200, a 404, Pragma: no-cache or Vary: * are not.
    for (const path of ["/", "/?_status=404", "/?_header=Pragma:no-cache", "/?_header=Vary:*"]) {
      const r = await request(port.indirect!, get(path));
      expect(setCookies(r).length).toBe(1);
      expect(header(r, "cache-control")).toBeUndefined();
    }
  });

  it("postonly: inserts on a POST only", async () => {
    expect(setCookies(await request(port.postonly!, get("/")))).toEqual([]);
    const post = await request(port.postonly!, "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 1\r\n\r\nx");
    expect(setCookies(post)).toEqual([`SRV=${who(post)}; path=/`]);
  });

  it("preserve: a server setting SRV itself keeps its cookie and gets none inserted", async () => {
    const r = await request(port.preserve!, get("/?_header=Set-Cookie:SRV=mine"));
    expect(setCookies(r)).toEqual(["SRV=mine"]);
  });

  it("without preserve, the server's own SRV cookie is replaced by ours", async () => {
    const r = await request(port.insert!, get("/?_header=Set-Cookie:SRV=mine"));
    expect(setCookies(r)).toEqual([`SRV=${who(r)}; path=/`]);
  });

  it("httponly, secure, attr and domain add their attributes in HAProxy's order", async () => {
    const r = await request(port.attrs!, get("/"));
    expect(setCookies(r)).toEqual([
      `SRV=${who(r)}; path=/; domain=.example.com; HttpOnly; Secure; SameSite=Lax`,
    ]);
  });

  it("maxidle/maxlife: the value carries HAProxy's encoded dates", async () => {
    const r = await request(port.dates!, get("/"));
    // Five characters of base64 each (haproxy's alphabet has '+' and '/': `awe+v` in 2026).
    expect(setCookies(r)[0]).toMatch(/^SRV=[AB]\|[A-Za-z0-9+/]{5}\|[A-Za-z0-9+/]{5}; path=\/$/);
  });
});

describe("servers that cannot take the request", () => {
  it("a cookie for a server in maint (disabled) goes elsewhere with option redispatch, and gets that server's cookie", async () => {
    const r = await request(port.redisp!, get("/", "Cookie: SRV=B\r\n"));
    expect(who(r)).toBe("A");
    expect(setCookies(r)).toEqual(["SRV=A; path=/"]);
  });

  it("drain keeps the cookie holders of the server but sends it no new client", async () => {
    expect(await runtimeApi(sock, "set server b_admin/B state drain")).toBe("\n");
    try {
      expect(who(await request(port.admin!, get("/", "Cookie: SRV=B\r\n")))).toBe("B");
      const fresh = [];
      for (let i = 0; i < 4; i++) fresh.push(who(await request(port.admin!, get("/"))));
      expect(fresh).toEqual(["A", "A", "A", "A"]);
    } finally {
      await runtimeApi(sock, "set server b_admin/B state ready");
    }
  });

  it("maint sends the cookie holders of the server to another one (redispatch) with its cookie", async () => {
    await runtimeApi(sock, "set server b_admin/B state maint");
    try {
      const r = await request(port.admin!, get("/", "Cookie: SRV=B\r\n"));
      expect(who(r)).toBe("A");
      expect(setCookies(r)).toEqual(["SRV=A; path=/"]);
    } finally {
      await runtimeApi(sock, "set server b_admin/B state ready");
    }
    expect(who(await request(port.admin!, get("/", "Cookie: SRV=B\r\n")))).toBe("B");
  });
});

describe("learned sessions (stick on JSESSIONID)", () => {
  it("learns the id from the server's Set-Cookie and sends later requests carrying it to the same server", async () => {
    const c = await RawClient.open(port.stick!);
    c.send(get("/login?_header=Set-Cookie:JSESSIONID=abc123;%20Path=/"));
    const learnedOn = who(await c.response());
    const later = [];
    for (let i = 0; i < 3; i++) {
      c.send(get("/page", "Cookie: JSESSIONID=abc123\r\n"));
      later.push(who(await c.response()));
    }
    expect(later).toEqual([learnedOn, learnedOn, learnedOn]);
  });

  it("finds the id in a ;JSESSIONID= path parameter (the name as written; the value runs to the end)", async () => {
    const c = await RawClient.open(port.stick!);
    c.send(get("/login?_header=Set-Cookie:JSESSIONID=p4th"));
    const learnedOn = who(await c.response());
    const seen = [];
    for (let i = 0; i < 3; i++) {
      c.send(get("/x;JSESSIONID=p4th"));
      seen.push(who(await c.response()));
    }
    expect(seen).toEqual([learnedOn, learnedOn, learnedOn]);
  });

  it("load-balances a request whose id the table does not know", async () => {
    const seen = new Set<string | undefined>();
    for (let i = 0; i < 4; i++)
      seen.add(who(await request(port.stick!, get("/", "Cookie: JSESSIONID=unknown\r\n"))));
    expect([...seen].sort()).toEqual(["A", "B"]);
  });
});

describe.skipIf(UNDER_TEST === "haproxy")("appsession (HAProxy 1.4, kept by fulcrum)", () => {
  let legacy: number;
  beforeAll(async () => {
    const { ports } = await proxy(
      `${DEFAULTS}listen web_proxy\n  bind 127.0.0.1:@PORT1\n  appsession JSESSIONID len 52 timeout 3h\n` +
        `  balance roundrobin\n  server A 127.0.0.1:${a.port}\n  server B 127.0.0.1:${b.port}\n`,
      cleanup,
    );
    legacy = ports[1]!;
  });

  it("routes Java's lowercase ;jsessionid= path parameter to the server that set JSESSIONID", async () => {
    const c = await RawClient.open(legacy);
    c.send(get("/login?_header=Set-Cookie:JSESSIONID=T0mcat"));
    const learnedOn = who(await c.response());
    const seen = [];
    for (let i = 0; i < 3; i++) {
      c.send(get("/shop;jsessionid=T0mcat?item=1"));
      seen.push(who(await c.response()));
    }
    expect(seen).toEqual([learnedOn, learnedOn, learnedOn]);
  });
});
