/**
 * `server ... track [<backend>/]<server>`: a server that follows another's health and
 * maintenance instead of checking, as haproxy 2.6 does: "is DOWN via b/s1" in the log, its
 * CSV status and `tracked` column, `MAINT (via ...)` and "leaving maintenance". Measured on
 * haproxy 2.6.12; PROXY_UNDER_TEST=haproxy runs it there.
 */
import { once } from "node:events";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ctlExchange } from "../../cli/ctl.js";
import { tempDir, waitFor } from "../helpers/index.js";
import { type Receiver, startReceiver } from "./log-fixture.js";
import { DEFAULTS, proxy, statsCsv } from "./proxy-fixture.js";

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

let rx: Receiver;
let sock: string;
let port: number;
let checked: Server;
const open = new Set<Socket>();

beforeAll(async () => {
  rx = await startReceiver();
  cleanup.push(() => rx.close());
  // What the tracked servers' checks reach: a listener closed later to take them DOWN.
  checked = createServer((s) => {
    open.add(s);
    s.on("close", () => open.delete(s));
    s.destroy();
  });
  checked.listen(0, "127.0.0.1");
  await once(checked, "listening");
  const up = (checked.address() as AddressInfo).port;
  const dir = tempDir("track-");
  cleanup.push(async () => dir.remove());
  sock = join(dir.path, "admin.sock");
  const { ports } = await proxy(
    `global\n  log 127.0.0.1:${rx.port} local3\n  stats socket ${sock} level admin\n${DEFAULTS}  log global\n` +
      `backend b\n  server s1 127.0.0.1:${up} check inter 100 fall 1 rise 1\n` +
      `  server s2 127.0.0.1:${up} track s1\n  server s3 127.0.0.1:${up} track b2/t1\n` +
      `backend b2\n  server t1 127.0.0.1:${up} check inter 100 fall 1 rise 1\n` +
      "listen st\n  bind 127.0.0.1:@PORT1\n  stats enable\n  stats uri /st\n",
    cleanup,
  );
  port = ports[1]!;
});

/** status and tracked of b's servers and b2/t1. */
async function states(): Promise<string[]> {
  const rows = await statsCsv(port, "/st");
  return rows
    .filter((r) => (r.pxname === "b" || r.pxname === "b2") && r.svname !== "BACKEND")
    .map((r) => `${r.pxname}/${r.svname}=${r.status}${r.tracked ? ` tracked ${r.tracked}` : ""}`);
}

const stateLines = () =>
  rx.datagrams
    .map((d) => d.replace(/^<\d+>.*?\]: /s, "").trimEnd())
    .filter((d) => / via |leaving maintenance|enters maintenance/.test(d));

describe("track", () => {
  it("shows a tracking server as UP with the server it tracks", async () => {
    await waitFor(async () => (await states()).includes("b/s1=UP") || undefined, { what: "s1 UP" });
    expect(await states()).toEqual(["b/s1=UP", "b/s2=UP tracked b/s1", "b/s3=UP tracked b2/t1", "b2/t1=UP"]);
  });

  it("follows it DOWN, logged 'via', and into and out of its maintenance", async () => {
    await new Promise<void>((r) => checked.close(() => r()));
    for (const s of open) s.destroy();
    await waitFor(() => stateLines().length >= 2 || undefined, { what: "the two 'via' lines" });
    // Which check fails first decides the counts in the middle: compared around them.
    const shape = (l: string) =>
      l.replace(/\. \d+ active and \d+ backup servers left\./, ". N active and M backup servers left.");
    expect(stateLines().map(shape).sort()).toEqual([
      "Server b/s2 is DOWN via b/s1. N active and M backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
      "Server b/s3 is DOWN via b2/t1. N active and M backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
    ]);
    expect(await states()).toEqual([
      "b/s1=DOWN",
      "b/s2=DOWN tracked b/s1",
      "b/s3=DOWN tracked b2/t1",
      "b2/t1=DOWN",
    ]);
    const before = stateLines().length;
    expect(await ctlExchange(sock, "disable server b2/t1")).toBe("\n");
    await waitFor(() => stateLines().length >= before + 1 || undefined, { what: "the maintenance line" });
    expect(stateLines().slice(before)).toContain(
      "Server b/s3 was DOWN and now enters maintenance via b2/t1.",
    );
    expect((await states())[2]).toBe("b/s3=MAINT (via b2/t1) tracked b2/t1");
    expect(await ctlExchange(sock, "enable server b2/t1")).toBe("\n");
    await waitFor(
      () => stateLines().some((l) => l.includes("b/s3 is UP/READY (leaving maintenance)")) || undefined,
      {
        what: "s3 leaving maintenance",
      },
    );
  });
});
