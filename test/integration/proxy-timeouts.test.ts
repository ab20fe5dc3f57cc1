/**
 * The waits for a request head, as haproxy 2.6 runs them: `timeout http-keep-alive` only until
 * the next request's first byte, then `timeout http-request` from that byte; `timeout client`
 * an inactivity timeout that each read re-arms (a trickled head is not cut), and that also
 * bounds an idle kept connection. Runs on haproxy too: PROXY_UNDER_TEST=haproxy.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULTS, echoReply, get, proxy, RawClient, scriptedServer } from "./proxy-fixture.js";

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

let ports: number[];

beforeAll(async () => {
  const srv = await scriptedServer(echoReply("s1"));
  cleanup.push(() => srv.close());
  const fe = (n: number, extra: string) =>
    `frontend f${n}\n  bind 127.0.0.1:@PORT${n}\n${extra}  default_backend be\n`;
  ({ ports } = await proxy(
    DEFAULTS +
      fe(1, "  timeout http-keep-alive 500\n  timeout http-request 2s\n") +
      fe(2, "  timeout http-keep-alive 3s\n  timeout http-request 1s\n") +
      fe(3, "  timeout client 1s\n") +
      fe(4, "  timeout http-keep-alive 3s\n  timeout client 1s\n") +
      `backend be\n  server s1 127.0.0.1:${srv.port}\n`,
    cleanup,
  ));
});

describe("waiting for a request head", () => {
  it("stops the keep-alive timeout at the next request's first byte", async () => {
    const c = await RawClient.open(ports[1]!);
    c.send(get("/a"));
    expect((await c.response()).status).toBe(200);
    await sleep(400);
    c.send("GET /b HTTP/1.1\r\n");
    await sleep(300); // past the 500 ms keep-alive timeout, within http-request's 2 s
    c.send("Host: test\r\n\r\n");
    expect((await c.response()).status).toBe(200);
  });

  it("gives the next request timeout http-request from its first byte", async () => {
    const c = await RawClient.open(ports[2]!);
    c.send(get("/a"));
    expect((await c.response()).status).toBe(200);
    await sleep(600);
    const t0 = Date.now();
    c.send("GET /b HTTP/1.1\r\n");
    const r = await c.response();
    expect(r.status).toBe(408);
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(waited).toBeLessThan(2000); // not the 3 s keep-alive timeout
  });

  it("re-arms timeout client on each read while a head trickles in", async () => {
    const c = await RawClient.open(ports[3]!);
    c.send("GET /a HTTP/1.1\r\n");
    for (const line of ["Host: test\r\n", "X-A: 1\r\n", "\r\n"]) {
      await sleep(600);
      c.send(line);
    }
    expect((await c.response()).status).toBe(200);
  });

  it("closes an idle kept connection at timeout client when it is shorter than the keep-alive one", async () => {
    const c = await RawClient.open(ports[4]!);
    c.send(get("/a"));
    expect((await c.response()).status).toBe(200);
    const t0 = Date.now();
    await c.closed(4000);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
