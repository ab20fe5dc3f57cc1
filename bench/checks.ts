/**
 * Before any load: is each target doing the job it is compared on? A few requests through it
 * say which upstream answered (X-Upstream), which X-Forwarded-For the upstream saw, and
 * whether the 16 KiB body came back whole. Pure: samples in, findings out. A finding that
 * starts with "PROBLEM" means the figures of that target compare different work.
 */
import type { TargetName } from "./plan.js";

export interface CheckSample {
  readonly status: number;
  /** X-Upstream of the answer ("a", "b"), undefined when absent. */
  readonly upstream: string | undefined;
  /** X-Seen-Forwarded-For of the answer: what the upstream received. */
  readonly forwardedFor: string | undefined;
}

export interface CheckInput {
  readonly target: TargetName;
  /** Answers to consecutive GET /small on fresh connections. */
  readonly small: readonly CheckSample[];
  /** Length of the GET /16k body, and the length expected. */
  readonly bigBytes: number;
  readonly bigExpected: number;
}

export function checkFindings(c: CheckInput): string[] {
  const out: string[] = [];
  const bad = c.small.filter((s) => s.status !== 200);
  if (bad.length > 0)
    out.push(`PROBLEM: ${bad.length}/${c.small.length} answers were not 200 (${bad[0]!.status})`);
  const order = c.small.map((s) => s.upstream ?? "?").join(",");
  const distinct = new Set(c.small.map((s) => s.upstream ?? "?"));
  if (c.target === "direct") out.push(`upstream ${order}`);
  else if (distinct.size >= 2 && !distinct.has("?")) out.push(`balanced ${order}`);
  else out.push(`PROBLEM: not balanced over both upstreams (${order})`);
  if (c.target !== "direct") {
    const xff = c.small.map((s) => s.forwardedFor ?? "");
    if (xff.every((v) => v.split(",").some((p) => p.trim() === "127.0.0.1"))) {
      out.push(`X-Forwarded-For ${xff[0]}`);
    } else out.push(`PROBLEM: X-Forwarded-For missing upstream (${xff.join(" / ") || "none"})`);
  }
  if (c.bigBytes === c.bigExpected) out.push(`${c.bigExpected}-byte body whole`);
  else out.push(`PROBLEM: 16k body came back with ${c.bigBytes} of ${c.bigExpected} bytes`);
  return out;
}

export function hasProblem(findings: readonly string[]): boolean {
  return findings.some((f) => f.startsWith("PROBLEM"));
}
