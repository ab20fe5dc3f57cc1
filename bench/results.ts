/**
 * bench/results/latest.json: the one committed result file. It holds the latest throughput
 * run and the latest failover run side by side; each command replaces only its own section.
 * Written to a .tmp file first (git-ignored) and renamed, so a crash never leaves half a file.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type Section = "throughput" | "failover";

/** Pure: the new file content, the other section kept when the old file was readable. */
export function mergeResults(existing: string | undefined, section: Section, report: unknown): string {
  let doc: Record<string, unknown> = {};
  if (existing !== undefined) {
    try {
      const parsed: unknown = JSON.parse(existing);
      if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
        doc = parsed as Record<string, unknown>;
      }
    } catch {
      // unreadable: start again
    }
  }
  const merged = { ...doc, [section]: report };
  return `${JSON.stringify(merged, null, 2)}\n`;
}

export function resultsDir(root: string): string {
  return join(root, "bench", "results");
}

/** Writes the section into latest.json; returns the file's path. */
export function writeLatest(root: string, section: Section, report: unknown): string {
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
  writeFileSync(tmp, mergeResults(existing, section, report));
  renameSync(tmp, file);
  return file;
}
