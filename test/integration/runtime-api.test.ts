/**
 * The runtime API's commands against a real fulcrum node, and the same expectations against
 * haproxy 2.6 when it is installed: every answer below was measured on haproxy 2.6.12.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ctlExchange } from "../../cli/ctl.js";
import { VERSION } from "../../proxy/version.js";
import {
  freePort,
  PROGRAMS,
  type Proc,
  type Program,
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
  readonly port: number;
  /** The socket at `level`. */
  readonly sock: (level?: "admin" | "operator" | "user") => string;
}

function config(dir: string, tag: Tag, port: number, listenPort: number, up: number, dead: number): string {
  return [
    "global",
    `    stats socket ${dir}/${tag}.sock level admin`,
    `    stats socket ${dir}/${tag}-operator.sock level operator`,
    `    stats socket ${dir}/${tag}-user.sock level user`,
    "defaults",
    "    mode http",
    "    timeout connect 1s",
    "    timeout client 5s",
    "    timeout server 5s",
    "frontend fe",
    `    bind 127.0.0.1:${port}`,
    "    default_backend b",
    "listen st",
    `    bind 127.0.0.1:${listenPort}`,
    `    server a1 127.0.0.1:${up} check inter 100`,
    "backend b",
    `    server s1 127.0.0.1:${up} check inter 100`,
    `    server s2 127.0.0.1:${dead} check inter 100 fall 1`,
    `    server s3 127.0.0.1:${up}`,
    `    server s4 127.0.0.1:${up} backup check inter 100`,
    `    server s5 127.0.0.1:${up} disabled check inter 100`,
    `    server s6 127.0.0.1:${up} weight 20`,
    "backend sr",
    "    balance static-rr",
    `    server r1 127.0.0.1:${up} weight 3`,
    "",
  ].join("\n");
}

/** `show stat` -> "proxy/server" of each row, and the rows by that key. */
function statRows(csv: string): Map<string, Record<string, string>> {
  const lines = csv.split("\n").filter((l) => l !== "");
  const header = lines[0]!.replace(/^# /, "").split(",");
  const rows = new Map<string, Record<string, string>>();
  for (const l of lines.slice(1)) {
    const cells = l.split(",");
    const row = Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ""]));
    rows.set(`${row.pxname}/${row.svname}`, row);
  }
  return rows;
}

