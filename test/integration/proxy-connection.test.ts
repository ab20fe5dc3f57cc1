/**
 * Connection handling of the request path, as haproxy 2.6 does it on the same config: what
 * `Connection` header each side sees and when each side closes, with `option http-keep-alive`
 * (the default), `option httpclose` and `option http-server-close`; HTTP/1.0 clients and
 * servers; pipelined requests; close-delimited responses; Connection tokens and hop-by-hop
 * headers; `option forwardfor` and its variants.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULTS,
  echoReply,
  get,
  header,
  headerNames,
  proxy,
  RawClient,
  request,
  type ScriptedServer,
  scriptedServer,
} from "./proxy-fixture.js";

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

let ka: number;
let close: number;
let sclose: number;
let ff: number;
let ffNone: number;
let ffHeader: number;
let ffExcept: number;
let ffOther: number;
let beClose: number;
let ffBoth: number;
let ffBeExcept: number;
let srv: ScriptedServer;

/** The request heads the server received since `from`. */
function seen(from: number): string[] {
  return srv.requests.slice(from).map((r) => r.head);
}

/** The server connections those requests came on. */
function connsOf(from: number): number[] {
  return srv.requests.slice(from).map((r) => r.conn);
}

beforeAll(async () => {
  srv = await scriptedServer(echoReply("s1"));
  cleanup.push(() => srv.close());
  const fe = (name: string, port: number, extra = "") =>
    `frontend ${name}\n  bind 127.0.0.1:@PORT${port}\n${extra}  default_backend be\n`;
  const { ports } = await proxy(
    `${DEFAULTS}${fe("ka", 1)}${fe("close", 2, "  option httpclose\n")}${fe(
      "sclose",
      3,
      "  option http-server-close\n",
    )}${fe("ff", 4, "  option forwardfor\n")}${fe("ffnone", 5, "  option forwardfor if-none\n")}${fe(
      "ffhdr",
      6,
      "  option forwardfor header X-Client\n",
    )}${fe("ffexcept", 7, "  option forwardfor except 127.0.0.0/8\n")}${fe(
      "ffother",
      8,
      "  option forwardfor except 10.0.0.0/8\n",
    )}frontend bclose\n  bind 127.0.0.1:@PORT9\n  default_backend beclose\n` +
      "frontend ffboth\n  bind 127.0.0.1:@PORT10\n  option forwardfor header X-FE if-none\n  default_backend beff\n" +
      "frontend ffbeexcept\n  bind 127.0.0.1:@PORT11\n  option forwardfor\n  default_backend beexcept\n" +
      `backend beff\n  option forwardfor header X-BE\n  server s1 127.0.0.1:${srv.port}\n` +
      `backend beexcept\n  option forwardfor except 127.0.0.0/8\n  server s1 127.0.0.1:${srv.port}\n` +
      `backend be\n  server s1 127.0.0.1:${srv.port}\n` +
      `backend beclose\n  option httpclose\n  server s1 127.0.0.1:${srv.port}\n`,
    cleanup,
  );
  [ka, close, sclose, ff, ffNone, ffHeader, ffExcept, ffOther, beClose, ffBoth, ffBeExcept] = ports.slice(
    1,
  ) as [number, number, number, number, number, number, number, number, number, number, number];
});

