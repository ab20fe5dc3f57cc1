/**
 * The guard before anything reaches a server, as haproxy 2.6 answers on the same config:
 * every malformed request gets HAProxy's built-in page (400, 422; 408 on `timeout
 * http-request`), the connection closes, nothing is forwarded, and the next clean request
 * works. `errorfile` does not replace these parser answers (HAProxy sends them verbatim).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir, waitFor } from "../helpers/index.js";
import {
  echoReply,
  get,
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

const PAGE_400 =
  "HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\n" +
  "Content-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n";
const PAGE_408 =
  "HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\nConnection: close\r\n" +
  "Content-Type: text/html\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n";
const PAGE_422 =
  "HTTP/1.1 422 Unprocessable Content\r\nContent-length: 116\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n" +
  "<html><body><h1>422 Unprocessable Content</h1>\nThe server cannot process the contained instructions.\n</body></html>\n";

let port: number;
let slowPort: number;
let srv: ScriptedServer;

beforeAll(async () => {
  srv = await scriptedServer(echoReply("s1"));
  cleanup.push(() => srv.close());
  const dir = tempDir("proxy-guard-");
  cleanup.push(async () => dir.remove());
  const file = join(dir.path, "400.http");
  writeFileSync(file, "HTTP/1.0 400 Bad\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\ncustom\n");
  const { ports } = await proxy(
    `defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n  errorfile 400 ${file}\n` +
      `frontend fe\n  bind 127.0.0.1:@PORT1\n  default_backend be\n` +
      `frontend slow\n  bind 127.0.0.1:@PORT2\n  timeout http-request 300\n  default_backend be\n` +
      `backend be\n  server s1 127.0.0.1:${srv.port}\n`,
    cleanup,
  );
  port = ports[1]!;
  slowPort = ports[2]!;
});

/** Sends `raw`, expects `page` and a closed connection, nothing forwarded, then a clean request works. */
async function refused(raw: string, page = PAGE_400): Promise<void> {
  const before = srv.conns.join("").length;
  const c = await RawClient.open(port);
  c.send(raw);
  await c.closed();
  const r = await c.response();
  expect(r.raw).toBe(page);
  expect(srv.conns.join("").length).toBe(before);
  const ok = await request(port, get("/next"));
  expect(ok.body).toBe("s1:GET /next HTTP/1.1");
}

