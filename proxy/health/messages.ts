/**
 * The lines HAProxy 2.6 logs (and prints on stderr as [WARNING]/[ALERT]) when a server changes
 * state, recorded from `haproxy -db`:
 *
 *   Server web_proxy/webA is DOWN, reason: Layer4 connection problem, info: "Connection refused",
 *   check duration: 0ms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued,
 *   0 remaining in queue.
 *   Server web_proxy/webA is UP, reason: Layer7 check passed, code: 200, check duration: 4ms.
 *   2 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.
 *
 * A backup server says "Backup Server"; with no active server left and a backup usable the
 * counts end with " Running on backup.". The syslog severity goes with each line.
 */
import type { CheckOutcome } from "./status.js";
import { CHECK_STATUSES } from "./status.js";

/** Syslog severities used here. */
export const SEVERITY = { emerg: 0, alert: 1, notice: 5 } as const;

export interface Message {
  readonly text: string;
  readonly severity: number;
}

export interface ServerFacts {
  readonly backend: string;
  readonly server: string;
  readonly backup: boolean;
  /** Usable servers after the change. */
  readonly activeLeft: number;
  readonly backupLeft: number;
}

export interface CheckFacts {
  readonly outcome: CheckOutcome;
  readonly durationMs: number;
}

function who(f: ServerFacts): string {
  return `${f.backup ? "Backup Server" : "Server"} ${f.backend}/${f.server}`;
}

/**
 * A check's text inside the log's quotes, escaped as HAProxy escapes it: a quote and any
 * control character become `<XX>` (hex).
 */
