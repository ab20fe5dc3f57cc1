/**
 * What every drill needs from the lab: a running lab, the active node, waiting until the
 * active node sees a server UP or DOWN, switching the web servers' session store, and the
 * sessions check after a drill.
 */
import { LabError } from "../errors.js";
import { labNodes, sleepMs, spawnNode, stopProcess } from "../nodes.js";
import { readiness, waitForNode } from "../ops.js";
import { isAlive } from "../proc.js";
import { type LabState, type LbName, type Mode, type WebName, writeState } from "../state.js";
import { lbSnapshot } from "../view.js";
import type { LabUser, SessionAnswer } from "./users.js";

export type Progress = (line: string) => void;

/** Fails unless every node of the lab runs. */
export function requireAllRunning(state: LabState): void {
  for (const node of labNodes(state)) {
    const rec = state.nodes[node];
    if (!rec || !isAlive(rec)) {
      throw new LabError(
        `${node} is not running: start it with \`fulcrum lab start ${node}\` before a drill`,
      );
    }
  }
}

/** The one node that serves, waiting up to `ms` for there to be exactly one. */
export async function activeNode(state: LabState, ms = 5000): Promise<LbName> {
  const deadline = Date.now() + ms;
  for (;;) {
    const snap = await lbSnapshot(state);
    if (snap.active.length === 1) return snap.active[0]!;
    if (Date.now() > deadline) {
      throw new LabError(
        snap.active.length === 0
          ? "no load balancer is active (no MASTER): see `fulcrum lab status`"
          : `more than one load balancer is active (${snap.active.join(", ")}): see \`fulcrum lab status\``,
      );
    }
    await sleepMs(50);
  }
}

/** Status of a server as the active node's checks see it ("UP", "DOWN", "UP 1/2" ...). */
export async function serverStatus(state: LabState, server: WebName): Promise<string | undefined> {
  const snap = await lbSnapshot(state);
  const active = snap.active[0];
  if (!active) return undefined;
  return snap.probes[active]?.facts?.servers.find((s) => s.name === server)?.status;
}

/** Waits until the active node's checks say the server is UP (or DOWN); returns the ms waited. */
export async function waitServer(
  state: LabState,
  server: WebName,
  want: "UP" | "DOWN",
  ms = 5000,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const s = await serverStatus(state, server);
    if (s !== undefined && s.split(" ")[0] === want && !s.includes("/")) return Date.now() - started;
    if (Date.now() - started > ms) {
      throw new LabError(
        `the active load balancer did not see ${server} ${want} within ${ms} ms (last status: ${s ?? "unknown"})`,
      );
    }
    await sleepMs(25);
  }
}

/** Restarts one web server (same port, the state's store) and waits until it serves and is UP. */
export async function restartWeb(state: LabState, web: WebName, progress: Progress): Promise<void> {
  const rec = state.nodes[web];
  if (rec) await stopProcess(rec, 3000);
  state.nodes[web] = spawnNode(state, web);
  writeState(state);
  await waitForNode(state, web, readiness(state, web), Date.now() + 15_000, "ready");
  await waitServer(state, web, "UP", 10_000);
  progress(`${web}: restarted with the ${state.mode === "shared" ? "redis" : "memory"} store`);
}

/**
 * Switches the web servers' session store (cookie mode: memory; shared mode: Redis) by
 * restarting them one after the other, so the service keeps one server throughout.
 */
export async function switchMode(state: LabState, mode: Mode, progress: Progress): Promise<void> {
  if (state.mode === mode) return;
  progress(`switching the web servers to ${mode} mode`);
  state.mode = mode;
  writeState(state);
  for (const web of ["web1", "web2"] as const) await restartWeb(state, web, progress);
}

export interface SessionsCheck {
  readonly total: number;
  /** Still logged in (200 as the same user). */
  readonly loggedIn: number;
  /** Logged in, answered by another server than the one they logged in on. */
  readonly movedKept: number;
  /** Not logged in any more (401). */
  readonly lost: number;
  /** Lost, and answered by another server than the login one: moved silently and lost. */
  readonly movedLost: number;
  /** The server could not tell (503 store down). */
  readonly unknown: number;
  /** The request failed (no answer, 5xx from the proxy). */
  readonly failed: number;
}

export interface UserAnswer {
  readonly user: string;
  readonly loginServer?: string;
  readonly answer: SessionAnswer;
  readonly server?: string;
}

/** Pure: the tally of the per-user answers. */
export function tallySessions(answers: readonly UserAnswer[]): SessionsCheck {
  const moved = (a: UserAnswer) =>
    a.server !== undefined && a.loginServer !== undefined && a.server !== a.loginServer;
  return {
    total: answers.length,
    loggedIn: answers.filter((a) => a.answer === "kept").length,
    movedKept: answers.filter((a) => a.answer === "kept" && moved(a)).length,
    lost: answers.filter((a) => a.answer === "lost").length,
    movedLost: answers.filter((a) => a.answer === "lost" && moved(a)).length,
    unknown: answers.filter((a) => a.answer === "store-down").length,
    failed: answers.filter((a) => a.answer === "failed").length,
  };
}

/** Asks every user's /whoami once (a few at a time). */
export async function checkUsers(users: readonly LabUser[]): Promise<UserAnswer[]> {
  const out: UserAnswer[] = [];
  const batch = 8;
  for (let i = 0; i < users.length; i += batch) {
    const part = users.slice(i, i + batch);
    const answers = await Promise.all(part.map((u) => u.whoami(3000)));
    part.forEach((u, j) => {
      const a = answers[j]!;
      out.push({
        user: u.name,
        ...(u.loginServer !== undefined ? { loginServer: u.loginServer } : {}),
        answer: a.answer,
        ...(a.server !== undefined ? { server: a.server } : {}),
      });
    });
  }
  return out;
}

/** Counts users per login server. */
export function usersPerServer(users: readonly LabUser[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const u of users) out[u.loginServer ?? "?"] = (out[u.loginServer ?? "?"] ?? 0) + 1;
  return out;
}
