/**
 * The wait queues of one backend for `maxconn`, as a pure core with an injected clock: a FIFO
 * per server (requests that must go to that server: persistent ones, hash results) and one
 * for the backend (requests any server may take). Every operation is O(1) (expiry is
 * O(expired)): tickets are linked in their queue and, since every ticket of a backend has the
 * same `timeout queue`, in one arrival list that is also their expiry order.
 *
 * Slots: `acquire` takes a slot when the server has room; `release` hands the freed slot to
 * the oldest waiter of the server queue or the backend queue (HAProxy compares the two heads
 * by arrival, the server queue first on a tie) without letting the count drop, so a newcomer
 * can never overtake a waiter. The backend queue only feeds a server that is usable.
 * The queue keeps `server.active` and the `qcur`/`qmax` counters, and tells the balancer
 * (leastconn orders by load).
 */
import type { BackendRuntime, ServerRuntime } from "../state.js";
import { isUsable } from "../state.js";

export type TicketState = "waiting" | "granted" | "expired" | "cancelled" | "redispatch";

export interface Ticket<T = unknown> {
  readonly id: number;
  /** The server this request must use, or undefined for any server of the backend. */
  readonly wanted: ServerRuntime | undefined;
  readonly enqueuedAt: number;
  readonly deadline: number;
  /** The caller's own data (its callback, its request). */
  readonly data: T;
  state: TicketState;
  /** Once granted: the server whose slot it holds. */
  server: ServerRuntime | undefined;
  /** Its queue's dequeue count when it entered (HAProxy's queue_idx). */
  readonly queueIdx: number;
  /**
   * Once out of the queue: how many requests left that queue for a server while this one was
   * in it, plus one (the log's srv_queue / backend_queue, as HAProxy counts them).
   */
  position: number;
}

interface Node<T> {
  t: Ticket<T>;
  /** Links in its queue (server or backend). */
  prev: Node<T> | undefined;
  next: Node<T> | undefined;
  /** Links in the arrival (expiry) list. */
  aprev: Node<T> | undefined;
  anext: Node<T> | undefined;
  list: List<T>;
}

class List<T> {
  head: Node<T> | undefined;
  tail: Node<T> | undefined;
  length = 0;
  /** Requests that left this queue for a server so far (HAProxy's queue idx). */
  dequeued = 0;

  push(n: Node<T>): void {
    n.prev = this.tail;
    n.next = undefined;
    if (this.tail) this.tail.next = n;
    else this.head = n;
    this.tail = n;
    this.length++;
  }

  unlink(n: Node<T>): void {
    if (n.prev) n.prev.next = n.next;
    else this.head = n.next;
    if (n.next) n.next.prev = n.prev;
    else this.tail = n.prev;
    n.prev = n.next = undefined;
    this.length--;
  }
}

/** What the queue tells the balancer (leastconn keeps its order by load). */
export interface LoadListener {
  taken(server: ServerRuntime): void;
  released(server: ServerRuntime): void;
}

export interface WaitQueuesOptions {
  /** `timeout queue` (HAProxy falls back to `timeout connect` when it is not set). */
  readonly timeoutMs: number;
  readonly balancer?: LoadListener;
}

export class WaitQueues<T = unknown> {
  private readonly backend: BackendRuntime;
  private readonly timeoutMs: number;
  private readonly balancer: LoadListener | undefined;
  private readonly perServer = new Map<ServerRuntime, List<T>>();
  private readonly anyServer = new List<T>();
  private readonly nodes = new WeakMap<Ticket<T>, Node<T>>();
  /** Arrival order over both kinds of queue (= expiry order). */
  private ahead: Node<T> | undefined;
  private atail: Node<T> | undefined;
  private seq = 0;

  constructor(backend: BackendRuntime, opts: WaitQueuesOptions) {
    this.backend = backend;
    this.timeoutMs = opts.timeoutMs;
    this.balancer = opts.balancer;
    for (const s of backend.servers) this.perServer.set(s, new List());
  }

  /** True when the server can take one more request now (no maxconn, or below it with nobody waiting). */
  hasRoom(server: ServerRuntime): boolean {
    const max = server.cfg.maxconn;
    return max === 0 || (server.active < max && (this.perServer.get(server)?.length ?? 0) === 0);
  }

  /** Takes a slot on the server if it has room. */
  acquire(server: ServerRuntime): boolean {
    if (!this.hasRoom(server)) return false;
    this.take(server);
    return true;
  }

