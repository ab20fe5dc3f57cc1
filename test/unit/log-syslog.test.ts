/**
 * Syslog framing against what haproxy 2.6.12 sent for one request to five targets:
 *
 *   log 127.0.0.1:P local3 info notice
 *   log stdout format raw local0
 *   log 127.0.0.1:P len 200 format rfc5424 local1
 *   log 127.0.0.1:P len 120 local4
 *   log stderr len 100 format raw local0
 *   log-tag myproxy
 *   log 127.0.0.1:P format short local2
 */
import { describe, expect, it } from "vitest";
import type { LogTarget } from "../../proxy/config/model.js";
import { frameLog, LOG_LEVEL, targetLevel } from "../../proxy/log/syslog.js";

const loc = { file: "t", line: 1 };
const target = (over: Partial<LogTarget>): LogTarget => ({
  kind: "udp",
  host: "127.0.0.1",
  port: 514,
  facility: 19,
  maxLevel: 7,
  minLevel: 0,
  format: "rfc3164",
  loc,
  ...over,
});

const id = { tag: "myproxy", pid: 26537 };
const sent = new Date(2026, 10, 26, 0, 34, 30, 379).getTime();
const LINE = `127.0.0.1:36822 [26/Nov/2026:00:34:30.377] dln_px dln_px/s1 0/0/0/1/1 200 131 - - ---- 1/1/0/0/0 0/0 "GET /d${"z".repeat(300)} HTTP/1.1"`;

const frame = (t: LogTarget, level = LOG_LEVEL.info) =>
  frameLog(t, level, LINE, sent, id)?.toString("latin1");

describe("syslog framing (log ADDR FACILITY [LEVEL [MINLEVEL]])", () => {
  it("writes HAProxy's RFC 3164 header: <PRI>Mon dd hh:mm:ss TAG[PID]: without hostname", () => {
    const out = frame(target({ minLevel: LOG_LEVEL.notice, maxLevel: LOG_LEVEL.info }));
    expect(out).toBe(`<158>Nov 26 00:34:30 myproxy[26537]: ${LINE}\n`);
    expect(out).toHaveLength(456);
  });

  it("cuts a UDP message at len bytes, header included, then adds the newline", () => {
    const out = frame(target({ facility: 20, len: 120 }));
    expect(out).toBe(
      "<166>Nov 26 00:34:30 myproxy[26537]: 127.0.0.1:36822 [26/Nov/2026:00:34:30.377] dln_px dln_px/s1 0/0/0/1/1 200 131 - - -\n",
    );
    expect(out).toHaveLength(121);
  });

  it("cuts at 1024 bytes by default", () => {
    const long = frameLog(target({}), 6, "x".repeat(3000), sent, { tag: "haproxy", pid: 6650 })!;
    expect(long).toHaveLength(1025);
    expect(long.at(-1)).toBe(0x0a);
  });

  it("counts the newline inside len on stdout/stderr (format raw)", () => {
    const out = frame(target({ kind: "stderr", format: "raw", facility: 16, len: 100 }));
    expect(out).toBe(
      "127.0.0.1:36822 [26/Nov/2026:00:34:30.377] dln_px dln_px/s1 0/0/0/1/1 200 131 - - ---- 1/1/0/0/0 0/\n",
    );
    expect(out).toHaveLength(100);
    expect(frame(target({ kind: "stdout", format: "raw", facility: 16 }))).toBe(`${LINE}\n`);
  });

  it("writes format short as <LEVEL> without the facility", () => {
    expect(frame(target({ format: "short", facility: 18 }))).toBe(`<6>${LINE}\n`);
  });

  it("writes format rfc5424 with version 1, an ISO date with offset, - for the hostname, tag and pid", () => {
    const out = frame(target({ format: "rfc5424", facility: 17, len: 200 }))!;
    expect(out).toMatch(
      /^<142>1 2026-11-26T00:34:30\.379000[+-]\d\d:\d\d - myproxy 26537 - - 127\.0\.0\.1:36822 \[26\/Nov\/2026:00:34:30\.377\] dln_px /,
    );
    expect(out).toHaveLength(201);
  });

  it("pads a one-digit day with a space (Mar  1)", () => {
    const t = new Date(2027, 2, 1, 9, 5, 7).getTime();
    expect(frameLog(target({}), 6, "x", t, { tag: "haproxy", pid: 1 })!.toString()).toBe(
      "<158>Mar  1 09:05:07 haproxy[1]: x\n",
    );
  });

  it("writes log-send-hostname's name after the date", () => {
    expect(frameLog(target({}), 6, "x", sent, { tag: "haproxy", pid: 1, hostname: "lb1" })!.toString()).toBe(
      "<158>Nov 26 00:34:30 lb1 haproxy[1]: x\n",
    );
  });

  it("drops messages more verbose than the max level and raises those more severe than the min level", () => {
    const t = target({ maxLevel: LOG_LEVEL.notice, minLevel: LOG_LEVEL.warning });
    expect(targetLevel(t, LOG_LEVEL.info)).toBe(-1);
    expect(frame(t, LOG_LEVEL.info)).toBeUndefined();
    expect(targetLevel(t, LOG_LEVEL.alert)).toBe(LOG_LEVEL.warning);
    expect(frame(t, LOG_LEVEL.alert)?.startsWith("<156>")).toBe(true);
    expect(frame(t, LOG_LEVEL.notice)?.startsWith("<157>")).toBe(true);
  });
});
