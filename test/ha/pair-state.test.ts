/**
 * Issue 6's shared state with real nodes: what one node learned or was told is what the other
 * does after a failover. Learned sessions (the tutorial's `appsession JSESSIONID`), server admin
 * states set through the runtime API (`fulcrum ctl -S SOCK set server B/S state drain`), across a
 * failover and a restart of the old active. Roles come from both stats pages at each step.
 */
import { existsSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { CLI, waitFor } from "../helpers/index.js";
import { activePair, ask, type NodeName, type Pair } from "./pair-harness.js";

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
});

/** The server a request carrying this JSESSIONID went to, asked twice (roundrobin would alternate). */
async function routeOf(pair: Pair, id: string, via: NodeName): Promise<string> {
  const seen = new Set<string>();
  for (let i = 0; i < 2; i++) {
    const a = await ask(pair.servicePort, "/cart", { cookie: `JSESSIONID=${id}` });
    expect(a, `session ${id}`).toMatchObject({ kind: "ok", lb: via });
    seen.add(a.server ?? "?");
  }
  expect([...seen], `session ${id} went to more than one server`).toHaveLength(1);
  return [...seen][0]!;
}

/** A login answered with Set-Cookie: JSESSIONID=id: the node learns id -> the server that set it. */
async function login(pair: Pair, id: string, via: NodeName): Promise<string> {
  const cookie = encodeURIComponent(`Set-Cookie:JSESSIONID=${id}; Path=/`);
  const a = await ask(pair.servicePort, `/login?_header=${cookie}`);
  expect(a).toMatchObject({ kind: "ok", lb: via });
  return a.server!;
}

/** A server's status column in a node's `show stat` (the runtime API's CSV). */
async function serverStatus(pair: Pair, node: NodeName, server: string): Promise<string> {
  const r = await pair.ctl(node, "show stat");
  const lines = r.stdout.split("\n");
  const header = lines[0]!.replace(/^# /, "").split(",");
  const row = lines.find((l) => l.startsWith(`service,${server},`));
  return row?.split(",")[header.indexOf("status")] ?? "";
}

async function servedBy(pair: Pair, n: number): Promise<Set<string>> {
  const servers = new Set<string>();
  for (let i = 0; i < n; i++) servers.add((await ask(pair.servicePort, "/")).server ?? "none");
  return servers;
}

describe("HA pair of real proxy nodes: shared state", () => {
  it("sessions learned on one node (appsession JSESSIONID) go to the same server on the other after failover", async () => {
    const pair = await activePair({ service: ["appsession JSESSIONID len 52 timeout 3h"] });
    const learned = new Map<string, string>();
    for (const id of ["a1", "a2", "a3", "a4"]) learned.set(id, await login(pair, id, "lb1"));
    expect(new Set(learned.values())).toEqual(new Set(["web1", "web2"]));
    for (const [id, server] of learned) expect(await routeOf(pair, id, "lb1")).toBe(server);

    // lb1 dies: lb2 routes every session as lb1 did.
    pair.signal("lb1", "SIGKILL");
    await pair.ended("lb1");
    await pair.expectRoles({ lb2: "MASTER" });
    for (const [id, server] of learned) expect(await routeOf(pair, id, "lb2")).toBe(server);
    // lb2 learns one more; the restarted lb1 gets everything back from Redis.
    learned.set("b1", await login(pair, "b1", "lb2"));
    await pair.start("lb1");
    await pair.expectRoles({ lb1: "BACKUP", lb2: "MASTER" });
    pair.signal("lb2", "SIGUSR1");
    await pair.ended("lb2");
    await pair.expectRoles({ lb1: "MASTER" });
    for (const [id, server] of learned) expect(await routeOf(pair, id, "lb1")).toBe(server);
    pair.assertNeverTwoMasters();
  });

  it("a server drained through the runtime API stays drained across a failover and a restart", async () => {
    const pair = await activePair();
    expect(await servedBy(pair, 4)).toEqual(new Set(["web1", "web2"]));
    const set = await pair.ctl("lb1", "set server service/web2 state drain");
    expect(set.code, set.stderr).toBe(0);
    expect(await serverStatus(pair, "lb1", "web2")).toBe("DRAIN");
    // The BACKUP follows (pub/sub), before any failover.
    await waitFor(async () => (await serverStatus(pair, "lb2", "web2")) === "DRAIN", {
      what: "lb2 to follow the drain",
    });
    expect(await servedBy(pair, 4)).toEqual(new Set(["web1"]));

    pair.signal("lb1", "SIGKILL");
    await pair.ended("lb1");
    await pair.expectRoles({ lb2: "MASTER" });
    expect(await servedBy(pair, 4)).toEqual(new Set(["web1"]));

    // A restarted node reads the admin states from Redis at start.
    await pair.start("lb1");
    await pair.expectRoles({ lb1: "BACKUP", lb2: "MASTER" });
    await waitFor(async () => (await serverStatus(pair, "lb1", "web2")) === "DRAIN", {
      what: "the restarted lb1 to read the drain back",
    });
    pair.signal("lb2", "SIGUSR1");
    await pair.ended("lb2");
    await pair.expectRoles({ lb1: "MASTER" });
    expect(await servedBy(pair, 4)).toEqual(new Set(["web1"]));
    expect((await pair.ctl("lb1", "set server service/web2 state ready")).code).toBe(0);
    expect(await servedBy(pair, 4)).toEqual(new Set(["web1", "web2"]));
    pair.assertNeverTwoMasters();
  });
});