  /**
   * Puts a request in a queue: the server's when `server` is given, else the backend's.
   * Returns undefined when the server's queue is at its `maxqueue`.
   */
  enqueue(server: ServerRuntime | undefined, now: number, data: T): Ticket<T> | undefined {
    const list = server ? this.perServer.get(server) : this.anyServer;
    if (!list) return undefined;
    if (server && server.cfg.maxqueue > 0 && list.length >= server.cfg.maxqueue) return undefined;
    const t: Ticket<T> = {
      id: ++this.seq,
      wanted: server,
      enqueuedAt: now,
      deadline: now + this.timeoutMs,
      data,
      state: "waiting",
      server: undefined,
      queueIdx: list.dequeued,
      position: 0,
    };
    const n: Node<T> = { t, prev: undefined, next: undefined, aprev: undefined, anext: undefined, list };
    list.push(n);
    n.aprev = this.atail;
    if (this.atail) this.atail.anext = n;
    else this.ahead = n;
    this.atail = n;
    this.nodes.set(t, n);
    this.counted(server, +1);
    return t;
  }

  /**
   * A request on `server` ended: its slot goes to the oldest waiter that may use it (returned,
   * state "granted", `server` set), or the server's count drops.
   */
  release(server: ServerRuntime): Ticket<T> | undefined {
    const next = this.nextFor(server);
    if (next) {
      this.grant(next, server);
      // The slot changes hands: the count stays, but leastconn saw a release and a take.
      this.balancer?.released(server);
      this.balancer?.taken(server);
      return next.t;
    }
    server.active = Math.max(0, server.active - 1);
    this.balancer?.released(server);
    return undefined;
  }

  /**
   * Gives free slots of a server (it came UP, left maint, or its maxconn grew) to waiters, its
   * own first. Returns the tickets granted.
   */
  fill(server: ServerRuntime): Ticket<T>[] {
    const granted: Ticket<T>[] = [];
    while (server.cfg.maxconn === 0 || server.active < server.cfg.maxconn) {
      const next = this.nextFor(server);
      if (!next) break;
      this.take(server);
      this.grant(next, server);
      granted.push(next.t);
    }
    return granted;
  }

  /** The client went away: its ticket leaves the queue. */
  cancel(t: Ticket<T>): void {
    if (t.state !== "waiting") return;
    this.drop(t, "cancelled");
  }

  /** Removes and returns the tickets whose `timeout queue` has passed (oldest first). */
  expire(now: number): Ticket<T>[] {
    const out: Ticket<T>[] = [];
    while (this.ahead && this.ahead.t.deadline <= now) {
      const t = this.ahead.t;
      this.drop(t, "expired");
      out.push(t);
    }
    return out;
  }

  /** When the oldest waiting ticket expires, or undefined when nobody waits. */
  nextDeadline(): number | undefined {
    return this.ahead?.t.deadline;
  }

  /**
   * A server went DOWN with `option redispatch`: its waiters leave its queue to be balanced
   * again (state "redispatch"), as HAProxy's pendconn_redistribute does.
   */
  redistribute(server: ServerRuntime): Ticket<T>[] {
    const list = this.perServer.get(server);
    const out: Ticket<T>[] = [];
    while (list?.head) {
      const t = list.head.t;
      this.drop(t, "redispatch");
      out.push(t);
    }
    return out;
  }

  /** Waiters for one server, or for the backend when `server` is undefined. */
  length(server?: ServerRuntime): number {
    return server ? (this.perServer.get(server)?.length ?? 0) : this.anyServer.length;
  }

  // ---- internals ---------------------------------------------------------------------

  private take(server: ServerRuntime): void {
    server.active++;
    this.balancer?.taken(server);
  }

  /** The oldest of the two heads (server queue first on a tie); the backend's only for a usable server. */
  private nextFor(server: ServerRuntime): Node<T> | undefined {
    const own = this.perServer.get(server)?.head;
    const any = isUsable(server) ? this.anyServer.head : undefined;
    if (!own) return any;
    if (!any) return own;
    return any.t.enqueuedAt < own.t.enqueuedAt ? any : own;
  }

  private grant(n: Node<T>, server: ServerRuntime): void {
    this.unlink(n);
    n.list.dequeued++;
    n.t.state = "granted";
    n.t.server = server;
  }

  private drop(t: Ticket<T>, state: TicketState): void {
    const n = this.nodes.get(t);
    if (!n) return;
    this.unlink(n);
    t.state = state;
  }

  private unlink(n: Node<T>): void {
    // As HAProxy logs it: the requests that left before it while it waited, plus itself.
    n.t.position = n.list.dequeued - n.t.queueIdx + 1;
    n.list.unlink(n);
    if (n.aprev) n.aprev.anext = n.anext;
    else this.ahead = n.anext;
    if (n.anext) n.anext.aprev = n.aprev;
    else this.atail = n.aprev;
    n.aprev = n.anext = undefined;
    this.nodes.delete(n.t);
    this.counted(n.t.wanted, -1);
  }

  private counted(server: ServerRuntime | undefined, delta: number): void {
    const c = server ? server.counters : this.backend.counters;
    c.qcur += delta;
    if (c.qcur > c.qmax) c.qmax = c.qcur;
  }
}
