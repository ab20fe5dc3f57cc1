/** What `lab up` says when something it needs is missing: one line, with what to do. */
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { expect, onTestFinished, test } from "vitest";
import { runCli, tempDir } from "../helpers/index.js";

test("lab up without redis-server in PATH says how to install it and starts nothing", async () => {
  const d = tempDir("fulcrum-lab-noredis-");
  onTestFinished(() => d.remove());
  const r = await runCli(["lab", "up", "--detach", "--dir", d.path], {
    env: { PATH: join(d.path, "empty-bin") },
  });
  expect(r.code).toBe(1);
  expect(r.stderr.trim().split("\n")).toEqual([
    "fulcrum: redis-server is not installed: run `apt-get install -y redis-server` (or give --redis redis://HOST:PORT)",
  ]);
  expect(existsSync(join(d.path, "state.json"))).toBe(false);
});

test("lab up --base-port on a port in use names the port and what to do", async () => {
  const d = tempDir("fulcrum-lab-port-");
  onTestFinished(() => d.remove());
  const srv = createServer();
  await new Promise<void>((res) => srv.listen(0, "127.0.0.1", () => res()));
  onTestFinished(() => new Promise<void>((res) => srv.close(() => res())));
  const addr = srv.address();
  if (addr === null || typeof addr === "string") throw new Error("no port");
  // the busy port is web1's (base + 5)
  const base = addr.port - 5;
  const r = await runCli(["lab", "up", "--detach", "--base-port", String(base), "--dir", d.path]);
  expect(r.code).toBe(1);
  // Another process may hold one of the other ports of the range too: the first busy one is named.
  expect(r.stderr).toMatch(/port \d+ \([a-z0-9 ]+\) is in use: choose another --base-port/);
  expect(existsSync(join(d.path, "state.json"))).toBe(false);
});

test("a wrong lab command line exits 2 with one line", async () => {
  const r = await runCli(["lab", "up", "--mode", "sticky"]);
  expect(r.code).toBe(2);
  expect(r.stderr.trim()).toBe('fulcrum: unknown --mode "sticky": use cookie or shared');
});
