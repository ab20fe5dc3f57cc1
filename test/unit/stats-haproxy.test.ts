/**
 * Side by side with a live haproxy 2.6 (skipped where `haproxy` is not installed): the same
 * proxies and server states, HAProxy's `;csv` against fulcrum's. The header must be equal,
 * every row must leave the same cells empty, and the state columns must read the same.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COLUMNS, CSV_HEADER, statsCsv } from "../../proxy/stats/csv.js";
import type { StatsSnapshot } from "../../proxy/stats/snapshot.js";
import { freePort, type Proc, spawnProc, tempDir, waitFor } from "../helpers/index.js";
import { backendRuntime, frontendRuntime, L4CON, L7OK, proxyModel, serverModel } from "./stats-fixture.js";

function hasHaproxy(): boolean {
  try {
    execFileSync("haproxy", ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const STATE_COLUMNS = [
  "status",
  "weight",
  "act",
  "bck",
  "slim",
  "qlimit",
  "type",
  "sid",
  "iid",
  "pid",
  "check_status",
  "check_code",
  "check_desc",
  "last_chk",
  "check_rise",
  "check_fall",
  "mode",
];

describe.skipIf(!hasHaproxy())("stats CSV side by side with haproxy 2.6", () => {
  const dir = tempDir();
  let haproxy: Proc | undefined;
  let closeUpstream: () => Promise<void> = async () => {};
  let port = 0;
  let upPort = 0;
  let deadPort = 0;

  /** Body of an HTTP/1.x response, chunked or not. */
  function body(raw: string): string {
    const head = raw.slice(0, raw.indexOf("\r\n\r\n"));
    let rest = raw.slice(head.length + 4);
    if (!/transfer-encoding: chunked/i.test(head)) return rest;
    let out = "";
    for (;;) {
      const eol = rest.indexOf("\r\n");
      const size = Number.parseInt(rest.slice(0, eol), 16);
      if (!(size > 0)) return out;
      out += rest.slice(eol + 2, eol + 2 + size);
      rest = rest.slice(eol + 2 + size + 2);
    }
  }

  const csv = () =>
    new Promise<string>((res, rej) => {
      const s = connect(port, "127.0.0.1", () => s.write("GET /st;csv HTTP/1.0\r\n\r\n"));
      let out = "";
      s.setEncoding("latin1");
      s.on("data", (d: string) => (out += d));
      s.on("end", () => res(body(out)));
      s.on("error", rej);
    });

  const cli = (cmd: string) =>
    new Promise<string>((res, rej) => {
      const s = connect(join(dir.path, "admin.sock"), () => s.end(`${cmd}\n`));
      let out = "";
      s.on("data", (d) => (out += d.toString()));
      s.on("close", () => res(out));
      s.on("error", rej);
    });

  beforeAll(async () => {
    const upstream = createServer((_req, res) => res.end("ok"));
    await new Promise<void>((res) => upstream.listen(0, "127.0.0.1", () => res()));
    closeUpstream = () => new Promise((res) => upstream.close(() => res()));
    upPort = (upstream.address() as { port: number }).port;
    deadPort = await freePort();
    port = await freePort();
    const fePort = await freePort();
    const cfg = join(dir.path, "haproxy.cfg");
    writeFileSync(
      cfg,
      [
        "global",
        "    maxconn 100",
        `    stats socket ${join(dir.path, "admin.sock")} level admin`,
        "defaults",
        "    mode http",
        "    timeout connect 500ms",
        "    timeout client 5s",
        "    timeout server 5s",
        "listen web",
        `    bind 127.0.0.1:${port}`,
        "    stats enable",
        "    stats uri /st",
        "    option httpchk",
        `    server up1 127.0.0.1:${upPort} check inter 100ms maxconn 7 maxqueue 3`,
        `    server dead 127.0.0.1:${deadPort} check inter 100ms fall 1`,
        `    server plain 127.0.0.1:${upPort} weight 3`,
        `    server bk 127.0.0.1:${upPort} backup check inter 100ms`,
        `    server off 127.0.0.1:${upPort} check inter 100ms disabled`,
        "frontend fe",
        `    bind 127.0.0.1:${fePort}`,
        "    default_backend be",
        "backend be",
        `    server s1 127.0.0.1:${upPort}`,
        "",
      ].join("\n"),
    );
    haproxy = spawnProc("haproxy", ["-db", "-f", cfg]);
    await waitFor(async () => (await csv().catch(() => "")).includes("\nweb,dead,"), {
      what: "haproxy's stats",
    });
    await cli("set server web/bk state drain");
    await waitFor(
      async () => {
        const t = await csv();
        return (
          /\nweb,dead,[^\n]*,DOWN,/.test(t) &&
          /\nweb,up1,[^\n]*,UP,[^\n]*L7OK/.test(t) &&
          /\nweb,bk,[^\n]*,DRAIN,/.test(t)
        );
      },
      { what: "servers checked by haproxy", timeout: 10_000 },
    );
  });

  afterAll(async () => {
    await haproxy?.stop();
    await closeUpstream();
    dir.remove();
  });

  function ours(): Map<string, string[]> {
    const now = Date.now();
    // A `stats socket` makes haproxy create its CLI proxy first, with id 1: ours start at 2.
    const web = proxyModel({
      name: "web",
      id: 2,
      kind: "listen",
      servers: [
        serverModel({ name: "up1", id: 1, check: true, port: upPort, maxconn: 7, maxqueue: 3 }),
        serverModel({ name: "dead", id: 2, check: true, port: deadPort, fall: 1 }),
        serverModel({ name: "plain", id: 3, port: upPort, weight: 3 }),
        serverModel({ name: "bk", id: 4, check: true, port: upPort, backup: true }),
        serverModel({ name: "off", id: 5, check: true, port: upPort, disabled: true }),
      ],
    });
    const fe = proxyModel({ name: "fe", id: 3, kind: "frontend", defaultBackend: "be" });
    const be = proxyModel({
      name: "be",
      id: 4,
      kind: "backend",
      servers: [serverModel({ name: "s1", id: 1 })],
    });
    const snap: StatsSnapshot = {
      pid: 1,
      now,
      startedAt: now - 5000,
      globalMaxconn: 100,
      version: "0.1.0",
      proxies: [
        {
          cfg: web,
          frontend: frontendRuntime(web),
          backend: backendRuntime(web, {
            up1: { check: L7OK(now) },
            dead: { up: false, check: L4CON(now), chkfail: 1, chkdown: 1, downSince: now - 4000 },
            bk: { admin: "drain", check: L7OK(now) },
          }),
          fullconn: 10,
        },
        { cfg: fe, frontend: frontendRuntime(fe) },
        { cfg: be, backend: backendRuntime(be), fullconn: 10 },
      ],
    };
    return rows(statsCsv(snap, { legends: false }));
  }

  function rows(text: string): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const line of text.split("\n").slice(1)) {
      if (line === "") continue;
      const cells = line.split(",");
      cells.pop();
      out.set(`${cells[0]}/${cells[1]}`, cells);
    }
    return out;
  }

  it("writes the same header as the running haproxy", async () => {
    const text = await csv();
    expect(`${text.split("\n")[0]}\n`).toBe(CSV_HEADER);
  });

  it("writes the same rows, with the same empty cells and the same state columns", async () => {
    const theirs = rows(await csv());
    const mine = ours();
    expect([...mine.keys()]).toEqual([...theirs.keys()]);
    for (const [key, t] of theirs) {
      const m = mine.get(key)!;
      const emptiness = COLUMNS.map((c, i) => ((m[i] === "") !== (t[i] === "") ? c.name : null)).filter(
        Boolean,
      );
      expect({ row: key, differ: emptiness }).toEqual({ row: key, differ: [] });
      const state = (cells: string[]) =>
        Object.fromEntries(STATE_COLUMNS.map((n) => [n, cells[COLUMNS.findIndex((c) => c.name === n)]]));
      expect({ row: key, ...state(m) }).toEqual({ row: key, ...state(t) });
    }
  });
});
