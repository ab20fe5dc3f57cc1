/**
 * The web-demo behind the tutorial's load balancer: two servers (web1, web2) in process on
 * port 0, sessions in memory (cookie mode) or in a real redis-server (shared mode).
 */
import { createClient } from "redis";
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import type { Logger } from "../../web-demo/app.js";
import { type RunningWebDemo, startWebDemo } from "../../web-demo/server.js";
import { type RedisServer, startRedis, waitFor } from "../helpers/index.js";
import { sessionCookieLine, User } from "./web-demo-client.js";

const SECRET = "test-secret-shared-by-web1-and-web2";

interface Started {
  web: RunningWebDemo;
  url: string;
  lines: string[];
}

async function startWeb(
  name: string,
  store: "memory" | "redis",
  redisUrl: string | undefined,
  extra: { secret?: string; redisTimeoutMs?: number } = {},
): Promise<Started> {
  const lines: string[] = [];
  const logger: Logger = { info: (l) => lines.push(l), warn: (l) => lines.push(l) };
  const web = await startWebDemo({
    name,
    store,
    port: 0,
    secret: extra.secret ?? SECRET,
    logger,
    ...(redisUrl !== undefined && { redisUrl }),
    ...(extra.redisTimeoutMs !== undefined && { redisTimeoutMs: extra.redisTimeoutMs }),
  });
  onTestFinished(() => web.stop());
  return { web, url: web.url, lines };
}

async function pair(store: "memory" | "redis", redisUrl?: string): Promise<[Started, Started]> {
  return [await startWeb("web1", store, redisUrl), await startWeb("web2", store, redisUrl)];
}

async function redisKeys(url: string): Promise<string[]> {
  const c = createClient({ url });
  await c.connect();
  try {
    return await c.keys("*");
  } finally {
    c.destroy();
  }
}

/** How many times Redis ran COMMAND since it started (INFO commandstats). */
async function commandCalls(url: string, command: string): Promise<number> {
  const c = createClient({ url });
  await c.connect();
  try {
    const info = await c.info("commandstats");
    return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, "m").exec(info)?.[1] ?? 0);
  } finally {
    c.destroy();
  }
}

