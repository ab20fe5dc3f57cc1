/**
 * `balance roundrobin`: HAProxy's weighted round robin with dynamic weights ("fwrr").
 *
 * Each group (active, backup) runs windows of `sum of weights` picks. A server of weight w
 * gets a position in the window every `total / w` picks (the remainder is carried), and the
 * server with the lowest position is picked. Servers enter a window heaviest first, each
 * taking the first hole in the sequence; servers whose next position falls beyond the window
 * wait in the "next" collection, which becomes the "init" collection of the next window.
 * This reproduces HAProxy 2.6's order exactly: equal weights give A,B,A,B; weights 3:1 give
 * A,A,A,B; 3:2:1 give A,B,A,C,A,B; and weight or state changes move a server to the place
 * HAProxy would put it (see test/unit/balance-roundrobin.test.ts for the recorded sequences).
 */
import type { ServerRuntime } from "../state.js";
import { isUsable } from "../state.js";
import { EWEIGHT_MAX, isSaturated, scaledWeight, UWEIGHT_RANGE, WEIGHT_SCALE } from "./common.js";
import { type Keyed, Ordered } from "./ordered.js";
import type { Balancer, PickContext, PickResult } from "./types.js";

interface RrNode extends Keyed {
  readonly s: ServerRuntime;
  readonly backup: boolean;
  /** Next position in the window, last position taken, remainder carried. */
  npos: number;
  lpos: number;
  rweight: number;
  /** Scaled weight in force (HAProxy's cur_eweight) and the one being applied (next_eweight). */
  cur: number;
  next: number;
  /** Usable as last applied. */
  usable: boolean;
  /** Collection it belongs to (HAProxy's lb_tree); null while unusable. */
  home: Ordered<RrNode> | null;
  /** Physically present in `home` (a picked server is out of it until requeued). */
  queued: boolean;
}

interface RrGroup {
  currPos: number;
  currWeight: number;
  nextWeight: number;
  curr: Ordered<RrNode>;
  init: Ordered<RrNode>;
  next: Ordered<RrNode>;
  /** Usable servers in the group. */
  count: number;
}

function newGroup(): RrGroup {
  return {
    currPos: 0,
    currWeight: 0,
    nextWeight: 0,
    curr: new Ordered(),
    init: new Ordered(),
    next: new Ordered(),
    count: 0,
  };
}

export class RoundRobinBalancer implements Balancer {
  readonly algo = "roundrobin" as const;
  private readonly nodes: RrNode[];
  private readonly byServer = new Map<ServerRuntime, RrNode>();
  private readonly act = newGroup();
  private readonly bck = newGroup();
  private readonly allBackups: boolean;
  /** First usable backup when `option allbackups` is off. */
  private firstBackup: RrNode | undefined;

  constructor(servers: readonly ServerRuntime[], allBackups: boolean) {
    this.allBackups = allBackups;
    this.nodes = servers.map((s) => {
      const w = scaledWeight(s);
      const node: RrNode = {
        s,
        backup: s.cfg.backup,
        npos: 0,
        lpos: 0,
        rweight: 0,
        cur: w,
        next: w,
        usable: isUsable(s),
        home: null,
        queued: false,
        key: 0,
      };
      this.byServer.set(s, node);
      return node;
    });
    for (const n of this.nodes) {
      if (!n.usable) continue;
      const g = this.group(n);
      g.count++;
      g.nextWeight += n.next;
    }
    for (const g of [this.act, this.bck]) g.currPos = g.currWeight = g.nextWeight;
    for (const n of this.nodes) if (n.usable) this.queueByWeight(this.group(n).init, n);
    this.updateFirstBackup();
  }

  pick(ctx: PickContext): PickResult {
    let g: RrGroup;
    if (this.act.count > 0) g = this.act;
    else if (this.firstBackup) return this.firstBackup.s;
    else if (this.bck.count > 0) g = this.bck;
    else return undefined;

    const avoid = ctx.exclude ? this.byServer.get(ctx.exclude) : undefined;
    let switched = false;
    let avoided: RrNode | undefined;
    const skipped: RrNode[] = [];
    let srv: RrNode | undefined;
    for (;;) {
      if (g.currWeight === 0) g.currPos = g.currWeight = g.nextWeight;
      srv = this.fromGroup(g);
      if (!srv) {
        if (switched) {
          srv = avoided;
          break;
        }
        switched = true;
        this.switchWindows(g);
        continue;
      }
      this.advance(g, srv);
      this.dequeue(srv);
      g.currPos++;
      if (!isSaturated(srv.s)) {
        if (srv !== avoid || avoided) break;
        avoided = srv;
      }
      skipped.push(srv);
      srv = undefined;
    }
    if (srv) this.queue(g, srv);
    // Put back what was taken out on the way, most recent first (HAProxy chains them LIFO).
    for (let i = skipped.length - 1; i >= 0; i--) {
      const n = skipped[i]!;
      if (n === srv) continue;
      if (switched) this.queueByWeight(g.init, n);
      else this.queue(g, n);
    }
    return srv ? srv.s : "full";
  }

