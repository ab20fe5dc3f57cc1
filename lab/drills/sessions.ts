/**
 * Drill "sessions": the tutorial's first weakness. N users log in through the service
 * (roundrobin spreads them over web1 and web2), web1 dies, and every user asks who they are:
 * in cookie mode the users whose session lived in web1's memory are silently moved to web2
 * (option redispatch) and are logged out; in shared mode web2 reads their session from
 * Redis and nobody notices. web1 is started again afterwards.
 */
import { killNode, startNode } from "../ops.js";
import type { LabState, Mode } from "../state.js";
import {
  activeNode,
  checkUsers,
  type Progress,
  requireAllRunning,
  type SessionsCheck,
  switchMode,
  tallySessions,
  type UserAnswer,
  usersPerServer,
  waitServer,
} from "./common.js";
import { loginUsers } from "./users.js";

export interface SessionsResult {
  readonly drill: "sessions";
  readonly mode: Mode;
  readonly users: number;
  /** Users per server at login. */
  readonly loggedInOn: Record<string, number>;
  readonly killed: "web1";
  /** How long the active node took to mark web1 DOWN. */
  readonly web1DownAfterMs: number | null;
  readonly after: SessionsCheck;
  /** Users that had logged in on web1 and lost their session. */
  readonly lostFromWeb1: number;
  readonly restored: boolean;
  readonly verdict: string;
  readonly answers: readonly UserAnswer[];
}

export interface SessionsOptions {
  readonly users: number;
  readonly mode?: Mode;
  readonly progress: Progress;
}

/** Pure: one sentence saying what happened. */
export function sessionsVerdict(
  r: Pick<SessionsResult, "mode" | "users" | "after" | "loggedInOn" | "lostFromWeb1">,
): string {
  const onWeb1 = r.loggedInOn.web1 ?? 0;
  if (r.after.lost === 0 && r.after.failed === 0 && r.after.unknown === 0) {
    return `every user is still logged in (${r.after.movedKept} moved to web2 and kept their session)`;
  }
  return `${r.after.lost} of ${r.users} users lost their session (${r.lostFromWeb1} of the ${onWeb1} who lived on web1)${
    r.after.failed + r.after.unknown > 0 ? `, ${r.after.failed + r.after.unknown} got no clear answer` : ""
  }`;
}

export async function sessionsDrill(state: LabState, opts: SessionsOptions): Promise<SessionsResult> {
  requireAllRunning(state);
  const original = state.mode;
  const mode = opts.mode ?? state.mode;
  await switchMode(state, mode, opts.progress);
  try {
    await activeNode(state);
    opts.progress(`logging in ${opts.users} users through ${state.ports.service}`);
    const users = await loginUsers(state.ports.service, opts.users, `${mode}-user`);
    const loggedInOn = usersPerServer(users);
    opts.progress(
      `logged in: ${Object.entries(loggedInOn)
        .map(([s, n]) => `${n} on ${s}`)
        .join(", ")}; killing web1`,
    );
    killNode(state, "web1", "KILL");
    let web1DownAfterMs: number | null = null;
    try {
      web1DownAfterMs = await waitServer(state, "web1", "DOWN", 5000);
      opts.progress(`the active node marked web1 DOWN after ${web1DownAfterMs} ms`);
    } catch (err) {
      opts.progress(`${(err as Error).message}; checking the users anyway`);
    }
    const answers = await checkUsers(users);
    const after = tallySessions(answers);
    const lostFromWeb1 = answers.filter((a) => a.loginServer === "web1" && a.answer === "lost").length;
    opts.progress("starting web1 again");
    let restored = true;
    try {
      await startNode(state, "web1");
      await waitServer(state, "web1", "UP", 10_000);
    } catch (err) {
      restored = false;
      opts.progress(`web1 did not come back: ${(err as Error).message}`);
    }
    const base = { mode, users: opts.users, after, loggedInOn, lostFromWeb1 };
    return {
      drill: "sessions",
      ...base,
      killed: "web1",
      web1DownAfterMs,
      restored,
      verdict: sessionsVerdict(base),
      answers,
    };
  } finally {
    if (opts.mode !== undefined && original !== mode) await switchMode(state, original, opts.progress);
  }
}
