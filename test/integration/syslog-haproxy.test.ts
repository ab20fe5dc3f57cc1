/**
 * Side by side with haproxy 2.6 (skipped where `haproxy` is not installed): HAProxy logs real
 * requests to a UDP receiver; each datagram is read back with a log parser's regexp, and
 * fulcrum's formatter and framer, given the same field values and the same request and
 * response headers, must produce the same bytes.
 */
import { execFileSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogTarget } from "../../proxy/config/model.js";
import { type HeaderList, httpLogFormatter } from "../../proxy/log/httplog.js";
import { frameLog } from "../../proxy/log/syslog.js";
import { freePort, type Proc, spawnProc, tempDir, waitFor } from "../helpers/index.js";

function haproxyVersion(): string | undefined {
  try {
    return execFileSync("haproxy", ["-v"], { encoding: "utf8" });
  } catch {
    return undefined;
  }
}
const HAPROXY = haproxyVersion();

const LINE_RE =
  /^<(?<pri>\d+)>(?<mon>\w{3}) (?<day>[ \d]\d) (?<hh>\d\d):(?<mm>\d\d):(?<ss>\d\d) haproxy\[(?<pid>\d+)\]: (?<ip>[\d.]+):(?<port>\d+) \[(?<date>[^\]]+)\] (?<fe>\S+) (?<be>[^/\s]+)\/(?<srv>\S+) (?<TR>-?\d+)\/(?<Tw>-?\d+)\/(?<Tc>-?\d+)\/(?<Tr>-?\d+)\/(?<Ta>\d+) (?<status>-?\d+) (?<bytes>\d+) (?<cc>\S+) (?<cs>\S+) (?<ts>\S{4}) (?<ac>\d+)\/(?<fc>\d+)\/(?<bc>\d+)\/(?<sc>\d+)\/(?<rc>\+?\d+) (?<sq>\d+)\/(?<bq>\d+) (?:\{(?<hr>[^}]*)\} \{(?<hs>[^}]*)\} )?"(?<req>[^"]*)"\n$/;

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function parseDate(s: string): number {
  const m = /^(\d\d)\/(\w{3})\/(\d{4}):(\d\d):(\d\d):(\d\d)\.(\d{3})$/.exec(s)!;
  return new Date(+m[3]!, MONTHS.indexOf(m[2]!), +m[1]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!).getTime();
}

