/**
 * What the log side-by-side tests share: an upstream server whose answers a path steers
 * (slow head, no answer, a body cut short, a trickling body), a UDP syslog receiver, raw
 * clients, and a parser for HAProxy's `option httplog` line that reads it field by field
 * as a log parser would.
 */
import { createSocket } from "node:dgram";
import { connect, createServer, type Server, type Socket } from "node:net";

// ---- upstream ---------------------------------------------------------------------------

export interface Upstream {
  port: number;
  /** Request heads received, in order. */
  heads: string[];
  close: () => Promise<void>;
}

/**
 * An HTTP/1.1 server on raw sockets. Paths: `/slow?ms=N` answers after N ms; `/close`
 * closes without answering; `/partial` sends a head announcing 100 bytes, 10 of them, then
 * closes; `/trickle` sends a head announcing 1 MB then 100 bytes every 50 ms (until the
 * client goes away, at most 10 s); `/setcookie` answers with `Set-Cookie: JSESSIONID=...`,
 * `/setsrv` with `Set-Cookie: SRV=fromserver`;
 * anything else answers 200 with `ok\n` and keeps the connection.
 */
export async function startUpstream(name = "s1"): Promise<Upstream> {
  const sockets = new Set<Socket>();
  const up: Upstream = { port: 0, heads: [], close: async () => undefined };
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => undefined);
    let buf = "";
    sock.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (end === -1) return;
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        up.heads.push(head);
        answer(sock, head, name);
      }
    });
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", () => res()));
  up.port = (server.address() as { port: number }).port;
  up.close = () =>
    new Promise<void>((res) => {
      for (const s of sockets) s.destroy();
      server.close(() => res());
    });
  return up;
}

function answer(sock: Socket, head: string, name: string): void {
  const line = head.split("\r\n", 1)[0] ?? "";
  const [method, target = "/"] = line.split(" ");
  const url = new URL(target, "http://x");
  const isHead = method === "HEAD";
  const ok = (extra = "") => {
    const body = isHead ? "" : "ok\n";
    sock.write(`HTTP/1.1 200 OK\r\nx-served-by: ${name}\r\ncontent-length: 3\r\n${extra}\r\n${body}`);
  };
  switch (url.pathname) {
    case "/slow":
      setTimeout(
        () => {
          if (!sock.destroyed) ok();
        },
        Number(url.searchParams.get("ms") ?? 100),
      );
      return;
    case "/close":
      sock.destroy();
      return;
    case "/partial":
      sock.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789");
      setTimeout(() => sock.destroy(), 50);
      return;
    case "/trickle": {
      sock.write("HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\n\r\n");
      let n = 0;
      const t = setInterval(() => {
        if (sock.destroyed || ++n > 200) {
          clearInterval(t);
          sock.destroy();
          return;
        }
        sock.write("x".repeat(100));
      }, 50);
      return;
    }
    case "/chunked":
      sock.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n");
      return;
    case "/big": {
      const body = "y".repeat(40000);
      sock.write(
        `HTTP/1.1 200 OK\r\ncontent-type:   text/plain  \r\ncontent-length: ${body.length}\r\n\r\n${body}`,
      );
      return;
    }
    case "/setcookie":
      ok("set-cookie: JSESSIONID=abc123; path=/\r\n");
      return;
    case "/setsrv":
      ok("set-cookie: SRV=fromserver; path=/\r\n");
      return;
    default:
      ok();
  }
}

// ---- syslog receiver --------------------------------------------------------------------

export interface Receiver {
  port: number;
  datagrams: string[];
  close: () => Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const rx = createSocket("udp4");
  const r: Receiver = { port: 0, datagrams: [], close: async () => undefined };
  rx.on("message", (m) => r.datagrams.push(m.toString("latin1")));
  await new Promise<void>((res) => rx.bind(0, "127.0.0.1", () => res()));
  r.port = rx.address().port;
  r.close = () => new Promise<void>((res) => rx.close(() => res()));
  return r;
}

// ---- clients ----------------------------------------------------------------------------

export interface RawExchange {
  /** Everything received. */
  text: string;
  bytes: number;
}

/**
 * Opens a connection, writes each step's bytes (waiting for `waitFor` text to arrive before
 * the next one, when given), then closes after `closeAfterMs` or when the server closes.
 */
