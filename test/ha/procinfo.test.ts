import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  hostIdentity,
  isSameProcessAlive,
  parseProcStat,
  processStartTime,
  processState,
  selfIdentity,
} from "../../ha/procinfo.js";
import { spawnProc, waitFor } from "../helpers/index.js";

describe("process identity", () => {
  it("reads the start time from field 22 of /proc/PID/stat, even with spaces and parentheses in the name", () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[0] = "S";
    const text = `1234 (weird) name (x)) ${fields.join(" ")}`;
    expect(parseProcStat(text)).toEqual({ state: "S", start: 22 });
  });

  it("this process is alive with its own start time; the host identity has a boot id", () => {
    const me = selfIdentity();
    expect(me.pid).toBe(process.pid);
    expect(me.start).toBeGreaterThan(0);
    expect(processStartTime(process.pid)).toBe(me.start);
    expect(processState(me.pid, me.start)).toBe("alive");
    expect(hostIdentity().boot).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("a pid with another start time is a different process (pid reused): proven gone", () => {
    const me = selfIdentity();
    expect(processState(me.pid, me.start + 1)).toBe("gone");
    expect(isSameProcessAlive(me.pid, me.start + 1)).toBe(false);
  });

  it("a killed process is proven gone; a stopped (SIGSTOP) one is still alive", async () => {
    const child = spawnProc("sleep", ["30"]);
    const start = await waitFor(() => processStartTime(child.pid), { what: "the child's start time" });
    child.kill("SIGSTOP");
    await waitFor(() => /\) T /.test(readFileSync(`/proc/${child.pid}/stat`, "utf8")), {
      what: "the child to stop",
    });
    expect(processState(child.pid, start)).toBe("alive");
    child.kill("SIGKILL");
    await child.exited;
    expect(processState(child.pid, start)).toBe("gone");
  });

  it("without a pid or start time there is no proof either way", () => {
    expect(processState(0, 5)).toBe("unknown");
    expect(processState(5, 0)).toBe("unknown");
    expect(isSameProcessAlive(5, 0)).toBe(true);
  });
});
