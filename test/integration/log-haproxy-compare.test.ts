import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ctlExchange } from "../../cli/ctl.js";
import {
  freePort,
  HAVE_HAPROXY,
  type Proc,
  type Program,
  spawnProgram,
  tempDir,
  waitFor,
  waitForPort,
} from "../helpers/index.js";
import {
  diffLines,
  type HttpLogFields,
  parseHttpLog,
  type Receiver,
  rawClient,
  requestLines,
  startReceiver,
  startUpstream,
  type Upstream,
} from "./log-fixture.js";

const LISTENS = [
  "marker",
  "web",
  "nosrv",
  "down",
  "reqto",
  "null",
  "nonull",
  "retry",
  "noredisp",
  "cookie",
  "queue",
  "replies",
  "asap",
  "buffer",
] as const;
type ListenName = (typeof LISTENS)[number];
type Ports = Record<ListenName, number>;

function config(p: Ports, logPort: number, up: number, up2: number, dead: number, sock: string): string {
  const l = (name: ListenName, ...lines: string[]) => [
    `listen ${name}`,
    `    bind 127.0.0.1:${p[name]}`,
    ...lines.map((x) => `    ${x}`),
  ];
  return [
    "global",
    `    log 127.0.0.1:${logPort} local3`,
    `    stats socket ${sock} level admin`,
    "defaults",
    "    mode http",
    "    log global",
    "    option httplog",
    "    timeout connect 1s",
    "    timeout client 5s",
    "    timeout server 2s",
    ...l("marker", `server s1 127.0.0.1:${up}`),
    ...l("web", "stats enable", "stats uri /stats", "timeout server 500ms", `server s1 127.0.0.1:${up}`),
    ...l("nosrv"),
    ...l("down", `server s1 127.0.0.1:${dead} check inter 100 fall 1 rise 1`),
    ...l("reqto", "timeout http-request 300ms", `server s1 127.0.0.1:${up}`),
    ...l("null", "option dontlognull", `server s1 127.0.0.1:${up}`),
    ...l("nonull", `server s1 127.0.0.1:${up}`),
    ...l(
      "retry",
      "retries 2",
      "option redispatch",
      `server dead 127.0.0.1:${dead}`,
      `server s1 127.0.0.1:${up}`,
    ),
    ...l("noredisp", "retries 2", `server dead 127.0.0.1:${dead}`),
    ...l("asap", "option logasap", `server s1 127.0.0.1:${up}`),
    ...l("buffer", "option http-buffer-request", `server s1 127.0.0.1:${up}`),
    ...l(
      "replies",
      "http-request redirect location /new if { path /old }",
      'http-request return status 503 content-type text/plain string "later" if { path /ret }',
      `server s1 127.0.0.1:${up}`,
    ),
    ...l(
      "cookie",
      "cookie SRV insert indirect nocache",
      "capture cookie SRV len 10",
      "capture request header Host len 20",
      "capture response header Set-Cookie len 40",
      "option redispatch",
      `server a 127.0.0.1:${up} cookie A`,
      `server b 127.0.0.1:${up2} cookie B`,
      `server c 127.0.0.1:${dead} cookie C check inter 100 fall 1 rise 1`,
      `server d 127.0.0.1:${dead} cookie D`,
    ),
    ...l("queue", "timeout queue 300ms", `server s1 127.0.0.1:${up} maxconn 1`),
    "",
  ].join("\n");
}

const req = (path: string, headers: string[] = [], method = "GET") =>
  `${method} ${path} HTTP/1.1\r\nhost: x\r\n${headers.map((h) => `${h}\r\n`).join("")}\r\n`;
const close = "connection: close";

interface Scenario {
  readonly name: string;
  readonly run: (p: Ports) => Promise<unknown>;
  /** A request line logged late (a client abort): waited for before the marker. */
  readonly awaits?: string;
  /** Fields that differ by nature in this scenario (the stats page's own size). */
  readonly mask?: readonly (keyof HttpLogFields)[];
}

