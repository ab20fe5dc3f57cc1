/**
 * `option httplog` lines against datagrams haproxy 2.6.12 sent to a UDP socket (local3,
 * default rfc3164 header) for the same requests. Each test rebuilds the record from what the
 * client and server did and must produce HAProxy's bytes exactly, then reads the line back
 * with the kind of regexp log parsers use.
 */
import { describe, expect, it } from "vitest";
import type { LogTarget } from "../../proxy/config/model.js";
import {
  formatConnectLog,
  formatHttpLog,
  formatTcpLog,
  type HttpLogRecord,
  httpLogFormatter,
  logEscape,
  TERMINATION_BY_ERROR,
  terminationState,
} from "../../proxy/log/httplog.js";
import { frameLog } from "../../proxy/log/syslog.js";

const local3: LogTarget = {
  kind: "udp",
  host: "127.0.0.1",
  port: 514,
  facility: 19,
  maxLevel: 7,
  minLevel: 0,
  format: "rfc3164",
  loc: { file: "t", line: 1 },
};

/** Local-time epoch ms, as HAProxy prints local time. */
const at = (h: number, m: number, s: number, ms = 0) => new Date(2026, 10, 26, h, m, s, ms).getTime();

const webProxy = {
  name: "web_proxy",
  captureCookie: { name: "JSESSIONID", len: 52 },
  captureRequestHeaders: [
    { name: "Host", len: 20 },
    { name: "User-Agent", len: 16 },
  ],
  captureResponseHeaders: [{ name: "Content-Length", len: 10 }],
};

const curlHeaders = (extra: [string, string][] = [], host = "127.0.0.1:40377") => ({
  names: ["Host", "User-Agent", "Accept", ...extra.map((e) => e[0])],
  values: [host, "curl/7.88.1", "*/*", ...extra.map((e) => e[1])],
});

function rec(over: Partial<HttpLogRecord>): HttpLogRecord {
  return {
    clientIp: "127.0.0.1",
    clientPort: 41222,
    acceptDate: at(0, 28, 41, 299),
    frontend: "web_proxy",
    backend: "web_proxy",
    server: "web4",
    tr: 0,
    tw: 0,
    tc: 0,
    trs: 1,
    ta: 1,
    status: 200,
    bytesOut: 131,
    asap: false,
    termination: "--NI",
    actconn: 1,
    feconn: 1,
    beconn: 0,
    srvconn: 0,
    retries: 0,
    redispatched: false,
    srvQueue: 0,
    backendQueue: 0,
    requestLine: "GET / HTTP/1.1",
    badRequest: false,
    ...over,
  };
}

function datagram(line: string, sent: number, pid = 6650): string {
  return frameLog(local3, 6, line, sent, { tag: "haproxy", pid })!.toString("latin1");
}

const web = httpLogFormatter(webProxy);

