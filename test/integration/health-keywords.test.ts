/**
 * `http-check send`, `http-check disable-on-404`, `option log-health-checks` and the stats of
 * a check in progress, on the real CLI against real servers. Expectations were measured on
 * haproxy 2.6.12 with the same configurations (PROXY_UNDER_TEST=haproxy runs them there).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/index.js";
import { DEFAULTS, proxy, type ScriptedServer, scriptedServer, statsCsv } from "./proxy-fixture.js";

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const STATUS: Record<number, string> = { 200: "OK", 404: "Not Found", 503: "Service Unavailable" };

/** A check server whose answer (status, delay) can be switched. */
async function answering(state: { code: number; delayMs: number }): Promise<ScriptedServer> {
  const srv = await scriptedServer(() => {
    const reply = `HTTP/1.0 ${state.code} ${STATUS[state.code]}\r\ncontent-length: 2\r\n\r\nok`;
    return state.delayMs > 0 ? [state.delayMs, reply] : reply;
  });
  cleanup.push(() => srv.close());
  return srv;
}

const sendSrv = { code: 200, delayMs: 0 };
const soft = { code: 200, delayMs: 0 };
const logged = { code: 200, delayMs: 0 };
const slow = { code: 200, delayMs: 0 };
let sendServer: ScriptedServer;
let port: number;
let stderr: () => string;

beforeAll(async () => {
  sendServer = await answering(sendSrv);
  const softServer = await answering(soft);
  const loggedServer = await answering(logged);
  const slowServer = await answering(slow);
  const { ports, proc } = await proxy(
    `${DEFAULTS}listen st\n  bind 127.0.0.1:@PORT1\n  stats enable\n  stats uri /stats\n  server none 127.0.0.1:1\n` +
      `backend send\n  option httpchk\n` +
      `  http-check send meth POST uri /x ver HTTP/1.1 hdr Host example body "abc"\n` +
      `  server s1 127.0.0.1:${sendServer.port} check inter 100\n` +
      // `timeout check` bounds the read: without it `inter` bounds the whole check, and a
      // loaded machine turned a 100 ms check into a timeout (an extra logged line) once.
      `backend soft\n  option httpchk\n  http-check disable-on-404\n  timeout check 5s\n` +
      `  server s1 127.0.0.1:${softServer.port} check inter 100\n` +
      `backend logged\n  option httpchk\n  option log-health-checks\n  timeout check 5s\n` +
      `  server s1 127.0.0.1:${loggedServer.port} check inter 100 rise 2 fall 2\n` +
      `backend slow\n  option httpchk\n  timeout check 5s\n` +
      `  server s1 127.0.0.1:${slowServer.port} check inter 100\n`,
    cleanup,
  );
  port = ports[1]!;
  stderr = () => proc.proc.stderr();
});

async function csvRow(px: string): Promise<Record<string, string>> {
  const r = (await statsCsv(port, "/stats")).find((x) => x.pxname === px && x.svname === "s1");
  if (r === undefined) throw new Error(`no CSV row ${px}/s1`);
  return r;
}

/** The warning lines of stderr for a backend, durations blanked. */
function lines(backend: string): string[] {
  return stderr()
    .split("\n")
    .filter((l) => l.includes(` ${backend}/s1 `) || l.includes(`'${backend}'`))
    .map((l) => l.replace(/^\[(\w+)\]\s+\(\d+\) : /, "[$1] ").replace(/duration: \d+ms/, "duration: Nms"));
}

describe("http-check send", () => {
  it("the check sends the send rule's request, body and content-length included", async () => {
    await waitFor(() => sendServer.requests.length > 0, { what: "a check request" });
    const r = sendServer.requests[0]!;
    expect(r.head + r.body).toBe(
      "POST /x HTTP/1.1\r\nhost: example\r\ncontent-length: 3\r\nconnection: close\r\n\r\nabc",
    );
  });
});

describe("http-check disable-on-404", () => {
  it("a 404 puts the UP server in NOLB, a 200 brings it back UP, both logged", async () => {
    await waitFor(async () => (await csvRow("soft")).check_status === "L7OK", { what: "soft L7OK" });
    soft.code = 404;
    const nolb = await waitFor(
      async () => {
        const r = await csvRow("soft");
        return r.status === "NOLB" && r.check_status === "L7OKC" ? r : undefined;
      },
      { what: "soft NOLB" },
    );
    expect([nolb.check_code, nolb.check_desc, nolb.last_chk]).toEqual([
      "404",
      "Layer7 check conditionally passed",
      "",
    ]);
    soft.code = 200;
    await waitFor(async () => (await csvRow("soft")).status === "UP", { what: "soft UP again" });
    expect(lines("soft")).toEqual([
      "[WARNING] Server soft/s1 is stopping, reason: Layer7 check conditionally passed, code: 404, check duration: Nms. 0 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
      "[ALERT] backend 'soft' has no server available!",
      "[WARNING] Server soft/s1 is UP, reason: Layer7 check passed, code: 200, check duration: Nms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
    ]);
  });
});

describe("option log-health-checks", () => {
  it("logs each check that changes health or check status, then the short UP/DOWN lines", async () => {
    await waitFor(() => lines("logged").length > 0, { what: "the first check line" });
    logged.code = 503;
    await waitFor(async () => (await csvRow("logged")).status === "DOWN", { what: "logged DOWN" });
    logged.code = 200;
    await waitFor(async () => (await csvRow("logged")).status === "UP", { what: "logged UP" });
    const failed =
      'failed, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: Nms';
    const passed = "succeeded, reason: Layer7 check passed, code: 200, check duration: Nms";
    expect(lines("logged")).toEqual([
      `[WARNING] Health check for server logged/s1 ${passed}, status: 2/2 UP.`,
      `[WARNING] Health check for server logged/s1 ${failed}, status: 1/2 UP.`,
      `[WARNING] Health check for server logged/s1 ${failed}, status: 0/2 DOWN.`,
      "[WARNING] Server logged/s1 is DOWN. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
      "[ALERT] backend 'logged' has no server available!",
      `[WARNING] Health check for server logged/s1 ${passed}, status: 1/2 DOWN.`,
      `[WARNING] Health check for server logged/s1 ${passed}, status: 2/2 UP.`,
      "[WARNING] Server logged/s1 is UP. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
    ]);
  });
});

describe("a check in progress", () => {
  it("shows the last status with '* ', code 0 and no text, in the CSV and on the page", async () => {
    await waitFor(async () => (await csvRow("slow")).check_status === "L7OK", { what: "slow L7OK" });
    slow.code = 503;
    await waitFor(async () => (await csvRow("slow")).status === "DOWN", { what: "slow DOWN" });
    slow.delayMs = 400;
    const running = await waitFor(
      async () => {
        const r = await csvRow("slow");
        return r.check_status?.startsWith("* ") ? r : undefined;
      },
      { interval: 20, what: "a check in progress" },
    );
    expect([running.check_status, running.check_code, running.last_chk, running.check_desc]).toEqual([
      "* L7STS",
      "0",
      "",
      "Layer7 wrong status",
    ]);
    expect(Number(running.check_duration)).toBeLessThan(400);
    const page = await fetch(`http://127.0.0.1:${port}/stats`).then((r) => r.text());
    expect(page).toMatch(/\* L7STS\/0 in \d+ms/);
    slow.delayMs = 0;
  });
});
