/**
 * What a figure depends on besides the code: the machine, its load, the versions of the
 * programs compared, the commit measured. Read once per run.
 */
import { spawnSync } from "node:child_process";
import { cpus, loadavg, release, totalmem } from "node:os";
import type { Machine } from "./report.js";

/** First non-empty line a program prints for its version (stdout or stderr), or "absent". */
export function versionLine(cmd: string, args: readonly string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 5000, ...(cwd ? { cwd } : {}) });
  if (r.error) return "absent";
  const text = `${r.stdout ?? ""}\n${r.stderr ?? ""}`;
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l !== "") ?? "unknown"
  );
}

/** The commit measured (short hash), or "unknown" outside a git checkout. */
export function commitOf(root: string): string {
  const r = spawnSync("git", ["rev-parse", "--short", "HEAD"], {
    cwd: root,
    encoding: "utf8",
    timeout: 5000,
  });
  return r.status === 0 ? r.stdout.trim() : "unknown";
}

export function loadAvg1(): number {
  return loadavg()[0] ?? 0;
}

export function machineFacts(root: string, loadAvgStart: number): Machine {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? "unknown",
    cores: c.length,
    memMiB: Math.round(totalmem() / 2 ** 20),
    kernel: release(),
    loadAvgStart,
    loadAvgEnd: loadAvg1(),
    node: process.version,
    haproxy: versionLine("haproxy", ["-v"]),
    nginx: versionLine("nginx", ["-v"]),
    wrk: versionLine("wrk", ["-v"]).replace(/\s+Copyright.*$/, ""),
    commit: commitOf(root),
  };
}
