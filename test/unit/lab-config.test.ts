import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { type ConfigPlan, haConfigText, labConfigFiles } from "../../lab/config.js";
import { portsFromBase } from "../../lab/ports.js";
import { labPlan } from "../../lab/up.js";
import { loadConfig } from "../../proxy/config/index.js";
import { tempDir } from "../helpers/index.js";

const dir = tempDir("fulcrum-lab-config-");
afterAll(() => dir.remove());

function plan(over: Partial<ConfigPlan> = {}): ConfigPlan {
  const lo = (port: number) => ({ host: "127.0.0.1", port });
  return {
    title: "test",
    topology: "pair",
    service: lo(18080),
    stats: { lb1: lo(18081), lb2: lo(18082) },
    peers: { lb1: lo(18083), lb2: lo(18084) },
    servers: { web1: lo(18085), web2: lo(18086) },
    redisUrl: "redis://127.0.0.1:18087",
    haName: "web_proxy",
    socketDir: join(dir.path, "run"),
    ...over,
  };
}

function written(p: ConfigPlan): string[] {
  return labConfigFiles(p).map((f) => {
    const file = join(dir.path, f.name);
    writeFileSync(file, f.text);
    return file;
  });
}

describe("the lab's generated configuration", () => {
  test("loads without warning as lb1 and as lb2, each node binding its own stats listener", () => {
    const files = written(plan());
    for (const [node, statsPort] of [
      ["lb1", 18081],
      ["lb2", 18082],
    ] as const) {
      const { model, warnings } = loadConfig(files, { localNode: node });
      expect(warnings).toEqual([]);
      const names = model.proxies.map((p) => p.name);
      expect(names).toEqual(["web_proxy", "lab_stats"]);
      expect(model.proxies[1]!.binds.map((b) => b.port)).toEqual([statsPort]);
      expect(model.global.statsSockets[0]!.path).toBe(join(dir.path, "run", `${node}.sock`));
      expect(model.ha?.localPeer).toBe(node);
    }
  });

  test("keeps the tutorial's listen: roundrobin, cookie SRV insert indirect nocache, learned JSESSIONID, httpchk HEAD /login", () => {
    const { model } = loadConfig(written(plan()), { localNode: "lb1" });
    const web = model.proxies.find((p) => p.name === "web_proxy")!;
    expect(web.balance.algo).toBe("roundrobin");
    expect(web.cookie).toMatchObject({ name: "SRV", mode: "insert", indirect: true, nocache: true });
    expect(web.learnedSession).toMatchObject({ cookie: "JSESSIONID", len: 52, timeout: 3 * 3600_000 });
    expect(web.options.httpchk ?? web.httpCheck).toMatchObject({
      method: "HEAD",
      uri: "/login",
      version: "HTTP/1.0",
    });
    expect(web.options.forwardfor).toBeDefined();
    expect(web.options.redispatch).toBe(true);
    expect(web.options.httpConnMode).toBe("close");
    expect(web.monitorUri).toBe("/haproxy_test");
    expect(web.stats?.uri).toBe("/haproxy-stats");
    expect(web.servers.map((s) => [s.name, s.port, s.cookie, s.inter, s.fall, s.rise])).toEqual([
      ["web1", 18085, "A", 200, 2, 2],
      ["web2", 18086, "B", 200, 2, 2],
    ]);
  });

  test("the ha section names both peers with their priorities and issue 2's defaults", () => {
    const { model } = loadConfig(written(plan()), { localNode: "lb2" });
    expect(model.ha).toMatchObject({
      name: "web_proxy",
      redis: { kind: "url", url: "redis://127.0.0.1:18087" },
      advertInterval: 100,
      leaseTime: 300,
      preempt: { on: false },
      takeover: { kind: "bind" },
      fence: "kill",
    });
    expect(model.ha!.peers.map((p) => [p.name, p.port, p.priority])).toEqual([
      ["lb1", 18083, 150],
      ["lb2", 18084, 100],
    ]);
  });

  test("a single load balancer has no ha section and one stats listener", () => {
    const files = labConfigFiles(plan({ topology: "single" }));
    expect(files.map((f) => f.name)).toEqual(["10-service.cfg"]);
    expect(files[0]!.text).not.toContain(",lb2)");
    expect(files[0]!.text).toContain(",lb1)");
  });

  test("a lab folder with quotes and dollars in its path still loads (socket path escaped)", () => {
    const odd = join(dir.path, 'a "b" $c');
    const { model } = loadConfig(written(plan({ socketDir: odd })), { localNode: "lb1", env: {} });
    expect(model.global.statsSockets[0]!.path).toBe(join(odd, "lb1.sock"));
  });

  test("HAProxy 2.6 accepts the service file as lb1 and lb2 (haproxy -c)", () => {
    const found = spawnSync("haproxy", ["-v"]);
    if (found.error) {
      console.warn("haproxy is not installed: the comparison with HAProxy 2.6 is skipped");
      return;
    }
    const [service] = written(plan());
    for (const node of ["lb1", "lb2"]) {
      const r = spawnSync("haproxy", ["-c", "-f", service!, "-L", node], { encoding: "utf8" });
      expect(`${r.stdout}${r.stderr}`).toContain("Configuration file is valid");
      expect(r.status).toBe(0);
    }
  });

  test("the plan of a lab on loopback uses its ports, and an external Redis gets its own ha name", () => {
    const ports = portsFromBase(9000, true);
    expect(ports).toEqual({
      service: 9000,
      stats: { lb1: 9001, lb2: 9002 },
      peer: { lb1: 9003, lb2: 9004 },
      web1: 9005,
      web2: 9006,
      redis: 9007,
    });
    const base = { ports, redisUrl: "redis://127.0.0.1:9007", topology: "pair" as const, dir: "/tmp/lab-x" };
    expect(labPlan({ ...base, redisManaged: true }).haName).toBe("web_proxy");
    expect(labPlan({ ...base, redisManaged: false }).haName).toMatch(/^web_proxy_[0-9a-f]{8}$/);
    expect(haConfigText(labPlan({ ...base, redisManaged: true }))).toContain(
      "peer lb1 127.0.0.1:9003 priority 150",
    );
  });
});
