/**
 * What the client gets when the server side fails, as haproxy 2.6 answers on the same config:
 * 502 (an invalid response, a server closing or resetting before answering), 503 (no server,
 * every server down, no backend, a queue timeout under maxconn), 504 (`timeout server`), the
 * `errorfile` replacements (the backend's first), the client connection kept after these
 * answers, and the retry/redispatch rules and timing with dead servers.
 */

import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, tempDir, waitFor } from "../helpers/index.js";
import {
  echoReply,
  get,
  header,
  proxy,
  RawClient,
  request,
  type ScriptedServer,
  scriptedServer,
  UNDER_TEST,
} from "./proxy-fixture.js";

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const PAGE = (status: number, reason: string, text: string) => {
  const body = `<html><body><h1>${status} ${reason}</h1>\n${text}\n</body></html>\n`;
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-length: ${body.length}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n${body}`;
};
const P502 = PAGE(502, "Bad Gateway", "The server returned an invalid or incomplete response.");
const P503 = PAGE(503, "Service Unavailable", "No server is available to handle this request.");
const P504 = PAGE(504, "Gateway Time-out", "The server didn't respond in time.");

let fe: number;
let nosrv: number;
let nobackend: number;
let queued: number;
let files: number;
let dead: number;
let deadFast: number;
let redisp: number;
let sticky: number;
let closing: number;
let files502: number;
let srv: ScriptedServer;
let live: ScriptedServer;

beforeAll(async () => {
  srv = await scriptedServer((head) => {
    const path = head.split(" ")[1] ?? "/";
    if (path.startsWith("/garbage")) return "hello world\r\n\r\n";
    if (path.startsWith("/status2000")) return "HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok";
    if (path.startsWith("/dupcl"))
      return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc";
    if (path.startsWith("/half")) return "HTTP/1.1 200 OK\r\nContent-Len";
    return echoReply("s1")(head);
  });
  cleanup.push(() => srv.close());
  live = await scriptedServer(echoReply("live"));
  cleanup.push(() => live.close());
  // A server that closes the connection as soon as a request arrives.
  const closer = createServer((sock) => {
    sock.on("error", () => undefined);
    sock.on("data", () => sock.destroy());
  });
  closer.listen(0, "127.0.0.1");
  await once(closer, "listening");
  cleanup.push(() => new Promise<void>((r) => closer.close(() => r())));
  const closerPort = (closer.address() as AddressInfo).port;
  const deadPort = await freePort();
  const dir = tempDir("proxy-errors-");
  cleanup.push(async () => dir.remove());
  const f = (name: string, text: string) => {
    const p = join(dir.path, name);
    writeFileSync(p, text);
    return p;
  };
  const fe503 = f(
    "fe503.http",
    "HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nfe503\n",
  );
  const be503 = f(
    "be503.http",
    "HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nbe503\n",
  );
  const be502 = f("be502.http", "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\n\r\nno length\n");
  const { ports } = await proxy(
    `defaults\n  mode http\n  timeout connect 300\n  timeout client 5s\n  timeout server 5s\n  retries 3\n` +
      `frontend fe\n  bind 127.0.0.1:@PORT1\n  default_backend be\n` +
      `backend be\n  timeout server 300\n  http-request deny if { path /denied }\n  server s1 127.0.0.1:${srv.port}\n` +
      `frontend nosrv\n  bind 127.0.0.1:@PORT2\n  default_backend nosrvbe\n` +
      `backend nosrvbe\n  server s1 127.0.0.1:${srv.port} disabled\n` +
      `frontend nobackend\n  bind 127.0.0.1:@PORT3\n` +
      `frontend queued\n  bind 127.0.0.1:@PORT4\n  default_backend qbe\n` +
      `backend qbe\n  timeout queue 250\n  server s1 127.0.0.1:${srv.port} maxconn 1\n` +
      `frontend files\n  bind 127.0.0.1:@PORT5\n  errorfile 503 ${fe503}\n  default_backend filesbe\n` +
      `backend filesbe\n  errorfile 503 ${be503}\n  server s2 127.0.0.1:${deadPort} disabled\n` +
      `frontend files502\n  bind 127.0.0.1:@PORT11\n  errorfile 503 ${fe503}\n  default_backend files502be\n` +
      `backend files502be\n  errorfile 502 ${be502}\n  server s1 127.0.0.1:${srv.port}\n` +
      `frontend dead\n  bind 127.0.0.1:@PORT6\n  default_backend deadbe\n` +
      `backend deadbe\n  timeout connect 5s\n  server d 127.0.0.1:${deadPort}\n` +
      `frontend deadfast\n  bind 127.0.0.1:@PORT7\n  default_backend deadfastbe\n` +
      `backend deadfastbe\n  server d 127.0.0.1:${deadPort}\n` +
      `frontend redisp\n  bind 127.0.0.1:@PORT8\n  default_backend redispbe\n` +
      `backend redispbe\n  option redispatch\n  cookie SRV insert indirect\n  server A 127.0.0.1:${deadPort} cookie A\n  server B 127.0.0.1:${live.port} cookie B\n` +
      `frontend sticky\n  bind 127.0.0.1:@PORT9\n  default_backend stickybe\n` +
      `backend stickybe\n  retries 2\n  cookie SRV insert indirect\n  server A 127.0.0.1:${deadPort} cookie A\n  server B 127.0.0.1:${live.port} cookie B\n` +
      `frontend closer\n  bind 127.0.0.1:@PORT10\n  default_backend closerbe\n` +
      `backend closerbe\n  server c 127.0.0.1:${closerPort}\n`,
    cleanup,
  );
  const p = (n: number) => ports[n]!;
  fe = p(1);
  nosrv = p(2);
  nobackend = p(3);
  queued = p(4);
  files = p(5);
  dead = p(6);
  deadFast = p(7);
  redisp = p(8);
  sticky = p(9);
  closing = p(10);
  files502 = p(11);
});

describe("502 Bad Gateway", () => {
  it.each([
    ["a response that is not HTTP", "/garbage"],
    ["differing Content-Length values", "/dupcl"],
    ["a server closing in the middle of the head", "/half?_connclose"],
  ])("for %s, keeping the client connection", async (_name, path) => {
    const c = await RawClient.open(fe);
    c.send(get(path));
    expect((await c.response()).raw).toBe(P502);
    c.send(get("/next"));
    expect((await c.response()).body).toBe("s1:GET /next HTTP/1.1");
  });

  it("for a server that closes the connection before answering", async () => {
    const r = await request(closing, get("/a"));
    expect(r.raw).toBe(P502);
  });

  it("forwards an odd but parsable status code (2000) as HAProxy does", async () => {
    const r = await request(fe, get("/status2000"));
    expect(r.head).toBe("HTTP/1.1 2000 OK\r\ncontent-length: 2");
  });
});

describe("503 Service Unavailable", () => {
  it("when the backend has no usable server, keeping the client connection", async () => {
    const c = await RawClient.open(nosrv);
    c.send(get("/a"));
    expect((await c.response()).raw).toBe(P503);
    c.send(get("/b"));
    expect((await c.response()).raw).toBe(P503);
    expect(c.isOpen).toBe(true);
  });

  it("with connection: keep-alive for an HTTP/1.0 client that asked for it, and close otherwise", async () => {
    const c = await RawClient.open(nosrv);
    c.send(get("/a", "Connection: keep-alive\r\n", "1.0"));
    expect(header(await c.response(), "connection")).toBe("keep-alive");
    c.send(get("/b", "", "1.0"));
    expect(header(await c.response(), "connection")).toBe("close");
    await c.closed();
  });

  it("headers only to a HEAD request", async () => {
    const c = await RawClient.open(nosrv);
    c.send("HEAD / HTTP/1.1\r\nHost: test\r\n\r\n");
    const r = await c.response({ bodyless: true });
    expect(r.raw).toBe(P503.slice(0, P503.indexOf("\r\n\r\n") + 4));
    expect(c.pending()).toBe("");
  });

  it("when no backend matches and there is no default_backend", async () => {
    const r = await request(nobackend, get("/a"));
    expect(r.raw).toBe(P503);
  });

  it("after timeout queue for a request waiting on a server at its maxconn", async () => {
    const slow = await RawClient.open(queued);
    slow.send(get("/slow?_delay=900"));
    await waitFor(() => srv.conns.some((raw) => raw.includes("GET /slow?")), {
      what: "the slow request at the server",
    });
    const t0 = Date.now();
    const r = await request(queued, get("/waits"));
    const waited = Date.now() - t0;
    expect(r.raw).toBe(P503);
    expect(waited).toBeGreaterThanOrEqual(200);
    expect(waited).toBeLessThan(850);
    expect((await slow.response()).body).toBe("s1:GET /slow?_delay=900 HTTP/1.1");
  });

  it("after the retries on a dead server, one turn-around (min(timeout connect, 1s)) between each", async () => {
    const t0 = Date.now();
    const fast = await request(deadFast, get("/a"));
    const fastMs = Date.now() - t0;
    expect(fast.raw).toBe(P503);
    expect(fastMs).toBeGreaterThanOrEqual(800); // 3 retries x 300 ms
    expect(fastMs).toBeLessThan(2500);
    const t1 = Date.now();
    const slow = await request(dead, get("/a"));
    const slowMs = Date.now() - t1;
    expect(slow.raw).toBe(P503);
    expect(slowMs).toBeGreaterThanOrEqual(2800); // 3 retries x 1 s
    expect(slowMs).toBeLessThan(6000);
  }, 15_000);
});

describe("504 Gateway Time-out", () => {
  it("after timeout server without a response, keeping the client connection", async () => {
    const c = await RawClient.open(fe);
    const t0 = Date.now();
    c.send(get("/a?_silent"));
    expect((await c.response()).raw).toBe(P504);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    c.send(get("/next"));
    expect((await c.response()).body).toBe("s1:GET /next HTTP/1.1");
  });
});

describe("http-request deny", () => {
  it("answers 403 and keeps the client connection, as after a 503", async () => {
    const c = await RawClient.open(fe);
    c.send(get("/denied"));
    expect((await c.response()).raw).toBe(
      PAGE(403, "Forbidden", "Request forbidden by administrative rules."),
    );
    c.send(get("/next"));
    expect((await c.response()).body).toBe("s1:GET /next HTTP/1.1");
  });
});

describe("errorfile", () => {
  it("uses the backend's errorfile before the frontend's, re-serialised, kept alive", async () => {
    const c = await RawClient.open(files);
    c.send(get("/x"));
    const r = await c.response();
    expect(r.raw).toBe(
      "HTTP/1.0 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 6\r\nconnection: keep-alive\r\n\r\nbe503\n",
    );
    expect(c.isOpen).toBe(true);
  });

  it("a 502 errorfile without a length closes the connection (HTTP/1.1: connection: close)", async () => {
    const c = await RawClient.open(files502);
    c.send(get("/garbage"));
    const r = await c.response();
    expect(r.raw).toBe(
      "HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nno length\n",
    );
    await c.closed();
  });
});

describe("retries and redispatch", () => {
  it("a new request to a dead server goes to the other one at once, which inserts its cookie", async () => {
    const t0 = Date.now();
    const r = await request(redisp, get("/a"));
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(r.body).toBe("live:GET /a HTTP/1.1");
    expect(header(r, "set-cookie")).toBe("SRV=B; path=/");
  });

  it("a request sticking to a dead server is retried on it, then redispatched with the new server's cookie", async () => {
    const t0 = Date.now();
    const r = await request(redisp, get("/a", "Cookie: SRV=A\r\n"));
    const ms = Date.now() - t0;
    expect(r.body).toBe("live:GET /a HTTP/1.1");
    expect(header(r, "set-cookie")).toBe("SRV=B; path=/");
    expect(ms).toBeGreaterThanOrEqual(500); // two turn-arounds of 300 ms before the last retry
    expect(ms).toBeLessThan(2500);
  });

  it("without redispatch, a request sticking to a dead server gets 503 after its retries", async () => {
    const r = await request(sticky, get("/a", "Cookie: SRV=A\r\n"));
    expect(r.raw).toBe(P503);
  });
});

describe("a server closing a kept-alive connection without answering", () => {
  let p: number;
  beforeAll(async () => {
    // Answers the first request of each connection, closes on the second.
    const seen = new Map<object, number>();
    const srv = createServer((sock) => {
      sock.on("error", () => undefined);
      let buf = "";
      sock.setEncoding("latin1");
      sock.on("data", (d: string) => {
        buf += d;
        for (;;) {
          const he = buf.indexOf("\r\n\r\n");
          if (he === -1) return;
          const cl = Number(/content-length: (\d+)/i.exec(buf.slice(0, he))?.[1] ?? 0);
          if (buf.length < he + 4 + cl) return;
          buf = buf.slice(he + 4 + cl);
          const n = (seen.get(sock) ?? 0) + 1;
          seen.set(sock, n);
          if (n >= 2) {
            sock.destroy();
            return;
          }
          sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
      });
    });
    srv.listen(0, "127.0.0.1");
    await once(srv, "listening");
    cleanup.push(() => new Promise<void>((r) => srv.close(() => r())));
    const { ports } = await proxy(
      `defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n` +
        `frontend fe\n  bind 127.0.0.1:@PORT1\n  default_backend be\n` +
        `backend be\n  server s 127.0.0.1:${(srv.address() as AddressInfo).port}\n`,
      cleanup,
    );
    p = ports[1]!;
  });

  it("closes the client without an answer for a later request with a body (the client retries it)", async () => {
    const c = await RawClient.open(p);
    c.send(get("/a"));
    expect((await c.response()).body).toBe("ok");
    c.send("POST /b HTTP/1.1\r\nHost: test\r\nContent-Length: 1\r\n\r\nx");
    await c.closed();
    expect(c.pending()).toBe("");
  });

  it.skipIf(UNDER_TEST === "haproxy")(
    "resends an idempotent bodiless request on a new connection (fulcrum; haproxy closes as above)",
    async () => {
      const c = await RawClient.open(p);
      c.send(get("/a"));
      await c.response();
      c.send(get("/b"));
      expect((await c.response()).body).toBe("ok");
    },
  );
});
