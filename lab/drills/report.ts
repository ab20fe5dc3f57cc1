/**
 * How drill results are shown: a text table for the terminal and a self-contained HTML
 * report (inline CSS and SVG, no script, nothing fetched) with the timeline chart:
 * successful and failed requests per 100 ms, the kill and the takeover marked. Pure.
 */
import { msText, percent, table } from "../render.js";
import type { CompareResult } from "./compare.js";
import type { FailoverResult, Mark } from "./failover.js";
import type { RedisResult } from "./redis.js";
import type { SessionsResult } from "./sessions.js";
import type { Bucket } from "./stats.js";

export type DrillResult = SessionsResult | FailoverResult | RedisResult | CompareResult;

type Row = readonly [string, string];

function kinds(byKind: Record<string, number>): string {
  const parts = Object.entries(byKind).map(([k, n]) => `${k} ${n}`);
  return parts.length === 0 ? "none" : parts.join(", ");
}

export function sessionsRows(r: SessionsResult): Row[] {
  return [
    ["mode", `${r.mode} (${r.mode === "shared" ? "sessions in Redis" : "sessions in each server's memory"})`],
    [
      "users logged in",
      `${r.users} (${Object.entries(r.loggedInOn)
        .map(([s, n]) => `${n} on ${s}`)
        .join(", ")})`,
    ],
    ["web1 marked DOWN after", msText(r.web1DownAfterMs ?? undefined)],
    ["still logged in", `${r.after.loggedIn} (${r.after.movedKept} of them moved to web2)`],
    ["moved to web2 and lost", String(r.after.movedLost)],
    ["lost (all)", `${r.after.lost} (${r.lostFromWeb1} had logged in on web1)`],
    ["no clear answer", String(r.after.unknown + r.after.failed)],
    ["web1 restored", r.restored ? "yes" : "no"],
  ];
}

export function failoverRows(r: FailoverResult): Row[] {
  return [
    ["mode", r.mode],
    ["killed", `${r.killed} (${r.signal})`],
    ["new MASTER", r.newMaster ?? "none"],
    ["time to new MASTER", msText(r.takeoverMs ?? undefined)],
    ["longest gap without success", msText(r.longestGapMs)],
    [
      "requests",
      `${r.requests.total} (${r.requests.failed} failed; probe ${r.probe.failed}/${r.probe.total} failed)`,
    ],
    ["failed by kind", kinds(r.failuresByKind)],
    ["users still logged in", `${r.sessions.loggedIn}/${r.sessions.total}`],
    ["MASTERs after", r.mastersAfter.join(", ") || "none"],
    ["restore", r.restored],
  ];
}

export function redisRows(r: RedisResult): Row[] {
  const phase = (name: string, p: RedisResult["before"]): Row => [
    name,
    `proxy ${percent(p.probe.total ? p.probe.ok / p.probe.total : 1)}, users ${percent(p.users.total ? p.users.ok / p.users.total : 1)}, own server ${percent(p.persistence)}; failed: ${kinds(p.failuresByKind)}`,
  ];
  return [
    ["mode", r.mode],
    ["Redis down for", msText(r.downMs)],
    phase("before", r.before),
    phase("while Redis was down", r.during),
    phase("after", r.after),
    ["users served again after", msText(r.recoveryMs ?? undefined)],
    ["users still logged in", `${r.sessions.loggedIn}/${r.sessions.total}`],
    ["MASTERs while down", `${r.masters.min}..${r.masters.max}`],
  ];
}

export function compareRows(c: CompareResult): (readonly string[])[] {
  const col = (m: "cookie" | "shared") => c.modes[m];
  const s = (m: "cookie" | "shared") => col(m).sessions;
  const f = (m: "cookie" | "shared") => col(m).failover;
  const both = (fn: (m: "cookie" | "shared") => string): string[] => [fn("cookie"), fn("shared")];
  return [
    ["web1 dies: users still logged in", ...both((m) => `${s(m).after.loggedIn}/${s(m).users}`)],
    ["web1 dies: moved to web2 and lost", ...both((m) => String(s(m).after.movedLost))],
    ["active LB killed: time to new MASTER", ...both((m) => msText(f(m)?.takeoverMs ?? undefined))],
    ["active LB killed: longest gap", ...both((m) => (f(m) ? msText(f(m)!.longestGapMs) : "-"))],
    ["active LB killed: failed requests", ...both((m) => (f(m) ? String(f(m)!.requests.failed) : "-"))],
    [
      "active LB killed: users still logged in",
      ...both((m) => (f(m) ? `${f(m)!.sessions.loggedIn}/${f(m)!.sessions.total}` : "-")),
    ],
  ];
}

function twoColumns(rows: readonly Row[]): string {
  return table(["", ""], rows).split("\n").slice(2).join("\n");
}

/** The terminal text of a drill result. */
export function renderResult(r: DrillResult): string {
  switch (r.drill) {
    case "sessions":
      return `drill sessions: kill web1 with users logged in\n${twoColumns(sessionsRows(r))}\n=> ${r.verdict}`;
    case "failover":
      return `drill failover: ${r.signal} the active load balancer under load\n${twoColumns(failoverRows(r))}\n=> ${r.verdict}`;
    case "redis":
      return `drill redis: kill Redis under load\n${twoColumns(redisRows(r))}\n=> ${r.verdict}`;
    case "compare":
      return `drill compare: cookie mode (the tutorial) vs shared mode (sessions in Redis), ${(r.durationMs / 1000).toFixed(1)} s\n${table(["", "cookie", "shared"], compareRows(r))}`;
  }
}