const SCENARIOS: readonly Scenario[] = [
  { name: "a normal request", run: (p) => rawClient(p.web, [{ write: req("/a?b=c", [close]) }]) },
  {
    name: "two requests on a keep-alive connection, the second one slow to arrive",
    run: (p) =>
      rawClient(p.web, [
        { write: req("/one"), waitFor: "ok\n" },
        { delayMs: 150, write: "GET /two HTTP/1.1\r\n" },
        { delayMs: 150, write: "host: x\r\nconnection: close\r\n\r\n" },
      ]),
  },
  {
    name: "a stats request",
    run: (p) => rawClient(p.web, [{ write: req("/stats;csv", [close]) }]),
    mask: ["bytes"],
  },
  { name: "a chunked response", run: (p) => rawClient(p.web, [{ write: req("/chunked", [close]) }]) },
  { name: "a response with a larger body", run: (p) => rawClient(p.web, [{ write: req("/big", [close]) }]) },
  {
    name: "a request with a body",
    run: (p) =>
      rawClient(p.web, [
        { write: `POST /post HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n${close}\r\n\r\nhello` },
      ]),
  },
  { name: "a HEAD request", run: (p) => rawClient(p.web, [{ write: req("/h", [close], "HEAD") }]) },
  { name: "503 from a backend without servers", run: (p) => rawClient(p.nosrv, [{ write: req("/") }]) },
  { name: "503 when the only server is DOWN", run: (p) => rawClient(p.down, [{ write: req("/") }]) },
  { name: "504 server timeout", run: (p) => rawClient(p.web, [{ write: req("/slow?ms=1500") }]) },
  { name: "502 server closed without answering", run: (p) => rawClient(p.web, [{ write: req("/close") }]) },
  {
    name: "server abort during the response body",
    run: (p) => rawClient(p.web, [{ write: req("/partial") }]),
  },
  {
    name: "client abort during the response body",
    run: (p) =>
      rawClient(p.web, [{ write: req("/trickle"), waitFor: "xxxx" }], { destroy: true, closeAfterMs: 0 }),
    awaits: "/trickle",
    // How much went out before the abort was seen depends on timing.
    mask: ["bytes", "Ta"],
  },
  { name: "400 bad request", run: (p) => rawClient(p.web, [{ write: "GARBAGE\r\n\r\n" }]) },
  {
    name: "400 bad request after a good one on the same connection",
    run: (p) => rawClient(p.web, [{ write: req("/first"), waitFor: "ok\n" }, { write: "BAD LINE\r\n\r\n" }]),
  },
  {
    name: "a connection closed without a request (dontlognull)",
    run: (p) => rawClient(p.null, [], { closeAfterMs: 50 }),
  },
  {
    name: "a connection closed without a request",
    run: (p) => rawClient(p.nonull, [], { closeAfterMs: 50 }),
  },
  {
    name: "a partial request then close",
    run: (p) => rawClient(p.nonull, [{ write: "GET / HTTP/1.1\r\nhost" }], { closeAfterMs: 50 }),
  },
  {
    name: "408 on a partial request (timeout http-request)",
    run: (p) => rawClient(p.reqto, [{ write: "GET / HTTP/1.1\r\n" }], { maxMs: 3000 }),
  },
  {
    name: "408 on an empty connection (timeout http-request)",
    run: (p) => rawClient(p.reqto, [], { maxMs: 3000 }),
  },
  { name: "retries then redispatch", run: (p) => rawClient(p.retry, [{ write: req("/", [close]) }]) },
  { name: "retries without redispatch", run: (p) => rawClient(p.noredisp, [{ write: req("/", [close]) }]) },
  {
    name: "cookie: none sent, inserted (--NI)",
    run: (p) => rawClient(p.cookie, [{ write: req("/", [close]) }]),
  },
  {
    name: "cookie: valid (--VN)",
    run: (p) => rawClient(p.cookie, [{ write: req("/", [close, "cookie: SRV=B"]) }]),
  },
  {
    name: "cookie: unknown server (--II)",
    run: (p) => rawClient(p.cookie, [{ write: req("/", [close, "cookie: SRV=Z"]) }]),
  },
  {
    name: "cookie: server DOWN, redispatched (--DI)",
    run: (p) => rawClient(p.cookie, [{ write: req("/", [close, "cookie: SRV=C"]) }]),
  },
  {
    name: "cookie: its server refuses connections, redispatched after the retries",
    run: (p) => rawClient(p.cookie, [{ write: req("/", [close, "cookie: SRV=D"]) }]),
  },
  {
    name: "cookie: the server sets the persistence cookie itself (captured as the server sent it)",
    run: (p) => rawClient(p.cookie, [{ write: req("/setsrv", [close, "cookie: SRV=A"]) }]),
  },
  {
    // One request holds the only slot; two wait in the backend queue and time out (503 sQ,
    // positions and econ as haproxy counts them); one more, after, waits and is served.
    name: "queue: timeouts and a granted wait (maxconn 1, timeout queue)",
    run: async (p) => {
      const slow = rawClient(p.queue, [{ write: req("/slow?ms=700", [close]) }]);
      await new Promise((r) => setTimeout(r, 50));
      // 40 ms apart, so that they expire one after the other (the log order is then fixed).
      await Promise.all([
        rawClient(p.queue, [{ write: req("/a", [close]) }]),
        new Promise((r) => setTimeout(r, 40)).then(() => rawClient(p.queue, [{ write: req("/b", [close]) }])),
      ]);
      await new Promise((r) => setTimeout(r, 200));
      await Promise.all([slow, rawClient(p.queue, [{ write: req("/c", [close]) }])]);
    },
  },
  { name: "a redirect (LR--)", run: (p) => rawClient(p.replies, [{ write: req("/old", [close]) }]) },
  {
    // The redirect of a request with a body carries its own `connection: close`, counted.
    name: "a redirect of a request with a body",
    run: (p) =>
      rawClient(p.replies, [{ write: "POST /old HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\n\r\nabc" }]),
  },
  { name: "an http-request return", run: (p) => rawClient(p.replies, [{ write: req("/ret", [close]) }]) },
  // Logged with the response headers: `+` before Ta and the bytes, the stream still counted.
  { name: "option logasap", run: (p) => rawClient(p.asap, [{ write: req("/", [close]) }]) },
  {
    // TR runs until the body is in; the proxy's own 100 Continue counts in the bytes.
    name: "option http-buffer-request with Expect: 100-continue and a late body",
    run: (p) =>
      rawClient(p.buffer, [
        {
          write:
            "POST /up HTTP/1.1\r\nhost: a\r\nexpect: 100-continue\r\ncontent-length: 5\r\nconnection: close\r\n\r\n",
          waitFor: "100 Continue",
        },
        { delayMs: 300, write: "hello" },
      ]),
  },
  {
    name: "cookie: with other cookies around it",
    run: (p) => rawClient(p.cookie, [{ write: req("/", [close, "cookie: a=1; SRV=A; b=2"]) }]),
  },
];

