import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { isAlive, parseStartTime, procStartTime, refOf, signalRef } from "../../lab/proc.js";
import {
  acquireLock,
  type LabState,
  labCondition,
  labPaths,
  readState,
  removeState,
  writeState,
} from "../../lab/state.js";
import { isGone, tempDir, waitFor } from "../helpers/index.js";

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

function labDir(): string {
  const d = tempDir("fulcrum-lab-state-");
  dirs.push(d);
  return d.path;
}

function sampleState(dir: string): LabState {
  return {
    version: 1,
    dir,
    createdAt: "2026-01-01T00:00:00.000Z",
    mode: "shared",
    topology: "pair",
    lb: "fulcrum",
    ports: {
      service: 8080,
      stats: { lb1: 8081, lb2: 8082 },
      peer: { lb1: 8083, lb2: 8084 },
      web1: 8085,
      web2: 8086,
      redis: 8087,
    },
    redisUrl: "redis://127.0.0.1:8087",
    redisManaged: true,
    secret: "s",
    configDir: join(dir, "config"),
    configFiles: [join(dir, "config", "10-service.cfg")],
    nodes: {},
  };
}

describe("lab state file", () => {
  test("the state written by lab up reads back the same (ports, pids, mode, redis URL, config)", () => {
    const dir = labDir();
    const s = sampleState(dir);
    s.nodes.web1 = { pid: 123, start: 456, log: join(dir, "logs/web1.log"), startedAt: "now" };
    writeState(s);
    expect(readState(dir)).toEqual(s);
    removeState(dir);
    expect(readState(dir)).toBeUndefined();
  });

  test("a corrupt state file is an error that says to run lab down", () => {
    const dir = labDir();
    writeFileSync(labPaths(dir).state, "{not json");
    expect(() => readState(dir)).toThrow(/lab down/);
  });

  test("a lab whose processes are all gone is detected as left by a crash", () => {
    const s = sampleState("/x");
    s.nodes = {
      web1: { pid: 1, start: 1, log: "", startedAt: "" },
      web2: { pid: 2, start: 2, log: "", startedAt: "" },
    };
    expect(labCondition(s, () => false)).toBe("crashed");
    expect(labCondition(s, (r) => r.pid === 1)).toBe("degraded");
    expect(labCondition(s, () => true)).toBe("running");
    expect(labCondition(sampleState("/x"), () => true)).toBe("empty");
  });
});

describe("lab lock", () => {
  test("a second lab up in the same folder is refused while the first holds the lock", () => {
    const dir = labDir();
    const release = acquireLock(dir);
    expect(() => acquireLock(dir)).toThrow(/another `fulcrum lab` command/);
    release();
    const again = acquireLock(dir);
    again();
  });

  test("a lock left by a process that is gone is taken over", () => {
    const dir = labDir();
    writeFileSync(labPaths(dir).lock, JSON.stringify({ pid: 999_999_999, start: 1 }));
    const release = acquireLock(dir);
    expect(JSON.parse(readFileSync(labPaths(dir).lock, "utf8")).pid).toBe(process.pid);
    release();
    expect(existsSync(labPaths(dir).lock)).toBe(false);
  });
});

describe("pids with start times", () => {
  test("field 22 of /proc/PID/stat is read even when the command name holds spaces and parentheses", () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[19] = "777";
    expect(parseStartTime(`42 (a b) c)) ${fields.join(" ")}`)).toBe(777);
    expect(parseStartTime("garbage")).toBeUndefined();
  });

  test("a recorded pid whose start time differs (a reused pid) is not signalled", async () => {
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    const pid = child.pid!;
    try {
      const ref = refOf(pid);
      expect(ref.start).toBe(procStartTime(pid));
      expect(isAlive(ref)).toBe(true);
      const stale = { pid, start: ref.start + 1 };
      expect(isAlive(stale)).toBe(false);
      expect(signalRef(stale, "SIGKILL")).toBe(false);
      expect(isAlive(ref)).toBe(true);
      expect(signalRef(ref, "SIGKILL")).toBe(true);
      await waitFor(() => isGone(pid) || !isAlive(ref), { what: "the sleep process to end" });
    } finally {
      child.kill("SIGKILL");
    }
  });
});
