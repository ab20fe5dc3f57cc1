/**
 * The typed and JSON forms of the stats (`show stat typed|json`, `show info typed|json`, the
 * page's `;typed` and `;json`) against a real fulcrum, and side by side with haproxy 2.6 when
 * it is installed: the same fields with the same numbers, letters and types, and the same
 * values where they do not depend on time, pids or ports.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ctlExchange } from "../../cli/ctl.js";
import {
  freePort,
  PROGRAMS,
  type Proc,
  type Program,
  rawRequest,
  spawnProgram,
  tempDir,
  waitFor,
  waitForPort,
} from "../helpers/index.js";
import { startUpstream, type Upstream } from "./log-fixture.js";

type Tag = Program;

interface Side {
  readonly tag: Tag;
  readonly proc: Proc;
  readonly sock: string;
  /** The `listen st` port, which serves the stats page. */
  readonly statsPort: number;
}

function config(dir: string, tag: Tag, ports: number[], up: number, dead: number): string {
  const [fe, st, tc] = ports;
  return [
    "global",
    `    stats socket ${dir}/${tag}.sock level admin`,
    "defaults",
    "    mode http",
    "    timeout connect 1s",
    "    timeout client 5s",
    "    timeout server 5s",
    "frontend fe",
    `    bind 127.0.0.1:${fe}`,
    "    default_backend b",
    "listen st",
    `    bind 127.0.0.1:${st}`,
    "    stats enable",
    "    stats uri /stats",
    "    stats show-legends",
    `    server a1 127.0.0.1:${up} check inter 100`,
    "backend b",
    "    cookie SRV insert",
    `    server s1 127.0.0.1:${up} check inter 100 cookie c1`,
    `    server s2 127.0.0.1:${dead} check inter 100 fall 1`,
    `    server s3 127.0.0.1:${up} maxconn 10 maxqueue 5`,
    `    server s4 127.0.0.1:${up} backup check inter 100`,
    `    server s5 127.0.0.1:${up} disabled check inter 100`,
    "listen tc",
    "    mode tcp",
    `    bind 127.0.0.1:${tc}`,
    `    server t1 127.0.0.1:${up}`,
    `    server t2 127.0.0.1:${up} check inter 100`,
    "backend empty",
    "",
  ].join("\n");
}

/** Fields whose value is the configuration's or the settled health's: compared as they are. */
const STABLE = new Set([
  "pxname",
  "svname",
  "status",
  "weight",
  "act",
  "bck",
  "pid",
  "iid",
  "sid",
  "type",
  "qlimit",
  "check_status",
  "check_code",
  "last_chk",
  "check_desc",
  "check_rise",
  "check_fall",
  "check_health",
  "addr",
  "cookie",
  "mode",
  "algo",
  "uweight",
]);

/** A typed line with its value kept only for a stable field: `S.4.1.17.status.1:SGP:str:UP`. */
function typedShape(text: string, stable: ReadonlySet<string> = STABLE): string {
  return text
    .split("\n")
    .map((l) => {
      const m = /^([^:]*):([^:]*):([^:]*):(.*)$/.exec(l);
      if (m === null) return l;
      const name = m[1]!.split(".").slice(4, -1).join(".");
      return stable.has(name) ? l : `${m[1]}:${m[2]}:${m[3]}:`;
    })
    .join("\n");
}

