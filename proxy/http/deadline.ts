/**
 * A re-armable timeout that costs no timer allocation per use. Each request re-arms a few
 * timeouts (`timeout http-keep-alive`, `timeout server`, a pooled connection's idle time);
 * a fresh `setTimeout` each time showed in profiles (an object and a list insert per arm, and
 * garbage). One Node timer per owner is kept instead: re-armed with `refresh()` while its
 * duration stays the same; disarming only clears the due time, and a timer that fires while
 * disarmed does nothing (one that fires early, by clock rounding, waits for what is left).
 */
export class Deadline {
  private timer: NodeJS.Timeout | null = null;
  private ms = -1;
  /** Epoch ms when it expires; 0 when disarmed. */
  private due = 0;
  private readonly fire: () => void;
  private readonly unref: boolean;

  constructor(fire: () => void, unref = false) {
    this.fire = fire;
    this.unref = unref;
  }

  get armed(): boolean {
    return this.due !== 0;
  }

  /** Expires `ms` from now (replacing any earlier arm). */
  arm(ms: number): void {
    this.due = Date.now() + ms;
    const t = this.timer;
    if (t !== null && this.ms === ms) {
      t.refresh();
      return;
    }
    if (t !== null) clearTimeout(t);
    this.ms = ms;
    this.start(ms);
  }

  /** Re-arms with the last duration if armed (activity on an inactivity timeout). */
  extend(): void {
    if (this.due !== 0) this.arm(this.ms);
  }

  /** No expiry until armed again (the timer object is kept for the next arm). */
  disarm(): void {
    this.due = 0;
  }

  /** Disarms and releases the timer (the owner is done). */
  stop(): void {
    this.due = 0;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private start(ms: number): void {
    const t = setTimeout(this.onTimer, ms);
    if (this.unref) t.unref();
    this.timer = t;
  }

  private readonly onTimer = (): void => {
    if (this.due === 0) return;
    const left = this.due - Date.now();
    if (left > 0) {
      // Fired before the due time (timers run on the loop's clock): wait for the rest.
      this.ms = -1;
      this.start(left);
      return;
    }
    this.due = 0;
    this.fire();
  };
}
