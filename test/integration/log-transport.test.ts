import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
import { type Receiver, rawClient, startReceiver, startUpstream, type Upstream } from "./log-fixture.js";

interface Side {
  proc: Proc;
  global: Receiver;
  own: Receiver;
  port: number;
}

/** Dates, client ports and pids masked; timers kept only as "-1 or a number". */
function mask(line: string): string {
  return line
    .replace(/^<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d /, "<$1>DATE ")
    .replace(/\[\d+\]: /, "[PID]: ")
    .replace(/127\.0\.0\.1:\d+ \[[^\]]+\]/, "127.0.0.1:PORT [DATE]")
    .replace(/ (-?\d+)\/(-?\d+)\/(-?\d+)\/(-?\d+)\/(\d+) /, (_m, ...t: string[]) => {
      const f = t.slice(0, 5).map((x) => (x === "-1" ? "-1" : "T"));
      return ` ${f.join("/")} `;
    });
}

describe.skipIf(!HAVE_HAPROXY)("log targets side by side with haproxy 2.6", () => {
  const dir = tempDir("log-transport-");
  let up: Upstream;
  let ha: Side;
  let fu: Side;

  async function start(kind: Program): Promise<Side> {
    const global = await startReceiver();
    const own = await startReceiver();
    const port = await freePort();
    const cfg = join(dir.path, `${kind}.cfg`);
    writeFileSync(
      cfg,
      [
        "global",
        `    log 127.0.0.1:${global.port} local3`,
        "defaults",
        "    mode http",
        "    option httplog",
        "    timeout connect 1s",
        "    timeout client 5s",
        "    timeout server 5s",
        "listen px",
        `    bind 127.0.0.1:${port}`,
        "    log global",
        `    log 127.0.0.1:${own.port} len 120 local0 info notice`,
        "    log stdout format raw local1",
        `    server s1 127.0.0.1:${up.port}`,
        "",
      ].join("\n"),
    );
    const proc = spawnProgram(kind, cfg);
    await waitForPort(port, { what: `${kind} listening` });
    // waitForPort's empty connection is logged too: wait for it, then start clean.
    await waitFor(() => global.datagrams.length > 0 && own.datagrams.length > 0, {
      what: `${kind}: the probe's line on both targets`,
    });
    global.datagrams.length = 0;
    own.datagrams.length = 0;
    for (const path of ["/one", "/two?x=1"]) {
      await rawClient(port, [{ write: `GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n` }]);
    }
    await waitFor(
      () => global.datagrams.length >= 2 && own.datagrams.length >= 2 && /two\?x=1/.test(proc.stdout()),
      {
        what: `${kind}: two lines on each target`,
      },
    );
    return { proc, global, own, port };
  }

  beforeAll(async () => {
    up = await startUpstream("s1");
    ha = await start("haproxy");
    fu = await start("fulcrum");
  }, 60_000);

  afterAll(async () => {
    for (const s of [ha, fu]) {
      await s?.proc.stop();
      await s?.global.close();
      await s?.own.close();
    }
    await up?.close();
    dir.remove();
  });

  it("sends one datagram per request to the global target (log global), as haproxy", () => {
    expect(fu.global.datagrams).toHaveLength(2);
    expect(fu.global.datagrams.map(mask)).toEqual(ha.global.datagrams.map(mask));
    expect(fu.global.datagrams[0]).toMatch(
      /^<158>\w{3} [ \d]\d \d\d:\d\d:\d\d haproxy\[\d+\]: 127\.0\.0\.1:\d+ /,
    );
  });

  it("frames the proxy's own target with its facility, level range and len, as haproxy", () => {
    expect(fu.own.datagrams).toHaveLength(2);
    // Cut at `len 120` then a newline: the same length as haproxy's whatever the digits.
    expect(fu.own.datagrams.map((d) => Buffer.byteLength(d))).toEqual([121, 121]);
    expect(ha.own.datagrams.map((d) => Buffer.byteLength(d))).toEqual([121, 121]);
    // The same text up to where the masked fields change the length.
    const head = (d: string) => mask(d).slice(0, 70);
    expect(fu.own.datagrams.map(head)).toEqual(ha.own.datagrams.map(head));
    // local0 (16 * 8) at info (6): "info notice" lets info through (max) and only caps more
    // severe messages at notice (min), as HAProxy's minlevel does.
    expect(fu.own.datagrams[0]!.startsWith("<134>")).toBe(true);
  });

  it("writes `log stdout format raw` lines bare on stdout, as haproxy", () => {
    const lines = (p: Proc) =>
      p
        .stdout()
        .split("\n")
        .filter((l) => /"GET \/(one|two)/.test(l))
        .map((l) => mask(`<0>Jan  1 00:00:00 x[1]: ${l}`));
    expect(lines(fu.proc)).toHaveLength(2);
    expect(lines(fu.proc)).toEqual(lines(ha.proc));
    expect(fu.proc.stdout()).toMatch(/^127\.0\.0\.1:\d+ \[/m);
  });
});