describe("web-demo in shared mode (sessions in Redis)", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  beforeEach(async () => {
    const c = createClient({ url: redis.url });
    await c.connect();
    await c.flushAll();
    c.destroy();
  });

  it("a session started on web1 is served by web2 (any server serves any session)", async () => {
    const [web1, web2] = await pair("redis", redis.url);
    const alice = new User("alice");

    const login = await alice.login(web1.url);
    expect(login.status).toBe(303);
    expect(login.headers.get("location")).toBe("/login");
    expect(alice.cookie).toBeDefined();

    const onWeb2 = await alice.whoami(web2.url);
    expect(onWeb2.status).toBe(200);
    expect(onWeb2.json()).toMatchObject({ server: "web2", user: "alice", visits: 1 });

    const page = await alice.request(web2.url, "/login");
    expect(page.status).toBe(200);
    expect(page.body).toContain('<dd id="user">alice</dd>');
    expect(page.body).toContain('<dd id="visits">2</dd>');
    expect(page.body).toContain('<dd id="server">web2</dd>');

    const back = await alice.whoami(web1.url);
    expect(back.json()).toMatchObject({ server: "web1", user: "alice", visits: 3 });
    expect(back.json().sessionId).toBe(onWeb2.json().sessionId);
  });

  it("when web1 stops, its users stay logged in on web2 with their visit count intact", async () => {
    const [web1, web2] = await pair("redis", redis.url);
    const bob = new User("bob");
    await bob.login(web1.url);
    for (let i = 1; i <= 3; i++) expect((await bob.whoami(web1.url)).json().visits).toBe(i);

    await web1.web.stop();
    await expect(bob.whoami(web1.url)).rejects.toThrow();

    const after = await bob.whoami(web2.url);
    expect(after.status).toBe(200);
    expect(after.json()).toMatchObject({ server: "web2", user: "bob", visits: 4 });
  });

  it("200 users logged in concurrently across both servers each keep their own session", async () => {
    // What is tested is that no session is lost or mixed up, not how fast Redis answers:
    // 400 requests at once in one test process on a loaded 2-core machine may take longer
    // than the 500 ms a request waits for Redis by default before its 503.
    const slow = { redisTimeoutMs: 5000 };
    const web1 = await startWeb("web1", "redis", redis.url, slow);
    const web2 = await startWeb("web2", "redis", redis.url, slow);
    const servers = [web1.url, web2.url];
    const users = Array.from({ length: 200 }, (_, i) => new User(`user${String(i).padStart(3, "0")}`));

    const logins = await Promise.all(users.map((u, i) => u.login(servers[i % 2]!)));
    expect(logins.map((r) => r.status)).toEqual(users.map(() => 303));

    // Each user then reads their session twice through the other server, all at once.
    for (const round of [1, 2]) {
      const replies = await Promise.all(users.map((u, i) => u.whoami(servers[(i + 1) % 2]!)));
      replies.forEach((r, i) => {
        expect(r.status).toBe(200);
        expect(r.json()).toMatchObject({
          user: users[i]!.name,
          visits: round,
          server: i % 2 ? "web1" : "web2",
        });
      });
    }
    const ids = new Set(users.map((u) => u.cookie));
    expect(ids.size).toBe(200);
    expect(await redisKeys(redis.url)).toHaveLength(200);
  });

  it("HEAD /login (the health check) and anonymous pages create no session", async () => {
    const [web1] = await pair("redis", redis.url);
    const probe = new User("probe");
    const head = await probe.request(web1.url, "/login", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
    expect(sessionCookieLine(head)).toBeUndefined();

    for (const path of ["/login", "/whoami", "/health"]) {
      const r = await probe.request(web1.url, path);
      expect(sessionCookieLine(r)).toBeUndefined();
    }
    expect((await probe.whoami(web1.url)).status).toBe(401);
    expect(await redisKeys(redis.url)).toEqual([]);
  });

  it("bad login input gets 400 with the reason, and no session", async () => {
    const [web1] = await pair("redis", redis.url);
    const u = new User("<b>mallory</b>");

    const noPassword = await u.request(web1.url, "/login", { form: { user: u.name } });
    expect(noPassword.status).toBe(400);
    expect(noPassword.headers.get("content-type")).toMatch(/^text\/html/);
    expect(noPassword.body).toContain("the password is required");
    expect(noPassword.body).toContain('value="&lt;b&gt;mallory&lt;/b&gt;"');
    expect(noPassword.body).not.toContain("<b>mallory");

    const emptyPassword = await u.request(web1.url, "/login", { form: { user: "m", password: "" } });
    expect(emptyPassword.status).toBe(400);

    const noUser = await u.request(web1.url, "/login", { json: { password: "x" } });
    expect(noUser.status).toBe(400);
    expect(noUser.json()).toMatchObject({
      server: "web1",
      error: "the user name is required",
      code: "FUL_BAD_REQUEST",
    });

    const broken = await u.request(web1.url, "/login", { json: "{not json" });
    expect(broken.status).toBe(400);
    expect(broken.json()).toMatchObject({ code: "FUL_BAD_REQUEST" });
    expect(broken.body).not.toMatch(/\bat .*\.js:\d+/);

    const noBody = await u.request(web1.url, "/login", { method: "POST" });
    expect(noBody.status).toBe(400);

    for (const r of [noPassword, emptyPassword, noUser, broken, noBody])
      expect(sessionCookieLine(r)).toBeUndefined();
    expect(u.cookie).toBeUndefined();
    expect(await redisKeys(redis.url)).toEqual([]);
  });

  it("the session cookie is JSESSIONID, HttpOnly, SameSite=Lax, path /, sent again on each visit", async () => {
    const [web1] = await pair("redis", redis.url);
    const carol = new User("carol");
    const login = await carol.login(web1.url);
    const line = sessionCookieLine(login);
    expect(line).toBeDefined();
    expect(line).toMatch(/; Path=\/(;|$)/);
    expect(line).toMatch(/; HttpOnly(;|$)/);
    expect(line).toMatch(/; SameSite=Lax(;|$)/);
    expect(line).toMatch(/; Expires=/);

    const again = await carol.whoami(web1.url);
    const renewed = sessionCookieLine(again);
    expect(renewed?.split(";")[0]).toBe(line?.split(";")[0]);
  });

  it("a JSON login answers JSON, and logout ends the session on every server", async () => {
    const [web1, web2] = await pair("redis", redis.url);
    const dave = new User("dave");
    const login = await dave.request(web1.url, "/login", { json: { user: "dave", password: "pw" } });
    expect(login.status).toBe(200);
    expect(login.json()).toMatchObject({ server: "web1", user: "dave", visits: 0 });
    expect(await redisKeys(redis.url)).toHaveLength(1);

    const logout = await dave.request(web2.url, "/logout", { method: "POST", accept: "application/json" });
    expect(logout.status).toBe(200);
    expect(logout.json()).toEqual({ server: "web2", user: null });
    expect(dave.cookie).toBeUndefined();
    expect(await redisKeys(redis.url)).toEqual([]);

    const formLogout = await new User("x").request(web1.url, "/logout", { method: "POST" });
    expect(formLogout.status).toBe(303);
    expect(formLogout.headers.get("location")).toBe("/login");
  });

  it("logging in again gives a new session id (no session fixation)", async () => {
    const [web1] = await pair("redis", redis.url);
    const erin = new User("erin");
    await erin.login(web1.url);
    const first = erin.cookie;
    await erin.login(web1.url);
    expect(erin.cookie).not.toBe(first);
    expect(await redisKeys(redis.url)).toHaveLength(1);
  });

  it("every response names the server that produced it in X-Served-By", async () => {
    const [, web2] = await pair("redis", redis.url);
    const u = new User("frank");
    const replies = [
      await u.request(web2.url, "/login", { method: "HEAD" }),
      await u.request(web2.url, "/login"),
      await u.whoami(web2.url),
      await u.request(web2.url, "/login", { form: { user: "frank" } }),
      await u.login(web2.url),
      await u.request(web2.url, "/nowhere"),
      await u.request(web2.url, "/health"),
    ];
    expect(replies.map((r) => r.status)).toEqual([200, 200, 401, 400, 303, 404, 200]);
    for (const r of replies) expect(r.headers.get("x-served-by")).toBe("web2");
  });

  it("GET /health reports the store: 200 with redis up", async () => {
    const [web1] = await pair("redis", redis.url);
    const r = await new User("h").request(web1.url, "/health");
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ server: "web1", store: "redis", redis: "up" });
  });

  it("servers that sign cookies with different secrets cannot share sessions", async () => {
    const web1 = await startWeb("web1", "redis", redis.url, { secret: "one" });
    const web2 = await startWeb("web2", "redis", redis.url, { secret: "two" });
    const gina = new User("gina");
    await gina.login(web1.url);
    expect((await gina.whoami(web1.url)).status).toBe(200);
    expect((await gina.whoami(web2.url)).status).toBe(401);
  });
});