function escapeInfo(text: string): string {
  return text.replace(
    /["\x00-\x1f\x7f]/g,
    (c) => `<${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}>`,
  );
}

function reason(c: CheckFacts): string {
  const code = c.outcome.code !== undefined ? `, code: ${c.outcome.code}` : "";
  const info = c.outcome.info ? `, info: "${escapeInfo(c.outcome.info)}"` : "";
  return `reason: ${CHECK_STATUSES[c.outcome.status].desc}${code}${info}, check duration: ${Math.round(c.durationMs)}ms`;
}

function counts(f: ServerFacts, word: "left" | "online"): string {
  const onBackup = f.activeLeft === 0 && f.backupLeft > 0 ? " Running on backup." : "";
  return `${f.activeLeft} active and ${f.backupLeft} backup servers ${word}.${onBackup}`;
}

/**
 * With `option log-health-checks` the transition lines leave the reason out (the check line
 * before them gave it): "Server b/s1 is DOWN. 0 active and ...".
 */
function because(c: CheckFacts | undefined): string {
  return c === undefined ? "." : `, ${reason(c)}.`;
}

/**
 * `option log-health-checks`: a check that changed the server's health or its check status,
 * e.g. `Health check for server b/s1 failed, reason: Layer7 wrong status, code: 503, info:
 * "Service Unavailable", check duration: 1ms, status: 2/3 UP.` (notice). `health` is after
 * the check; `weighted` is false for a server whose weight is 0 (HAProxy then says DRAIN).
 */
export function healthCheckMessage(
  f: Pick<ServerFacts, "backend" | "server" | "backup">,
  c: CheckFacts,
  h: { health: number; rise: number; fall: number; weighted: boolean },
): Message {
  const row = CHECK_STATUSES[c.outcome.status];
  const verdict = `${c.outcome.status === "L7OKC" ? "conditionally " : ""}${row.passed ? "succeeded" : "failed"}`;
  const up = h.health >= h.rise;
  const status = up
    ? `${h.health - h.rise + 1}/${h.fall} ${h.weighted ? "UP" : "DRAIN"}`
    : `${h.health}/${h.rise} DOWN`;
  return {
    text: `Health check for ${f.backup ? "backup " : ""}server ${f.backend}/${f.server} ${verdict}, ${reason(c)}, status: ${status}.`,
    severity: SEVERITY.notice,
  };
}

/** A checked server went DOWN. `active` is its requests in flight, `requeued` those moved away. */
export function downMessage(
  f: ServerFacts,
  c: CheckFacts | undefined,
  q: { active: number; requeued: number; remaining: number },
): Message {
  return {
    text: `${who(f)} is DOWN${because(c)} ${counts(f, "left")} ${q.active} sessions active, ${q.requeued} requeued, ${q.remaining} remaining in queue.`,
    severity: SEVERITY.alert,
  };
}

/** A checked server came UP. `requeued` is what it took from the backend queue. */
export function upMessage(
  f: ServerFacts,
  c: CheckFacts | undefined,
  q: { requeued: number; queued: number },
): Message {
  return {
    text: `${who(f)} is UP${because(c)} ${counts(f, "online")} ${q.requeued} sessions requeued, ${q.queued} total in queue.`,
    severity: SEVERITY.notice,
  };
}

/**
 * `http-check disable-on-404`: an UP server answered 404 and goes NOLB (a notice):
 * `Server b/s1 is stopping, reason: Layer7 check conditionally passed, code: 404, ...`.
 */
export function stoppingMessage(
  f: ServerFacts,
  c: CheckFacts | undefined,
  q: { requeued: number; queued: number },
): Message {
  return {
    text: `${who(f)} is stopping${because(c)} ${counts(f, "online")} ${q.requeued} sessions requeued, ${q.queued} total in queue.`,
    severity: SEVERITY.notice,
  };
}

/** `set server ... state drain`. */
export function drainMessage(f: ServerFacts, q: { requeued: number; queued: number }): Message {
  return {
    text: `${who(f)} enters drain state. ${counts(f, "online")} ${q.requeued} sessions requeued, ${q.queued} total in queue.`,
    severity: SEVERITY.notice,
  };
}

/**
 * `set server ... state maint` (or `disable server`) of a running server: an alert, a notice
 * when it was draining already.
 */
export function maintMessage(
  f: ServerFacts,
  q: { active: number; requeued: number; remaining: number },
  wasDraining = false,
): Message {
  return {
    text: `${who(f)} is going DOWN for maintenance. ${counts(f, "left")} ${q.active} sessions active, ${q.requeued} requeued, ${q.remaining} remaining in queue.`,
    severity: wasDraining ? SEVERITY.notice : SEVERITY.alert,
  };
}

/** Maintenance for a server its checks had already taken DOWN. */
export function maintWhileDownMessage(f: ServerFacts): Message {
  return { text: `${who(f)} was DOWN and now enters maintenance.`, severity: SEVERITY.notice };
}

/** `set server ... state ready` from drain or maint, or `drain` from maint (two lines then). */
export function leaveMessages(f: ServerFacts, from: "drain" | "maint", to: "ready" | "drain"): Message[] {
  if (from === "drain")
    return [{ text: `${who(f)} is UP (leaving forced drain).`, severity: SEVERITY.notice }];
  if (to === "ready") {
    return [{ text: `${who(f)} is UP/READY (leaving forced maintenance).`, severity: SEVERITY.notice }];
  }
  return [
    { text: `${who(f)} is UP/DRAIN (leaving forced maintenance).`, severity: SEVERITY.notice },
    { text: `${who(f)} remains in forced drain mode.`, severity: SEVERITY.notice },
  ];
}

/**
 * The last usable server of a backend is gone. HAProxy words it differently on stderr
 * (`backend 'b' has no server available!`, [ALERT]) and in syslog (`backend b has no server
 * available!`, emerg); a `listen` section is called "proxy".
 */
export function noServerMessage(
  kind: "backend" | "listen",
  name: string,
): { stderr: string; syslog: Message } {
  const word = kind === "listen" ? "proxy" : "backend";
  return {
    stderr: `${word} '${name}' has no server available!`,
    syslog: { text: `${word} ${name} has no server available!`, severity: SEVERITY.emerg },
  };
}

/** A tracking server follows its tracked one DOWN (`via` is `backend/server`). */
export function trackedDownMessage(
  f: ServerFacts,
  via: string,
  q: { active: number; requeued: number; remaining: number },
): Message {
  return {
    text: `${who(f)} is DOWN via ${via}. ${counts(f, "left")} ${q.active} sessions active, ${q.requeued} requeued, ${q.remaining} remaining in queue.`,
    severity: SEVERITY.alert,
  };
}

/** A tracking server follows its tracked one UP. */
export function trackedUpMessage(
  f: ServerFacts,
  via: string,
  q: { requeued: number; queued: number },
): Message {
  return {
    text: `${who(f)} is UP via ${via}. ${counts(f, "online")} ${q.requeued} sessions requeued, ${q.queued} total in queue.`,
    severity: SEVERITY.notice,
  };
}

/** A tracking server enters the maintenance of the server it tracks. */
export function maintViaMessage(
  f: ServerFacts,
  via: string,
  wasUp: boolean,
  q: { active: number; requeued: number; remaining: number },
): Message {
  return wasUp
    ? {
        text: `${who(f)} is going DOWN for maintenance via ${via}. ${counts(f, "left")} ${q.active} sessions active, ${q.requeued} requeued, ${q.remaining} remaining in queue.`,
        severity: SEVERITY.alert,
      }
    : { text: `${who(f)} was DOWN and now enters maintenance via ${via}.`, severity: SEVERITY.notice };
}

/** A tracking server leaves the maintenance it inherited. */
export function leaveMaintViaMessage(f: ServerFacts, up: boolean): Message {
  return {
    text: `${who(f)} is ${up ? "UP" : "DOWN"}/READY (leaving maintenance).`,
    severity: SEVERITY.notice,
  };
}
