/** Plain-text tables and the status view. Pure: values in, text out. */
import type { LabView } from "./view.js";

/** Columns padded to their widest cell; numbers right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === "number"));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...cells.slice(1).map(line)].join("\n");
}

export function percent(x: number): string {
  return `${(x * 100).toFixed(x === 1 || x === 0 ? 0 : 1)}%`;
}

export function msText(ms: number | undefined): string {
  return ms === undefined ? "-" : `${Math.round(ms)} ms`;
}

/** The status view: nodes, then the service line. `rate` is requests/s seen since last time. */
export function renderView(view: LabView, rate?: number): string {
  const rows = view.nodes.map((n) => [
    n.name,
    n.pid === undefined ? "-" : String(n.pid),
    n.alive ? "running" : "stopped",
    n.port === 0 ? "-" : String(n.port),
    n.health,
    n.detail ?? "",
  ]);
  const servers = view.servers.map((s) => `${s.name} ${s.status}`).join(", ") || "unknown";
  const lines = [
    `lab ${view.dir}  (${view.mode} mode, ${view.topology === "pair" ? "HA pair" : "single load balancer"}${view.lb === "haproxy" ? ", HAProxy" : ""}, ${view.condition})`,
    table(["node", "pid", "process", "port", "health", "detail"], rows),
    `service ${view.serviceUrl}  active: ${view.masters.join(", ") || "none"}  servers: ${servers}`,
  ];
  if (view.facts) {
    lines.push(
      `requests ${view.facts.requests}${rate !== undefined ? ` (${rate.toFixed(0)}/s)` : ""}  errors ${view.facts.errors}  5xx ${view.facts.http5xx}`,
    );
  }
  return lines.join("\n");
}

export function renderUrls(view: Pick<LabView, "serviceUrl" | "statsUrls" | "config">): string {
  return [
    `service   ${view.serviceUrl}`,
    ...Object.entries(view.statsUrls).map(([lb, url]) => `stats ${lb} ${url}`),
    `config    ${view.config.join(" ")}`,
  ].join("\n");
}
