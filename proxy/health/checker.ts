/**
 * The I/O shell of health checks: one timer per checked server, a TCP connect (and for
 * `option httpchk` the request, then the response head and, for `expect string`, the body),
 * then the pure rules in state.ts, http.ts and messages.ts decide what it means.
 *
 * Timeouts follow HAProxy's documented rule: with `timeout check`, connecting is bounded by
 * min(`timeout connect`, `inter`) and reading by `timeout check` once connected; without it,
 * `inter` bounds the whole check. The next check starts one interval after this one ended
 * (inter / fastinter / downinter by health). Checks pause while a server is in maint.
 */
import { connect, type Socket } from "node:net";
import { slowstartApplies } from "../balance/slowstart.js";
import { startWarmup, stopWarmup } from "../balance/warmup.js";
import type { BackendRuntime, CheckResult, ServerRuntime } from "../state.js";
import { isUsable } from "../state.js";
import { checkRequest, compileExpect, dechunk, type Expectation, parseHead } from "./http.js";
import {
  type CheckFacts,
  downMessage,
  healthCheckMessage,
  type Message,
  noServerMessage,
  type ServerFacts,
  stoppingMessage,
  upMessage,
} from "./messages.js";
import { afterCheck, checkInterval, type RunState, runStateAfter } from "./state.js";
import {
  CHECK_STATUSES,
  type CheckOutcome,
  checkPassed,
  connectErrorOutcome,
  socketErrorOutcome,
} from "./status.js";

/** A line for the log and for stderr: HAProxy words some of them differently on each. */
export interface CheckLog {
  readonly syslog: string;
  readonly severity: number;
  readonly stderr: string;
  readonly stderrLevel: "WARNING" | "ALERT";
}

/** What the node did with the queues when a server changed state (for the log line). */
export interface QueueFacts {
  /** DOWN: requests moved off the server's queue; UP: requests it took from the backend queue. */
  readonly requeued: number;
  /** DOWN: left in the server's queue; UP: still waiting in the backend queue. */
  readonly remaining: number;
}

export interface CheckOptions {
  now?: () => number;
  /** Delay before a server's first check (default: spread over this backend's checked servers). */
  firstDelayMs?: (server: ServerRuntime) => number;
  /**
   * A server went UP or DOWN. The server record is already updated: rebuild the balancer and
   * move queued requests here, and return what moved for the log line.
   */
  onChange?(server: ServerRuntime, from: RunState, to: RunState, why: CheckResult): QueueFacts | undefined;
  /** A slowstart step changed a server's effectiveWeight: rebuild the balancer. */
  onWeight?(server: ServerRuntime): void;
  /** Every check result (debug output). */
  onCheck?(server: ServerRuntime, result: CheckResult): void;
  log?(entry: CheckLog): void;
  /** After a server's transition is applied and logged (servers that track it follow then). */
  afterChange?(server: ServerRuntime): void;
}

export interface Checks {
  stop(): void;
}

/** Largest response kept to evaluate `expect string` (HAProxy's check buffer size). */
const MAX_RESPONSE = 16384;