describe("web-demo in cookie mode (sessions in memory)", () => {
  it("a session started on web1 is unknown to web2", async () => {
    const [web1, web2] = await pair("memory");
    const alice = new User("alice");
    expect((await alice.login(web1.url)).status).toBe(303);
    expect((await alice.whoami(web1.url)).json()).toMatchObject({ server: "web1", user: "alice", visits: 1 });

    const onWeb2 = await alice.whoami(web2.url);
    expect(onWeb2.status).toBe(401);
    expect(onWeb2.json()).toEqual({ server: "web2", user: null, visits: null, sessionId: null });
    const page = await alice.request(web2.url, "/login");
    expect(page.body).toContain('<form method="post" action="/login">');
  });

  it("when web1 stops, the sessions it held are lost", async () => {
    const [web1, web2] = await pair("memory");
    const bob = new User("bob");
    await bob.login(web1.url);
    expect((await bob.whoami(web1.url)).status).toBe(200);
    await web1.web.stop();
    expect((await bob.whoami(web2.url)).status).toBe(401);
  });

  it("GET /health says the store is memory and Redis does not apply; --redis is accepted and unused", async () => {
    const web1 = await startWeb("web1", "memory", "redis://127.0.0.1:1");
    const r = await new User("h").request(web1.url, "/health");
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ server: "web1", store: "memory", redis: "n/a" });
    const head = await new User("h").request(web1.url, "/login", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(sessionCookieLine(head)).toBeUndefined();
  });

  it("pages escape the user name", async () => {
    const web1 = await startWeb("web1", "memory", undefined);
    const evil = new User(`<script>alert("x")</script>`);
    await evil.login(web1.url);
    const page = await evil.request(web1.url, "/login");
    expect(page.body).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(page.body).not.toContain("<script>");
  });
});

