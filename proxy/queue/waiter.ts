/**
 * The timer shell around WaitQueues: callbacks instead of tickets, one timer per backend for
 * the oldest deadline. This is what the request path calls when a server (or every server)
 * is at its maxconn.
 */
import type { BackendRuntime, ServerRuntime } from "../state.js";
import { type Ticket, WaitQueues, type WaitQueuesOptions } from "./queue.js";

/**
 * Called once per wait: `granted` with the server whose slot it now holds (its `active` is
 * already counted: release it when done), `expired` after `timeout queue` (answer 503),
 * `redispatch` when its server went DOWN (balance again), `full` when the server's
 * `maxqueue` is reached (HAProxy answers 503 or redispatches).
 */
export type WaitCallback = (
  outcome: "granted" | "expired" | "redispatch" | "full",
  server: ServerRuntime | undefined,
  waitedMs: number,
  /** For the log: the position it had in its queue (see Ticket.position). */
  position: number,
) => void;

/** What the shell keeps in each ticket. */
export interface QueueWaiter {
  cb: WaitCallback;
  delivered: boolean;
}
type Waiter = QueueWaiter;

/** The queues of one backend and their shell, built once per backend. */
export function createBackendQueue(
  backend: BackendRuntime,
  opts: WaitQueuesOptions & { now?: () => number },
): { queues: WaitQueues<QueueWaiter>; shell: QueueShell } {
  const queues = new WaitQueues<QueueWaiter>(backend, opts);
  return { queues, shell: new QueueShell(queues, opts.now ? { now: opts.now } : {}) };
}

export class QueueShell {
  private readonly q: WaitQueues<Waiter>;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;

  constructor(queues: WaitQueues<Waiter>, opts: { now?: () => number } = {}) {
    this.q = queues;
    this.now = opts.now ?? Date.now;
  }

  /** Waits for a slot on `server`, or on any server of the backend. Returns a cancel function. */
  wait(server: ServerRuntime | undefined, cb: WaitCallback): () => void {
    const w: Waiter = { cb, delivered: false };
    const t = this.q.enqueue(server, this.now(), w);
    if (!t) {
      queueMicrotask(() => cb("full", server, 0, 0));
      return () => {};
    }
    this.arm();
    return () => {
      if (t.state === "waiting") {
        this.q.cancel(t);
        this.arm();
      } else if (t.state === "granted" && !w.delivered) {
        // Granted but not yet told: give the slot back.
        w.delivered = true;
        this.release(t.server!);
      }
    };
  }

  /** A request on `server` ended: hand its slot on. */
  release(server: ServerRuntime): void {
    const t = this.q.release(server);
    if (t) this.deliver(t, "granted");
    this.arm();
  }

  /** A server has free slots again (UP, ready, maxconn raised): hand them on. */
  fill(server: ServerRuntime): number {
    const granted = this.q.fill(server);
    for (const t of granted) this.deliver(t, "granted");
    this.arm();
    return granted.length;
  }

  /** A server went DOWN with `option redispatch`: its waiters are balanced again. */
  redistribute(server: ServerRuntime): number {
    const moved = this.q.redistribute(server);
    for (const t of moved) this.deliver(t, "redispatch");
    this.arm();
    return moved.length;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private deliver(t: Ticket<Waiter>, outcome: "granted" | "expired" | "redispatch"): void {
    const w = t.data;
    const waited = this.now() - t.enqueuedAt;
    queueMicrotask(() => {
      if (w.delivered) return;
      w.delivered = true;
      w.cb(outcome, t.server, waited, t.position);
    });
  }

  private arm(): void {
    const at = this.q.nextDeadline();
    if (at === undefined) {
      this.stop();
      return;
    }
    if (this.timer && this.timerAt === at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, at - this.now()));
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = undefined;
    for (const t of this.q.expire(this.now())) this.deliver(t, "expired");
    this.arm();
  }
}