export function startChecks(backend: BackendRuntime, opts: CheckOptions = {}): Checks {
  const now = opts.now ?? Date.now;
  const cfg = backend.cfg;
  const httpchk = cfg.httpCheck;
  const request = httpchk ? checkRequest(httpchk) : undefined;
  const expect = compileExpect(httpchk?.expect);
  const checked = backend.servers.filter((s) => s.cfg.check);
  const timers = new Map<ServerRuntime, NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  let stopped = false;

  const schedule = (s: ServerRuntime, delay: number) => {
    if (stopped) return;
    const t = setTimeout(() => run(s), delay);
    t.unref();
    timers.set(s, t);
  };

  const run = (s: ServerRuntime) => {
    if (stopped) return;
    if (s.admin === "maint") {
      schedule(s, s.cfg.inter);
      return;
    }
    const started = now();
    s.checkRunning = true;
    // disable-on-404 only softens a 404 for a server that is not DOWN (HAProxy 2.6).
    const soft404 = cfg.options.disableOn404 && s.up;
    probe(s, request, expect, soft404, cfg.timeouts, sockets, (outcome) => {
      if (stopped) return;
      const ended = now();
      s.checkRunning = false;
      apply(s, outcome, started, ended);
      schedule(s, checkInterval(s.cfg, s.health));
    });
  };

  const apply = (s: ServerRuntime, o: CheckOutcome, started: number, ended: number) => {
    // HAProxy keeps a check's text in a 128-byte buffer: 127 characters at most.
    const outcome = o.info !== undefined && o.info.length > 127 ? { ...o, info: o.info.slice(0, 127) } : o;
    const row = CHECK_STATUSES[outcome.status];
    const result: CheckResult = {
      status: outcome.status,
      durationMs: ended - started,
      desc: row.desc,
      at: ended,
      ...(outcome.code !== undefined ? { code: outcome.code } : {}),
      ...(outcome.info !== undefined ? { info: outcome.info } : {}),
    };
    const prevStatus = s.lastCheck?.status ?? "INI";
    s.lastCheck = result;
    const hadUsable = countUsable(backend);
    const passed = checkPassed(outcome);
    const step = afterCheck(s.health, s.cfg, passed);
    const changedHealth = step.health !== s.health;
    s.health = step.health;
    if (step.counted) s.chkfail++;
    opts.onCheck?.(s, result);
    const check = { outcome, durationMs: result.durationMs ?? 0 };
    // HAProxy logs a check that moved the health counter or changed the check status.
    if (cfg.options.logHealthChecks && (changedHealth || outcome.status !== prevStatus)) {
      const weighted = (s.userWeight ?? s.cfg.weight) > 0;
      const m = healthCheckMessage(facts(s), check, {
        health: s.health,
        rise: s.cfg.rise,
        fall: s.cfg.fall,
        weighted,
      });
      opts.log?.({ syslog: m.text, severity: m.severity, stderr: m.text, stderrLevel: "WARNING" });
    }
    const from = runState(s);
    const to = runStateAfter(from, step, outcome.status === "L7OKC", passed);
    if (to === from) return;
    s.up = to !== "down";
    s.stopping = to === "nolb";
    s.lastChange = ended;
    if (to === "down") {
      s.chkdown++;
      s.downSince = ended;
      stopWarmup(s);
    } else if (from === "down") {
      if (s.downSince > 0) s.downTime += ended - s.downSince;
      s.downSince = 0;
      if (slowstartApplies(cfg.balance.algo, s.cfg.slowstart)) {
        startWarmup(s, s.cfg.slowstart!, { now, onStep: (sv) => opts.onWeight?.(sv) });
      }
    }
    const moved = opts.onChange?.(s, from, to, result) ?? { requeued: 0, remaining: 0 };
    // With log-health-checks the check line above gave the reason already.
    logTransition(s, to, cfg.options.logHealthChecks ? undefined : check, moved, hadUsable);
    opts.afterChange?.(s);
  };

  const facts = (s: ServerRuntime): ServerFacts => {
    const left = countUsable(backend);
    return {
      backend: cfg.name,
      server: s.cfg.name,
      backup: s.cfg.backup,
      activeLeft: left.active,
      backupLeft: left.backup,
    };
  };

  const logTransition = (
    s: ServerRuntime,
    to: RunState,
    check: CheckFacts | undefined,
    moved: QueueFacts,
    hadUsable: { active: number; backup: number },
  ) => {
    const f = facts(s);
    const queue = { requeued: moved.requeued, queued: moved.remaining };
    const msg: Message =
      to === "down"
        ? downMessage(f, check, { active: s.active, requeued: moved.requeued, remaining: moved.remaining })
        : to === "nolb"
          ? stoppingMessage(f, check, queue)
          : upMessage(f, check, queue);
    opts.log?.({ syslog: msg.text, severity: msg.severity, stderr: msg.text, stderrLevel: "WARNING" });
    noteBackendAvailability(backend, hadUsable, now(), opts.log);
  };

  checked.forEach((s, k) => {
    const first = opts.firstDelayMs?.(s) ?? Math.floor((checkInterval(s.cfg, s.health) * k) / checked.length);
    schedule(s, first);
  });

  return {
    stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      for (const sock of sockets) sock.destroy();
      sockets.clear();
      for (const s of checked) {
        stopWarmup(s);
        s.checkRunning = false;
      }
    },
  };
}

/** Where a checked server stands for traffic. */
function runState(s: ServerRuntime): RunState {
  if (!s.up) return "down";
  return s.stopping ? "nolb" : "up";
}

/**
 * After a server changed state: the backend goes DOWN when its last usable server left (its
 * `chkdown` counts it, "has no server available!" is logged) and UP again when one is back.
 */
