/**
 * bench/results/latest.json: the one committed result file. It holds the latest throughput
 * run and the latest failover run for each signal; each command replaces only its own part.
 * Written to a .tmp file first (git-ignored) and renamed, so a crash never leaves half a file.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type Section = "throughput" | "failover";

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Pure: the new file content, the other sections kept when the old file was readable. With
 * `key`, the report goes under section.key (failover keeps one report per signal).
 */
export function mergeResults(
  existing: string | undefined,
  section: Section,
  report: unknown,
  key?: string,
): string {
  let doc: Record<string, unknown> = {};
  if (existing !== undefined) {
    try {
      const parsed: unknown = JSON.parse(existing);
      if (isRecord(parsed)) doc = parsed;
    } catch {
      // unreadable: start again
    }
  }
  const old = doc[section];
  const value = key === undefined ? report : { ...(isRecord(old) ? old : {}), [key]: report };
  const merged = { ...doc, [section]: value };
  return `${JSON.stringify(merged, null, 2)}\n`;
}

export function resultsDir(root: string): string {
  return join(root, "bench", "results");
}

/** Writes the section (or section.key) into latest.json; returns the file's path. */
export function writeLatest(root: string, section: Section, report: unknown, key?: string): string {
  const dir = resultsDir(root);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "latest.json");
  let existing: string | undefined;
  try {
    existing = readFileSync(file, "utf8");
  } catch {
    existing = undefined;
  }
  const tmp = join(dir, `latest.json.${process.pid}.tmp`);
  writeFileSync(tmp, mergeResults(existing, section, report, key));
  renameSync(tmp, file);
  return file;
}