describe("option httplog line", () => {
  it("logs a first request with an inserted cookie (--NI) and the captured headers", () => {
    const line = web(
      rec({ requestHeaders: curlHeaders(), responseHeaders: { names: ["Content-Length"], values: ["16"] } }),
    );
    expect(datagram(line, at(0, 28, 41))).toBe(
      '<158>Nov 26 00:28:41 haproxy[6650]: 127.0.0.1:41222 [26/Nov/2026:00:28:41.299] web_proxy web_proxy/web4 0/0/0/1/1 200 131 - - --NI 1/1/0/0/0 0/0 {127.0.0.1:40377|curl/7.88.1} {16} "GET / HTTP/1.1"\n',
    );
  });

  it("captures the server's Set-Cookie as name=value (capture cookie)", () => {
    const line = web(
      rec({
        clientPort: 41238,
        acceptDate: at(0, 28, 41, 321),
        server: "web2",
        trs: 2,
        ta: 2,
        bytesOut: 166,
        termination: "--VN",
        requestLine: "GET /cookie HTTP/1.1",
        requestHeaders: curlHeaders([["Cookie", "SRV=B"]]),
        responseHeaders: {
          names: ["Server", "Content-Length", "Set-Cookie"],
          values: ["BaseHTTP/0.6", "16", "JSESSIONID=abc123; path=/"],
        },
      }),
    );
    expect(datagram(line, at(0, 28, 41))).toBe(
      '<158>Nov 26 00:28:41 haproxy[6650]: 127.0.0.1:41238 [26/Nov/2026:00:28:41.321] web_proxy web_proxy/web2 0/0/0/2/2 200 166 - JSESSIONID=abc123 --VN 1/1/0/0/0 0/0 {127.0.0.1:40377|curl/7.88.1} {16} "GET /cookie HTTP/1.1"\n',
    );
  });

  it("captures the client's cookie among others and marks an unknown SRV value (--II)", () => {
    const line = web(
      rec({
        clientPort: 41246,
        acceptDate: at(0, 28, 41, 342),
        server: "web1",
        termination: "--II",
        requestLine: "GET /a?b=c HTTP/1.1",
        requestHeaders: curlHeaders([["Cookie", "SRV=Z; JSESSIONID=xyz"]]),
        responseHeaders: { names: ["Content-Length"], values: ["16"] },
      }),
    );
    expect(datagram(line, at(0, 28, 41))).toBe(
      '<158>Nov 26 00:28:41 haproxy[6650]: 127.0.0.1:41246 [26/Nov/2026:00:28:41.342] web_proxy web_proxy/web1 0/0/0/1/1 200 131 JSESSIONID=xyz - --II 1/1/0/0/0 0/0 {127.0.0.1:40377|curl/7.88.1} {16} "GET /a?b=c HTTP/1.1"\n',
    );
  });

  it("cuts a captured header at its len", () => {
    const line = web(
      rec({
        requestHeaders: curlHeaders([], "verylonghostnamethatexceedstwentychars.example"),
        responseHeaders: { names: ["Content-Length"], values: ["16"] },
      }),
    );
    expect(line).toContain(" {verylonghostnamethat|curl/7.88.1} {16} ");
  });

  it('escapes #, ", {, | and } and bytes outside 32..126 in captured headers as #XX', () => {
    const line = web(
      rec({
        requestLine: "GET /h HTTP/1.1",
        // Header values as the request path keeps them: bytes decoded as latin1.
        requestHeaders: { names: ["Host", "User-Agent"], values: ['h{1}|"#x', "a b\xc3\xa9"] },
        responseHeaders: { names: ["Content-Length"], values: ["16"] },
      }),
    );
    expect(line).toContain(' {h#7B1#7D#7C#22#23x|a b#C3#A9} {16} "GET /h HTTP/1.1"');
  });

  it('leaves { | } in the request line as they are but escapes " and #', () => {
    expect(logEscape("GET /a{b}|c HTTP/1.1")).toBe("GET /a{b}|c HTTP/1.1");
    expect(logEscape('GET /a"b#c\x01 HTTP/1.1')).toBe("GET /a#22b#23c#01 HTTP/1.1");
  });

  it("shows no capture blocks when the frontend captures nothing", () => {
    const line = formatHttpLog(
      rec({
        clientPort: 44884,
        acceptDate: at(0, 28, 41, 409),
        frontend: "fe_only",
        backend: "be_only",
        server: "s1",
        termination: "----",
        requestLine: "GET /x HTTP/1.1",
      }),
    );
    expect(datagram(line, at(0, 28, 41))).toBe(
      '<158>Nov 26 00:28:41 haproxy[6650]: 127.0.0.1:44884 [26/Nov/2026:00:28:41.409] fe_only be_only/s1 0/0/0/1/1 200 131 - - ---- 1/1/0/0/0 0/0 "GET /x HTTP/1.1"\n',
    );
  });

  it("logs an unparsable request as <BADREQ> with -1 timers and no capture blocks", () => {
    const line = web(
      rec({
        clientPort: 43284,
        acceptDate: at(0, 28, 44, 918),
        server: "<NOSRV>",
        tr: -1,
        tw: -1,
        tc: -1,
        trs: -1,
        ta: 0,
        status: 400,
        bytesOut: 0,
        termination: terminationState({ firstEvent: "P", phase: "R" }),
        requestLine: "GARBAGE",
        badRequest: true,
      }),
    );
    expect(datagram(line, at(0, 28, 44))).toBe(
      '<158>Nov 26 00:28:44 haproxy[6650]: 127.0.0.1:43284 [26/Nov/2026:00:28:44.918] web_proxy web_proxy/<NOSRV> -1/-1/-1/-1/0 400 0 - - PR-- 1/1/0/0/0 0/0 "<BADREQ>"\n',
    );
  });

  it.each([
    [
      "a refused connection after a retry (SC, retries 1)",
      {
        frontend: "down_px",
        backend: "down_px",
        server: "s1",
        tc: -1,
        trs: -1,
        ta: 502,
        status: 503,
        bytesOut: 217,
        termination: "SC--",
        retries: 1,
      },
      "down_px down_px/s1 0/0/-1/-1/502 503 217 - - SC-- 1/1/0/0/1 0/0",
    ],
    [
      "no server available (<NOSRV>, Tw -1)",
      {
        frontend: "nosrv_px",
        backend: "nosrv_px",
        server: "<NOSRV>",
        tw: -1,
        tc: -1,
        trs: -1,
        ta: 0,
        status: 503,
        bytesOut: 217,
        termination: "SC--",
      },
      "nosrv_px nosrv_px/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 1/1/0/0/0 0/0",
    ],
    [
      "timeout server before the response (sH)",
      {
        frontend: "slow_px",
        backend: "slow_px",
        server: "s1",
        trs: -1,
        ta: 500,
        status: 504,
        bytesOut: 198,
        termination: "sH--",
      },
      "slow_px slow_px/s1 0/0/0/-1/500 504 198 - - sH-- 1/1/0/0/0 0/0",
    ],
    [
      "a redispatch after the retries (+ before the count)",
      { frontend: "px", backend: "px", server: "s2", termination: "--DI", retries: 3, redispatched: true },
      "px px/s2 0/0/0/1/1 200 131 - - --DI 1/1/0/0/+3 0/0",
    ],
  ])("logs %s", (_what, over, middle) => {
    const line = formatHttpLog(rec({ requestLine: "GET /x HTTP/1.1", ...over } as Partial<HttpLogRecord>));
    expect(line).toBe(`127.0.0.1:41222 [26/Nov/2026:00:28:41.299] ${middle} "GET /x HTTP/1.1"`);
  });

  it("logs the stats page as <STATS> with LRNN", () => {
    const line = web(
      rec({
        clientPort: 42712,
        acceptDate: at(0, 28, 32, 972),
        server: "<STATS>",
        trs: 0,
        ta: 0,
        bytesOut: 3759,
        termination: terminationState({ firstEvent: "L", phase: "R", clientCookie: "N", serverCookie: "N" }),
        requestLine: "GET /haproxy-stats;csv HTTP/1.1",
        requestHeaders: curlHeaders(),
        responseHeaders: { names: ["cache-control", "content-type"], values: ["no-cache", "text/plain"] },
      }),
    );
    expect(datagram(line, at(0, 28, 32))).toBe(
      '<158>Nov 26 00:28:32 haproxy[6650]: 127.0.0.1:42712 [26/Nov/2026:00:28:32.972] web_proxy web_proxy/<STATS> 0/0/0/0/0 200 3759 - - LRNN 1/1/0/0/0 0/0 {127.0.0.1:40377|curl/7.88.1} {} "GET /haproxy-stats;csv HTTP/1.1"\n',
    );
  });

  it("keeps at most 1023 characters of the request line", () => {
    const uri = `/${"q".repeat(3000)}`;
    const line = formatHttpLog(rec({ requestLine: `GET ${uri} HTTP/1.1` }));
    const quoted = line.slice(line.indexOf('"'));
    expect(quoted).toBe(`"GET ${uri.slice(0, 1019)}"`);
    expect(quoted.length).toBe(1025);
  });

  it("reads back field by field with a log parser's regexp", () => {
    const line = web(
      rec({
        clientIp: "10.0.1.2",
        clientPort: 33317,
        server: "web1",
        tr: 10,
        tw: 0,
        tc: 30,
        trs: 69,
        ta: 109,
        bytesOut: 2750,
        actconn: 7,
        feconn: 6,
        beconn: 5,
        srvconn: 4,
        retries: 1,
        srvQueue: 2,
        backendQueue: 3,
        requestHeaders: curlHeaders(),
        responseHeaders: { names: ["Content-Length"], values: ["2750"] },
      }),
    );
    const re =
      /^(?<ip>[\d.]+):(?<port>\d+) \[(?<date>[^\]]+)\] (?<fe>\S+) (?<be>[^/\s]+)\/(?<srv>\S+) (?<TR>-?\d+)\/(?<Tw>-?\d+)\/(?<Tc>-?\d+)\/(?<Tr>-?\d+)\/(?<Ta>\+?\d+) (?<status>-?\d+) (?<bytes>\+?\d+) (?<cc>\S+) (?<cs>\S+) (?<ts>\S{4}) (?<ac>\d+)\/(?<fc>\d+)\/(?<bc>\d+)\/(?<sc>\d+)\/(?<rc>\+?\d+) (?<sq>\d+)\/(?<bq>\d+) (?:\{(?<hr>[^}]*)\} )?(?:\{(?<hs>[^}]*)\} )?"(?<req>[^"]*)"$/;
    const g = re.exec(line)?.groups;
    expect(g).toEqual({
      ip: "10.0.1.2",
      port: "33317",
      date: "26/Nov/2026:00:28:41.299",
      fe: "web_proxy",
      be: "web_proxy",
      srv: "web1",
      TR: "10",
      Tw: "0",
      Tc: "30",
      Tr: "69",
      Ta: "109",
      status: "200",
      bytes: "2750",
      cc: "-",
      cs: "-",
      ts: "--NI",
      ac: "7",
      fc: "6",
      bc: "5",
      sc: "4",
      rc: "1",
      sq: "2",
      bq: "3",
      hr: "127.0.0.1:40377|curl/7.88.1",
      hs: "2750",
      req: "GET / HTTP/1.1",
    });
  });

  it("pads the date's day and milliseconds (01/Mar/2027:09:05:07.004)", () => {
    const line = formatHttpLog(rec({ acceptDate: new Date(2027, 2, 1, 9, 5, 7, 4).getTime() }));
    expect(line).toContain("[01/Mar/2027:09:05:07.004]");
  });
});