  onServerStateChange(): void {
    for (const n of this.nodes) {
      const usable = isUsable(n.s);
      const w = scaledWeight(n.s);
      if (!n.usable && !usable) continue;
      if (!n.usable && usable) {
        n.next = w;
        this.setUp(n);
      } else if (n.usable && !usable) {
        this.setDown(n);
      } else if (w !== n.cur) {
        n.next = w;
        this.updateWeight(n);
      }
      n.cur = n.next;
      n.usable = usable;
    }
    this.updateFirstBackup();
  }

  taken(): void {}
  released(): void {}

  // ---- the window mechanics ----------------------------------------------------------

  private group(n: RrNode): RrGroup {
    return n.backup ? this.bck : this.act;
  }

  private updateFirstBackup(): void {
    this.firstBackup = this.allBackups ? undefined : this.nodes.find((n) => n.backup && n.usable);
  }

  private queueByWeight(into: Ordered<RrNode>, n: RrNode): void {
    n.home = into;
    n.queued = true;
    into.insert(n, EWEIGHT_MAX - n.next);
  }

  private dequeue(n: RrNode): void {
    if (n.queued && n.home) n.home.remove(n);
    n.queued = false;
  }

  /** Places a server for the rest of this window, or in the next window when it does not fit. */
  private queue(g: RrGroup, n: RrNode): void {
    if (n.next <= 0) {
      n.home = null;
      return;
    }
    if (n.npos >= 2 * g.currWeight || n.npos >= g.currWeight + g.nextWeight) {
      n.npos -= g.currWeight;
      this.queueByWeight(g.next, n);
      return;
    }
    n.home = g.curr;
    n.queued = true;
    // Position first; among equal positions the heavier (and the one with less carried) first.
    const tie = Math.floor((EWEIGHT_MAX + n.rweight - n.next) / WEIGHT_SCALE);
    g.curr.insert(n, UWEIGHT_RANGE * n.npos + tie);
  }

  /** Prepares a server being taken out of its collection (HAProxy's fwrr_get_srv). */
  private prepare(g: RrGroup, n: RrNode): void {
    if (n.home === g.init) {
      n.npos = 0;
      n.rweight = 0;
    } else if (n.home === g.next) {
      n.npos += g.currWeight;
    } else if (n.home === null) {
      n.npos = g.currPos;
    }
  }

  private switchWindows(g: RrGroup): void {
    const t = g.init;
    g.init = g.next;
    g.next = t;
    g.currWeight = g.nextWeight;
    g.currPos = g.currWeight;
  }

  /** The server due now, or a newcomer from the init collection when there is a hole. */
  private fromGroup(g: RrGroup): RrNode | undefined {
    const first = g.curr.first();
    if (first && first.cur > 0 && first.npos <= g.currPos) return first;
    const fresh = g.init.first();
    if (fresh && fresh.cur > 0) {
      fresh.npos = 0;
      fresh.rweight = 0;
      return fresh;
    }
    return first;
  }

  /** Moves a picked server to its next position. */
  private advance(g: RrGroup, n: RrNode): void {
    const w = n.cur;
    if (w === 0) return;
    if (n.npos === 0) n.npos = g.currPos;
    n.lpos = n.npos;
    n.npos += Math.floor(g.nextWeight / w);
    n.rweight += g.nextWeight % w;
    if (n.rweight >= w) {
      n.rweight -= w;
      n.npos++;
    }
  }

  private setDown(n: RrNode): void {
    const g = this.group(n);
    g.nextWeight -= n.cur;
    g.count--;
    this.dequeue(n);
    n.home = null;
  }

  private setUp(n: RrNode): void {
    const g = this.group(n);
    g.nextWeight += n.next;
    g.count++;
    this.prepare(g, n);
    n.npos = g.currPos + Math.floor((g.nextWeight + g.currWeight - g.currPos) / n.next);
    this.queue(g, n);
  }

  private updateWeight(n: RrNode): void {
    const g = this.group(n);
    g.nextWeight = g.nextWeight - n.cur + n.next;
    if (n.home === g.init) {
      this.dequeue(n);
      this.queueByWeight(g.init, n);
      return;
    }
    if (n.home === null) {
      this.dequeue(n);
      this.prepare(g, n);
      n.npos = g.currPos + Math.floor((g.nextWeight + g.currWeight - g.currPos) / n.next);
      this.queue(g, n);
      return;
    }
    // In the current or the next window: keep its place, but not later than its new step.
    this.prepare(g, n);
    if (n.next > 0) {
      const before = n.npos;
      const step = Math.floor(g.nextWeight / n.next);
      n.npos = n.lpos + step;
      n.rweight = 0;
      if (n.npos > before) n.npos = before;
      if (n.npos < g.currPos + 2) n.npos = g.currPos + step;
    } else {
      n.npos = g.currPos + g.currWeight;
    }
    this.dequeue(n);
    this.queue(g, n);
  }
}
