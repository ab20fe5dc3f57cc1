/**
 * `mode tcp` (HAProxy's default mode when a section names none): bytes relayed unchanged both
 * ways, half-closes passed on, servers chosen by the same balancing, retries and redispatch
 * on a refused connection, `timeout client` on an idle session, `option tcplog` lines and the
 * `Connect from` line of a proxy that logs without a log option, and the stats CSV's rows of
 * a TCP proxy. Runs on haproxy too: PROXY_UNDER_TEST=haproxy.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../helpers/index.js";
import { type Receiver, startReceiver } from "./log-fixture.js";
import { proxy, statsCsv } from "./proxy-fixture.js";

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

/** A TCP server that greets with its name, echoes what it gets, and ends when the client does. */
async function greeter(name: string): Promise<{ port: number; seen: Buffer[] }> {
  const seen: Buffer[] = [];
  const server: Server = createServer((s) => {
    s.on("error", () => undefined);
    s.write(`${name}\n`);
    s.on("data", (d: Buffer) => {
      seen.push(d);
      s.write(d);
    });
    s.on("end", () => s.end(`bye from ${name}\n`));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as { port: number }).port, seen };
}

/** Writes `data`, half-closes, and reads until the proxy closes (bounded). */
function exchange(port: number, data: Buffer | string, opts: { endAfterMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect(port, "127.0.0.1");
    let got = "";
    const limit = setTimeout(() => {
      s.destroy();
      reject(new Error(`no close within 5 s; got ${JSON.stringify(got)}`));
    }, 5000);
    s.on("connect", () => {
      s.write(data);
      setTimeout(() => s.end(), opts.endAfterMs ?? 50);
    });
    s.on("data", (d: Buffer) => {
      got += d.toString("latin1");
    });
    s.on("close", () => {
      clearTimeout(limit);
      resolve(got);
    });
    s.on("error", () => undefined);
  });
}

let ports: number[];
let rx: Receiver;
let a: Awaited<ReturnType<typeof greeter>>;
let b: Awaited<ReturnType<typeof greeter>>;

beforeAll(async () => {
  a = await greeter("a");
  b = await greeter("b");
  const dead = await freePort();
  rx = await startReceiver();
  cleanup.push(() => rx.close());
  ({ ports } = await proxy(
    "defaults\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n" +
      `listen rr\n  bind 127.0.0.1:@PORT1\n  log 127.0.0.1:${rx.port} local0\n  option tcplog\n  balance roundrobin\n` +
      `  server a 127.0.0.1:${a.port}\n  server b 127.0.0.1:${b.port}\n` +
      `listen redisp\n  bind 127.0.0.1:@PORT2\n  option redispatch\n  retries 2\n` +
      `  server d 127.0.0.1:${dead}\n  server a 127.0.0.1:${a.port}\n` +
      `listen nothing\n  bind 127.0.0.1:@PORT3\n  retries 1\n  server d 127.0.0.1:${dead}\n` +
      `listen idle\n  bind 127.0.0.1:@PORT4\n  timeout client 300\n  timeout server 5s\n  server a 127.0.0.1:${a.port}\n` +
      `listen plain\n  bind 127.0.0.1:@PORT5\n  log 127.0.0.1:${rx.port} local0\n  server b 127.0.0.1:${b.port}\n` +
      "listen stats\n  mode http\n  bind 127.0.0.1:@PORT6\n  stats enable\n  stats uri /st\n",
    cleanup,
  ));
});