describe("web-demo when Redis fails (shared mode)", () => {
  it("Redis stopped: both servers answer 503 quickly, log one line, and serve again when it returns", async () => {
    const redis = await startRedis();
    onTestFinished(() => redis.stop());
    const [web1, web2] = await pair("redis", redis.url);
    const alice = new User("alice");
    await alice.login(web1.url);
    expect((await alice.whoami(web2.url)).status).toBe(200);

    redis.proc.kill("SIGKILL");
    await redis.proc.exited;

    for (const web of [web1, web2]) {
      for (let i = 0; i < 10; i++) {
        const who = await alice.whoami(web.url);
        expect(who.status).toBe(503);
        expect(who.ms).toBeLessThan(1000);
        expect(who.json()).toMatchObject({ server: web.web.demo.name, code: "FUL_REDIS", redis: "down" });
        expect(who.json()).not.toHaveProperty("user");
      }
      const page = await alice.request(web.url, "/login");
      expect(page.status).toBe(503);
      expect(page.ms).toBeLessThan(1000);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      expect(page.body).toContain("Sessions are unavailable right now");
      expect(sessionCookieLine(page)).toBeUndefined();

      const anonymous = await new User("anon").request(web.url, "/login");
      expect(anonymous.status).toBe(503);
      const login = await new User("zoe").login(web.url);
      expect(login.status).toBe(503);
      expect(sessionCookieLine(login)).toBeUndefined();

      const health = await alice.request(web.url, "/health");
      expect(health.status).toBe(503);
      expect(health.json()).toEqual({ server: web.web.demo.name, store: "redis", redis: "down" });
      expect((await alice.request(web.url, "/login", { method: "HEAD" })).status).toBe(200);
      expect(web.lines.filter((l) => l.includes("DOWN"))).toHaveLength(1);
    }

    await redis.restart();
    for (const web of [web1, web2]) {
      await waitFor(async () => (await alice.request(web.url, "/health")).status === 200, {
        what: `${web.web.demo.name} serving again`,
      });
    }
    // Nothing was queued while Redis was away: none of the 20 failed reads reaches it now.
    expect(await commandCalls(redis.url, "get")).toBe(0);
    // The restarted Redis is empty (no persistence): alice must log in again, and can.
    expect((await alice.whoami(web1.url)).status).toBe(401);
    await alice.login(web1.url);
    expect((await alice.whoami(web2.url)).json()).toMatchObject({ user: "alice", visits: 1, server: "web2" });
    for (const web of [web1, web2]) {
      expect(web.lines.filter((l) => l.includes("DOWN"))).toHaveLength(1);
      expect(web.lines.filter((l) => l.includes("UP again"))).toHaveLength(1);
    }
  });

  it("Redis frozen (SIGSTOP): requests get 503 within the deadline, sessions resume intact after SIGCONT", async () => {
    const redis = await startRedis();
    onTestFinished(() => redis.stop());
    const web1 = await startWeb("web1", "redis", redis.url);
    const bob = new User("bob");
    await bob.login(web1.url);
    expect((await bob.whoami(web1.url)).json().visits).toBe(1);

    redis.proc.kill("SIGSTOP");
    onTestFinished(() => redis.proc.kill("SIGCONT"));
    const frozen = await bob.whoami(web1.url);
    expect(frozen.status).toBe(503);
    expect(frozen.ms).toBeLessThan(2000);
    expect((await bob.request(web1.url, "/health")).status).toBe(503);

    redis.proc.kill("SIGCONT");
    // Anonymous visitors alone bring the store back: while it is down they ask Redis again.
    const visitor = new User("visitor");
    await waitFor(async () => (await visitor.request(web1.url, "/login")).status === 200, {
      what: "the login form again after SIGCONT",
    });
    expect(web1.lines.filter((l) => l.includes("UP again"))).toHaveLength(1);
    const resumed = await waitFor(
      async () => {
        const r = await bob.whoami(web1.url);
        return r.status === 200 ? r : undefined;
      },
      { what: "web1 serving again after SIGCONT" },
    );
    // The visit that failed was not written: the count goes on from where it was.
    expect(resumed.json()).toMatchObject({ user: "bob", visits: 2 });
    expect(web1.lines.filter((l) => l.includes("DOWN"))).toHaveLength(1);
  });

  it("a server started while Redis is down listens, answers 503, and serves once Redis comes up", async () => {
    const redis = await startRedis();
    onTestFinished(() => redis.stop());
    await redis.proc.stop();
    const web1 = await startWeb("web1", "redis", redis.url);
    const r = await new User("a").login(web1.url);
    expect(r.status).toBe(503);
    await redis.restart();
    const u = new User("late");
    await waitFor(async () => (await u.login(web1.url)).status === 303, {
      what: "login accepted once Redis is up",
    });
    expect((await u.whoami(web1.url)).json()).toMatchObject({ user: "late", visits: 1 });
  });
});
