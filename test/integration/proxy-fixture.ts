/**
 * Shared pieces of the proxy integration tests: a raw HTTP/1 client that reads one response at
 * a time on a kept connection (so a test sees the exact bytes the proxy wrote, and when it
 * closed), scripted servers that answer fixed bytes, a config writer, and a runtime-API call.
 * The expected bytes in the tests were recorded from haproxy 2.6.12 on the same configs.
 */
import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { onTestFinished } from "vitest";
import { type EchoServer, startEcho } from "../helpers/echo.js";
import { freePort, type RunningProxy, startProxy, waitFor } from "../helpers/index.js";

/** One parsed response as it arrived. */
export interface RawResponse {
  /** Everything the proxy wrote for this response, head and body. */
  raw: string;
  /** The head, status line included, without the empty line. */
  head: string;
  status: number;
  /** Header lines as written: [name as written, value]. */
  headers: [string, string][];
  body: string;
}

export function header(r: RawResponse, name: string): string | undefined {
  const l = name.toLowerCase();
  return r.headers.find(([n]) => n.toLowerCase() === l)?.[1];
}

export function headerNames(r: RawResponse): string[] {
  return r.headers.map(([n]) => n);
}

/** Decodes a chunked body; undefined while incomplete. */
function dechunk(s: string): { body: string; length: number } | undefined {
  let at = 0;
  let body = "";
  for (;;) {
    const eol = s.indexOf("\r\n", at);
    if (eol === -1) return undefined;
    const size = Number.parseInt(s.slice(at, eol), 16);
    if (size === 0) {
      const end = s.indexOf("\r\n\r\n", eol - 2);
      if (end === -1) return undefined;
      return { body, length: end + 4 };
    }
    if (s.length < eol + 2 + size + 2) return undefined;
    body += s.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/**
 * A client connection that writes raw bytes and reads responses one by one (framed by
 * Content-Length, chunked encoding, or the close), keeping what arrives after.
 */
export class RawClient {
  readonly socket: Socket;
  private buf = "";
  private ended = false;
  private waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      this.buf += d;
      this.wake();
    });
    socket.on("end", () => {
      this.ended = true;
      this.wake();
    });
    socket.on("error", () => {
      this.ended = true;
      this.wake();
    });
    socket.on("close", () => {
      this.ended = true;
      this.wake();
    });
  }

  static async open(port: number, opts: { localAddress?: string } = {}): Promise<RawClient> {
    const s = connect({ port, host: "127.0.0.1", allowHalfOpen: true, ...opts });
    const c = new RawClient(s);
    onTestFinished(() => {
      s.destroy();
    });
    await once(s, "connect");
    return c;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async until<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v !== undefined) return v;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(this.buf)}`,
        );
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  send(data: string | Buffer): void {
    this.socket.write(typeof data === "string" ? Buffer.from(data, "latin1") : data);
  }

  /** Half-closes (FIN) the client side. */
  end(): void {
    this.socket.end();
  }

  /**
   * The next response. `bodyless` for a HEAD request (or any response known to have no
   * body); interim 1xx responses are returned like any other.
   */
  async response(opts: { bodyless?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
    return this.until(() => this.take(opts.bodyless === true), opts.timeoutMs ?? 5000, "a response");
  }

  private take(bodyless: boolean): RawResponse | undefined {
    const b = this.buf;
    const he = b.indexOf("\r\n\r\n");
    if (he === -1) return undefined;
    const head = b.slice(0, he);
    const lines = head.split("\r\n");
    const status = Number(lines[0]!.split(" ")[1]);
    const headers: [string, string][] = lines.slice(1).map((l) => {
      const c = l.indexOf(":");
      return [l.slice(0, c), l.slice(c + 1).trim()];
    });
    const get = (n: string) => headers.find(([k]) => k.toLowerCase() === n)?.[1];
    const rest = b.slice(he + 4);
    let bodyLen: number;
    let body: string;
    if (bodyless || (status >= 100 && status < 200) || status === 204 || status === 304) {
      bodyLen = 0;
      body = "";
    } else if (get("transfer-encoding")?.toLowerCase() === "chunked") {
      const d = dechunk(rest);
      if (d === undefined) return undefined;
      bodyLen = d.length;
      body = d.body;
    } else if (get("content-length") !== undefined) {
      bodyLen = Number(get("content-length"));
      if (rest.length < bodyLen) return undefined;
      body = rest.slice(0, bodyLen);
    } else {
      if (!this.ended) return undefined;
      bodyLen = rest.length;
      body = rest;
    }
    const end = he + 4 + bodyLen;
    this.buf = b.slice(end);
    return { raw: b.slice(0, end), head, status, headers, body };
  }

  /** Bytes received and not taken by response(). */
  pending(): string {
    return this.buf;
  }

  /** Resolves when the proxy closed the connection (FIN or reset); throws after the deadline. */
  async closed(timeoutMs = 5000): Promise<true> {
    return this.until(() => (this.ended ? true : undefined), timeoutMs, "the connection to close");
  }

  /** True when, after the proxy had `ms` to act, the connection is still open. */
  get isOpen(): boolean {
    return !this.ended;
  }

  /** Waits until at least `n` bytes are buffered. */
  async bytes(n: number, timeoutMs = 5000): Promise<string> {
    return this.until(() => (this.buf.length >= n ? this.buf : undefined), timeoutMs, `${n} bytes`);
  }
}

/** One request, one response, on a new connection. */
export async function request(
  port: number,
  raw: string,
  opts: { bodyless?: boolean } = {},
): Promise<RawResponse> {
  const c = await RawClient.open(port);
  c.send(raw);
  return c.response(opts);
}

export const get = (path: string, extra = "", version = "1.1"): string =>
  `GET ${path} HTTP/${version}\r\nHost: test\r\n${extra}\r\n`;

/**
 * A server on a free port that answers each request head with what `reply` returns (raw
 * bytes, or an array of byte strings and pauses in ms), recording the raw bytes of each
 * connection.
 */
export interface ScriptedServer {
  port: number;
  /** Raw bytes received, per connection, in order. */
  conns: string[];
  /** Each request received: head (with its empty line), body, and the connection it came on. */
  requests: { conn: number; head: string; body: string }[];
  /** Connections closed by the proxy with a reset. */
  resets: number;
  /** Indexes of the connections that are closed. */
  closed: Set<number>;
  close(): Promise<void>;
}

export async function scriptedServer(
  reply: (head: string, conn: number, body: string) => string | (string | number)[] | null,
  opts: { endAfter?: boolean; onHead?: (head: string) => string | null } = {},
): Promise<ScriptedServer> {
  const sockets = new Set<Socket>();
  const s: ScriptedServer = {
    port: 0,
    conns: [],
    requests: [],
    resets: 0,
    closed: new Set(),
    close: async () => undefined,
  };
  const srv: Server = createServer({ allowHalfOpen: true }, (sock) => {
    const id = s.conns.length;
    s.conns.push("");
    sockets.add(sock);
    sock.on("close", () => {
      sockets.delete(sock);
      s.closed.add(id);
    });
    sock.on("end", () => sock.end());
    sock.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ECONNRESET") s.resets++;
    });
    let pending = "";
    let headSeen = false;
    sock.setEncoding("latin1");
    const send = (head: string, r: string | (string | number)[] | null) => {
      if (r === null) return;
      const parts = typeof r === "string" ? [r] : r;
      let i = 0;
      const next = (): void => {
        if (sock.destroyed) return;
        while (i < parts.length) {
          const p = parts[i++]!;
          if (typeof p === "number") {
            setTimeout(next, p);
            return;
          }
          sock.write(Buffer.from(p, "latin1"));
        }
        if (opts.endAfter || /[?&]_(connclose|nolength|http10)/.test(head.split("\r\n", 1)[0]!)) sock.end();
      };
      next();
    };
    sock.on("data", (d: string) => {
      s.conns[id] += d;
      pending += d;
      for (;;) {
        const he = pending.indexOf("\r\n\r\n");
        if (he === -1) return;
        const head = pending.slice(0, he);
        if (!headSeen) {
          headSeen = true;
          const interim = opts.onHead?.(head);
          if (interim) sock.write(Buffer.from(interim, "latin1"));
        }
        const rest = pending.slice(he + 4);
        let bodyLen = 0;
        const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
          const end = chunkedEnd(rest);
          if (end === -1) return;
          bodyLen = end;
        } else if (cl) {
          bodyLen = Number(cl[1]);
          if (rest.length < bodyLen) return;
        }
        const body = rest.slice(0, bodyLen);
        pending = rest.slice(bodyLen);
        headSeen = false;
        s.requests.push({ conn: id, head: `${head}\r\n\r\n`, body });
        send(head, reply(head, id, body));
      }
    });
  });
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const a = srv.address();
  s.port = typeof a === "object" && a ? a.port : 0;
  s.close = () =>
    new Promise<void>((r) => {
      for (const x of sockets) x.destroy();
      srv.close(() => r());
    });
  return s;
}

/** Where a chunked body ends in `s` (after its trailers), or -1 while incomplete. */
function chunkedEnd(s: string): number {
  let at = 0;
  for (;;) {
    const eol = s.indexOf("\r\n", at);
    if (eol === -1) return -1;
    const size = Number.parseInt(s.slice(at, eol), 16);
    if (Number.isNaN(size)) return -1;
    if (size === 0) {
      const end = s.indexOf("\r\n\r\n", eol - 2);
      return end === -1 ? -1 : end + 4;
    }
    at = eol + 2 + size + 2;
    if (at > s.length) return -1;
  }
}

/** Echo servers stopped after the test file. */
export async function echoes(names: string[], cleanup: (() => Promise<void>)[]): Promise<EchoServer[]> {
  const out: EchoServer[] = [];
  for (const n of names) {
    const e = await startEcho(n);
    cleanup.push(() => e.close());
    out.push(e);
  }
  return out;
}

export const DEFAULTS = `defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
`;

/**
 * Starts `fulcrum proxy -db -f` on a config whose `@PORTn` marks are replaced by free ports.
 * With PROXY_UNDER_TEST=haproxy the same config runs on haproxy 2.6 instead: the assertions
 * were checked that way (`PROXY_UNDER_TEST=haproxy npx vitest run test/integration/proxy-*`).
 */
export async function proxy(
  cfg: string,
  cleanup: (() => Promise<void>)[],
): Promise<{ ports: number[]; proc: RunningProxy }> {
  const marks = [...new Set([...cfg.matchAll(/@PORT(\d+)/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);
  const ports: number[] = [];
  let text = cfg;
  // Longest marks first, so that @PORT1 does not eat the start of @PORT11.
  for (const m of [...marks].reverse()) {
    const p = await freePort();
    ports[m] = p;
    text = text.replace(new RegExp(`@PORT${m}(?!\\d)`, "g"), String(p));
  }
  const proc =
    UNDER_TEST === "haproxy"
      ? await startProxy(text, ports[marks[0]!]!, { program: "haproxy" })
      : await startProxy(text, ports[marks[0]!]!);
  cleanup.push(() => proc.stop());
  for (const m of marks.slice(1)) await waitFor(() => portOpen(ports[m]!), { what: `port of frontend ${m}` });
  return { ports, proc };
}

/** `fulcrum` (default) or `haproxy`: which proxy the integration tests run against. */
export const UNDER_TEST = process.env.PROXY_UNDER_TEST === "haproxy" ? "haproxy" : "fulcrum";

async function portOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      res(true);
    });
    s.once("error", () => res(false));
  });
}

/** Sends one command to a `stats socket` and returns the answer. */
export async function runtimeApi(path: string, command: string): Promise<string> {
  return new Promise((res, rej) => {
    const s = connect(path);
    let out = "";
    s.setEncoding("utf8");
    s.on("data", (d: string) => {
      out += d;
    });
    s.on("end", () => res(out));
    s.on("error", rej);
    s.write(`${command}\n`);
  });
}

/** The stats CSV rows of a proxy's `stats uri`, as objects keyed by the header's columns. */
export async function statsCsv(port: number, uri: string): Promise<Record<string, string>[]> {
  const r = await request(port, `GET ${uri};csv HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`);
  const lines = r.body.split("\n").filter((l) => l.length > 0);
  const cols = lines[0]!.replace(/^# /, "").split(",");
  return lines.slice(1).map((l) => {
    const cells = l.split(",");
    return Object.fromEntries(cols.map((c, i) => [c, cells[i] ?? ""]));
  });
}

/**
 * An echo-like reply for scriptedServer: 200 with `x-echo: NAME` and the request line as the
 * body; query flags steer it: `_http10` (an HTTP/1.0 response), `_connclose` (with
 * `Connection: close`, then close), `_nolength` (no length: the body ends with the close),
 * `_chunked`, `_status=N`, `_header=Name:Value`, `_delay=MS`, `_silent` (no answer).
 */
export function echoReply(name: string): (head: string) => string | (string | number)[] | null {
  return (head) => {
    const line = head.split("\r\n", 1)[0]!;
    const target = line.split(" ")[1] ?? "/";
    const q = new URL(target, "http://x").searchParams;
    if (q.has("_silent")) return null;
    const body = `${name}:${line}`;
    const h = [
      `${q.has("_http10") ? "HTTP/1.0" : "HTTP/1.1"} ${q.get("_status") ?? "200"} OK`,
      `X-Echo: ${name}`,
    ];
    for (const x of q.getAll("_header")) h.push(x.replace(":", ": "));
    if (q.has("_connclose")) h.push("Connection: close");
    let out: string;
    if (q.has("_chunked")) {
      h.push("Transfer-Encoding: chunked");
      out = `${h.join("\r\n")}\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    } else if (q.has("_nolength")) out = `${h.join("\r\n")}\r\n\r\n${body}`;
    else out = `${h.join("\r\n")}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const delay = Number(q.get("_delay") ?? 0);
    return delay > 0 ? [delay, out] : [out];
  };
}
