/**
 * `lab chaos --schedule CRON`: for an overnight run. On each tick of a wall-clock schedule
 * (node-cron; the only place a cron library belongs) a random node is killed and started
 * again after --down-ms, while logged-in users and the probe keep asking the service; a
 * running tally of availability and lost sessions is printed after each round. Users whose
 * session was lost log in again (and are counted once per loss).
 */
import cron from "node-cron";
import type { LabFlags } from "../cli/lab.js";
import { UsageError } from "../proxy/errors.js";
import { startLoad } from "./drills/load.js";
import { addToTally, emptyTally, GapTracker, type Tally } from "./drills/stats.js";
import { type LabUser, loginUsers } from "./drills/users.js";
import { LabError } from "./errors.js";
import type { Handler } from "./main.js";
import { labDir, parseCount, printJson, progress } from "./main.js";
import { labNodes, sleepMs } from "./nodes.js";
import { killNode, requireLab, startNode } from "./ops.js";
import { percent } from "./render.js";
import { acquireLock, type LabState, type NodeName } from "./state.js";

export interface ChaosRound {
  readonly at: string;
  readonly node: NodeName;
  readonly restarted: boolean;
  readonly error?: string;
}

/** Pure: the node of a round, from a random number in [0, 1). */
export function pickNode(nodes: readonly NodeName[], random: number): NodeName {
  return nodes[Math.min(nodes.length - 1, Math.floor(random * nodes.length))]!;
}

/** Pure: the tally line printed after each round. */
export function tallyLine(t: Tally): string {
  const avail = t.requests === 0 ? 1 : t.ok / t.requests;
  return `rounds ${t.rounds}  requests ${t.requests}  availability ${percent(avail)}  failed ${t.failed}  longest gap ${Math.round(t.longestGapMs)} ms  sessions lost ${t.sessionsLost}`;
}

function parseNodes(text: string | undefined, state: LabState): NodeName[] {
  const all = labNodes(state).filter((n) => n !== "redis" || state.redisManaged);
  if (text === undefined) return all.filter((n) => n !== "redis");
  const wanted = text.split(",").map((s) => s.trim());
  for (const n of wanted) {
    if (!(all as string[]).includes(n))
      throw new UsageError(`--nodes: "${n}" is not a node of this lab (${all.join(", ")})`);
  }
  return wanted as NodeName[];
}

export const chaosCommand: Handler = async (_args, flags: LabFlags) => {
  const schedule = flags.schedule;
  if (schedule === undefined)
    throw new UsageError('lab chaos needs --schedule CRON, e.g. --schedule "*/30 * * * * *" (every 30 s)');
  if (!cron.validate(schedule))
    throw new UsageError(`--schedule "${schedule}" is not a cron expression, e.g. "*/30 * * * * *"`);
  const dir = labDir(flags);
  const state = requireLab(dir);
  const nodes = parseNodes(flags.nodes, state);
  const downMs = parseCount(flags["down-ms"], "down-ms", 2000, 0, 600_000);
  const maxRounds = parseCount(flags.rounds, "rounds", 0, 0, 1_000_000);
  const userCount = parseCount(flags.users, "users", 10, 1, 1000);
  const release = acquireLock(dir);
  const tally = emptyTally();
  const gaps = new GapTracker();
  const rounds: ChaosRound[] = [];
  const users = await loginUsers(state.ports.service, userCount, "chaos");
  const relogging = new Set<LabUser>();
  const load = startLoad({
    port: state.ports.service,
    users,
    probeEveryMs: 100,
    userPauseMs: 200,
    keepEvents: false,
    maxMs: 7 * 24 * 3600_000,
    onEvent: (e, d) => {
      addToTally(tally, e);
      gaps.add(e.t, e.ok);
      tally.longestGapMs = Math.round(gaps.longest);
      if (e.kind === "logged-out" && d && !relogging.has(d.user)) {
        tally.sessionsLost++;
        relogging.add(d.user);
        void d.user.login().finally(() => relogging.delete(d.user));
      }
    },
  });
  let busy = false;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => {
    finish = r;
  });
  const task = cron.schedule(schedule, async () => {
    if (busy) return; // a round still running: skip this tick
    busy = true;
    const node = pickNode(nodes, Math.random());
    const at = new Date().toISOString();
    try {
      progress(`round ${tally.rounds + 1}: killing ${node}`);
      killNode(state, node, "KILL");
      await sleepMs(downMs);
      await startNode(state, node);
      rounds.push({ at, node, restarted: true });
    } catch (err) {
      rounds.push({ at, node, restarted: false, error: (err as Error).message });
      progress(`round failed: ${(err as Error).message}`);
    } finally {
      tally.rounds++;
      process.stderr.write(`${tallyLine(tally)}\n`);
      busy = false;
      if (maxRounds > 0 && tally.rounds >= maxRounds) finish();
    }
  });
  process.once("SIGINT", finish);
  process.once("SIGTERM", finish);
  progress(`chaos on ${nodes.join(", ")} at "${schedule}"; Ctrl-C stops (the lab keeps running)`);
  try {
    await done;
  } finally {
    await task.stop();
    while (busy) await sleepMs(50);
    await load.stop();
    release();
  }
  const summary = { drill: "chaos", schedule, nodes, rounds, tally };
  if (flags.json) printJson(summary);
  else process.stdout.write(`${tallyLine(tally)}\n`);
  if (rounds.some((r) => !r.restarted))
    throw new LabError("some rounds could not restart their node: see `fulcrum lab status`");
};
