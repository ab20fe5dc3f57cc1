/**
 * The log sender against real receivers: a UDP syslog socket on a free port, a unix stream
 * socket, and (when python3 is here to create one) a unix datagram socket, which Node.js
 * cannot write to.
 */
import { spawn } from "node:child_process";
import { createSocket, type Socket as DgramSocket } from "node:dgram";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import type { LogTarget } from "../../proxy/config/model.js";
import { LOG_LEVEL, LogHub } from "../../proxy/log/syslog.js";
import { tempDir, waitFor } from "../helpers/index.js";

const loc = { file: "t", line: 1 };
const T0 = new Date(2026, 10, 26, 0, 28, 41, 299).getTime();

async function udpReceiver(): Promise<{ port: number; got: Buffer[]; sock: DgramSocket }> {
  const sock = createSocket("udp4");
  const got: Buffer[] = [];
  sock.on("message", (m) => got.push(m));
  await new Promise<void>((res) => sock.bind(0, "127.0.0.1", () => res()));
  onTestFinished(() => new Promise<void>((res) => sock.close(() => res())));
  return { port: sock.address().port, got, sock };
}

function hub(warnings: string[] = []): LogHub {
  const h = new LogHub({ tag: "haproxy", pid: 6650, now: () => T0, warn: (l) => warnings.push(l) });
  onTestFinished(() => h.close());
  return h;
}

const udp = (port: number, over: Partial<LogTarget> = {}): LogTarget => ({
  kind: "udp",
  host: "127.0.0.1",
  port,
  facility: 19,
  maxLevel: 7,
  minLevel: 0,
  format: "rfc3164",
  loc,
  ...over,
});

describe("log sender", () => {
  it("sends one datagram per log line to a UDP syslog server, RFC 3164 header first", async () => {
    const rx = await udpReceiver();
    const h = hub();
    const sender = h.sender([udp(rx.port)]);
    for (let i = 0; i < 3; i++) sender.send(LOG_LEVEL.info, `request ${i}`);
    await waitFor(() => rx.got.length === 3, { what: "3 datagrams" });
    expect(rx.got.map((b) => b.toString()).sort()).toEqual([
      "<158>Nov 26 00:28:41 haproxy[6650]: request 0\n",
      "<158>Nov 26 00:28:41 haproxy[6650]: request 1\n",
      "<158>Nov 26 00:28:41 haproxy[6650]: request 2\n",
    ]);
    expect(h.counters).toEqual({ sent: 3, dropped: 0 });
  });

  it("sends each target the line at its own facility and level filter", async () => {
    const a = await udpReceiver();
    const b = await udpReceiver();
    const h = hub();
    const sender = h.sender([udp(a.port), udp(b.port, { facility: 16, maxLevel: LOG_LEVEL.notice })]);
    sender.send(LOG_LEVEL.info, "info line");
    sender.send(LOG_LEVEL.alert, "alert line");
    await waitFor(() => a.got.length === 2 && b.got.length === 1, { what: "datagrams on both receivers" });
    expect(a.got.map(String).sort()).toEqual([
      "<153>Nov 26 00:28:41 haproxy[6650]: alert line\n",
      "<158>Nov 26 00:28:41 haproxy[6650]: info line\n",
    ]);
    expect(b.got.map(String)).toEqual(["<129>Nov 26 00:28:41 haproxy[6650]: alert line\n"]);
    expect(sender.wants(LOG_LEVEL.debug)).toBe(true);
  });

  it("resolves a log server given by name once, and sends what was logged meanwhile", async () => {
    const rx = await udpReceiver();
    const sender = hub().sender([udp(rx.port, { host: "localhost" })]);
    sender.send(LOG_LEVEL.info, "before resolution");
    await waitFor(() => rx.got.length === 1, { what: "the datagram sent after resolution" });
    expect(rx.got[0]!.toString()).toBe("<158>Nov 26 00:28:41 haproxy[6650]: before resolution\n");
  });

  it("counts a message the kernel refuses as dropped and never throws into the request path", () => {
    const h = hub();
    const sender = h.sender([udp(0)]);
    expect(() => sender.send(LOG_LEVEL.info, "to port 0")).not.toThrow();
    expect(h.counters.dropped).toBe(1);
  });

  it("writes newline-separated lines to a unix stream socket", async () => {
    const dir = tempDir();
    onTestFinished(() => dir.remove());
    const path = join(dir.path, "log.sock");
    let text = "";
    const srv = createServer((c) => c.on("data", (d) => (text += d.toString())));
    await new Promise<void>((res) => srv.listen(path, () => res()));
    onTestFinished(() => new Promise<void>((res) => srv.close(() => res())));
    const sender = hub().sender([udp(0, { kind: "unix", path, format: "raw" })]);
    sender.send(LOG_LEVEL.info, "one");
    sender.send(LOG_LEVEL.info, "two");
    await waitFor(() => text === "one\ntwo\n", { what: "both lines on the unix socket" });
  });

  it("reports a unix datagram socket (e.g. /dev/log) once and drops its messages", async () => {
    const dir = tempDir();
    onTestFinished(() => dir.remove());
    const path = join(dir.path, "dgram.sock");
    const py = spawn(
      "python3",
      [
        "-c",
        "import socket,sys,time\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint('ready',flush=True)\ntime.sleep(30)",
        path,
      ],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    const spawned = await new Promise<boolean>((res) => {
      py.once("error", () => res(false));
      py.stdout.once("data", () => res(true));
    });
    onTestFinished(() => {
      py.kill("SIGKILL");
    });
    if (!spawned) return; // no python3 here: nothing can create a datagram socket to test with
    const warnings: string[] = [];
    const h = hub(warnings);
    const sender = h.sender([udp(0, { kind: "unix", path })]);
    sender.send(LOG_LEVEL.info, "first");
    await waitFor(() => warnings.length === 1, { what: "the warning about the datagram socket" });
    sender.send(LOG_LEVEL.info, "second");
    expect(warnings[0]).toContain("datagram socket");
    expect(h.counters.dropped).toBe(2);
    expect(h.counters.sent).toBe(0);
  });
});
