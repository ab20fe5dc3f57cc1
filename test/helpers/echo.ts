/**
 * An HTTP/1 echo server for proxy tests, written on raw sockets so a test sees exactly the
 * bytes the proxy forwarded. It answers 200 with the request head (and body) as the body
 * and `X-Echo: NAME`; query parameters steer the answer: `_status=404`,
 * `_header=Name:Value` (repeatable), `_body=TEXT`, `_delay=MS`, `_close=1` (close without
 * answering), `_chunked=1` (answer chunked), `_nolength=1` (close-delimited answer).
 */
import { createServer, type Server, type Socket } from "node:net";

export interface EchoServer {
  name: string;
  port: number;
  /** Raw request heads (and bodies) received, in order. */
  requests: string[];
  /** Connections accepted so far. */
  connections: number;
  server: Server;
  close: () => Promise<void>;
}

function answer(sock: Socket, name: string, head: string, body: Buffer, onDone: () => void): void {
  const line = head.split("\r\n", 1)[0] ?? "";
  const target = line.split(" ")[1] ?? "/";
  const q = new URL(target, "http://x").searchParams;
  const run = () => {
    if (q.get("_close")) {
      sock.destroy();
      return;
    }
    const status = q.get("_status") ?? "200";
    const payload =
      q.get("_body") !== null
        ? Buffer.from(q.get("_body")!)
        : Buffer.concat([Buffer.from(`${head}\r\n\r\n`, "latin1"), body]);
    const isHead = line.startsWith("HEAD ");
    const headers = [`HTTP/1.1 ${status} X`, `X-Echo: ${name}`];
    for (const h of q.getAll("_header")) headers.push(h.replace(":", ": "));
    let out: Buffer;
    if (q.get("_chunked")) {
      headers.push("Transfer-Encoding: chunked");
      out = Buffer.concat([
        Buffer.from(`${headers.join("\r\n")}\r\n\r\n`, "latin1"),
        isHead
          ? Buffer.alloc(0)
          : Buffer.concat([
              Buffer.from(`${payload.length.toString(16)}\r\n`),
              payload,
              Buffer.from("\r\n0\r\n\r\n"),
            ]),
      ]);
    } else if (q.get("_nolength")) {
      out = Buffer.concat([
        Buffer.from(`${headers.join("\r\n")}\r\n\r\n`, "latin1"),
        isHead ? Buffer.alloc(0) : payload,
      ]);
      sock.end(out);
      return;
    } else {
      headers.push(`Content-Length: ${payload.length}`);
      out = Buffer.concat([
        Buffer.from(`${headers.join("\r\n")}\r\n\r\n`, "latin1"),
        isHead ? Buffer.alloc(0) : payload,
      ]);
    }
    sock.write(out);
    onDone();
  };
  const delay = Number(q.get("_delay") ?? 0);
  if (delay > 0) setTimeout(run, delay);
  else run();
}

export async function startEcho(name: string, port = 0): Promise<EchoServer> {
  const es: EchoServer = {
    name,
    port: 0,
    requests: [],
    connections: 0,
    server: createServer(),
    close: async () => undefined,
  };
  const sockets = new Set<Socket>();
  es.server.on("connection", (sock) => {
    es.connections++;
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => undefined);
    let buf: Buffer = Buffer.alloc(0);
    let busy = false;
    const pump = () => {
      if (busy) return;
      const end = buf.indexOf("\r\n\r\n");
      if (end === -1) return;
      const head = buf.subarray(0, end).toString("latin1");
      let rest: Buffer = buf.subarray(end + 4);
      let body: Buffer = Buffer.alloc(0);
      const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (cl) {
        const n = Number(cl[1]);
        if (rest.length < n) return;
        body = rest.subarray(0, n);
        rest = rest.subarray(n);
      } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
        const stop = rest.indexOf("\r\n0\r\n\r\n");
        const stop2 = rest.indexOf("0\r\n\r\n") === 0 ? 0 : -1;
        if (stop === -1 && stop2 === -1) return;
        const len = stop2 === 0 ? 5 : stop + 7;
        body = rest.subarray(0, len);
        rest = rest.subarray(len);
      }
      buf = rest;
      es.requests.push(`${head}\r\n\r\n${body.toString("latin1")}`);
      busy = true;
      answer(sock, name, head, body, () => {
        busy = false;
        pump();
      });
    };
    sock.on("data", (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      pump();
    });
  });
  await new Promise<void>((res) => es.server.listen(port, "127.0.0.1", () => res()));
  const addr = es.server.address();
  es.port = typeof addr === "object" && addr ? addr.port : 0;
  es.close = () =>
    new Promise<void>((res) => {
      for (const s of sockets) s.destroy();
      es.server.close(() => res());
    });
  return es;
}
