/**
 * What one `fulcrum bench` run measures: the targets, the response bodies, the connection
 * counts and the durations. Pure: flags in, a plan out.
 */
import { UsageError } from "../proxy/errors.js";

export const TARGET_NAMES = ["fulcrum", "haproxy", "nginx", "direct"] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

/** The two responses every upstream serves (static files, so nginx answers from the page cache). */
export const BODIES = {
  small: { path: "/small", text: "hello fulcrum\n" },
  "16k": { path: "/16k", text: "0123456789abcdef".repeat(1024) },
} as const;
export type BodyKind = keyof typeof BODIES;
export const BODY_KINDS = Object.keys(BODIES) as BodyKind[];

export interface Scenario {
  /** `small-c50`, `16k-c256`, ... */
  readonly id: string;
  readonly body: BodyKind;
  readonly connections: number;
}

export interface RunPlan {
  readonly quick: boolean;
  /** Length of each measured wrk run. */
  readonly durationS: number;
  /** Unmeasured load on each target and body before the first measured run (JIT, pools). */
  readonly warmupS: number;
  /** wrk threads: one, so the client uses one core and the proxy under test the other. */
  readonly threads: number;
  /** wrk's per-request timeout: a request slower than this counts as an error. */
  readonly requestTimeoutS: number;
  readonly scenarios: readonly Scenario[];
}

export const CONNECTIONS = [50, 256] as const;

const DURATIONS = {
  full: { durationS: 10, warmupS: 2 },
  quick: { durationS: 3, warmupS: 1 },
} as const;

export function scenarioId(body: BodyKind, connections: number): string {
  return `${body}-c${connections}`;
}

export function runPlan(quick: boolean): RunPlan {
  const scenarios = BODY_KINDS.flatMap((body) =>
    CONNECTIONS.map((connections) => ({ id: scenarioId(body, connections), body, connections })),
  );
  return { quick, ...DURATIONS[quick ? "quick" : "full"], threads: 1, requestTimeoutS: 2, scenarios };
}

/** `fulcrum,haproxy` -> the targets, in the canonical order; unknown names are a usage error. */
export function parseTargets(list: string): TargetName[] {
  const words = list
    .split(",")
    .map((w) => w.trim().toLowerCase())
    .filter((w) => w !== "");
  if (words.length === 0) {
    throw new UsageError(`--targets is empty: give some of ${TARGET_NAMES.join(",")}`);
  }
  for (const w of words) {
    if (!(TARGET_NAMES as readonly string[]).includes(w)) {
      throw new UsageError(`unknown target "${w}" in --targets: choose from ${TARGET_NAMES.join(",")}`);
    }
  }
  return TARGET_NAMES.filter((t) => words.includes(t));
}

/** Seconds a whole run takes at least (for the progress line). */
export function plannedSeconds(plan: RunPlan, targets: number): number {
  return targets * (plan.scenarios.length * plan.durationS + BODY_KINDS.length * plan.warmupS);
}
