/**
 * `http-request redirect` and `http-request return`: the bytes a client gets, whether the
 * connection stays open after them, and that nothing reaches a server. Every expected answer
 * was captured from haproxy 2.6.12 on this config; PROXY_UNDER_TEST=haproxy runs it there.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawRequest, tempDir } from "../helpers/index.js";
import { DEFAULTS, proxy, scriptedServer, statsCsv } from "./proxy-fixture.js";

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

let port: number;
let served = 0;

beforeAll(async () => {
  const srv = await scriptedServer(() => {
    served++;
    return "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
  });
  cleanup.push(() => srv.close());
  const dir = tempDir("replies-");
  cleanup.push(async () => dir.remove());
  const page = join(dir.path, "maint.html");
  writeFileSync(page, "<p>back soon</p>\n");
  const { ports } = await proxy(
    `${DEFAULTS}` +
      "frontend fe\n  bind 127.0.0.1:@PORT1\n  stats enable\n  stats uri /st\n" +
      "  http-request redirect location /new code 301 if { path /old }\n" +
      "  http-request redirect prefix /pfx if { path_beg /p/ }\n" +
      "  http-request redirect prefix /pfx drop-query append-slash if { path_beg /dq/ }\n" +
      "  http-request redirect prefix / append-slash if { path_beg /root }\n" +
      "  http-request redirect scheme https if { path_beg /s/ }\n" +
      "  http-request redirect location /ck set-cookie FOO=bar if { path /ck }\n" +
      "  http-request redirect location /cc clear-cookie FOO if { path /cc }\n" +
      "  http-request redirect location /c307 code 307 if { path /307 }\n" +
      "  http-request redirect location /c308 code 308 if { path /308 }\n" +
      '  http-request return status 200 content-type text/plain string "hello" if { path /ret }\n' +
      "  http-request return status 204 if { path /r204 }\n" +
      '  http-request return status 418 content-type text/plain string tea hdr X-A b hdr X-B "c d" if { path /tea }\n' +
      `  http-request return status 503 content-type text/html file ${page} if { path /maint }\n` +
      "  default_backend be\n" +
      "backend be\n  http-request redirect location /from-be if { path /b }\n" +
      `  server s1 127.0.0.1:${srv.port}\n`,
    cleanup,
  );
  port = ports[1]!;
});

const get = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nhost: example.com\r\n${extra}\r\n`;

async function answer(req: string): Promise<{ text: string; closed: boolean }> {
  return rawRequest(port, req, { idleMs: 300 });
}

describe("http-request redirect", () => {
  it.each([
    ["/old", "HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /new\r\n\r\n"],
    [
      "/p/x?a=1",
      "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /pfx/p/x?a=1\r\ncache-control: no-cache\r\n\r\n",
    ],
    [
      "/dq/x?a=1",
      "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /pfx/dq/x/\r\ncache-control: no-cache\r\n\r\n",
    ],
    [
      "/root/a?b",
      "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /root/a?b/\r\ncache-control: no-cache\r\n\r\n",
    ],
    [
      "/s/x?q",
      "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://example.com/s/x?q\r\ncache-control: no-cache\r\n\r\n",
    ],
    [
      "/ck",
      "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /ck\r\ncache-control: no-cache\r\nset-cookie: FOO=bar; path=/;\r\n\r\n",
    ],
    [
      "/cc",
      "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /cc\r\ncache-control: no-cache\r\nset-cookie: FOO; path=/; Max-Age=0;\r\n\r\n",
    ],
    [
      "/307",
      "HTTP/1.1 307 Temporary Redirect\r\ncontent-length: 0\r\nlocation: /c307\r\ncache-control: no-cache\r\n\r\n",
    ],
    ["/308", "HTTP/1.1 308 Permanent Redirect\r\ncontent-length: 0\r\nlocation: /c308\r\n\r\n"],
    [
      "/b",
      "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /from-be\r\ncache-control: no-cache\r\n\r\n",
    ],
  ])("GET %s answers its redirect and keeps the connection", async (path, expected) => {
    const before = served;
    const r = await answer(get(path));
    expect(r.text).toBe(expected);
    expect(r.closed).toBe(false);
    expect(served).toBe(before);
  });

  it("takes the scheme redirect's host from Host, port included, and has none without it", async () => {
    expect((await answer("GET /s/x HTTP/1.1\r\nhost: a:80\r\n\r\n")).text).toContain(
      "\r\nlocation: https://a:80/s/x\r\n",
    );
    const r = await answer("GET /s/x HTTP/1.0\r\n\r\n");
    expect(r.text).toContain(
      "\r\nlocation: https:///s/x\r\ncache-control: no-cache\r\nconnection: close\r\n",
    );
    expect(r.closed).toBe(true);
  });

  it("uses the path of an absolute-form URI", async () => {
    const r = await answer("GET http://zz/p/x?q HTTP/1.1\r\nhost: zz\r\n\r\n");
    expect(r.text).toContain("\r\nlocation: /pfx/p/x?q\r\n");
  });

  it("closes after a request that has a body, and keeps an HTTP/1.0 keep-alive one open", async () => {
    const post = await answer("POST /old HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\n\r\nabc");
    expect(post.text).toBe(
      "HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /new\r\nconnection: close\r\n\r\n",
    );
    expect(post.closed).toBe(true);
    const empty = await answer("POST /old HTTP/1.1\r\nhost: a\r\ncontent-length: 0\r\n\r\n");
    expect(empty.closed).toBe(false);
    const ka = await answer("GET /old HTTP/1.0\r\nconnection: keep-alive\r\n\r\n");
    expect(ka.text).toContain("\r\nlocation: /new\r\nconnection: keep-alive\r\n\r\n");
    expect(ka.closed).toBe(false);
  });
});

describe("http-request return", () => {
  it.each([
    ["/ret", "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\nhello"],
    ["/r204", "HTTP/1.1 204 No Content\r\n\r\n"],
    [
      "/tea",
      "HTTP/1.1 418 I'm a teapot\r\nx-a: b\r\nx-b: c d\r\ncontent-length: 3\r\ncontent-type: text/plain\r\n\r\ntea",
    ],
    [
      "/maint",
      "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 17\r\ncontent-type: text/html\r\n\r\n<p>back soon</p>\n",
    ],
  ])("GET %s answers the configured reply", async (path, expected) => {
    const before = served;
    const r = await answer(get(path));
    expect(r.text).toBe(expected);
    expect(r.closed).toBe(false);
    expect(served).toBe(before);
  });

  it("answers HEAD with the headers only, and serves the next request on the same connection", async () => {
    const r = await answer(`HEAD /ret HTTP/1.1\r\nhost: a\r\n\r\n${get("/x", "connection: close\r\n")}`);
    expect(r.text).toBe(
      "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\n" +
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
    );
  });

  it("closes when the request body has not arrived", async () => {
    const r = await answer("POST /ret HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\n\r\n");
    expect(r.text).toBe(
      "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nhello",
    );
    expect(r.closed).toBe(true);
  });

  it("counts the answers in the frontend's (and the backend's) 3xx/2xx columns", async () => {
    const rows = await statsCsv(port, "/st");
    const fe = rows.find((r) => r.pxname === "fe" && r.svname === "FRONTEND")!;
    const be = rows.find((r) => r.pxname === "be" && r.svname === "BACKEND")!;
    expect(Number(fe.hrsp_3xx)).toBeGreaterThanOrEqual(10);
    expect(Number(be.hrsp_3xx)).toBeGreaterThanOrEqual(1);
    expect(Number(fe.intercepted)).toBeGreaterThan(0);
  });
});