describe("malformed request lines", () => {
  it.each([
    ["a space inside the target", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["no HTTP version (HTTP/0.9)", "GET /\r\n\r\n"],
    ["a lowercase version", "GET / http/1.1\r\nHost: x\r\n\r\n"],
    ["a blank after the version", "GET / HTTP/1.1 \r\nHost: x\r\n\r\n"],
    ["an invalid method character", "G@T / HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["a fragment in the target", "GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["a non-ASCII byte in the target", "GET /caf\xe9 HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["a DEL byte in the target", "GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["a relative target whose first part is not the Host", "GET foo HTTP/1.1\r\nHost: x\r\n\r\n"],
    [
      "an absolute target whose userinfo-less authority is not the Host",
      "GET http://u:p@h/x HTTP/1.1\r\nHost: u:p@h\r\n\r\n",
    ],
    ["a target that is only a query", "GET ?x HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["a scheme without //", "GET http:/x HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["an absolute target with a query and no path", "GET http://x?y=1 HTTP/1.1\r\nHost: x\r\n\r\n"],
  ])("400 for %s", async (_name, raw) => {
    await refused(raw);
  });

  it("400 for a request line longer than the buffer", async () => {
    await refused(`GET /${"a".repeat(20000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
  });

  it("forwards a target that is no URI form when its first part is the Host (or no Host is given), as HAProxy", async () => {
    const from = srv.requests.length;
    await request(port, "GET x/y HTTP/1.1\r\nHost: x\r\n\r\n");
    await request(port, "GET foo HTTP/1.1\r\n\r\n");
    await request(port, "GET http://u:p@h/x HTTP/1.1\r\nHost: h\r\n\r\n");
    expect(srv.requests.slice(from).map((r) => r.head.split("\r\n")[0])).toEqual([
      "GET x/y HTTP/1.1",
      "GET foo HTTP/1.1",
      "GET http://u:p@h/x HTTP/1.1",
    ]);
  });

  it("accepts blanks and tabs between the parts and sends HTTP/1.1 for a later version", async () => {
    const from = srv.requests.length;
    await request(port, "GET\t/a  HTTP/2.0\r\nHost: x\r\n\r\n");
    expect(srv.requests[from]!.head).toBe("GET /a HTTP/1.1\r\nhost: x\r\n\r\n");
  });
});

describe("malformed headers", () => {
  it.each([
    ["a space before the colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n"],
    ["a space inside a name", "GET / HTTP/1.1\r\nHo st: x\r\n\r\n"],
    ["a line without colon", "GET / HTTP/1.1\r\nHost x\r\n\r\n"],
    ["an empty name", "GET / HTTP/1.1\r\n: x\r\n\r\n"],
    ["a bare CR in a value", "GET / HTTP/1.1\r\nHost: x\rb\r\n\r\n"],
    ["a folded first line", "GET / HTTP/1.1\r\n X: y\r\nHost: x\r\n\r\n"],
    ["two different Host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"],
    ["an absolute target for another host", "GET http://b.com/x HTTP/1.1\r\nHost: a.com\r\n\r\n"],
    ["too many headers", `GET / HTTP/1.1\r\n${"X-A: b\r\n".repeat(120)}\r\n`],
    [
      "101 headers (tune.http.maxhdr 101 counts its end marker)",
      `GET / HTTP/1.1\r\n${"X-A: b\r\n".repeat(101)}\r\n`,
    ],
    ["a header name over 255 bytes", `GET / HTTP/1.1\r\nHost: x\r\n${"n".repeat(256)}: v\r\n\r\n`],
    // With `Host: x`, the URI that fills the buffer as HAProxy counts (its HTX) is 15250 bytes.
    [
      "a head one byte over the buffer as HAProxy counts it",
      `GET /${"a".repeat(15251)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    ],
  ])("400 for %s", async (_name, raw) => {
    await refused(raw);
  });

  it("accepts 100 headers, a 255-byte name and a head that just fits", async () => {
    for (const raw of [
      `GET / HTTP/1.1\r\nHost: x\r\n${"X-A: b\r\n".repeat(99)}\r\n`,
      `GET / HTTP/1.1\r\nHost: x\r\n${"n".repeat(255)}: v\r\n\r\n`,
      `GET /${"a".repeat(15250)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    ]) {
      expect((await request(port, raw)).status).toBe(200);
    }
  });

  it("400 for a head larger than the buffer", async () => {
    await refused(`GET / HTTP/1.1\r\nHost: x\r\n${`X-A: ${"b".repeat(100)}\r\n`.repeat(200)}\r\n`);
  });

  it("forwards control bytes in values and joins folded lines with spaces, as HAProxy", async () => {
    const from = srv.requests.length;
    await request(port, "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\nX-B: c\r\n  d\r\n\r\n");
    expect(srv.requests[from]!.head).toBe("GET / HTTP/1.1\r\nhost: x\r\nx-a: a\x01b\r\nx-b: c    d\r\n\r\n");
  });

  it("merges identical Host headers and removes an http default port from an absolute target", async () => {
    const from = srv.requests.length;
    await request(port, "GET http://b.com:80/x HTTP/1.1\r\nHost: b.com:80\r\nHost: b.com:80\r\n\r\n");
    expect(srv.requests[from]!.head).toBe("GET http://b.com/x HTTP/1.1\r\nhost: b.com\r\n\r\n");
  });
});

describe("request framing", () => {
  it.each([
    [
      "differing Content-Length headers",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    ],
    ["a negative Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"],
    ["an empty Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n"],
    [
      "a Transfer-Encoding not ending with chunked",
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
    ],
    ["chunked twice", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"],
    [
      "an invalid chunk size",
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
    ],
    [
      "a chunk without its CRLF",
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
    ],
  ])("400 for %s", async (_name, raw) => {
    await refused(raw);
  });

  it("422 for a coding other than chunked before chunked", async () => {
    await refused(
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
      PAGE_422,
    );
  });

  it("a bad chunk after the head went to the server: the stream's 400 (the errorfile), both sides closed", async () => {
    const c = await RawClient.open(port);
    c.send("POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    const seenBefore = srv.requests.length;
    // The head leaves first (two reads, as in HAProxy), then the bad chunk arrives.
    await waitFor(() => srv.conns.some((raw) => raw.includes("POST /p ")), {
      what: "the head at the server",
    });
    c.send("2\r\nab\r\nzz\r\n");
    await c.closed();
    const r = await c.response();
    expect(r.raw).toBe("HTTP/1.0 400 Bad\r\ncontent-type: text/plain\r\ncontent-length: 7\r\n\r\ncustom\n");
    expect(srv.requests.length).toBe(seenBefore);
  });
});

describe("timeouts and early closes", () => {
  it("408 when the head does not arrive within timeout http-request", async () => {
    const c = await RawClient.open(slowPort);
    c.send("GET / HTTP/1.1\r\nHost: x\r\n");
    const t0 = Date.now();
    await c.closed(3000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect((await c.response()).raw).toBe(PAGE_408);
  });

  it("408 for a connection that sends nothing within timeout http-request", async () => {
    const c = await RawClient.open(slowPort);
    await c.closed(3000);
    expect((await c.response()).raw).toBe(PAGE_408);
  });

  it("400 when the client closes in the middle of its request head", async () => {
    const before = srv.conns.join("").length;
    const c = await RawClient.open(port);
    c.send("GET / HTTP/1.1\r\nHost: x\r\n");
    c.end();
    await c.closed();
    expect((await c.response()).raw).toBe(PAGE_400);
    expect(srv.conns.join("").length).toBe(before);
  });

  it("nothing answered and the server connection closed when the client closes in the middle of a body", async () => {
    const c = await RawClient.open(port);
    c.send("POST /mid HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    const conn = await waitFor(
      () => {
        const i = srv.conns.findIndex((raw) => raw.includes("POST /mid ") && raw.endsWith("abc"));
        return i === -1 ? undefined : { i };
      },
      { what: "the head and the first body bytes at the server" },
    );
    c.end();
    await c.closed();
    expect(c.pending()).toBe("");
    await waitFor(() => srv.closed.has(conn.i), { what: "the server connection to close" });
  });
});