export function rawClient(
  port: number,
  steps: readonly { write?: string; waitFor?: string; delayMs?: number }[],
  opts: { closeAfterMs?: number; destroy?: boolean; maxMs?: number } = {},
): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1");
    let text = "";
    let bytes = 0;
    let finished = false;
    const maxTimer = setTimeout(() => done(), opts.maxMs ?? 8000);
    const done = () => {
      if (finished) return;
      finished = true;
      clearTimeout(maxTimer);
      if (opts.destroy) s.destroy();
      else s.end();
      setTimeout(() => s.destroy(), 200);
      resolve({ text, bytes });
    };
    let waiter: { text: string; res: () => void } | null = null;
    s.on("data", (d: Buffer) => {
      text += d.toString("latin1");
      bytes += d.length;
      if (waiter && text.includes(waiter.text)) {
        const w = waiter;
        waiter = null;
        w.res();
      }
    });
    s.on("end", () => done());
    s.on("close", () => done());
    s.on("error", (e) => (text ? done() : reject(e)));
    s.on("connect", async () => {
      for (const st of steps) {
        if (st.delayMs) await new Promise((r) => setTimeout(r, st.delayMs));
        if (st.write !== undefined && !s.destroyed) s.write(st.write);
        const w = st.waitFor;
        if (w !== undefined && !text.includes(w)) {
          await new Promise<void>((res) => {
            waiter = { text: w, res };
          });
        }
      }
      if (opts.closeAfterMs !== undefined) setTimeout(done, opts.closeAfterMs);
    });
  });
}

// ---- the httplog line as a parser reads it ----------------------------------------------

const LINE_RE =
  /^<(?<pri>\d+)>(?<hdate>\w{3} [ \d]\d \d\d:\d\d:\d\d) (?<tag>[^[]+)\[(?<pid>\d+)\]: (?<ip>[\d.]+):(?<port>\d+) \[(?<date>[^\]]+)\] (?<fe>\S+) (?<be>[^/\s]+)\/(?<srv>\S+) (?<TR>-?\d+)\/(?<Tw>-?\d+)\/(?<Tc>-?\d+)\/(?<Tr>-?\d+)\/(?<Ta>\+?\d+) (?<status>-?\d+) (?<bytes>\+?\d+) (?<cc>\S+) (?<cs>\S+) (?<ts>\S{4}) (?<ac>\d+)\/(?<fc>\d+)\/(?<bc>\d+)\/(?<sc>\d+)\/(?<rc>\+?\d+) (?<sq>\d+)\/(?<bq>\d+) (?<caps>(?:\{[^}]*\} )*)"(?<req>[^"]*)"\n$/;

export type HttpLogFields = Record<
  | "pri"
  | "hdate"
  | "tag"
  | "pid"
  | "ip"
  | "port"
  | "date"
  | "fe"
  | "be"
  | "srv"
  | "TR"
  | "Tw"
  | "Tc"
  | "Tr"
  | "Ta"
  | "status"
  | "bytes"
  | "cc"
  | "cs"
  | "ts"
  | "ac"
  | "fc"
  | "bc"
  | "sc"
  | "rc"
  | "sq"
  | "bq"
  | "caps"
  | "req",
  string
>;

export function parseHttpLog(datagram: string): HttpLogFields | undefined {
  return LINE_RE.exec(datagram)?.groups as HttpLogFields | undefined;
}

/** Request log lines (not server state messages) among datagrams. */
export function requestLines(datagrams: readonly string[]): HttpLogFields[] {
  return datagrams.map(parseHttpLog).filter((g): g is HttpLogFields => g !== undefined);
}

/** Fields that differ between two runs by nature (dates, ports, pids). */
export const VOLATILE: readonly (keyof HttpLogFields)[] = ["hdate", "pid", "port", "date"];
/** Timer fields: compared as "-1 or not" and by order of magnitude, never to the ms. */
export const TIMERS: readonly (keyof HttpLogFields)[] = ["TR", "Tw", "Tc", "Tr", "Ta"];

/** Same class: both -1, or both >= 0 and within `tol` ms (or 40%) of each other (a shared machine's jitter). */
export function sameTimer(a: string, b: string, tol = 150): boolean {
  if (a === b) return true;
  const x = Number(a.replace("+", ""));
  const y = Number(b.replace("+", ""));
  if (x < 0 || y < 0) return x === y;
  return Math.abs(x - y) <= Math.max(tol, 0.4 * Math.max(x, y));
}

/** The differences between two lines, as `field: a != b` strings (empty when they match). */
export function diffLines(a: HttpLogFields, b: HttpLogFields): string[] {
  const out: string[] = [];
  for (const k of Object.keys(a) as (keyof HttpLogFields)[]) {
    if (VOLATILE.includes(k)) continue;
    if (TIMERS.includes(k)) {
      if (!sameTimer(a[k], b[k])) out.push(`${k}: ${a[k]} != ${b[k]}`);
      continue;
    }
    if (a[k] !== b[k]) out.push(`${k}: ${a[k]} != ${b[k]}`);
  }
  return out;
}