/**
 * Waits until the proxy has no connection open (the `ac`/`fc` fields of the next line
 * count them), read from `show info` on its stats socket, which counts no connection itself.
 */
async function idle(sock: string): Promise<void> {
  await waitFor(async () => /^CurrConns: 0$/m.test(await ctlExchange(sock, "show info")), {
    what: "no connection left open",
    interval: 20,
  });
}

interface SideResult {
  /** Request lines per scenario, in order. */
  byScenario: HttpLogFields[][];
  raw: string[];
}

async function runSide(kind: Program, up: Upstream, up2: Upstream, dead: number): Promise<SideResult> {
  const rx: Receiver = await startReceiver();
  const dir = tempDir(`log-compare-${kind}-`);
  const ports = {} as Ports;
  for (const n of LISTENS) ports[n] = await freePort();
  const cfg = join(dir.path, "t.cfg");
  const sock = join(dir.path, "admin.sock");
  writeFileSync(cfg, config(ports, rx.port, up.port, up2.port, dead, sock));
  const proc: Proc = spawnProgram(kind, cfg);
  try {
    await waitForPort(ports.marker, { what: `${kind} listening` });
    // Both checked servers must be seen DOWN before the scenarios run.
    await waitFor(() => rx.datagrams.filter((d) => / is DOWN/.test(d)).length >= 2, {
      timeout: 5000,
      what: `${kind}: checks marking the dead servers DOWN`,
    });
    await idle(sock);
    const byScenario: HttpLogFields[][] = [];
    let seen = 0;
    let n = 0;
    for (const sc of SCENARIOS) {
      await sc.run(ports);
      const awaited = sc.awaits;
      if (awaited !== undefined) {
        await waitFor(() => rx.datagrams.slice(seen).some((d) => parseHttpLog(d)?.req.includes(awaited)), {
          what: `${kind}: the line of '${sc.name}'`,
        });
      }
      // A connection the client dropped is logged when the proxy sees the close: wait for
      // that before the marker, or under load its line lands after the marker's.
      await idle(sock);
      const marker = `/marker-${n++}`;
      await rawClient(ports.marker, [{ write: req(marker, [close]) }]);
      const lines = await waitFor(
        () => {
          const all = rx.datagrams.map(parseHttpLog);
          const at = all.findIndex((g) => g?.req.includes(marker));
          return at === -1 ? undefined : rx.datagrams.slice(seen, at + 1);
        },
        { timeout: 5000, what: `${kind}: the marker after '${sc.name}'` },
      );
      seen += lines.length;
      byScenario.push(requestLines(lines).filter((g) => g.fe !== "marker"));
      await idle(sock);
    }
    return { byScenario, raw: rx.datagrams.slice() };
  } finally {
    await proc.stop();
    await rx.close();
    dir.remove();
  }
}