describe("mode tcp", () => {
  it("relays bytes unchanged both ways and passes the client's half-close on", async () => {
    const raw = Buffer.from("GET / HTTP/1.1\r\nX-Mixed-Case: Yes\r\n\r\n\u0000\u00ff binary", "latin1");
    const got = await exchange(ports[5]!, raw);
    expect(got).toBe(`b\n${raw.toString("latin1")}bye from b\n`);
    expect(Buffer.concat(b.seen).includes(raw)).toBe(true);
  });

  it("balances connections round robin", async () => {
    const first: string[] = [];
    for (let i = 0; i < 4; i++) first.push((await exchange(ports[1]!, "x")).split("\n")[0]!);
    expect(new Set(first)).toEqual(new Set(["a", "b"]));
    expect(first[0]).not.toBe(first[1]);
    expect(first[2]).toBe(first[0]);
  });

  it("retries a refused server, then redispatches to another one", async () => {
    for (let i = 0; i < 2; i++) expect(await exchange(ports[2]!, "hello")).toBe("a\nhellobye from a\n");
  });

  it("closes the client without a byte when no server can be reached", async () => {
    expect(await exchange(ports[3]!, "hello", { endAfterMs: 3000 })).toBe("");
  });

  it("shuts an idle client's side at timeout client, relaying what the server still sends", async () => {
    const t0 = Date.now();
    const got = await exchange(ports[4]!, "", { endAfterMs: 4000 });
    // The server got a FIN after 300 ms of client silence, said goodbye and closed.
    expect(got).toBe("a\nbye from a\n");
    expect(Date.now() - t0).toBeLessThan(2500);
  });

  it("passes on a FIN that comes with the data, before the server connection is up", async () => {
    const got = await new Promise<string>((resolve) => {
      const s = connect(ports[5]!, "127.0.0.1");
      let out = "";
      s.on("connect", () => s.end("all at once"));
      s.on("data", (d: Buffer) => {
        out += d.toString("latin1");
      });
      s.on("close", () => resolve(out));
      s.on("error", () => undefined);
    });
    expect(got).toBe("b\nall at oncebye from b\n");
  });

  it("logs option tcplog lines, and Connect from lines without a log option", async () => {
    await exchange(ports[5]!, "z");
    await waitFor(() => rx.datagrams.some((d) => d.includes("(plain/TCP)")), { what: "a Connect from line" });
    const connect = rx.datagrams.find((d) => d.includes("(plain/TCP)"))!;
    expect(connect).toMatch(/: Connect from 127\.0\.0\.1:\d+ to 127\.0\.0\.1:\d+ \(plain\/TCP\)\n?$/);
    // A line of one of the round-robin exchanges, which last 50 ms or more (the client ends
    // after 50 ms), not of the fixture's port probe (it connects and closes at once).
    const done = (d: string) => {
      const t = / rr rr\/[ab] \d+\/\d+\/(\d+) \d+ -- /.exec(d);
      return t !== null && Number(t[1]) >= 50;
    };
    await waitFor(() => rx.datagrams.some(done), { what: "a tcplog line" });
    const line = rx.datagrams.find(done)!;
    // %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq
    const m =
      /: 127\.0\.0\.1:\d+ \[[^\]]+\] rr rr\/([ab]) (\d+)\/(\d+)\/(\d+) (\d+) -- \d+\/\d+\/0\/0\/0 0\/0\n?$/.exec(
        line,
      );
    expect(m, line).not.toBeNull();
    // The server's greeting, the echo of "x" and its goodbye: what the client received.
    expect(Number(m![5]), line).toBe(`${m![1]}\nxbye from ${m![1]}\n`.length);
  });

  it("shows a TCP proxy's rows in the stats CSV without the HTTP columns", async () => {
    const rows = await statsCsv(ports[6]!, "/st");
    const fe = rows.find((r) => r.pxname === "rr" && r.svname === "FRONTEND")!;
    const be = rows.find((r) => r.pxname === "rr" && r.svname === "BACKEND")!;
    expect(fe.mode).toBe("tcp");
    expect(Number(fe.stot)).toBeGreaterThanOrEqual(5);
    expect(fe.hrsp_2xx).toBe("");
    expect(be.req_tot).toBe("");
    expect(Number(be.lbtot)).toBe(Number(be.stot));
    expect(Number(be.bout)).toBeGreaterThan(0);
  });
});
