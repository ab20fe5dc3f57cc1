import { describe, expect, test } from "vitest";
import { parseLabWords } from "../../cli/lab.js";
import { csvFacts, parseStatsCsv, peerFromPage, roleFromPage } from "../../lab/probe.js";
import { table } from "../../lab/render.js";
import { activeNodes, resolveRoles } from "../../lab/view.js";
import { UsageError } from "../../proxy/errors.js";

describe("fulcrum lab command line", () => {
  test("lab up takes its flags, drill commands take two words", () => {
    expect(parseLabWords(["up", "--mode", "cookie", "--detach", "--dir", "/tmp/x"])).toEqual({
      command: "up",
      args: [],
      flags: { mode: "cookie", detach: true, dir: "/tmp/x" },
    });
    expect(parseLabWords(["drill", "failover", "--signal", "STOP", "--json"])).toMatchObject({
      command: "drill failover",
      flags: { signal: "STOP", json: true },
    });
    expect(parseLabWords(["kill", "lb1", "--signal", "KILL"])).toMatchObject({
      command: "kill",
      args: ["lb1"],
    });
    expect(parseLabWords(["--help"])).toBe("help");
  });

  test("usage mistakes are UsageErrors (exit 2) that say what to do", () => {
    const bad: [string[], RegExp][] = [
      [[], /no lab command/],
      [["jump"], /unknown lab command "jump"/],
      [["drill", "flood"], /drills: failover, sessions, redis, compare/],
      [["kill"], /needs NODE/],
      [["status", "extra"], /unexpected word "extra"/],
      [["up", "--signal", "KILL"], /--signal does not go with `lab up`/],
      [["up", "--bogus"], /Unknown option '--bogus'/],
    ];
    for (const [words, re] of bad) {
      let err: unknown;
      try {
        parseLabWords(words);
      } catch (e) {
        err = e;
      }
      expect(err, words.join(" ")).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(re);
    }
  });
});

describe("reading a node from the outside", () => {
  const CSV = [
    "# pxname,svname,qcur,req_tot,status,ereq,econ,eresp,hrsp_5xx,req_rate",
    "web_proxy,FRONTEND,,42,OPEN,1,,,3,7",
    "web_proxy,web1,0,,UP,,0,0,,",
    "web_proxy,web2,0,,DOWN,,0,0,,",
    "web_proxy,BACKEND,0,,UP,,2,1,,",
    "lab_stats,FRONTEND,,9,OPEN,0,,,0,1",
    "",
  ].join("\n");

  test("the stats CSV gives the service's servers and counters", () => {
    expect(parseStatsCsv(CSV)).toHaveLength(5);
    expect(csvFacts(CSV)).toEqual({
      servers: [
        { name: "web1", status: "UP" },
        { name: "web2", status: "DOWN" },
      ],
      requests: 42,
      reqRate: 7,
      errors: 4,
      http5xx: 3,
    });
  });

  test("the stats page's HA box gives this node's role and its peer's", () => {
    const page =
      '<div class="box ha"><strong>High availability</strong><ul class="plain"><li>this node: lb1 <strong>MASTER</strong>, priority 150, epoch 3</li><li>peer: lb2 <strong>BACKUP</strong>, last advert 0.1s ago</li>';
    expect(roleFromPage(page)).toBe("MASTER");
    expect(peerFromPage(page)).toEqual({ name: "lb2", role: "BACKUP", ageMs: 100 });
    expect(peerFromPage("<li>peer: lb2 <strong>INIT</strong>, last advert never</li>")).toEqual({
      name: "lb2",
      role: "INIT",
    });
    expect(roleFromPage("<html>no ha</html>")).toBeUndefined();
  });

  test("a standby whose listeners are unbound gets its role from the MASTER's view of its peer", () => {
    const roles = resolveRoles(
      {
        lb1: { reachable: true, role: "MASTER", peer: { name: "lb2", role: "BACKUP" } },
        lb2: { reachable: false, role: "UNREACHABLE" },
      },
      { lb1: "running", lb2: "running" },
    );
    expect(roles).toEqual({ lb1: "MASTER", lb2: "BACKUP" });
    expect(activeNodes(roles)).toEqual(["lb1"]);
  });

  test("a node whose process is gone is STOPPED whatever its peer last saw", () => {
    const roles = resolveRoles(
      {
        lb1: { reachable: false, role: "UNREACHABLE" },
        lb2: { reachable: true, role: "MASTER", peer: { name: "lb1", role: "MASTER" } },
      },
      { lb1: "gone", lb2: "running" },
    );
    expect(roles).toEqual({ lb1: "STOPPED", lb2: "MASTER" });
  });

  test("a frozen old MASTER is FROZEN, never counted as a second MASTER from a stale advert", () => {
    const probes = {
      lb1: { reachable: false, role: "UNREACHABLE" as const },
      lb2: {
        reachable: true,
        role: "MASTER" as const,
        peer: { name: "lb1", role: "MASTER" as const, ageMs: 100 },
      },
    };
    const roles = resolveRoles(probes, { lb1: "frozen", lb2: "running" });
    expect(roles).toEqual({ lb1: "FROZEN", lb2: "MASTER" });
    expect(activeNodes(roles)).toEqual(["lb2"]);
  });

  test("a peer's view older than half a second (5 missed adverts) is not believed", () => {
    const probes = {
      lb1: {
        reachable: true,
        role: "MASTER" as const,
        peer: { name: "lb2", role: "BACKUP" as const, ageMs: 4200 },
      },
      lb2: { reachable: false, role: "UNREACHABLE" as const },
    };
    expect(resolveRoles(probes, { lb1: "running", lb2: "running" })).toEqual({
      lb1: "MASTER",
      lb2: "UNREACHABLE",
    });
  });

  test("a node without an ha section serves (SERVING counts as active)", () => {
    expect(activeNodes({ lb1: "SERVING" })).toEqual(["lb1"]);
  });

  test("tables pad text left and numbers right", () => {
    expect(
      table(
        ["a", "n"],
        [
          ["x", 5],
          ["yy", 10],
        ],
      ),
    ).toBe("a    n\n--  --\nx    5\nyy  10");
  });
});
