/**
 * Steady client load while a drill breaks something: logged-in users each asking /whoami in
 * a loop, plus a probe of the service's monitor-uri (answered by the load balancer itself)
 * every 10 ms on a fresh connection, the way issue 6 measures a failover gap. Bounded in
 * time and in the number of requests kept; in-flight probes are capped so a frozen node
 * cannot make the load pile up.
 */
import { httpRequest } from "../http.js";
import type { LoadEvent } from "./stats.js";
import type { LabUser } from "./users.js";

export interface LoadOptions {
  readonly port: number;
  readonly users: readonly LabUser[];
  /** Probe period; 0 disables the probe (default 10 ms). */
  readonly probeEveryMs?: number;
  /** Pause of each user between two requests (default 25 ms). */
  readonly userPauseMs?: number;
  /** Request deadline (default 1000 ms). */
  readonly timeoutMs?: number;
  /** The load stops by itself after this long (default 60 s). */
  readonly maxMs?: number;
  /** At most this many events are kept (default 200 000); counting goes on. */
  readonly maxEvents?: number;
  /** Called for every finished request (chaos tallies without keeping events). */
  readonly onEvent?: (e: LoadEvent, answer?: UserAnswerDetail) => void;
  readonly keepEvents?: boolean;
  readonly probePath?: string;
}

/** Who asked and which server answered, for a user's request. */
export interface UserAnswerDetail {
  readonly user: LabUser;
  readonly server?: string;
}

const MAX_PROBES_IN_FLIGHT = 32;

export class LoadRun {
  readonly events: LoadEvent[] = [];
  private readonly t0 = performance.now();
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private probeTimer: NodeJS.Timeout | undefined;
  private stopTimer: NodeJS.Timeout;
  private probesInFlight = new Set<Promise<void>>();
  /** Marks (kill, takeover, ...) placed on the load's clock. */
  readonly marks: { t: number; label: string }[] = [];

  constructor(private readonly opts: LoadOptions) {
    const maxMs = opts.maxMs ?? 60_000;
    this.stopTimer = setTimeout(() => {
      this.running = false;
    }, maxMs);
    for (const u of opts.users) this.loops.push(this.userLoop(u));
    const every = opts.probeEveryMs ?? 10;
    if (every > 0) this.probeTimer = setInterval(() => this.probe(), every);
  }

  /** ms since the load started. */
  now(): number {
    return performance.now() - this.t0;
  }

  mark(label: string): number {
    const t = this.now();
    this.marks.push({ t, label });
    return t;
  }

  get isRunning(): boolean {
    return this.running;
  }

  private record(e: LoadEvent, detail?: UserAnswerDetail): void {
    if (this.opts.keepEvents !== false && this.events.length < (this.opts.maxEvents ?? 200_000)) {
      this.events.push(e);
    }
    this.opts.onEvent?.(e, detail);
  }

  private probe(): void {
    if (!this.running || this.probesInFlight.size >= MAX_PROBES_IN_FLIGHT) return;
    const p = httpRequest({
      port: this.opts.port,
      path: this.opts.probePath ?? "/haproxy_test",
      timeoutMs: this.opts.timeoutMs ?? 1000,
    }).then((r) => {
      const ok = r.ok && r.status === 200;
      const kind = r.ok ? (ok ? "ok" : `http-${r.status}`) : r.failure;
      this.record({ t: this.now(), ok, kind, source: "probe" });
    });
    this.probesInFlight.add(p);
    void p.finally(() => this.probesInFlight.delete(p));
  }

  private async userLoop(u: LabUser): Promise<void> {
    const pause = this.opts.userPauseMs ?? 25;
    while (this.running) {
      const r = await u.whoami(this.opts.timeoutMs ?? 1000);
      this.record(
        { t: this.now(), ok: r.answer === "kept", kind: r.kind, source: "user" },
        { user: u, ...(r.server !== undefined ? { server: r.server } : {}) },
      );
      if (this.running) await new Promise((res) => setTimeout(res, pause));
    }
  }

  /** Stops issuing requests and waits for the ones in flight. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.stopTimer);
    if (this.probeTimer) clearInterval(this.probeTimer);
    await Promise.all([...this.loops, ...this.probesInFlight]);
  }
}

export function startLoad(opts: LoadOptions): LoadRun {
  return new LoadRun(opts);
}