describe("stats socket commands answer as haproxy 2.6", () => {
  const dir = tempDir("runtime-api-");
  let up: Upstream;
  let dead: number;
  const sides: Side[] = [];

  beforeAll(async () => {
    up = await startUpstream("s1");
    dead = await freePort();
    const start = async (tag: Tag): Promise<Side> => {
      const port = await freePort();
      const listenPort = await freePort();
      const cfg = join(dir.path, `${tag}.cfg`);
      writeFileSync(cfg, config(dir.path, tag, port, listenPort, up.port, dead));
      const proc = spawnProgram(tag, cfg);
      await waitForPort(port, { what: `${tag} listening` });
      const side: Side = {
        tag,
        proc,
        port,
        sock: (level = "admin") => join(dir.path, level === "admin" ? `${tag}.sock` : `${tag}-${level}.sock`),
      };
      // Checked servers fully UP (not "UP 2/3") and s2 DOWN before anything is compared.
      await waitFor(
        async () => {
          const rows = statRows(await ctlExchange(side.sock(), "show stat"));
          return (
            rows.get("b/s2")?.status === "DOWN" &&
            ["st/a1", "b/s1", "b/s4"].every((k) => rows.get(k)?.status === "UP")
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

  /** Runs `line` on every side and expects `expected` (a string, or a check of the answer). */
  const expectAnswer = async (
    line: string,
    expected: string | ((answer: string, side: Side) => void),
    level?: "admin" | "operator" | "user",
  ) => {
    for (const side of sides) {
      const answer = await ctlExchange(side.sock(level), line);
      if (typeof expected === "string") expect(answer, `${side.tag}: ${line}`).toBe(expected);
      else expected(answer, side);
    }
  };

  // iids: haproxy numbers its own CLI proxy 1, so fe is 2, st 3, b 4, sr 5 (fulcrum alike).
  const STAT_FILTERS: readonly [string, readonly string[]][] = [
    ["show stat -1 4 -1", ["st/a1", "b/s1", "b/s2", "b/s3", "b/s4", "b/s5", "b/s6", "sr/r1"]],
    ["show stat 3 -1 -1", ["st/FRONTEND", "st/a1", "st/BACKEND"]],
    ["show stat -1 2 -1", ["st/BACKEND", "b/BACKEND", "sr/BACKEND"]],
    ["show stat -1 1 -1", ["fe/FRONTEND", "st/FRONTEND"]],
    ["show stat -1 4 2", ["b/s2"]],
    ["show stat b 4 -1", ["b/s1", "b/s2", "b/s3", "b/s4", "b/s5", "b/s6"]],
    ["show stat b 6 5", ["b/s5", "b/BACKEND"]],
    ["show stat -1 0 -1", []],
    ["show stat 99 -1 -1", []],
    ["show stat b 4 -1 up", ["b/s1", "b/s3", "b/s4", "b/s6"]],
    ["show stat b 4 -1 no-maint", ["b/s1", "b/s2", "b/s3", "b/s4", "b/s6"]],
  ];
  for (const [line, keys] of STAT_FILTERS) {
    it(`'${line}' shows the rows haproxy shows`, async () => {
      await expectAnswer(line, (answer, side) => {
        expect(answer.startsWith("# pxname,svname,"), side.tag).toBe(true);
        expect(answer.endsWith("\n\n"), side.tag).toBe(true);
        expect([...statRows(answer).keys()], `${side.tag}: ${line}`).toEqual(keys);
      });
    });
  }

  it("show stat with fewer than three filters shows every row", async () => {
    await expectAnswer("show stat -1 4", (answer, side) => expect(statRows(answer).size, side.tag).toBe(13));
  });

  it("show stat with a proxy that does not exist is 'No such proxy.'", async () => {
    await expectAnswer("show stat nob 4 -1", "No such proxy.\n\n");
    await expectAnswer("show stat 0 -1 -1", "No such proxy.\n\n");
  });

  it("show stat typed and json: the typed and JSON forms (test/integration/stats-typed compares them)", async () => {
    const fu = sides.find((s) => s.tag === "fulcrum")!;
    expect(await ctlExchange(fu.sock(), "show stat typed")).toMatch(/^F\.2\.0\.0\.pxname\.1:KNS:str:fe\n/);
    expect(await ctlExchange(fu.sock(), "show stat json")).toMatch(
      /^\[\[\{"objType":"Frontend","proxyId":2,/,
    );
  });

  const WEIGHT_ANSWERS: readonly [string, string][] = [
    ["get weight b/s1", "1 (initial 1)\n\n"],
    ["get weight b/s6", "20 (initial 20)\n\n"],
    ["get weight b/nos", "No such server.\n\n"],
    ["get weight b", "Require 'backend/server'.\n\n"],
    ["get weight b/", "Require 'backend/server'.\n\n"],
    ["get weight /s1", "No such backend.\n\n"],
    ["get weight nob/s1", "No such backend.\n\n"],
    ["set weight b/s3 50", "\n"],
    ["get weight b/s3", "50 (initial 1)\n\n"],
    // Relative to the configured weight, truncated: 50% of 1 is 0.
    ["set weight b/s3 50%", "\n"],
    ["get weight b/s3", "0 (initial 1)\n\n"],
    ["set weight b/s6 50%", "\n"],
    ["get weight b/s6", "10 (initial 20)\n\n"],
    ["set weight b/s6 99999%", "\n"],
    ["get weight b/s6", "256 (initial 20)\n\n"],
    ["set weight b/s3 300", "Absolute weight can only be between 0 and 256 inclusive.\n\n"],
    ["set weight b/s3 -1", "Absolute weight can only be between 0 and 256 inclusive.\n\n"],
    ["set weight b/s3 -5%", "Relative weight must be positive.\n\n"],
    ["set weight b/s3 abc", "Empty weight string empty or preceded by garbage\n"],
    ["set weight b/s3 5x", "Trailing garbage in weight string\n"],
    ["set weight b/s3", "Require <weight> or <weight%>.\n\n"],
    ["set weight nob/s1 5", "No such backend.\n\n"],
    ["set weight b/nos 5", "No such server.\n\n"],
    ["set weight /s1 5", "Require 'backend/server'.\n\n"],
    ["set server b/s3 weight abc", "Empty weight string empty or preceded by garbage\n"],
    ["set server b/s3 weight 7; get weight b/s3", "\n7 (initial 1)\n\n"],
    [
      "set weight sr/r1 5",
      "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n\n",
    ],
    ["set weight sr/r1 0", "\n"],
    ["set weight sr/r1 100%", "\n"],
    ["get weight sr/r1", "3 (initial 3)\n\n"],
    ["set weight b/s3 1; set weight b/s6 20", "\n\n"],
  ];
  it("get weight and set weight answer each case in haproxy's words", async () => {
    for (const [line, answer] of WEIGHT_ANSWERS) await expectAnswer(line, answer);
  });

  it("set weight and clear counters all are refused below their level", async () => {
    await expectAnswer("set weight b/s3 5", "Permission denied\n\n", "user");
    await expectAnswer("set weight b/s3 5", "Permission denied\n\n", "operator");
    await expectAnswer("get weight b/s3", "1 (initial 1)\n\n", "user");
    await expectAnswer("clear counters", "Permission denied\n\n", "user");
    await expectAnswer("clear counters all", "Permission denied\n\n", "operator");
  });

  it("show servers state prints one line per server in haproxy's server-state format", async () => {
    const header =
      "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight " +
      "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state " +
      "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl " +
      "srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n";
    // srv_time_since_last_change (column 10) depends on when each process started: masked.
    const tail = (port: number) => `0 0 0 - ${port} - 0 0 - - 0`;
    const expected = [
      `3 st 1 a1 127.0.0.1 2 0 1 1 T 6 3 4 6 ${tail(up.port)}`,
      `4 b 1 s1 127.0.0.1 2 0 1 1 T 6 3 4 6 ${tail(up.port)}`,
      `4 b 2 s2 127.0.0.1 0 0 1 1 T 8 2 0 6 ${tail(dead)}`,
      `4 b 3 s3 127.0.0.1 2 0 1 1 T 1 0 2 0 ${tail(up.port)}`,
      `4 b 4 s4 127.0.0.1 2 0 1 1 T 6 3 4 6 ${tail(up.port)}`,
      `4 b 5 s5 127.0.0.1 0 5 1 1 T 1 0 0 14 ${tail(up.port)}`,
      `4 b 6 s6 127.0.0.1 2 0 20 20 T 1 0 2 0 ${tail(up.port)}`,
      `5 sr 1 r1 127.0.0.1 2 0 3 3 T 1 0 2 0 ${tail(up.port)}`,
    ];
    const mask = (answer: string) => answer.replace(/^(\d+ \S+ \d+ \S+ \S+ \d+ \d+ \d+ \d+) \d+ /gm, "$1 T ");
    // A check running at the moment of the reading shows in srv_check_result and
    // srv_check_state for a few milliseconds: read again until no check is in flight.
    for (const side of sides) {
      const want = `${header}${expected.join("\n")}\n\n`;
      let last = "";
      await waitFor(
        async () => {
          last = await ctlExchange(side.sock(), "show servers state");
          return last.startsWith(header) && mask(last) === want ? true : undefined;
        },
        { what: `${side.tag}: show servers state to settle`, timeout: 3000 },
      ).catch(() => undefined);
      expect(last.startsWith(header), side.tag).toBe(true);
      expect(mask(last.slice(header.length)), side.tag).toBe(`${expected.join("\n")}\n\n`);
    }
    await expectAnswer("show servers state sr", (answer, side) => {
      expect(mask(answer), side.tag).toBe(`${header}${expected[7]}\n\n`);
    });
    await expectAnswer("show servers state nob", "Can't find backend.\n\n");
    await expectAnswer("show servers state fe", "Can't find backend.\n\n");
  });

  it("show servers state follows drain, maint and enabling a disabled server", async () => {
    await expectAnswer(
      "set server b/s1 state drain; set server b/s3 state maint; enable server b/s5",
      "\n\n\n",
    );
    const cols = (answer: string, name: string) =>
      answer
        .split("\n")
        .find((l) => l.split(" ")[3] === name)!
        .split(" ")
        .slice(5, 7)
        .join(" ");
    await expectAnswer("show servers state b", (answer, side) => {
      // op_state admin_state: drain is flag 8; maint 1 and STOPPED; a `disabled` server
      // keeps its configuration flag (4) once enabled.
      expect([cols(answer, "s1"), cols(answer, "s3"), cols(answer, "s5")], side.tag).toEqual([
        "2 8",
        "0 1",
        "2 4",
      ]);
    });
    await expectAnswer(
      "set server b/s1 state ready; set server b/s3 state ready; disable server b/s5",
      "\n\n\n",
    );
    await expectAnswer("show servers state b", (answer, side) => {
      expect(cols(answer, "s5"), side.tag).toBe("0 5");
    });
  });

  it("show backend lists every proxy with a backend side, in configuration order", async () => {
    await expectAnswer("show backend", "# name\nst\nb\nsr\n\n");
  });

  it("show cli level answers the socket's level", async () => {
    await expectAnswer("show cli level", "admin\n\n");
    await expectAnswer("show cli level", "operator\n\n", "operator");
    await expectAnswer("show cli level", "user\n\n", "user");
  });

  it("show version prints the version on one line, as show info's Version", async () => {
    await expectAnswer("show version; show info", (answer, side) => {
      const version = answer.split("\n")[0]!;
      expect(answer).toContain(`\nVersion: ${version}\n`);
      if (side.tag === "fulcrum") expect(version).toBe(VERSION);
      else expect(version).toMatch(/^2\.6\.\d+/);
    });
  });

  it("quit closes the connection without an answer, and ends the line", async () => {
    await expectAnswer("quit", "");
    await expectAnswer("show cli level; quit; show cli level", "admin\n\n");
  });

  it("help starts with haproxy's header and lists the commands in haproxy's line format", async () => {
    await expectAnswer("help", (answer, side) => {
      const lines = answer.split("\n");
      expect(lines[0], side.tag).toBe("The following commands are valid at this level:");
      expect(lines, side.tag).toContain(
        "  get weight <bk>/<srv>                   : report a server's current weight",
      );
      expect(lines, side.tag).toContain(
        "  show servers state [<backend>]          : dump volatile server information (all or for a single backend)",
      );
      expect(lines, side.tag).toContain(
        "  help [<command>]                        : list matching or all commands",
      );
      expect(lines.slice(-3), side.tag).toEqual([
        "  quit                                    : disconnect",
        "",
        "",
      ]);
    });
  });

  it("an empty command answers the command list, each part of a line in turn", async () => {
    const EMPTY = "Unknown command. Please enter one of the following commands only:\n";
    const UNKNOWN = "Unknown command, but maybe one of the following ones is a better match:\n";
    await expectAnswer("", (answer, side) => expect(answer.startsWith(EMPTY), side.tag).toBe(true));
    await expectAnswer("   ", (answer, side) => expect(answer.startsWith(EMPTY), side.tag).toBe(true));
    await expectAnswer("show cli level;;show cli level", (answer, side) => {
      expect(answer.startsWith(`admin\n\n${EMPTY}`), side.tag).toBe(true);
      expect(answer.endsWith("\n\nadmin\n\n"), side.tag).toBe(true);
    });
    await expectAnswer("bogus; show cli level", (answer, side) => {
      expect(answer.startsWith(UNKNOWN), side.tag).toBe(true);
      expect(answer.split(UNKNOWN)).toHaveLength(2);
      expect(answer.endsWith("\n\nadmin\n\n"), side.tag).toBe(true);
    });
  });

  it("clear counters resets the max counters, clear counters all the totals too", async () => {
    for (const side of sides) {
      const fe = async () =>
        statRows(await ctlExchange(side.sock(), "show stat -1 1 -1")).get("fe/FRONTEND")!;
      // From zero (the readiness probe counted a connection), then one request.
      expect(await ctlExchange(side.sock(), "clear counters all")).toBe("\n");
      const res = await fetch(`http://127.0.0.1:${side.port}/`, { headers: { connection: "close" } });
      await res.text();
      await waitFor(async () => (await fe()).stot === "1", { what: `${side.tag}: the request counted` });
      expect((await fe()).smax, side.tag).toBe("1");
      expect(await ctlExchange(side.sock("operator"), "clear counters")).toBe("\n");
      expect([(await fe()).smax, (await fe()).stot], side.tag).toEqual(["0", "1"]);
      expect(await ctlExchange(side.sock(), "clear counters all")).toBe("\n");
      expect((await fe()).stot, side.tag).toBe("0");
    }
  });

  const UNSUPPORTED = [
    "disable health b/s1",
    "enable health b/s1",
    "disable frontend fe",
    "enable frontend fe",
    "set maxconn server b/s1 10",
    "shutdown sessions server b/s1",
  ];
  it("commands fulcrum does not carry out say so instead of answering a success", async () => {
    const fu = sides.find((s) => s.tag === "fulcrum")!;
    for (const line of UNSUPPORTED) {
      const answer = await ctlExchange(fu.sock(), line);
      expect(answer, line).toMatch(/^Not supported by fulcrum: '[a-z ]+' \(.+\)\.\n\n$/);
    }
    // Below their level they are refused first, as haproxy refuses them.
    await expectAnswer("disable health b/s1", "Permission denied\n\n", "operator");
  });
});