describe.skipIf(!HAVE_HAPROXY)("option httplog side by side with haproxy 2.6", () => {
  let ha: SideResult;
  let fu: SideResult;
  let up: Upstream;
  let up2: Upstream;

  beforeAll(async () => {
    up = await startUpstream("s1");
    up2 = await startUpstream("s2");
    const dead = await freePort();
    ha = await runSide("haproxy", up, up2, dead);
    fu = await runSide("fulcrum", up, up2, dead);
    const dump = process.env.LOG_COMPARE_DUMP;
    if (dump) {
      const { writeFileSync: w } = await import("node:fs");
      w(dump, JSON.stringify({ scenarios: SCENARIOS.map((s) => s.name), ha, fu }, null, 1));
    }
  }, 120_000);

  afterAll(async () => {
    await up?.close();
    await up2?.close();
  });

  SCENARIOS.forEach((sc, i) => {
    it(`logs ${sc.name} as haproxy does`, () => {
      const a = ha.byScenario[i]!;
      const b = fu.byScenario[i]!;
      const show = (x: HttpLogFields[]) =>
        x
          .map(
            (g) =>
              `${g.fe} ${g.be}/${g.srv} ${g.TR}/${g.Tw}/${g.Tc}/${g.Tr}/${g.Ta} ${g.status} ${g.bytes} ${g.cc} ${g.cs} ${g.ts} ${g.ac}/${g.fc}/${g.bc}/${g.sc}/${g.rc} ${g.sq}/${g.bq} "${g.req}"`,
          )
          .join("\n");
      expect(b.length, `haproxy:\n${show(a)}\nfulcrum:\n${show(b)}`).toBe(a.length);
      a.forEach((line, k) => {
        // `ac` (process-wide connections) also counts the stats-socket connection `idle()`
        // used, which HAProxy may not have finished closing when the next request arrives:
        // it is compared as "at least the frontend's count", the rest field by field.
        const masked = (g: HttpLogFields) => ({
          ...g,
          ac: Number(g.ac) >= Number(g.fc) ? "ok" : `${g.ac} < fc ${g.fc}`,
          ...Object.fromEntries((sc.mask ?? []).map((f) => [f, "*"])),
        });
        expect(diffLines(masked(line), masked(b[k]!)), `haproxy:\n${show(a)}\nfulcrum:\n${show(b)}`).toEqual(
          [],
        );
      });
    });
  });
});
