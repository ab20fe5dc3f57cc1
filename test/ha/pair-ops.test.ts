/**
 * What an operator of the HA pair sees and hooks into, with real nodes: each node's stats page
 * (HA block) and runtime API (`show ha`), a configuration that differs between the nodes, and
 * keepalived-style notify scripts.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { CLI, tempDir, waitFor } from "../helpers/index.js";
import { activePair, ask, startPair } from "./pair-harness.js";

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
});

/** `show ha` as key -> value. */
function fields(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split("\n")
      .filter((l) => l.includes(": "))
      .map((l) => [l.slice(0, l.indexOf(": ")), l.slice(l.indexOf(": ") + 2)]),
  );
}

function script(path: string, body: string): string {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** A folder for the scripts and what they write, removed after the test. */
function scratch(): string {
  const d = tempDir("fulcrum-notify-");
  onTestFinished(() => d.remove());
  return d.path;
}

const read = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : "");

describe("HA pair of real proxy nodes: what the operator sees", () => {
  it("the stats page and show ha give this node's role, epoch and priority, the peer's role and the age of its last advert", async () => {
    const pair = await activePair();
    // lb2 advertised INIT while it started: the next advert says BACKUP.
    await waitFor(async () => (await pair.view("lb1")).peer?.role === "BACKUP", {
      what: "lb1 to hear lb2 as BACKUP",
    });
    const lb1 = await pair.view("lb1");
    expect(lb1).toMatchObject({ node: "lb1", role: "MASTER", priority: 150, mismatch: false });
    expect(lb1.epoch).toBeGreaterThan(0);
    expect(lb1.peer).toMatchObject({ name: "lb2", role: "BACKUP" });
    expect(lb1.peer?.advertAge).toMatch(/^0\.\ds ago$/);
    const lb2 = await pair.view("lb2");
    expect(lb2).toMatchObject({ node: "lb2", role: "BACKUP", priority: 100 });
    expect(lb2.peer).toMatchObject({ name: "lb1", role: "MASTER" });
    const ha = fields((await pair.ctl("lb2", "show ha")).stdout);
    expect(ha).toMatchObject({
      node: "lb2",
      role: "BACKUP",
      priority: "100",
      peer: "lb1",
      peer_role: "MASTER",
    });
    expect(Number(ha.peer_last_advert_ms)).toBeLessThan(1000);

    // The peer is gone: its last advert ages, the new MASTER shows its new epoch.
    pair.signal("lb1", "SIGKILL");
    await pair.ended("lb1");
    await pair.expectRoles({ lb2: "MASTER" });
    const lb2now = await pair.view("lb2");
    expect(lb2now.role).toBe("MASTER");
    expect(lb2now.epoch).toBeGreaterThan(lb1.epoch);
    await waitFor(
      async () => Number(fields((await pair.ctl("lb2", "show ha")).stdout).peer_last_advert_ms) > 500,
      {
        what: "lb1's last advert to age",
      },
    );
  });

  it("a configuration checksum that differs between the nodes is logged loudly and shown on the stats page; both keep working", async () => {
    const pair = await startPair();
    const edited = join(pair.dir, "pair-edited.cfg");
    writeFileSync(edited, pair.config(" (edited on lb2 only)"));
    await pair.start("lb1");
    await pair.expectRoles({ lb1: "MASTER" });
    await pair.start("lb2", edited);
    await pair.expectRoles({ lb1: "MASTER", lb2: "BACKUP" });
    const loud =
      /WARNING: configuration differs from lb\d's \(checksum [0-9a-f]{12} here, [0-9a-f]{12} there\): both keep working, fix it/;
    await waitFor(() => loud.test(pair.node("lb1").log()) && loud.test(pair.node("lb2").log()), {
      what: "both nodes to log the mismatch",
    });
    await waitFor(async () => (await pair.view("lb1")).mismatch && (await pair.view("lb2")).mismatch, {
      what: "both stats pages to show the mismatch",
    });
    // Both keep working: lb1 serves, and lb2 still takes over.
    expect(await ask(pair.servicePort)).toMatchObject({ kind: "ok", lb: "lb1" });
    pair.signal("lb1", "SIGKILL");
    await pair.ended("lb1");
    await pair.expectRoles({ lb2: "MASTER" });
    expect(await ask(pair.servicePort)).toMatchObject({ kind: "ok", lb: "lb2" });
    pair.assertNeverTwoMasters();
  });

  it("notify SCRIPT runs on each transition with keepalived's arguments (INSTANCE name state priority)", async () => {
    const dir = scratch();
    const out = join(dir, "notify.out");
    const notify = script(join(dir, "notify.sh"), `echo "$*" >> "${out}"`);
    const pair = await activePair({ notify });
    const name = pair.haName;
    await waitFor(() => read(out).includes(`INSTANCE ${name} BACKUP 100`), { what: "lb2's BACKUP notify" });
    // Scripts run in the background: lines of one node's quick transitions may interleave, and
    // a node whose Redis connection opens slowly on a busy machine passes through FAULT first.
    const lines = read(out).split("\n").filter(Boolean);
    for (const l of lines)
      expect(l).toMatch(new RegExp(`^INSTANCE ${name} (MASTER|BACKUP|FAULT|STOP) (150|100)$`));
    expect(lines).toEqual(
      expect.arrayContaining([
        `INSTANCE ${name} BACKUP 150`,
        `INSTANCE ${name} MASTER 150`,
        `INSTANCE ${name} BACKUP 100`,
      ]),
    );
    pair.signal("lb1", "SIGTERM");
    await pair.ended("lb1");
    await pair.expectRoles({ lb2: "MASTER" });
    await waitFor(() => read(out).includes(`INSTANCE ${name} MASTER 100`), { what: "lb2's MASTER notify" });
    expect(read(out)).toContain(`INSTANCE ${name} STOP 150\n`);
  });

  it("a notify script that fails or hangs is logged and never delays the transition", async () => {
    const dir = scratch();
    // MASTER: hangs past the 5 s timeout; anything else: exits 3.
    const notify = script(join(dir, "notify.sh"), `[ "$3" = MASTER ] && exec sleep 8\nexit 3`);
    const pair = await activePair({ notify });
    // lb1 became MASTER and serves while its MASTER script still runs.
    expect(await ask(pair.servicePort)).toMatchObject({ kind: "ok", lb: "lb1" });
    await waitFor(
      () =>
        /WARNING: notify \S+notify\.sh INSTANCE \S+ BACKUP 150 failed: exit code 3/.test(
          pair.node("lb1").log(),
        ),
      { what: "lb1's failed notify to be logged" },
    );
    await waitFor(
      () => /notify \S+ INSTANCE \S+ BACKUP 100 failed: exit code 3/.test(pair.node("lb2").log()),
      {
        what: "lb2's failed notify to be logged",
      },
    );
    await waitFor(
      () =>
        /notify \S+ INSTANCE \S+ MASTER 150 failed: no exit after 5000 ms, killed/.test(
          pair.node("lb1").log(),
        ),
      { what: "the hanging script to be killed", timeout: 8000 },
    );
    await pair.expectRoles({ lb1: "MASTER", lb2: "BACKUP" });
  });
});
