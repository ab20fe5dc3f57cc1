/**
 * `balance leastconn` (HAProxy's "fwlc") and `balance first` ("fas").
 *
 * leastconn keeps servers ordered by load for their weight: a server with `n` requests in
 * flight (and queued) sorts at `(n + 1) * 4096 / scaled weight`, an idle one at 0. A server
 * moves to the back of its rank each time its load changes, which is what makes sequential
 * requests rotate A,B,C and concurrent ones follow the weights (3:1 gives
 * A,B,A,A,A,A,B,A,A,A as HAProxy 2.6 does).
 *
 * first takes the server with the lowest id that still has room, so traffic fills servers
 * one after another.
 */
import type { ServerRuntime } from "../state.js";
import { isUsable } from "../state.js";
import { EWEIGHT_MAX, hasQueueRoom, scaledWeight } from "./common.js";
import { type Keyed, Ordered } from "./ordered.js";
import type { Balancer, PickContext, PickResult } from "./types.js";

interface LcNode extends Keyed {
  readonly s: ServerRuntime;
  weight: number;
  inTree: boolean;
}

abstract class TreeBalancer implements Balancer {
  abstract readonly algo: "leastconn" | "first";
  protected readonly nodes: LcNode[];
  protected readonly byServer = new Map<ServerRuntime, LcNode>();
  private readonly act = new Ordered<LcNode>();
  private readonly bck = new Ordered<LcNode>();
  private readonly allBackups: boolean;
  private firstBackup: LcNode | undefined;

  constructor(servers: readonly ServerRuntime[], allBackups: boolean) {
    this.allBackups = allBackups;
    this.nodes = servers.map((s) => {
      const n: LcNode = { s, weight: 0, inTree: false, key: 0 };
      this.byServer.set(s, n);
      return n;
    });
  }

  /** Position of a server in its tree. */
  protected abstract keyOf(n: LcNode): number;

  pick(ctx: PickContext): PickResult {
    let tree: Ordered<LcNode>;
    if (this.act.size > 0) tree = this.act;
    else if (this.firstBackup) return this.firstBackup.s;
    else if (this.bck.size > 0) tree = this.bck;
    else return undefined;
    let avoided: ServerRuntime | undefined;
    for (let i = 0; i < tree.size; i++) {
      const s = tree.at(i)!.s;
      if (!hasQueueRoom(s)) continue;
      if (s !== ctx.exclude) return s;
      avoided = s;
    }
    return avoided ?? "full";
  }

  onServerStateChange(): void {
    for (const n of this.nodes) {
      const usable = isUsable(n.s);
      const w = scaledWeight(n.s);
      if (!usable) {
        this.remove(n);
        continue;
      }
      if (!n.inTree || w !== n.weight) {
        this.remove(n);
        n.weight = w;
        this.insert(n);
      }
    }
    this.firstBackup = this.allBackups ? undefined : this.nodes.find((n) => n.s.cfg.backup && n.inTree);
  }

  taken(server: ServerRuntime): void {
    this.reposition(server);
  }

  released(server: ServerRuntime): void {
    this.reposition(server);
  }

  /** Requeues a server whose load changed, only if its rank changed (as HAProxy). */
  private reposition(server: ServerRuntime): void {
    const n = this.byServer.get(server);
    if (!n?.inTree) return;
    if (this.keyOf(n) === n.key) return;
    this.remove(n);
    this.insert(n);
  }

  private treeOf(n: LcNode): Ordered<LcNode> {
    return n.s.cfg.backup ? this.bck : this.act;
  }

  protected insert(n: LcNode): void {
    this.treeOf(n).insert(n, this.keyOf(n));
    n.inTree = true;
  }

  private remove(n: LcNode): void {
    if (!n.inTree) return;
    this.treeOf(n).remove(n);
    n.inTree = false;
  }
}

export class LeastConnBalancer extends TreeBalancer {
  readonly algo = "leastconn" as const;

  constructor(servers: readonly ServerRuntime[], allBackups: boolean) {
    super(servers, allBackups);
    this.onServerStateChange();
  }

  protected keyOf(n: LcNode): number {
    const inflight = n.s.active + n.s.counters.qcur;
    return inflight === 0 ? 0 : Math.floor(((inflight + 1) * EWEIGHT_MAX) / n.weight);
  }
}

export class FirstBalancer extends TreeBalancer {
  readonly algo = "first" as const;

  constructor(servers: readonly ServerRuntime[], allBackups: boolean) {
    super(servers, allBackups);
    this.onServerStateChange();
  }

  protected keyOf(n: LcNode): number {
    return n.s.cfg.id;
  }
}
