/**
 * The drill commands: read the lab, take its lock (two drills on one lab would kill each
 * other's nodes), run, print the table (or only the JSON with --json), write the HTML
 * report with --report.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { LabFlags } from "../../cli/lab.js";
import type { Handler } from "../main.js";
import { labDir, parseCount, parseMode, parseSignal, printJson, progress } from "../main.js";
import { requireLab } from "../ops.js";
import { acquireLock, type LabState } from "../state.js";
import { compareDrill } from "./compare.js";
import { FAILOVER_SIGNALS, failoverDrill } from "./failover.js";
import { redisDrill } from "./redis.js";
import { type DrillResult, htmlReport, renderResult } from "./report.js";
import { sessionsDrill } from "./sessions.js";

const DEFAULT_USERS = 20;

function withLab(run: (state: LabState, flags: LabFlags) => Promise<DrillResult>): Handler {
  return async (_args, flags) => {
    const dir = labDir(flags);
    const state = requireLab(dir);
    const release = acquireLock(dir);
    let result: DrillResult;
    try {
      result = await run(state, flags);
    } finally {
      release();
    }
    if (flags.report !== undefined) {
      const file = resolve(flags.report);
      writeFileSync(file, htmlReport(result, new Date().toISOString()));
      progress(`report written to ${file}`);
    }
    if (flags.json) printJson(result);
    else process.stdout.write(`${renderResult(result)}\n`);
  };
}

const users = (flags: LabFlags) => parseCount(flags.users, "users", DEFAULT_USERS, 1, 1000);

export const DRILLS: Readonly<Record<string, Handler>> = {
  failover: withLab((state, flags) =>
    failoverDrill(state, {
      signal: parseSignal(flags.signal, FAILOVER_SIGNALS, "KILL") as (typeof FAILOVER_SIGNALS)[number],
      users: users(flags),
      progress,
    }),
  ),
  sessions: withLab((state, flags) =>
    sessionsDrill(state, {
      users: users(flags),
      ...(flags.mode !== undefined ? { mode: parseMode(flags.mode, state.mode) } : {}),
      progress,
    }),
  ),
  redis: withLab((state, flags) =>
    redisDrill(state, {
      users: users(flags),
      downMs: parseCount(flags["down-ms"], "down-ms", 2000, 100, 60_000),
      progress,
    }),
  ),
  compare: withLab((state, flags) => compareDrill(state, { users: users(flags), progress })),
};