describe("option http-keep-alive (the default)", () => {
  it("keeps both sides open: two requests on one client connection reuse one server connection", async () => {
    const from = srv.requests.length;
    const c = await RawClient.open(ka);
    c.send(get("/a"));
    const r1 = await c.response();
    c.send(get("/b"));
    const r2 = await c.response();
    expect(r1.raw).toBe("HTTP/1.1 200 OK\r\nx-echo: s1\r\ncontent-length: 18\r\n\r\ns1:GET /a HTTP/1.1");
    expect(r2.body).toBe("s1:GET /b HTTP/1.1");
    expect(seen(from)).toEqual([
      "GET /a HTTP/1.1\r\nhost: test\r\n\r\n",
      "GET /b HTTP/1.1\r\nhost: test\r\n\r\n",
    ]);
    const [c1, c2] = connsOf(from);
    expect(c1).toBe(c2);
    expect(c.isOpen).toBe(true);
  });

  it("answers an HTTP/1.0 client without keep-alive with connection: close and closes, keeping the server side", async () => {
    const from = srv.requests.length;
    const c = await RawClient.open(ka);
    c.send(get("/a", "", "1.0"));
    const r = await c.response();
    expect(header(r, "connection")).toBe("close");
    await c.closed();
    expect(seen(from)).toEqual(["GET /a HTTP/1.0\r\nhost: test\r\nconnection: keep-alive\r\n\r\n"]);
  });

  it("keeps an HTTP/1.0 client that asks for keep-alive, saying connection: keep-alive", async () => {
    const c = await RawClient.open(ka);
    c.send(get("/a", "Connection: keep-alive\r\n", "1.0"));
    const r1 = await c.response();
    c.send(get("/b", "Connection: keep-alive\r\n", "1.0"));
    const r2 = await c.response();
    expect(headerNames(r1)).toEqual(["x-echo", "content-length", "connection"]);
    expect(header(r1, "connection")).toBe("keep-alive");
    expect(r2.body).toBe("s1:GET /b HTTP/1.0");
    expect(c.isOpen).toBe(true);
  });

  it("closes after a request with Connection: close, answering connection: close", async () => {
    const c = await RawClient.open(ka);
    c.send(get("/a", "Connection: close\r\n"));
    const r = await c.response();
    expect(r.raw).toBe(
      "HTTP/1.1 200 OK\r\nx-echo: s1\r\ncontent-length: 18\r\nconnection: close\r\n\r\ns1:GET /a HTTP/1.1",
    );
    await c.closed();
  });

  it("keeps the client after an HTTP/1.0 server response, adding connection: keep-alive, and opens a new server connection", async () => {
    const from = srv.requests.length;
    const c = await RawClient.open(ka);
    c.send(get("/a?_http10"));
    const r1 = await c.response();
    expect(r1.head).toBe("HTTP/1.0 200 OK\r\nx-echo: s1\r\ncontent-length: 26\r\nconnection: keep-alive");
    c.send(get("/b"));
    await c.response();
    const [c1, c2] = connsOf(from);
    expect(c1).not.toBe(c2);
  });

  it("forwards a close-delimited response and then closes the client (HTTP/1.1: connection: close)", async () => {
    const c = await RawClient.open(ka);
    c.send(get("/a?_nolength"));
    await c.closed();
    const r = await c.response();
    expect(r.raw).toBe(
      "HTTP/1.1 200 OK\r\nx-echo: s1\r\nconnection: close\r\n\r\ns1:GET /a?_nolength HTTP/1.1",
    );
  });

  it("answers pipelined requests one after the other, in order", async () => {
    const c = await RawClient.open(ka);
    c.send(get("/1") + get("/2") + get("/3"));
    const bodies = [(await c.response()).body, (await c.response()).body, (await c.response()).body];
    expect(bodies).toEqual(["s1:GET /1 HTTP/1.1", "s1:GET /2 HTTP/1.1", "s1:GET /3 HTTP/1.1"]);
  });

  it("does not add connection: close when the client half-closed after its request, then closes", async () => {
    const c = await RawClient.open(ka);
    c.send(get("/a?_delay=100"));
    c.end();
    const r = await c.response();
    expect(header(r, "connection")).toBeUndefined();
    await c.closed();
  });
});

describe("option httpclose", () => {
  it("closes both sides after each exchange: connection: close to the server and last in the response", async () => {
    const from = srv.requests.length;
    const c = await RawClient.open(close);
    c.send(get("/a"));
    const r = await c.response();
    expect(r.raw).toBe(
      "HTTP/1.1 200 OK\r\nx-echo: s1\r\ncontent-length: 18\r\nconnection: close\r\n\r\ns1:GET /a HTTP/1.1",
    );
    await c.closed();
    expect(seen(from)).toEqual(["GET /a HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n"]);
  });

  it("sends an HTTP/1.0 request without any connection header (close is implied)", async () => {
    const from = srv.requests.length;
    const c = await RawClient.open(close);
    c.send(get("/a", "Connection: keep-alive\r\n", "1.0"));
    const r = await c.response();
    expect(header(r, "connection")).toBe("close");
    await c.closed();
    expect(seen(from)).toEqual(["GET /a HTTP/1.0\r\nhost: test\r\n\r\n"]);
  });
});

describe("option forwardfor in both the frontend and the backend", () => {
  it("names the header after the backend's, and if-none holds only when both say it", async () => {
    const from = srv.requests.length;
    await request(ffBoth, get("/a", "X-BE: 10.0.0.1\r\n"));
    expect(seen(from)).toEqual([
      "GET /a HTTP/1.1\r\nhost: test\r\nx-be: 10.0.0.1\r\nx-be: 127.0.0.1\r\n\r\n",
    ]);
  });

  it("adds nothing when the backend's except network holds the client", async () => {
    const from = srv.requests.length;
    await request(ffBeExcept, get("/a"));
    expect(seen(from)).toEqual(["GET /a HTTP/1.1\r\nhost: test\r\n\r\n"]);
  });
});

describe("option httpclose in the backend only", () => {
  it("closes the server side after each request and keeps the client's connection", async () => {
    const from = srv.requests.length;
    const c = await RawClient.open(beClose);
    c.send(get("/a"));
    const r1 = await c.response();
    c.send(get("/b"));
    await c.response();
    // The client side follows the frontend's mode (keep-alive): no connection header.
    expect(header(r1, "connection")).toBeUndefined();
    expect(seen(from)).toEqual([
      "GET /a HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n",
      "GET /b HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n",
    ]);
    expect(c.isOpen).toBe(true);
  });
});

