/**
 * An operator's state changes on the stats socket are logged as haproxy 2.6 logs them: the
 * syslog line and severity of each `disable/enable server` and `set server ... state`, the
 * backend's "no server available!" when the last one goes, and its `chkdown` then. The
 * expected lines were recorded from haproxy 2.6.12; PROXY_UNDER_TEST=haproxy runs it there.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ctlExchange } from "../../cli/ctl.js";
import { tempDir, waitFor } from "../helpers/index.js";
import { type Receiver, startReceiver } from "./log-fixture.js";
import { DEFAULTS, echoReply, proxy, scriptedServer, statsCsv } from "./proxy-fixture.js";

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

let rx: Receiver;
let sock: string;
let port: number;

beforeAll(async () => {
  rx = await startReceiver();
  cleanup.push(() => rx.close());
  const srv = await scriptedServer(echoReply("s"));
  cleanup.push(() => srv.close());
  const dir = tempDir("admin-log-");
  cleanup.push(async () => dir.remove());
  sock = join(dir.path, "admin.sock");
  const { ports } = await proxy(
    `global\n  log 127.0.0.1:${rx.port} local3\n  stats socket ${sock} level admin\n${DEFAULTS}  log global\n` +
      "listen st\n  bind 127.0.0.1:@PORT1\n  stats enable\n  stats uri /st\n" +
      `backend b\n  server s1 127.0.0.1:${srv.port}\n  server s2 127.0.0.1:${srv.port}\n` +
      `  server s3 127.0.0.1:${srv.port} backup\n`,
    cleanup,
  );
  port = ports[1]!;
});

/** Runs a command and returns the state lines (no request lines) it caused, priority first. */
async function run(command: string, lines: number): Promise<string[]> {
  const seen = rx.datagrams.length;
  expect(await ctlExchange(sock, command)).toBe("\n");
  const got = await waitFor(
    () => {
      const fresh = rx.datagrams.slice(seen).filter((d) => / (Server|Backup Server|backend) /.test(d));
      return fresh.length >= lines ? fresh : undefined;
    },
    { what: `${lines} log line(s) after '${command}'` },
  );
  return got.map((d) => {
    const m = /^<(\d+)>.*?\]: (.*)$/s.exec(d.trimEnd());
    return m ? `<${m[1]}> ${m[2]}` : d;
  });
}

describe("admin state changes in the log", () => {
  it("logs each change with haproxy's words and severity, and the backend going down", async () => {
    expect(await run("disable server b/s1", 1)).toEqual([
      "<153> Server b/s1 is going DOWN for maintenance. 1 active and 1 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
    ]);
    expect(await run("set server b/s2 state drain", 1)).toEqual([
      "<157> Server b/s2 enters drain state. 0 active and 1 backup servers online. Running on backup. 0 sessions requeued, 0 total in queue.",
    ]);
    expect(await run("set server b/s2 state maint", 1)).toEqual([
      "<157> Server b/s2 is going DOWN for maintenance. 0 active and 1 backup servers left. Running on backup. 0 sessions active, 0 requeued, 0 remaining in queue.",
    ]);
    expect(await run("disable server b/s3", 2)).toEqual([
      "<153> Backup Server b/s3 is going DOWN for maintenance. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
      "<152> backend b has no server available!",
    ]);
    const be = (await statsCsv(port, "/st")).find((r) => r.pxname === "b" && r.svname === "BACKEND")!;
    expect([be.status, be.chkdown]).toEqual(["DOWN", "1"]);
    expect(await run("set server b/s2 state drain", 2)).toEqual([
      "<157> Server b/s2 is UP/DRAIN (leaving forced maintenance).",
      "<157> Server b/s2 remains in forced drain mode.",
    ]);
    expect(await run("set server b/s2 state ready", 1)).toEqual([
      "<157> Server b/s2 is UP (leaving forced drain).",
    ]);
    expect(await run("enable server b/s1", 1)).toEqual([
      "<157> Server b/s1 is UP/READY (leaving forced maintenance).",
    ]);
  });
});
