/**
 * Shared mode through Redis Sentinel: the web-demo asks a real Sentinel (redis-server
 * --sentinel) for the master it monitors.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import type { Logger } from "../../web-demo/app.js";
import { startWebDemo } from "../../web-demo/server.js";
import { freePort, spawnProc, startRedis, tempDir, waitFor } from "../helpers/index.js";
import { User } from "./web-demo-client.js";

async function startSentinel(masterPort: number): Promise<number> {
  const port = await freePort();
  const dir = tempDir("fulcrum-sentinel-");
  onTestFinished(() => dir.remove());
  const conf = join(dir.path, "sentinel.conf");
  writeFileSync(
    conf,
    [
      `port ${port}`,
      "bind 127.0.0.1",
      `dir ${dir.path}`,
      `sentinel monitor fulcrum 127.0.0.1 ${masterPort} 1`,
      "sentinel down-after-milliseconds fulcrum 1000",
      "",
    ].join("\n"),
  );
  const proc = spawnProc("redis-server", [conf, "--sentinel"]);
  onTestFinished(() => proc.stop());
  await waitFor(() => proc.stdout().includes("+monitor master fulcrum"), {
    timeout: 10_000,
    what: `redis sentinel on port ${port}`,
  });
  return port;
}

describe("web-demo with Redis Sentinel", () => {
  it("a session started on web1 is served by web2 through the master Sentinel names", async () => {
    const redis = await startRedis();
    onTestFinished(() => redis.stop());
    const sentinelPort = await startSentinel(redis.port);
    const url = `redis-sentinel://127.0.0.1:${sentinelPort}/fulcrum`;

    const lines: string[] = [];
    const logger: Logger = { info: (l) => lines.push(l), warn: (l) => lines.push(l) };
    const webs = await Promise.all(
      ["web1", "web2"].map((name) =>
        startWebDemo({ name, store: "redis", redisUrl: url, secret: "s", port: 0, logger }),
      ),
    );
    for (const w of webs) onTestFinished(() => w.stop());
    const [web1, web2] = webs as [(typeof webs)[0], (typeof webs)[0]];

    const health = await new User("h").request(web1.url, "/health");
    expect(health.json()).toEqual({ server: "web1", store: "redis", redis: "up" });
    const u = new User("sentinel-user");
    expect((await u.login(web1.url)).status).toBe(303);
    expect((await u.whoami(web2.url)).json()).toMatchObject({
      server: "web2",
      user: "sentinel-user",
      visits: 1,
    });
    expect(lines.filter((l) => l.includes("DOWN"))).toEqual([]);
  });

  it("master stopped: 503 within the deadline, and service again when it returns", async () => {
    const redis = await startRedis();
    onTestFinished(() => redis.stop());
    const sentinelPort = await startSentinel(redis.port);
    const lines: string[] = [];
    const logger: Logger = { info: (l) => lines.push(l), warn: (l) => lines.push(l) };
    const web1 = await startWebDemo({
      name: "web1",
      store: "redis",
      redisUrl: `redis-sentinel://127.0.0.1:${sentinelPort}/fulcrum`,
      secret: "s",
      port: 0,
      logger,
    });
    onTestFinished(() => web1.stop());
    const u = new User("s2");
    await u.login(web1.url);

    redis.proc.kill("SIGKILL");
    await redis.proc.exited;
    const down = await u.whoami(web1.url);
    expect(down.status).toBe(503);
    expect(down.ms).toBeLessThan(2000);

    await redis.restart();
    const back = await waitFor(
      async () => {
        const r = await new User("s3").login(web1.url);
        return r.status === 303 ? r : undefined;
      },
      { timeout: 15_000, what: "login through Sentinel after the master returned" },
    );
    expect(back.status).toBe(303);
    expect(lines.filter((l) => l.includes("DOWN"))).toHaveLength(1);
  });
});