// ---- HTML -------------------------------------------------------------------------------

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The timeline: one bar pair per bucket (ok up in green, failed down in red), marks as lines. */
export function timelineSvg(buckets: readonly Bucket[], marks: readonly Mark[], bucketMs = 100): string {
  const barW = Math.max(2, Math.min(12, Math.floor(900 / Math.max(1, buckets.length))));
  const width = Math.max(300, buckets.length * barW) + 60;
  const top = 20;
  const mid = 130;
  const bottom = 200;
  const maxOk = Math.max(1, ...buckets.map((b) => b.ok));
  const maxFail = Math.max(1, ...buckets.map((b) => b.failed));
  const x0 = 50;
  const xOf = (t: number) => x0 + ((t - (buckets[0]?.t ?? 0)) / bucketMs) * barW;
  const bars = buckets
    .map((b, i) => {
      const x = x0 + i * barW;
      const hOk = Math.round(((mid - top) * b.ok) / maxOk);
      const hFail = Math.round(((bottom - mid - 10) * b.failed) / maxFail);
      return (
        (hOk > 0
          ? `<rect x="${x}" y="${mid - hOk}" width="${barW - 1}" height="${hOk}" class="ok"><title>${(b.t / 1000).toFixed(1)} s: ${b.ok} ok</title></rect>`
          : "") +
        (hFail > 0
          ? `<rect x="${x}" y="${mid}" width="${barW - 1}" height="${hFail}" class="fail"><title>${(b.t / 1000).toFixed(1)} s: ${b.failed} failed</title></rect>`
          : "")
      );
    })
    .join("");
  const ticks = buckets
    .filter((_, i) => i % 10 === 0)
    .map((b) => `<text x="${xOf(b.t)}" y="${bottom + 14}" class="tick">${(b.t / 1000).toFixed(0)}s</text>`)
    .join("");
  const markSvg = marks
    .map(
      (m, i) =>
        `<line x1="${xOf(m.t)}" x2="${xOf(m.t)}" y1="${top - 5}" y2="${bottom}" class="mark"/>` +
        `<text x="${xOf(m.t) + 3}" y="${top + 10 + (i % 3) * 12}" class="mlabel">${esc(m.label)} (${(m.t / 1000).toFixed(2)} s)</text>`,
    )
    .join("");
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${bottom + 24}" role="img" aria-label="requests per ${bucketMs} ms">` +
    `<text x="2" y="${top + 10}" class="tick">ok ${maxOk}</text><text x="2" y="${bottom - 4}" class="tick">fail ${maxFail}</text>` +
    `<line x1="${x0}" x2="${width}" y1="${mid}" y2="${mid}" class="axis"/>${bars}${ticks}${markSvg}</svg>`
  );
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
th{background:#f2f2f2}.verdict{font-weight:600}.ok{fill:#2e8b57}.fail{fill:#c0392b}
.axis{stroke:#888}.mark{stroke:#1d5fa7;stroke-dasharray:4 3}.mlabel{fill:#1d5fa7;font-size:11px}.tick{fill:#666;font-size:10px}
svg{border:1px solid #ddd;background:#fcfcfc;max-width:100%}`;

function rowsTable(rows: readonly (readonly string[])[], header?: readonly string[]): string {
  const head = header ? `<tr>${header.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>` : "";
  return `<table>${head}${rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th>${esc(c)}</th>` : `<td>${esc(c)}</td>`)).join("")}</tr>`).join("")}</table>`;
}

function section(
  title: string,
  rows: readonly Row[],
  verdict: string,
  buckets?: readonly Bucket[],
  marks?: readonly Mark[],
): string {
  return (
    `<h2>${esc(title)}</h2>${rowsTable(rows)}<p class="verdict">${esc(verdict)}</p>` +
    (buckets && buckets.length > 0
      ? `<p>Requests per 100 ms: successful above the line, failed below.</p>${timelineSvg(buckets, marks ?? [])}`
      : "")
  );
}

/** A self-contained HTML page for a drill result. */
export function htmlReport(r: DrillResult, generatedAt: string): string {
  let body: string;
  switch (r.drill) {
    case "sessions":
      body = section("Sessions: web1 killed with users logged in", sessionsRows(r), r.verdict);
      break;
    case "failover":
      body = section(
        `Failover: ${r.signal} to the active load balancer`,
        failoverRows(r),
        r.verdict,
        r.timeline,
        r.marks,
      );
      break;
    case "redis":
      body = section("Redis killed under load", redisRows(r), r.verdict, r.timeline, r.marks);
      break;
    case "compare":
      body =
        `<h2>Cookie mode (the tutorial) vs shared mode</h2>${rowsTable(compareRows(r), ["", "cookie", "shared"])}` +
        (["cookie", "shared"] as const)
          .map((m) => {
            const f = r.modes[m].failover;
            return f ? section(`Failover in ${m} mode`, failoverRows(f), f.verdict, f.timeline, f.marks) : "";
          })
          .join("");
      break;
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>fulcrum lab: drill ${r.drill}</title><style>${CSS}</style></head><body><h1>fulcrum lab: drill ${r.drill}</h1><p>${esc(generatedAt)}</p>${body}</body></html>\n`;
}