export function noteBackendAvailability(
  backend: BackendRuntime,
  hadUsable: { active: number; backup: number },
  now: number,
  log: ((entry: CheckLog) => void) | undefined,
): void {
  const left = countUsable(backend);
  const none = left.active + left.backup === 0;
  const had = hadUsable.active + hadUsable.backup > 0;
  if (none && had) {
    backend.chkdown++;
    backend.lastChange = now;
    backend.downSince = now;
    const m = noServerMessage(backend.cfg.kind === "listen" ? "listen" : "backend", backend.cfg.name);
    log?.({ syslog: m.syslog.text, severity: m.syslog.severity, stderr: m.stderr, stderrLevel: "ALERT" });
  } else if (!none && !had) {
    backend.lastChange = now;
    if (backend.downSince > 0) backend.downTime += now - backend.downSince;
    backend.downSince = 0;
  }
}

/** Usable servers of a backend, active and backup. */
export function countUsable(be: BackendRuntime): { active: number; backup: number } {
  let active = 0;
  let backup = 0;
  for (const s of be.servers) {
    if (!isUsable(s)) continue;
    if (s.cfg.backup) backup++;
    else active++;
  }
  return { active, backup };
}

/**
 * One check: connect, then (HTTP) send and read. Calls `done` exactly once and leaves no
 * socket or timer behind.
 */
function probe(
  s: ServerRuntime,
  request: Buffer | undefined,
  expect: Expectation,
  soft404: boolean,
  timeouts: BackendRuntime["cfg"]["timeouts"],
  sockets: Set<Socket>,
  done: (o: CheckOutcome) => void,
): void {
  const inter = s.cfg.inter;
  const hasCheckTimeout = timeouts.check !== undefined;
  const connectLimit = hasCheckTimeout ? Math.min(timeouts.connect ?? inter, inter) : inter;
  let connected = false;
  let finished = false;
  let received: Buffer = Buffer.alloc(0);
  const sock = connect({
    host: s.cfg.checkAddr ?? s.cfg.host,
    port: s.cfg.checkPort ?? s.cfg.port,
    noDelay: true,
  });
  sockets.add(sock);
  let timer = setTimeout(() => finish(connected ? { status: "L7TOUT" } : { status: "L4TOUT" }), connectLimit);

  const finish = (o: CheckOutcome) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    sockets.delete(sock);
    // HAProxy closes a check connection with a reset (no TIME_WAIT left per check).
    if (!sock.destroyed) {
      if (connected) sock.resetAndDestroy();
      else sock.destroy();
    }
    done(o);
  };

  sock.on("error", (err: NodeJS.ErrnoException) => {
    finish(connected ? socketErrorOutcome(err) : connectErrorOutcome(err));
  });
  sock.on("connect", () => {
    connected = true;
    if (!request) {
      finish({ status: "L4OK" });
      return;
    }
    if (hasCheckTimeout) {
      clearTimeout(timer);
      timer = setTimeout(() => finish({ status: "L7TOUT" }), timeouts.check!);
    }
    sock.write(request);
  });
  sock.on("data", (chunk: Buffer) => {
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    const verdict = judge(received, expect, soft404, false);
    if (verdict) finish(verdict);
  });
  sock.on("end", () => {
    finish(judge(received, expect, soft404, true) ?? { status: "L7RSP" });
  });
  sock.on("close", () => {
    finish(connected ? (judge(received, expect, soft404, true) ?? { status: "L7RSP" }) : { status: "L4CON" });
  });
}

/** A verdict on what was received, or undefined while more is needed (and may come). */
function judge(buf: Buffer, expect: Expectation, soft404: boolean, ended: boolean): CheckOutcome | undefined {
  const head = parseHead(buf);
  if (head.kind === "invalid") return { status: "L7RSP" };
  if (head.kind === "incomplete")
    return ended || buf.length >= MAX_RESPONSE ? { status: "L7RSP" } : undefined;
  // disable-on-404 comes before `http-check expect`: a 404 is a conditional pass whatever it expects.
  if (soft404 && head.code === 404) return { status: "L7OKC", code: 404, info: "" };
  if (!expect.needsBody) return expect.judge(head.code, head.reason, "");
  const raw = buf.subarray(head.bodyAt);
  let body: Buffer;
  let complete: boolean;
  if (head.chunked) {
    const d = dechunk(raw);
    body = d.body;
    complete = d.done;
  } else if (head.length !== undefined) {
    body = raw.subarray(0, head.length);
    complete = raw.length >= head.length;
  } else {
    body = raw;
    complete = false;
  }
  if (!complete && !ended && buf.length < MAX_RESPONSE) return undefined;
  return expect.judge(head.code, head.reason, body.toString("latin1"));
}
