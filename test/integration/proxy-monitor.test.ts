/**
 * `monitor fail if { nbsrv(BACKEND) lt N }` as haproxy 2.6 counts nbsrv: the usable active
 * servers, or once none is left the backups that would serve (the first one, or all of them
 * with `option allbackups`). Runs on haproxy too: PROXY_UNDER_TEST=haproxy.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../helpers/index.js";
import { DEFAULTS, echoReply, get, proxy, request, scriptedServer, statsCsv } from "./proxy-fixture.js";

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

let ports: number[];

beforeAll(async () => {
  const up = await scriptedServer(echoReply("up"));
  cleanup.push(() => up.close());
  const dead = await freePort();
  const check = "check inter 100 fall 1 rise 1";
  ({ ports } = await proxy(
    `${DEFAULTS}` +
      "frontend one\n  bind 127.0.0.1:@PORT1\n  monitor-uri /mon\n  monitor fail if { nbsrv(b1) lt 1 }\n  default_backend b1\n" +
      "frontend two\n  bind 127.0.0.1:@PORT2\n  monitor-uri /mon\n  monitor fail if { nbsrv(b2) lt 2 }\n  default_backend b2\n" +
      "frontend none\n  bind 127.0.0.1:@PORT3\n  monitor-uri /mon\n  monitor fail if { nbsrv(b3) lt 1 }\n  default_backend b3\n" +
      "listen stats\n  bind 127.0.0.1:@PORT4\n  stats enable\n  stats uri /st\n" +
      `backend b1\n  server a 127.0.0.1:${dead} ${check}\n  server k1 127.0.0.1:${up.port} ${check} backup\n  server k2 127.0.0.1:${up.port} ${check} backup\n` +
      `backend b2\n  option allbackups\n  server a 127.0.0.1:${dead} ${check}\n  server k1 127.0.0.1:${up.port} ${check} backup\n  server k2 127.0.0.1:${up.port} ${check} backup\n` +
      `backend b3\n  server a 127.0.0.1:${dead} ${check}\n  server k1 127.0.0.1:${dead} ${check} backup\n`,
    cleanup,
  ));
}, 20_000);

/** Once, inside the first test (the fixture's client belongs to a test): checks have run. */
let settled: Promise<void> | undefined;
function checksSettled(): Promise<void> {
  settled ??= (async () => {
    await waitFor(
      async () => {
        const rows = await statsCsv(ports[4]!, "/st");
        return rows
          .filter((r) => r.svname === "a" || (r.pxname === "b3" && r.svname === "k1"))
          .every((r) => r.status === "DOWN");
      },
      { what: "the dead servers DOWN" },
    );
  })();
  return settled;
}

describe("nbsrv() in monitor fail", () => {
  it("counts the first usable backup once no active server is left", async () => {
    await checksSettled();
    expect((await request(ports[1]!, get("/mon", "Connection: close\r\n"))).status).toBe(200);
  });

  it("counts every usable backup with option allbackups", async () => {
    await checksSettled();
    expect((await request(ports[2]!, get("/mon", "Connection: close\r\n"))).status).toBe(200);
  });

  it("is 0 when no server at all is usable: 503", async () => {
    await checksSettled();
    expect((await request(ports[3]!, get("/mon", "Connection: close\r\n"))).status).toBe(503);
  });
});