/** A JSON document with every value masked: what is left is its structure, byte for byte. */
function jsonShape(text: string): string {
  return text.replace(/"value":\{"type":"(\w+)","value":("[^"]*"|-?\d+)\}/g, '"value":{"type":"$1"}');
}

/** A check in flight shows `* L4OK` for a moment: such a reading is not compared. */
const IN_FLIGHT = /check_status\.1:MOP:str:\* |"value":"\* /;

async function settled(side: Side, cmd: string): Promise<string> {
  return waitFor(
    async () => {
      const text = await ctlExchange(side.sock, cmd);
      return IN_FLIGHT.test(text) ? undefined : text;
    },
    { what: `${side.tag}: ${cmd} without a check in flight` },
  );
}

/** HTTP/1.1 GET on a new connection: the status, the content type and the (de-chunked) body. */
async function get(port: number, path: string): Promise<{ type: string; body: string }> {
  const { text } = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  const split = text.indexOf("\r\n\r\n");
  const head = text.slice(0, split);
  let body = text.slice(split + 4);
  if (/transfer-encoding: chunked/i.test(head)) {
    let out = "";
    for (;;) {
      const eol = body.indexOf("\r\n");
      const n = Number.parseInt(body.slice(0, eol), 16);
      if (!(n > 0)) break;
      out += body.slice(eol + 2, eol + 2 + n);
      body = body.slice(eol + 2 + n + 2);
    }
    body = out;
  }
  return { type: /content-type: ([^\r\n]*)/i.exec(head)?.[1] ?? "", body };
}

describe("typed and JSON stats as haproxy 2.6 prints them", () => {
  const dir = tempDir("stats-typed-");
  let up: Upstream;
  const sides: Side[] = [];
  const fulcrum = () => sides.find((s) => s.tag === "fulcrum")!;
  const haproxy = () => sides.find((s) => s.tag === "haproxy");

  beforeAll(async () => {
    up = await startUpstream("s1");
    const dead = await freePort();
    const start = async (tag: Tag): Promise<Side> => {
      const ports = [await freePort(), await freePort(), await freePort()];
      const cfg = join(dir.path, `${tag}.cfg`);
      writeFileSync(cfg, config(dir.path, tag, ports, up.port, dead));
      const proc = spawnProgram(tag, cfg);
      await waitForPort(ports[0]!, { what: `${tag} listening` });
      const side: Side = { tag, proc, sock: join(dir.path, `${tag}.sock`), statsPort: ports[1]! };
      // Checked servers UP (not "UP 2/3"), s2 DOWN, before anything is compared.
      await waitFor(
        async () => {
          const t = await ctlExchange(side.sock, "show stat typed");
          return (
            /^S\.4\.2\.17\.status\.1:SGP:str:DOWN$/m.test(t) &&
            ["S.3.1", "S.4.1", "S.4.4", "S.5.2"].every((id) => t.includes(`${id}.17.status.1:SGP:str:UP\n`))
          );
        },
        { what: `${tag}: checks settled` },
      );
      return side;
    };
    sides.push(...(await Promise.all(PROGRAMS.map(start))));
  }, 30_000);

  afterAll(async () => {
    await Promise.all(sides.map((s) => s.proc.stop()));
    await up?.close();
    dir.remove();
  });

  /**
   * Reads `cmd` on both sides until their shapes agree (a check may be in flight on one side
   * only), then asserts on the last readings so that a real difference shows as a diff.
   */
  async function compareWithHaproxy(cmd: string, shape: (t: string) => string): Promise<void> {
    const h = haproxy();
    if (h === undefined) return;
    let last: string[] = [];
    await waitFor(
      async () => {
        last = (await Promise.all([settled(h, cmd), settled(fulcrum(), cmd)])).map(shape);
        return last[0] === last[1];
      },
      { timeout: 3000 },
    ).catch(() => undefined);
    expect(last[1]).toBe(last[0]);
  }

  it("show stat typed: a line per non-empty field, with haproxy's numbers, letters and types per kind of row", async () => {
    const t = await settled(fulcrum(), "show stat typed");
    // rate is a rate on a frontend and a server, a gauge on a backend.
    expect(t).toMatch(/^F\.2\.0\.33\.rate\.1:MRP:u32:\d+$/m);
    expect(t).toMatch(/^B\.4\.0\.33\.rate\.1:MGP:u32:\d+$/m);
    expect(t).toMatch(/^S\.4\.1\.33\.rate\.1:MRP:u32:\d+$/m);
    // act/bck: a status on a server, a gauge on a backend.
    expect(t).toContain("S.4.4.20.bck.1:SGP:u32:1\n");
    expect(t).toMatch(/^B\.4\.0\.20\.bck\.1:MGP:u32:\d+$/m);
    // The CSV's `-` cell is no field: ssl_sess is field 103.
    expect(t).toContain("F.2.0.103.ssl_sess.1:MCP:u64:0\n");
    expect(t).not.toMatch(/\.-\./);
    // An empty string is a field (a layer-4 check leaves last_chk empty), an empty cell is not.
    expect(t).toContain("S.5.2.56.last_chk.1:MOP:str:\n");
    expect(t).not.toMatch(/^S\.5\.1\.56\./m);
    expect(t).toContain("S.4.1.74.cookie.1:CNS:str:c1\n");
    expect(t).toContain("B.4.0.76.algo.1:CGS:str:roundrobin\n");
    await compareWithHaproxy("show stat typed", (x) => typedShape(x));
  });

  it("show stat json: haproxy's document, key order and number/string values alike", async () => {
    const f = fulcrum();
    const text = await settled(f, "show stat json");
    expect(text.endsWith("]]\n\n")).toBe(true);
    const doc = JSON.parse(text) as {
      objType: string;
      field: { name: string };
      value: { value: unknown };
    }[][];
    expect(doc[0]![0]).toEqual({
      objType: "Frontend",
      proxyId: 2,
      id: 0,
      field: { pos: 0, name: "pxname" },
      processNum: 1,
      tags: { origin: "Key", nature: "Name", scope: "Service" },
      value: { type: "str", value: "fe" },
    });
    // The same rows and fields as the typed form.
    const typedLines = (await settled(f, "show stat typed")).split("\n").filter((l) => l !== "");
    expect(doc.flat().length).toBe(typedLines.length);
    await compareWithHaproxy("show stat json", jsonShape);
  });

  it("reads its options in any order, the last form winning, and filters as the CSV does", async () => {
    const f = fulcrum();
    expect(await ctlExchange(f.sock, "show stat 2 4 -1 json")).toBe("[]\n\n");
    expect(await ctlExchange(f.sock, "show stat 2 4 -1 typed")).toBe("\n");
    expect(await ctlExchange(f.sock, "show stat json typed")).toMatch(/^F\.2\.0\.0\.pxname\.1:KNS:str:fe\n/);
    const hidden = await ctlExchange(f.sock, "show stat -1 -1 -1 typed json up");
    expect(hidden.startsWith("[[")).toBe(true);
    // up leaves out s2 (DOWN) and s5 (MAINT).
    expect(hidden).not.toContain('"objType":"Server","proxyId":4,"id":2,');
    expect(hidden).not.toContain('"objType":"Server","proxyId":4,"id":5,');
    // Three words are the filters, whatever they say, as in haproxy.
    expect(await ctlExchange(f.sock, "show stat json typed up")).toBe("No such proxy.\n\n");
    const h = haproxy();
    if (h !== undefined) {
      for (const cmd of ["show stat 2 4 -1 json", "show stat 2 4 -1 typed", "show stat json typed up"])
        expect(await ctlExchange(f.sock, cmd)).toBe(await ctlExchange(h.sock, cmd));
      const head = (t: string) => t.slice(0, 40);
      for (const cmd of ["show stat json typed", "show stat -1 -1 -1 typed json up"])
        expect(head(await ctlExchange(f.sock, cmd))).toBe(head(await ctlExchange(h.sock, cmd)));
    }
    expect(await ctlExchange(f.sock, "show stat typed desc")).toMatch(/^Not supported by fulcrum/);
  });

  it("show info typed and json: haproxy's numbers, letters and types, its lines fulcrum has no figure for left out", async () => {
    const f = fulcrum();
    const typed = await ctlExchange(f.sock, "show info typed");
    expect(typed).toMatch(/^0\.Name\.1:POS:str:fulcrum\n1\.Version\.1:POS:str:/);
    expect(typed).toMatch(/^49\.Idle_pct\.1:MaP:u32:\d+$/m);
    expect(typed).toContain("71.Tainted.1:SGP:str:0\n");
    const json = JSON.parse(await ctlExchange(f.sock, "show info json")) as unknown[];
    expect(json.length).toBe(typed.split("\n").filter((l) => l !== "").length);
    const h = haproxy();
    if (h === undefined) return;
    const shape = (t: string) =>
      t
        .split("\n")
        .filter((l) => l !== "" && !/^\d+\.(Release_date|Run_queue|BytesOutRate)\./.test(l))
        .map((l) => l.split(":").slice(0, 3).join(":"));
    expect(shape(typed)).toEqual(shape(await ctlExchange(h.sock, "show info typed")));
  });

  it("the stats page serves ;json as application/json and ;typed as text/plain, json winning", async () => {
    const f = fulcrum();
    const json = await get(f.statsPort, "/stats;typed;json;up");
    expect(json.type).toBe("application/json");
    expect(json.body.endsWith("]]\n")).toBe(true);
    const typed = await get(f.statsPort, "/stats;csv;typed");
    expect(typed.type).toBe("text/plain");
    expect(typed.body).toMatch(/^F\.2\.0\.0\.pxname\.1:KNS:str:fe\n/);
    const h = haproxy();
    if (h === undefined) return;
    let last: string[] = [];
    await waitFor(
      async () => {
        const bodies = await Promise.all([h, f].map((s) => get(s.statsPort, "/stats;typed;json;up")));
        if (bodies.some((b) => IN_FLIGHT.test(b.body))) return false;
        last = bodies.map((b) => `${b.type}\n${jsonShape(b.body)}`);
        return last[0] === last[1];
      },
      { timeout: 3000 },
    ).catch(() => undefined);
    expect(last[1]).toBe(last[0]);
  });
});
