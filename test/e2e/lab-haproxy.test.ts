/**
 * The lab end to end with HAProxy 2.6 itself as the single load balancer (`--lb haproxy`):
 * the tutorial's topology, run as a user runs it, through the real CLI. It checks the lab's
 * process handling and the sessions and Redis drills against the reference behaviour, and
 * runs whatever the state of fulcrum's own proxy node.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isAlive } from "../../lab/proc.js";
import type { LabState } from "../../lab/state.js";
import { runCli, spawnCli, tempDir, waitFor } from "../helpers/index.js";

const haproxy = await import("../../lab/nodes.js").then((m) => m.whichProgram("haproxy"));
let dir: { path: string; remove: () => void } = { path: "", remove: () => undefined };
const lab = (...words: string[]) => runCli(["lab", ...words, "--dir", dir.path], { timeout: 60_000 });
const state = (): LabState => JSON.parse(readFileSync(join(dir.path, "state.json"), "utf8")) as LabState;
const json = <T>(r: { stdout: string }): T => JSON.parse(r.stdout) as T;

describe.skipIf(haproxy === undefined)(
  "lab with HAProxy 2.6 as the load balancer (the tutorial's topology)",
  () => {
    let pids: LabState["nodes"] = {};

    beforeAll(async () => {
      dir = tempDir("fulcrum-lab-haproxy-");
      const up = await lab("up", "--lb", "haproxy", "--mode", "cookie", "--detach", "--json");
      expect(up.code, up.stderr).toBe(0);
      pids = state().nodes;
    }, 60_000);

    afterAll(async () => {
      await lab("down");
      dir.remove();
    }, 60_000);

    test("lab up --detach --json prints only the JSON document, with the service and stats URLs", async () => {
      const r = await lab("status", "--json");
      expect(r.code).toBe(0);
      const view = json<{
        serviceUrl: string;
        statsUrls: { lb1: string };
        masters: string[];
        nodes: { name: string; alive: boolean }[];
      }>(r);
      expect(view.serviceUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(view.statsUrls.lb1).toMatch(/\/haproxy-stats$/);
      expect(view.masters).toEqual(["lb1"]);
      expect(view.nodes.map((n) => [n.name, n.alive])).toEqual([
        ["redis", true],
        ["web1", true],
        ["web2", true],
        ["lb1", true],
      ]);
    });

    test("a second lab up in the same folder is refused with what to do", async () => {
      const r = await lab("up", "--lb", "haproxy", "--detach");
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/a lab is already running in .*lab down/);
    });

    test("cookie mode: killing web1 loses exactly the sessions that lived on web1 (sticky cookie, option redispatch)", async () => {
      const r = await lab("drill", "sessions", "--json", "--users", "12");
      expect(r.code, r.stderr).toBe(0);
      const res = json<{
        mode: string;
        loggedInOn: Record<string, number>;
        after: { loggedIn: number; lost: number; movedLost: number };
        lostFromWeb1: number;
        restored: boolean;
      }>(r);
      expect(res.mode).toBe("cookie");
      expect(res.loggedInOn).toEqual({ web1: 6, web2: 6 }); // roundrobin
      expect(res.after.lost).toBe(6);
      expect(res.lostFromWeb1).toBe(6);
      expect(res.after.movedLost).toBe(6);
      expect(res.after.loggedIn).toBe(6);
      expect(res.restored).toBe(true);
    });

    test("shared mode: killing web1 keeps every session (web2 reads it from Redis), and the lab returns to its mode", async () => {
      const r = await lab("drill", "sessions", "--mode", "shared", "--json", "--users", "12");
      expect(r.code, r.stderr).toBe(0);
      const res = json<{ mode: string; after: { loggedIn: number; lost: number; movedKept: number } }>(r);
      expect(res.mode).toBe("shared");
      expect(res.after.lost).toBe(0);
      expect(res.after.loggedIn).toBe(12);
      expect(res.after.movedKept).toBe(6);
      expect(state().mode).toBe("cookie");
    });

    test("drill redis in cookie mode: proxying and sessions keep working while Redis is down", async () => {
      const report = join(dir.path, "redis.html");
      const r = await lab("drill", "redis", "--json", "--users", "5", "--down-ms", "500", "--report", report);
      expect(r.code, r.stderr).toBe(0);
      const res = json<{
        during: { probe: { failed: number; total: number }; users: { failed: number } };
        masters: { min: number; max: number };
        sessions: { loggedIn: number };
      }>(r);
      expect(res.during.probe.total).toBeGreaterThan(0);
      expect(res.during.probe.failed).toBe(0);
      expect(res.during.users.failed).toBe(0);
      expect(res.masters).toEqual({ min: 1, max: 1 });
      expect(res.sessions.loggedIn).toBe(5);
      expect(readFileSync(report, "utf8")).toContain("<svg");
    });

    test("lab kill --signal STOP freezes a server, lab start resumes it", async () => {
      const k = await lab("kill", "web2", "--signal", "STOP");
      expect(k.code).toBe(0);
      const frozen = await lab("status", "--json");
      expect(
        json<{ nodes: { name: string; frozen: boolean }[] }>(frozen).nodes.find((n) => n.name === "web2")
          ?.frozen,
      ).toBe(true);
      const s = await lab("start", "web2");
      expect(s.code, s.stderr).toBe(0);
      expect(s.stdout).toContain("resumed web2");
    });

    test("lab logs shows a node's log; an unknown node is a usage error (exit 2)", async () => {
      const r = await lab("logs", "redis", "--lines", "5");
      expect(r.code).toBe(0);
      expect(r.stdout.split("\n").length).toBeLessThanOrEqual(6);
      const bad = await lab("logs", "web9");
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/unknown node "web9"/);
    });

    test("lab chaos kills and restarts a node on a cron schedule and keeps a running tally", async () => {
      const r = await lab(
        "chaos",
        "--schedule",
        "* * * * * *",
        "--rounds",
        "1",
        "--nodes",
        "web2",
        "--down-ms",
        "200",
        "--users",
        "3",
        "--json",
      );
      expect(r.code, r.stderr).toBe(0);
      const res = json<{
        rounds: { node: string; restarted: boolean }[];
        tally: { requests: number; rounds: number };
      }>(r);
      expect(res.rounds).toEqual([expect.objectContaining({ node: "web2", restarted: true })]);
      expect(res.tally.rounds).toBe(1);
      expect(res.tally.requests).toBeGreaterThan(0);
      expect(r.stderr).toMatch(/rounds 1 +requests \d+ +availability/);
    });

    test("lab down stops every process it started and leaves none behind", async () => {
      const r = await lab("down");
      expect(r.code, r.stderr).toBe(0);
      for (const rec of Object.values(pids)) expect(isAlive(rec!)).toBe(false);
      const again = await lab("status");
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/no lab in/);
    });
  },
);

describe.skipIf(haproxy === undefined)("lab folder left by a crash", () => {
  test("lab up names the crashed folder and lab down cleans it", async () => {
    const d = tempDir("fulcrum-lab-crash-");
    try {
      const run = (...w: string[]) => runCli(["lab", ...w, "--dir", d.path], { timeout: 60_000 });
      expect((await run("up", "--lb", "haproxy", "--detach")).code).toBe(0);
      const nodes = (JSON.parse(readFileSync(join(d.path, "state.json"), "utf8")) as LabState).nodes;
      for (const rec of Object.values(nodes)) process.kill(rec!.pid, "SIGKILL");
      await waitFor(() => Object.values(nodes).every((r) => !isAlive(r!)), {
        what: "the lab's processes to die",
      });
      const up = await run("up", "--lb", "haproxy", "--detach");
      expect(up.code).toBe(1);
      expect(up.stderr).toMatch(/left by a crash.*lab down/);
      expect((await run("down")).code).toBe(0);
      const again = await run("up", "--lb", "haproxy", "--detach");
      expect(again.code, again.stderr).toBe(0);
      expect((await run("down")).code).toBe(0);
    } finally {
      await runCli(["lab", "down", "--dir", d.path]);
      d.remove();
    }
  }, 60_000);

  test("foreground lab up shows the live status and Ctrl-C stops everything it started", async () => {
    const d = tempDir("fulcrum-lab-fg-");
    try {
      const p = spawnCli(["lab", "up", "--lb", "haproxy", "--dir", d.path]);
      await waitFor(() => p.stdout().includes("Ctrl-C stops the lab"), {
        timeout: 30_000,
        what: "the live status view",
      });
      expect(p.stdout()).toMatch(/lb1\s+\d+\s+running/);
      const nodes = (JSON.parse(readFileSync(join(d.path, "state.json"), "utf8")) as LabState).nodes;
      p.kill("SIGINT");
      expect(await p.exited).toBe(0);
      for (const rec of Object.values(nodes)) expect(isAlive(rec!)).toBe(false);
    } finally {
      await runCli(["lab", "down", "--dir", d.path]);
      d.remove();
    }
  }, 60_000);
});
