/**
 * `fulcrum web-demo` as users and the lab run it: the compiled CLI (run `npm run build`
 * first), a real redis-server, real sockets.
 */
import { connect, type Socket } from "node:net";
import { createClient } from "redis";
import { describe, expect, it, onTestFinished } from "vitest";
import { type Proc, runCli, spawnCli, startRedis, waitFor } from "../helpers/index.js";
import { User } from "./web-demo-client.js";

async function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ proc: Proc; url: string }> {
  const proc = spawnCli(["web-demo", "--port", "0", ...args], { env });
  onTestFinished(() => proc.stop());
  const url = await waitFor(() => /listening on (http:\/\/\S+)/.exec(proc.stdout())?.[1], {
    timeout: 10_000,
    what: `web-demo listening (stderr: ${proc.stderr()})`,
  });
  return { proc, url };
}

/** Reads from a raw socket until `done(text)` says the reply is complete. */
function readUntil(sock: Socket, done: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (d: Buffer) => {
      text += d.toString("latin1");
      if (done(text)) {
        sock.off("data", onData);
        resolve(text);
      }
    };
    sock.on("data", onData);
    sock.once("error", reject);
    sock.once("close", () => resolve(text));
  });
}

describe("fulcrum web-demo (the command)", () => {
  it("SIGTERM stops accepting, finishes the in-flight login, closes the store and exits 0", async () => {
    const redis = await startRedis();
    onTestFinished(() => redis.stop());
    const { proc, url } = await startCli([
      "--name",
      "web1",
      "--store",
      "redis",
      "--redis",
      redis.url,
      "--secret",
      "s",
    ]);
    const { port } = new URL(url);

    // A login whose body has not arrived yet: the server has read the headers (it answered
    // 100 Continue) and is waiting for the rest.
    const sock = connect(Number(port), "127.0.0.1");
    onTestFinished(() => {
      sock.destroy();
    });
    const body = "user=inflight&password=pw";
    sock.write(
      "POST /login HTTP/1.1\r\nHost: web1\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
        `Content-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`,
    );
    await readUntil(sock, (t) => t.includes("100 Continue\r\n\r\n"));

    proc.kill("SIGTERM");
    await waitFor(
      () => proc.stdout().includes("SIGTERM: no new connections, finishing 1 in-flight request(s)"),
      {
        what: "the stop announcement",
      },
    );
    await expect(new User("late").request(url, "/login", { method: "HEAD" })).rejects.toThrow();

    // The server closes the connection after this last response: read until then.
    const replied = readUntil(sock, () => false);
    sock.write(body);
    const reply = await replied;
    expect(reply).toMatch(/^HTTP\/1\.1 303 /);
    expect(reply).toMatch(/\r\nSet-Cookie: JSESSIONID=/i);
    expect(reply).toMatch(/\r\nConnection: close\r\n/i);

    expect(await proc.exited).toBe(0);
    expect(proc.stdout()).toMatch(/web1: stopped\n$/);

    // The in-flight login was stored before the store closed.
    const c = createClient({ url: redis.url });
    await c.connect();
    onTestFinished(() => c.destroy());
    const keys = await c.keys("fulcrum:websess:*");
    expect(keys).toHaveLength(1);
    expect(JSON.parse((await c.get(keys[0]!)) ?? "{}")).toMatchObject({ user: "inflight", visits: 0 });
  });

  it("SIGINT stops it too, with exit 0", async () => {
    const { proc, url } = await startCli(["--name", "web2"]);
    expect((await new User("a").request(url, "/login", { method: "HEAD" })).headers.get("x-served-by")).toBe(
      "web2",
    );
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(0);
  });

  it("two commands sharing Redis and FULCRUM_SESSION_SECRET serve each other's sessions", async () => {
    const redis = await startRedis();
    onTestFinished(() => redis.stop());
    const env = { FULCRUM_SESSION_SECRET: "from-the-environment" };
    const shared = ["--store", "redis", "--redis", redis.url];
    const web1 = await startCli(["--name", "web1", ...shared], env);
    const web2 = await startCli(["--name", "web2", ...shared], env);
    const u = new User("alice");
    expect((await u.login(web1.url)).status).toBe(303);
    expect((await u.whoami(web2.url)).json()).toMatchObject({ server: "web2", user: "alice", visits: 1 });
    expect(web1.proc.stderr()).not.toContain("demo secret");
  });

  it("warns once on stderr when it signs cookies with the public demo secret", async () => {
    const { proc } = await startCli(["--name", "web1"], { FULCRUM_SESSION_SECRET: undefined });
    const warnings = proc
      .stderr()
      .split("\n")
      .filter((l) => l.includes("public demo secret"));
    expect(warnings).toHaveLength(1);
  });

  it.each([
    [["--name", "web1", "--port", "0", "--store", "disk"], 'unknown --store "disk"'],
    [["--name", "web1", "--port", "0", "--store", "redis"], "--store redis needs --redis URL"],
    [["--name", "web1", "--port", "0", "--store", "redis", "--redis", "http://x"], "invalid Redis URL"],
    [["--port", "0"], "--name"],
  ])("refuses %j with exit 2 and a one-line reason", async (args, message) => {
    const r = await runCli(["web-demo", ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it("a port already in use is a runtime error (exit 1) that names the address", async () => {
    const { url } = await startCli(["--name", "web1"]);
    const { port } = new URL(url);
    const r = await runCli(["web-demo", "--name", "web2", "--port", port]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
  });
});
