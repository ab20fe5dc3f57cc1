/**
 * Message bodies through the proxy, as haproxy 2.6 forwards them on the same config: chunked
 * both ways (re-chunked per read, sizes in upper-case hex, extensions dropped, trailers kept
 * with lowercased names), HEAD, 1xx (100-continue with a server that answers 100 and one that
 * does not, 103), 204/304, Content-Length + Transfer-Encoding, chunked HTTP/1.0, WebSocket
 * upgrades tunnelled with `timeout tunnel`, and a 1 GB body streamed each way in flat memory.
 */
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/index.js";
import {
  DEFAULTS,
  echoReply,
  get,
  header,
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

let port: number;
let tunnelPort: number;
let closerPort: number;
let bufferedPort: number;
/** What the recording server saw: when each connection came, and its bytes. */
const recorded: { at: number; data: string }[] = [];
let echo: ScriptedServer;
/** What the server that answers early and closes received, per connection. */
const closerSeen: string[] = [];

/** Replies chosen by the request path (fixed bytes per path), recording what arrived. */
const FIXED: Record<string, string | (string | number)[]> = {
  "/chunks":
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n12c\r\n" +
    `${"x".repeat(300)}\r\n1;ext=1\r\nz\r\n0\r\nX-Trailer: yes\r\nfoo:bar\r\n\r\n`,
  "/chunks-split": [
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n",
    50,
    "3\r\nend\r\n0\r\n\r\n",
  ],
  "/head": "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
  "/204": "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\nX: y\r\n\r\n",
  "/304": 'HTTP/1.1 304 Not Modified\r\nContent-Length: 55\r\nETag: "e"\r\n\r\n',
  "/103": "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
  "/cl-te": "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
  "/chunked10": "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
  "/gzip-chunked": "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
  "/bad-chunk": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\nzz\r\n0\r\n\r\n",
  "/101": "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
};

beforeAll(async () => {
  echo = await scriptedServer(
    (head, _conn, body) => {
      const target = head.split(" ")[1] ?? "/";
      const path = target.split("?")[0]!;
      if (path === "/early") return null; // answered on the head already
      if (path === "/continue" || path === "/upload")
        return `HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngot${body.length}`;
      const fixed = FIXED[path];
      if (fixed !== undefined) return fixed;
      return echoReply("s1")(head);
    },
    {
      onHead: (head) =>
        head.startsWith("POST /continue")
          ? "HTTP/1.1 100 Continue\r\n\r\n"
          : head.startsWith("POST /early")
            ? "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly"
            : null,
    },
  );
  cleanup.push(() => echo.close());
  const ws = await wsServer();
  const closer = await earlyCloser();
  const recorder = await recordingServer();
  const { ports } = await proxy(
    `${DEFAULTS}frontend fe\n  bind 127.0.0.1:@PORT1\n  default_backend be\n` +
      `backend be\n  server s1 127.0.0.1:${echo.port}\n` +
      `frontend ws\n  bind 127.0.0.1:@PORT2\n  default_backend wsb\n` +
      `backend wsb\n  timeout tunnel 400\n  server w 127.0.0.1:${ws}\n` +
      `listen closer\n  bind 127.0.0.1:@PORT3\n  server c 127.0.0.1:${closer}\n` +
      `listen buffered\n  bind 127.0.0.1:@PORT4\n  option http-buffer-request\n  server c 127.0.0.1:${recorder}\n`,
    cleanup,
  );
  port = ports[1]!;
  tunnelPort = ports[2]!;
  closerPort = ports[3]!;
  bufferedPort = ports[4]!;
});

/** A server that notes when each connection comes and answers once a 5-byte body is in. */
async function recordingServer(): Promise<number> {
  const srv = createServer((s) => {
    const r = { at: Date.now(), data: "" };
    recorded.push(r);
    s.on("error", () => undefined);
    s.on("data", (d) => {
      r.data += d.toString("latin1");
      const end = r.data.indexOf("\r\n\r\n");
      if (end !== -1 && r.data.length >= end + 4 + 5) s.end("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    });
  });
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  cleanup.push(() => new Promise<void>((r) => srv.close(() => r())));
  const a = srv.address();
  return typeof a === "object" && a ? a.port : 0;
}

/** A server that answers as soon as a head arrives, then closes (413 to an upload, say). */
async function earlyCloser(): Promise<number> {
  const srv = createServer((s) => {
    const k = closerSeen.push("") - 1;
    s.on("error", () => undefined);
    s.on("data", (d) => {
      const first = closerSeen[k] === "";
      closerSeen[k] += d.toString("latin1");
      if (first) s.end(`HTTP/1.1 413 Too Large\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbig`);
    });
  });
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  cleanup.push(() => new Promise<void>((r) => srv.close(() => r())));
  const a = srv.address();
  return typeof a === "object" && a ? a.port : 0;
}

/** A WebSocket-like server: 101 on an Upgrade, then echoes frames prefixed with `echo:`. */
async function wsServer(): Promise<number> {
  const srv = createServer((s) => {
    let up = false;
    s.on("error", () => undefined);
    s.on("data", (d) => {
      if (!up) {
        up = true;
        s.write(
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: abc\r\n\r\n",
        );
      } else s.write(Buffer.concat([Buffer.from("echo:"), d]));
    });
  });
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  cleanup.push(() => new Promise<void>((r) => srv.close(() => r())));
  const a = srv.address();
  return typeof a === "object" && a ? a.port : 0;
}

const WS_REQUEST =
  "GET /ws HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

describe("chunked transfer encoding", () => {
  it("re-chunks what one read brought into one chunk with an upper-case size, drops extensions, lowercases trailers", async () => {
    const r = await request(port, get("/chunks"));
    expect(r.raw).toBe(
      `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n137\r\n0123456789${"x".repeat(300)}z\r\n` +
        "0\r\nx-trailer: yes\r\nfoo: bar\r\n\r\n",
    );
  });

  it("forwards chunks that arrive apart as chunks of their own (sizes over 9 included)", async () => {
    const r = await request(port, get("/chunks-split"));
    expect(r.raw).toBe(
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n3\r\nend\r\n0\r\n\r\n",
    );
  });

  it("forwards a chunked request body re-chunked, with its trailers, and keeps the connection", async () => {
    const from = echo.requests.length;
    const c = await RawClient.open(port);
    c.send(
      "POST /p HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "A\r\n0123456789\r\n1;e=2\r\nz\r\n0\r\nT-R: v\r\n\r\n",
    );
    const r = await c.response();
    expect(r.status).toBe(200);
    const conn = echo.requests[from]!.conn;
    expect(echo.conns[conn]).toContain(
      "POST /p HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\n\r\nB\r\n0123456789z\r\n0\r\nt-r: v\r\n\r\n",
    );
    c.send(get("/next"));
    expect((await c.response()).body).toBe("s1:GET /next HTTP/1.1");
  });

  it("sends a chunked HTTP/1.0 response on as chunked, then closes the client (no connection header)", async () => {
    const c = await RawClient.open(port);
    c.send(get("/chunked10"));
    const r = await c.response();
    expect(r.raw).toBe("HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
    await c.closed();
  });

  it("lets Transfer-Encoding win over Content-Length in a response and keeps the client", async () => {
    const c = await RawClient.open(port);
    c.send(get("/cl-te"));
    const r = await c.response();
    expect(r.raw).toBe("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n");
    c.send(get("/next"));
    expect((await c.response()).status).toBe(200);
  });

  it("answers 502 to a response with another coding than chunked", async () => {
    const r = await request(port, get("/gzip-chunked"));
    expect(r.status).toBe(502);
  });

  it("answers 502 to a bad chunk that came with the response head (nothing of it forwarded)", async () => {
    const r = await request(port, get("/bad-chunk"));
    expect(r.status).toBe(502);
  });
});

describe("responses without a body", () => {
  it("answers HEAD with the head only, Content-Length kept, connection kept", async () => {
    const c = await RawClient.open(port);
    c.send("HEAD /head HTTP/1.1\r\nHost: test\r\n\r\n");
    const r = await c.response({ bodyless: true });
    expect(r.raw).toBe("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n");
    c.send(get("/next"));
    expect((await c.response()).body).toBe("s1:GET /next HTTP/1.1");
  });

  it("drops Content-Length and Transfer-Encoding from a 204", async () => {
    const r = await request(port, get("/204"));
    expect(r.raw).toBe("HTTP/1.1 204 No Content\r\nx: y\r\n\r\n");
  });

  it("keeps a 304's Content-Length and sends no body", async () => {
    const c = await RawClient.open(port);
    c.send(get("/304"));
    const r = await c.response();
    expect(r.raw).toBe('HTTP/1.1 304 Not Modified\r\ncontent-length: 55\r\netag: "e"\r\n\r\n');
    c.send(get("/next"));
    expect((await c.response()).status).toBe(200);
  });
});

describe("1xx interim responses", () => {
  it("Expect: 100-continue with a server that answers 100: the 100 reaches the client, then the final answer", async () => {
    const c = await RawClient.open(port);
    c.send("POST /continue HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    const interim = await c.response();
    expect(interim.raw).toBe("HTTP/1.1 100 Continue\r\n\r\n");
    c.send("hello");
    const r = await c.response();
    expect(r.raw).toBe("HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\ngot5");
  });

  it("Expect: 100-continue with a server that does not answer 100: the body is forwarded, the answer follows", async () => {
    const from = echo.requests.length;
    const c = await RawClient.open(port);
    c.send("POST /upload HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    await waitFor(() => echo.conns.some((raw) => raw.includes("POST /upload")), {
      what: "the request head at the server",
    });
    c.send("hello");
    const r = await c.response();
    expect(r.raw).toBe("HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\ngot5");
    expect(echo.requests[from]!.head).toBe(
      "POST /upload HTTP/1.1\r\nhost: test\r\nexpect: 100-continue\r\ncontent-length: 5\r\n\r\n",
    );
  });

  it("forwards a 103 before the final response, to an HTTP/1.0 client too", async () => {
    const c = await RawClient.open(port);
    c.send(get("/103", "", "1.0"));
    const interim = await c.response();
    expect(interim.raw).toBe("HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n");
    const r = await c.response();
    expect(r.raw).toBe("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
  });
});

describe("an early response", () => {
  it("keeps forwarding the request body after a response that came before it, and keeps the connection", async () => {
    const from = echo.requests.length;
    const c = await RawClient.open(port);
    c.send("POST /early HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\n");
    expect((await c.response()).raw).toBe("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nearly");
    c.send("hello");
    c.send(get("/next"));
    expect((await c.response()).body).toBe("s1:GET /next HTTP/1.1");
    expect(echo.requests.slice(from).map((r) => r.body)).toEqual(["hello", ""]);
  });

  it("reads the rest of the body after a server that answered early and closed, and keeps the client (as HAProxy)", async () => {
    const c = await RawClient.open(closerPort);
    c.send("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nabc");
    // The server's `connection: close` concerns its own connection: the client's stays open.
    expect((await c.response()).raw).toBe("HTTP/1.1 413 Too Large\r\ncontent-length: 3\r\n\r\nbig");
    await waitFor(() => closerSeen.length === 1 && closerSeen[0]!.endsWith("abc"), {
      what: "the first bytes",
    });
    c.send(`defghij${get("/next")}`);
    const next = await c.response();
    expect(next.status).toBe(413);
    expect(closerSeen).toHaveLength(2);
    expect(closerSeen[1]).toMatch(/^GET \/next HTTP\/1\.1\r\n/);
  });
});

describe("option http-buffer-request", () => {
  it("goes on once the buffer is full, even when the buffer is bigger than what is read ahead (tune.bufsize 131072)", async () => {
    const srv = await scriptedServer(
      (_head, _conn, body) =>
        `HTTP/1.1 200 OK\r\ncontent-length: ${String(body.length).length}\r\n\r\n${body.length}`,
    );
    cleanup.push(() => srv.close());
    const { ports } = await proxy(
      `global\n  tune.bufsize 131072\n${DEFAULTS}listen big\n  bind 127.0.0.1:@PORT1\n  option http-buffer-request\n` +
        `  server s 127.0.0.1:${srv.port}\n`,
      cleanup,
    );
    // The body comes in pieces, so that what is read ahead passes 64 kB before the buffer
    // (130 kB) is full and the body (100 kB) complete.
    const c = await RawClient.open(ports[1]!);
    c.send("POST /big HTTP/1.1\r\nHost: test\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n");
    for (let i = 0; i < 10; i++) {
      c.send("x".repeat(10_000));
      await new Promise((r) => setTimeout(r, 10));
    }
    const r = await c.response();
    expect(r.status).toBe(200);
    expect(r.body).toBe("100000");
  });

  it("answers 100-continue itself, and reaches a server only once the body is in, without the Expect", async () => {
    const c = await RawClient.open(bufferedPort);
    c.send("POST /up HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    expect((await c.response()).raw).toBe("HTTP/1.1 100 Continue\r\n\r\n");
    await new Promise((r) => setTimeout(r, 200)); // the body comes late, on purpose
    const sentAt = Date.now();
    expect(recorded).toHaveLength(0);
    c.send("hello");
    expect((await c.response()).raw).toBe("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    expect(recorded).toHaveLength(1);
    expect(recorded[0]!.at).toBeGreaterThanOrEqual(sentAt);
    expect(recorded[0]!.data).toBe("POST /up HTTP/1.1\r\nhost: test\r\ncontent-length: 5\r\n\r\nhello");
  });
});

describe("request framing", () => {
  it("drops Content-Length when Transfer-Encoding is there too, and closes the client after the answer", async () => {
    const from = echo.requests.length;
    const c = await RawClient.open(port);
    c.send(
      "POST /x HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    );
    const r = await c.response();
    expect(header(r, "connection")).toBe("close");
    await c.closed();
    expect(echo.requests[from]!.head).toBe(
      "POST /x HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\n\r\n",
    );
  });

  it("accepts a chunked HTTP/1.0 request, forwards it as is and closes after", async () => {
    const from = echo.requests.length;
    const c = await RawClient.open(port);
    c.send("POST /x HTTP/1.0\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    await c.response();
    await c.closed();
    expect(echo.requests[from]!.head).toBe(
      "POST /x HTTP/1.0\r\nhost: test\r\ntransfer-encoding: chunked\r\n\r\n",
    );
  });

  it("forwards a single Content-Length as written (leading zeros kept)", async () => {
    const from = echo.requests.length;
    await request(port, "POST /x HTTP/1.1\r\nHost: test\r\nContent-Length: 005\r\n\r\nhello");
    expect(echo.requests[from]!.head).toBe("POST /x HTTP/1.1\r\nhost: test\r\ncontent-length: 005\r\n\r\n");
  });
});

describe("WebSocket and other Upgrade requests", () => {
  it("forwards the 101 and then tunnels bytes both ways untouched", async () => {
    const c = await RawClient.open(tunnelPort);
    c.send(WS_REQUEST);
    const r = await c.response({ bodyless: true });
    expect(r.raw).toBe(
      "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: abc\r\n\r\n",
    );
    c.send("frame1");
    expect(await c.bytes("echo:frame1".length)).toBe("echo:frame1");
  });

  it("closes an idle tunnel after timeout tunnel", async () => {
    const c = await RawClient.open(tunnelPort);
    c.send(WS_REQUEST);
    await c.response({ bodyless: true });
    const t0 = Date.now();
    await c.closed(3000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
  });

  it("answers 400 to a WebSocket upgrade without a valid Sec-WebSocket-Key", async () => {
    const r = await request(
      tunnelPort,
      "GET /ws HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    );
    expect(r.status).toBe(400);
  });

  it("sends the upgrade request with its own Connection tokens only", async () => {
    const from = echo.requests.length;
    const c = await RawClient.open(port);
    c.send(WS_REQUEST.replace("/ws", "/101"));
    await c.response({ bodyless: true });
    expect(echo.requests[from]!.head).toBe(
      "GET /101 HTTP/1.1\r\nhost: test\r\nconnection: Upgrade\r\nupgrade: websocket\r\n" +
        "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n",
    );
  });

  it("answers 502 to a 101 for a request that asked for no upgrade", async () => {
    const r = await request(port, get("/101"));
    expect(r.status).toBe(502);
  });

  it("keeps the connection as HTTP when the server declines the upgrade", async () => {
    const c = await RawClient.open(port);
    c.send(WS_REQUEST.replace("/ws", "/plain"));
    const r = await c.response();
    expect(r.body).toBe("s1:GET /plain HTTP/1.1");
    c.send(get("/next"));
    expect((await c.response()).body).toBe("s1:GET /next HTTP/1.1");
  });
});

// ---- 1 GB each way, RSS watched ------------------------------------------------------------

const GB = 1024 * 1024 * 1024;

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : 0;
}

/** Samples the proxy's RSS every 50 ms until stopped; returns the largest. */
function watchRss(pid: number): () => number {
  let max = rssKb(pid);
  const t = setInterval(() => {
    max = Math.max(max, rssKb(pid));
  }, 50);
  return () => {
    clearInterval(t);
    return max;
  };
}

/** A server that streams GET /down?n=BYTES and counts a POST body (answering the count). */
async function bulkServer(): Promise<number> {
  const chunk = Buffer.alloc(1 << 16, 0x61);
  const srv = createServer((s) => {
    s.on("error", () => undefined);
    let head = "";
    let need = -1;
    let got = 0;
    s.on("data", (d: Buffer) => {
      if (need < 0) {
        head += d.toString("latin1");
        const he = head.indexOf("\r\n\r\n");
        if (he === -1) return;
        const line = head.slice(0, head.indexOf("\r\n")).split(" ");
        if (line[0] === "GET") {
          let left = Number(new URL(line[1]!, "http://x").searchParams.get("n"));
          s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${left}\r\n\r\n`);
          const pump = () => {
            while (left > 0) {
              const k = Math.min(left, chunk.length);
              left -= k;
              if (!s.write(k === chunk.length ? chunk : chunk.subarray(0, k))) {
                s.once("drain", pump);
                return;
              }
            }
          };
          pump();
          head = "";
          return;
        }
        need = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        got = head.length - he - 4;
        head = "";
      } else got += d.length;
      if (got >= need) {
        const body = String(got);
        s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        need = -1;
      }
    });
  });
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  cleanup.push(() => new Promise<void>((r) => srv.close(() => r())));
  const a = srv.address();
  return typeof a === "object" && a ? a.port : 0;
}

describe("bodies streamed with backpressure", () => {
  let bulkPort: number;
  let bulkPid: number;
  beforeAll(async () => {
    const bulk = await bulkServer();
    const { ports, proc } = await proxy(
      `${DEFAULTS}frontend fe\n  bind 127.0.0.1:@PORT1\n  default_backend be\nbackend be\n  server b 127.0.0.1:${bulk}\n`,
      cleanup,
    );
    bulkPort = ports[1]!;
    bulkPid = proc.proc.pid;
  });

  it("downloads 1 GB through the proxy with its RSS staying under 150 MB", async () => {
    const stop = watchRss(bulkPid);
    const s = connect({ port: bulkPort, host: "127.0.0.1" });
    await once(s, "connect");
    s.write(get(`/down?n=${GB}`));
    let n = 0;
    let headDone = false;
    await new Promise<void>((resolve, reject) => {
      s.on("data", (d: Buffer) => {
        if (!headDone) {
          const he = d.indexOf("\r\n\r\n");
          headDone = true;
          n += d.length - he - 4;
        } else n += d.length;
        if (n >= GB) resolve();
      });
      s.on("error", reject);
      s.on("close", () => (n >= GB ? resolve() : reject(new Error(`closed after ${n} bytes`))));
    });
    s.destroy();
    const maxKb = stop();
    expect(n).toBe(GB);
    expect(maxKb).toBeLessThan(150 * 1024);
  }, 120_000);

  it("uploads 1 GB through the proxy with its RSS staying under 150 MB", async () => {
    const stop = watchRss(bulkPid);
    const s = connect({ port: bulkPort, host: "127.0.0.1" });
    await once(s, "connect");
    s.write(`POST /up HTTP/1.1\r\nHost: test\r\nContent-Length: ${GB}\r\n\r\n`);
    const chunk = Buffer.alloc(1 << 16, 0x62);
    let sent = 0;
    let answer = "";
    const done = new Promise<string>((resolve, reject) => {
      s.setEncoding("latin1");
      s.on("data", (d: string) => {
        answer += d;
        if (answer.endsWith(String(GB))) resolve(answer);
      });
      s.on("error", reject);
    });
    await new Promise<void>((resolve, reject) => {
      s.once("close", () => reject(new Error(`the proxy closed the upload after ${sent} bytes`)));
      const pump = () => {
        while (sent < GB) {
          sent += chunk.length;
          if (!s.write(chunk)) {
            s.once("drain", pump);
            return;
          }
        }
        resolve();
      };
      pump();
    });
    const r = await done;
    s.destroy();
    const maxKb = stop();
    expect(r.endsWith(`\r\n\r\n${GB}`)).toBe(true);
    expect(maxKb).toBeLessThan(150 * 1024);
  }, 120_000);
});