describe.skipIf(HAPROXY === undefined)("httplog side by side with haproxy 2.6", () => {
  const frontend = {
    name: "px",
    captureCookie: { name: "JSESSIONID", len: 52 },
    captureRequestHeaders: [
      { name: "Host", len: 20 },
      { name: "User-Agent", len: 16 },
    ],
    captureResponseHeaders: [{ name: "Content-Length", len: 10 }],
  };
  const datagrams: string[] = [];
  const dir = tempDir();
  let haproxy: Proc | undefined;
  let port = 0;
  let upstreamClose: () => Promise<void> = async () => {};
  let rxClose: () => Promise<void> = async () => {};

  beforeAll(async () => {
    const rx = createSocket("udp4");
    rx.on("message", (m) => datagrams.push(m.toString("latin1")));
    await new Promise<void>((res) => rx.bind(0, "127.0.0.1", () => res()));
    rxClose = () => new Promise((res) => rx.close(() => res()));
    const upstream = createServer((req: IncomingMessage, res: ServerResponse) => {
      const body = "hello from s1\n";
      const headers: Record<string, string> = { "Content-Length": String(body.length) };
      if (req.url === "/cookie") headers["Set-Cookie"] = "JSESSIONID=fromserver42; path=/";
      res.writeHead(200, headers);
      res.end(body);
    });
    await new Promise<void>((res) => upstream.listen(0, "127.0.0.1", () => res()));
    upstreamClose = () => new Promise((res) => upstream.close(() => res()));
    const upPort = (upstream.address() as { port: number }).port;
    port = await freePort();
    const cfg = join(dir.path, "haproxy.cfg");
    writeFileSync(
      cfg,
      [
        "global",
        `    log 127.0.0.1:${rx.address().port} local3 info`,
        "defaults",
        "    mode http",
        "    log global",
        "    option httplog",
        "    timeout connect 1s",
        "    timeout client 5s",
        "    timeout server 5s",
        "listen px",
        `    bind 127.0.0.1:${port}`,
        "    capture cookie JSESSIONID len 52",
        "    capture request header Host len 20",
        "    capture request header User-Agent len 16",
        "    capture response header Content-Length len 10",
        `    server s1 127.0.0.1:${upPort}`,
        "",
      ].join("\n"),
    );
    haproxy = spawnProc("haproxy", ["-db", "-f", cfg]);
    await waitFor(
      () =>
        new Promise<boolean>((res) => {
          const s = connect(port, "127.0.0.1", () => {
            s.destroy();
            res(true);
          });
          s.on("error", () => res(false));
        }),
      { what: "haproxy listening" },
    );
  });

  afterAll(async () => {
    await haproxy?.stop();
    await upstreamClose();
    await rxClose();
    dir.remove();
  });

  function get(path: string, headers: Record<string, string>): Promise<void> {
    return new Promise((res, rej) => {
      const req = request(
        { host: "127.0.0.1", port, path, headers: { ...headers, connection: "close" } },
        (r) => {
          r.resume();
          r.on("end", () => res());
        },
      );
      req.on("error", rej);
      req.end();
    });
  }

  function raw(bytes: string): Promise<void> {
    return new Promise((res) => {
      const s = connect(port, "127.0.0.1", () => s.end(bytes));
      s.on("data", () => {});
      s.on("close", () => res());
      s.on("error", () => res());
    });
  }

  /** Rebuilds the datagram from its parsed fields plus the headers that were exchanged. */
  function rebuild(d: string, req: HeaderList, res: HeaderList): string {
    const g = LINE_RE.exec(d)?.groups;
    expect(g, d).toBeDefined();
    const acceptDate = parseDate(g!.date!);
    const y = new Date(acceptDate).getFullYear();
    const sent = new Date(y, MONTHS.indexOf(g!.mon!), +g!.day!, +g!.hh!, +g!.mm!, +g!.ss!).getTime();
    const line = httpLogFormatter(frontend)({
      clientIp: g!.ip!,
      clientPort: +g!.port!,
      acceptDate,
      frontend: g!.fe!,
      backend: g!.be!,
      server: g!.srv!,
      tr: +g!.TR!,
      tw: +g!.Tw!,
      tc: +g!.Tc!,
      trs: +g!.Tr!,
      ta: +g!.Ta!,
      status: +g!.status!,
      bytesOut: +g!.bytes!,
      asap: false,
      termination: g!.ts!,
      actconn: +g!.ac!,
      feconn: +g!.fc!,
      beconn: +g!.bc!,
      srvconn: +g!.sc!,
      retries: Number(g!.rc!.replace("+", "")),
      redispatched: g!.rc!.startsWith("+"),
      srvQueue: +g!.sq!,
      backendQueue: +g!.bq!,
      requestLine: g!.req!,
      badRequest: g!.req === "<BADREQ>",
      requestHeaders: req,
      responseHeaders: res,
    });
    const target: LogTarget = {
      kind: "udp",
      host: "127.0.0.1",
      port: 514,
      facility: 19,
      maxLevel: 6,
      minLevel: 0,
      format: "rfc3164",
      loc: { file: "t", line: 1 },
    };
    return frameLog(target, 6, line, sent, { tag: "haproxy", pid: +g!.pid! })!.toString("latin1");
  }

  const lastRequestLog = () => datagrams.filter((d) => /\]: \d+\.\d+\.\d+\.\d+:\d+ \[/.test(d)).at(-1);

  it("writes the same datagram for a request with captured headers and request cookie", async () => {
    const before = datagrams.length;
    await get("/a?b=c", { "User-Agent": "fulcrum-test/1.0 (compat)", Cookie: "SRV=x; JSESSIONID=client1" });
    await waitFor(() => datagrams.length > before && lastRequestLog()?.includes("/a?b=c"), {
      what: "haproxy's log datagram",
    });
    const d = lastRequestLog()!;
    const req = {
      names: ["User-Agent", "Cookie", "Host", "Connection"],
      values: ["fulcrum-test/1.0 (compat)", "SRV=x; JSESSIONID=client1", `127.0.0.1:${port}`, "close"],
    };
    expect(rebuild(d, req, { names: ["Content-Length"], values: ["14"] })).toBe(d);
    expect(d).toContain("JSESSIONID=client1 - ");
  });

  it("writes the same datagram when the server sets the captured cookie", async () => {
    const before = datagrams.length;
    await get("/cookie", { "User-Agent": "x" });
    await waitFor(() => datagrams.length > before && lastRequestLog()?.includes("/cookie"), {
      what: "haproxy's log datagram",
    });
    const d = lastRequestLog()!;
    const req = { names: ["User-Agent", "Host", "Connection"], values: ["x", `127.0.0.1:${port}`, "close"] };
    const res = {
      names: ["Set-Cookie", "Content-Length"],
      values: ["JSESSIONID=fromserver42; path=/", "14"],
    };
    expect(rebuild(d, req, res)).toBe(d);
    expect(d).toContain(" - JSESSIONID=fromserver42 ");
  });

  it("writes the same <BADREQ> datagram for a request line it cannot parse", async () => {
    const before = datagrams.length;
    await raw("GARBAGE\r\n\r\n");
    await waitFor(() => datagrams.length > before && lastRequestLog()?.includes("<BADREQ>"), {
      what: "haproxy's <BADREQ> datagram",
    });
    const d = lastRequestLog()!;
    expect(rebuild(d, { names: [], values: [] }, { names: [], values: [] })).toBe(d);
  });
});