describe("option http-server-close", () => {
  it("keeps the client connection and opens a server connection per request, each told connection: close", async () => {
    const from = srv.requests.length;
    const c = await RawClient.open(sclose);
    c.send(get("/a"));
    const r1 = await c.response();
    c.send(get("/b"));
    await c.response();
    expect(header(r1, "connection")).toBeUndefined();
    expect(seen(from)).toEqual([
      "GET /a HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n",
      "GET /b HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n",
    ]);
    const [c1, c2] = connsOf(from);
    expect(c1).not.toBe(c2);
    expect(c.isOpen).toBe(true);
  });
});

describe("Connection tokens and hop-by-hop headers", () => {
  it("removes close/keep-alive tokens in place and keeps the others and the headers they name", async () => {
    const from = srv.requests.length;
    await request(ka, get("/a", "Connection: X-Foo, keep-alive\r\nX-Foo: 1\r\nKeep-Alive: timeout=5\r\n"));
    expect(seen(from)[0]).toBe(
      "GET /a HTTP/1.1\r\nhost: test\r\nconnection: X-Foo\r\nx-foo: 1\r\nkeep-alive: timeout=5\r\n\r\n",
    );
  });

  it("forwards TE only as 'te: trailers', and other hop-by-hop headers as they came", async () => {
    const from = srv.requests.length;
    await request(ka, get("/a", "TE: gzip, trailers\r\nProxy-Connection: keep-alive\r\nUpgrade: foo\r\n"));
    expect(seen(from)[0]).toBe(
      "GET /a HTTP/1.1\r\nhost: test\r\nte: trailers\r\nproxy-connection: keep-alive\r\nupgrade: foo\r\n\r\n",
    );
    const from2 = srv.requests.length;
    await request(ka, get("/b", "TE: gzip\r\n"));
    expect(seen(from2)[0]).toBe("GET /b HTTP/1.1\r\nhost: test\r\n\r\n");
  });

  it("keeps a response's own connection tokens and appends its connection: keep-alive line last (HTTP/1.0 client)", async () => {
    const c = await RawClient.open(ka);
    c.send(
      get(
        "/a?_header=Connection:X-Foo,%20keep-alive&_header=Keep-Alive:timeout=5",
        "Connection: keep-alive\r\n",
        "1.0",
      ),
    );
    const r = await c.response();
    expect(r.head).toBe(
      "HTTP/1.1 200 OK\r\nx-echo: s1\r\nconnection: X-Foo\r\nkeep-alive: timeout=5\r\ncontent-length: 86\r\nconnection: keep-alive",
    );
  });

  it("lowercases header names both ways and keeps their order and duplicates", async () => {
    const from = srv.requests.length;
    const r = await request(
      ka,
      get("/a?_header=Set-Cookie:a=1&_header=Set-Cookie:b=2", "X-A: 1\r\nx-a: 2\r\nACCEPT: */*\r\n"),
    );
    expect(seen(from)[0]).toContain("\r\nx-a: 1\r\nx-a: 2\r\naccept: */*\r\n");
    expect(r.headers.filter(([n]) => n === "set-cookie").map(([, v]) => v)).toEqual(["a=1", "b=2"]);
  });
});

describe("option forwardfor", () => {
  it("appends its own x-forwarded-for line after one the client sent (not comma-merged)", async () => {
    const from = srv.requests.length;
    await request(ff, get("/a", "X-Forwarded-For: 1.2.3.4\r\n"));
    expect(seen(from)[0]).toBe(
      "GET /a HTTP/1.1\r\nhost: test\r\nx-forwarded-for: 1.2.3.4\r\nx-forwarded-for: 127.0.0.1\r\n\r\n",
    );
  });

  it("if-none: adds nothing when the client sent the header, adds it otherwise", async () => {
    const from = srv.requests.length;
    await request(ffNone, get("/a", "X-Forwarded-For: 1.2.3.4\r\n"));
    await request(ffNone, get("/b"));
    expect(seen(from)).toEqual([
      "GET /a HTTP/1.1\r\nhost: test\r\nx-forwarded-for: 1.2.3.4\r\n\r\n",
      "GET /b HTTP/1.1\r\nhost: test\r\nx-forwarded-for: 127.0.0.1\r\n\r\n",
    ]);
  });

  it("header NAME: uses that name instead", async () => {
    const from = srv.requests.length;
    await request(ffHeader, get("/a"));
    expect(seen(from)[0]).toBe("GET /a HTTP/1.1\r\nhost: test\r\nx-client: 127.0.0.1\r\n\r\n");
  });

  it("except NET: no header for a client inside the network, the header for one outside", async () => {
    const from = srv.requests.length;
    await request(ffExcept, get("/a"));
    await request(ffOther, get("/b"));
    expect(seen(from)).toEqual([
      "GET /a HTTP/1.1\r\nhost: test\r\n\r\n",
      "GET /b HTTP/1.1\r\nhost: test\r\nx-forwarded-for: 127.0.0.1\r\n\r\n",
    ]);
  });
});