describe("termination state", () => {
  it("joins the four letters, with - for the cookie letters when the backend has no cookie", () => {
    expect(terminationState({ firstEvent: "s", phase: "H" })).toBe("sH--");
    expect(terminationState({ firstEvent: "-", phase: "-", clientCookie: "V", serverCookie: "N" })).toBe(
      "--VN",
    );
    expect(terminationState({ firstEvent: "C", phase: "D", clientCookie: "N", serverCookie: "I" })).toBe(
      "CDNI",
    );
  });

  it("maps fulcrum's error codes to HAProxy's first two letters", () => {
    expect(TERMINATION_BY_ERROR.FUL_BAD_REQUEST).toBe("PR");
    expect(TERMINATION_BY_ERROR.FUL_REQUEST_TIMEOUT).toBe("cR");
    expect(TERMINATION_BY_ERROR.FUL_CONNECT_TIMEOUT).toBe("sC");
    expect(TERMINATION_BY_ERROR.FUL_SERVER_TIMEOUT).toBe("sH");
    expect(TERMINATION_BY_ERROR.FUL_QUEUE_TIMEOUT).toBe("sQ");
  });
});

describe("other log lines", () => {
  it("logs 'Connect from' at accept time when neither httplog nor tcplog is set", () => {
    const line = formatConnectLog({
      clientIp: "127.0.0.1",
      clientPort: 53328,
      localIp: "127.0.0.1",
      localPort: 38905,
      frontend: "nolog_px",
      mode: "http",
    });
    expect(datagram(line, at(0, 34, 20), 26267)).toBe(
      "<158>Nov 26 00:34:20 haproxy[26267]: Connect from 127.0.0.1:53328 to 127.0.0.1:38905 (nolog_px/HTTP)\n",
    );
  });

  it("writes option tcplog's line (Tw/Tc/Tt, two termination letters)", () => {
    const line = formatTcpLog({
      ...rec({}),
      clientPort: 47046,
      acceptDate: at(0, 34, 21, 22),
      frontend: "tcplog_px",
      backend: "tcplog_px",
      server: "s1",
      tw: 0,
      tc: 1,
      ta: 2,
      termination: "----",
    });
    expect(line).toBe(
      "127.0.0.1:47046 [26/Nov/2026:00:34:21.022] tcplog_px tcplog_px/s1 0/1/2 131 -- 1/1/0/0/0 0/0",
    );
  });
});
