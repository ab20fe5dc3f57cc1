/**
 * Learned-session persistence (the tutorial's `appsession JSESSIONID len 52 timeout 3h`):
 * session id -> server name, forgotten `timeout` after its last use.
 *
 * The interface is small on purpose: the HA issue adds a Redis-backed table shared by the
 * pair. Reads are synchronous and from memory (the request path never waits on Redis);
 * writes may also notify a listener, which is how a shared table propagates them.
 */

export interface SessionTable {
  /** The server name learned for this id, if it has not expired. */
  get(id: string): string | undefined;
  /** Remembers id -> server until now + timeout (replacing any earlier server). */
  learn(id: string, server: string, now?: number): void;
  /** Pushes the expiry of a known id to now + timeout (a request used it). */
  touch(id: string, now?: number): void;
  delete(id: string): void;
  readonly size: number;
}

export interface SessionListener {
  /** After learn and touch: the id now expires at `expiresAt` (epoch ms). */
  onLearn?(id: string, server: string, expiresAt: number): void;
  onDelete?(id: string): void;
}

export interface MemorySessionTableOptions {
  readonly timeoutMs: number;
  readonly now?: () => number;
  readonly listener?: SessionListener;
}

interface Entry {
  server: string;
  expiresAt: number;
}

/**
 * In-memory table. Every entry has the same timeout, so the Map's insertion order (an entry
 * is re-inserted when learned or touched) is also expiry order: expired entries are dropped
 * lazily when read, and `sweep` walks from the oldest and stops at the first live one, so no
 * operation scans the table.
 */
export class MemorySessionTable implements SessionTable {
  private readonly entries = new Map<string, Entry>();
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly listener: SessionListener | undefined;
  /** Expiry of the most recently inserted entry, and whether a restore broke the order. */
  private tail = 0;
  private disordered = false;

  constructor(opts: MemorySessionTableOptions) {
    this.timeoutMs = opts.timeoutMs;
    this.now = opts.now ?? Date.now;
    this.listener = opts.listener;
  }

  get size(): number {
    return this.entries.size;
  }

  get(id: string): string | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    if (e.expiresAt <= this.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return e.server;
  }

  learn(id: string, server: string, now = this.now()): void {
    const expiresAt = now + this.timeoutMs;
    this.entries.delete(id);
    this.entries.set(id, { server, expiresAt });
    this.tail = Math.max(this.tail, expiresAt);
    this.listener?.onLearn?.(id, server, expiresAt);
  }

  touch(id: string, now = this.now()): void {
    const e = this.entries.get(id);
    if (!e || e.expiresAt <= now) return;
    e.expiresAt = now + this.timeoutMs;
    this.entries.delete(id);
    this.entries.set(id, e);
    this.tail = Math.max(this.tail, e.expiresAt);
    this.listener?.onLearn?.(id, e.server, e.expiresAt);
  }

  delete(id: string): void {
    if (this.entries.delete(id)) this.listener?.onDelete?.(id);
  }

  /**
   * Sets an entry learned elsewhere (the HA peer, a restore) with its own expiry, without
   * notifying the listener.
   */
  restore(id: string, server: string, expiresAt: number): void {
    this.entries.delete(id);
    if (expiresAt <= this.now()) return;
    if (expiresAt < this.tail) this.disordered = true;
    else this.tail = expiresAt;
    this.entries.set(id, { server, expiresAt });
  }

  /**
   * Drops expired entries, oldest first, at most `max` of them; returns how many went. After
   * out-of-order restores one pass looks at every entry to put expiry order back.
   */
  sweep(now = this.now(), max = 10_000): number {
    let n = 0;
    if (this.disordered) {
      const live = [...this.entries].filter(([, e]) => e.expiresAt > now);
      n = this.entries.size - live.length;
      live.sort((a, b) => a[1].expiresAt - b[1].expiresAt);
      this.entries.clear();
      for (const [k, v] of live) this.entries.set(k, v);
      this.disordered = false;
      return n;
    }
    for (const [id, e] of this.entries) {
      if (n >= max || e.expiresAt > now) break;
      this.entries.delete(id);
      n++;
    }
    return n;
  }
}
