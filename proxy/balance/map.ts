/**
 * The static map HAProxy builds for `static-rr`, `source` and `uri` (hash-type map-based, the
 * default): an array of `sum of weights` slots filled by a weighted interleave, rebuilt when a
 * server changes state. `static-rr` walks it; the hash algorithms index it with
 * `hash % slots`. Weights are divided by their greatest common divisor first, as HAProxy
 * does, which keeps the map (and so every hash result) identical to HAProxy's.
 */
import type { Balance } from "../config/model.js";
import type { ServerRuntime } from "../state.js";
import { isSaturated, usableGroups, weightGcd } from "./common.js";
import { sourceHash, uriHash } from "./hash.js";
import type { Balancer, PickContext, PickResult } from "./types.js";

/**
 * Fills `total` slots: each round every server adds its weight to its score and the best
 * (score + total) / total wins, first declared on ties; the winner pays `total`. The integer
 * division is what makes HAProxy's order (3:2:1 gives A,A,B,A,B,C), not a smooth interleave.
 */
export function buildMap(servers: readonly ServerRuntime[], weights: readonly number[]): ServerRuntime[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const map: ServerRuntime[] = [];
  if (total === 0) return map;
  if (servers.length === 1) return [servers[0]!];
  const score = weights.map(() => 0);
  for (let slot = 0; slot < total; slot++) {
    let best = -1;
    let max = 0;
    for (let i = 0; i < servers.length; i++) {
      score[i]! += weights[i]!;
      const v = Math.floor((score[i]! + total) / total);
      if (best < 0 || v > max) {
        max = v;
        best = i;
      }
    }
    map.push(servers[best]!);
    score[best]! -= total;
  }
  return map;
}

type Lookup = (ctx: PickContext) => number;

export class MapBalancer implements Balancer {
  readonly algo: "static-rr" | "source" | "uri";
  private readonly servers: readonly ServerRuntime[];
  private readonly allBackups: boolean;
  private readonly gcd: number;
  private readonly hash: Lookup | undefined;
  private map: ServerRuntime[] = [];
  /** static-rr: next slot; kept across rebuilds as HAProxy does. */
  private rr = 0;
  /** Only one server in the map: HAProxy does not hash then. */
  private single = false;

  constructor(servers: readonly ServerRuntime[], balance: Balance, allBackups: boolean) {
    this.algo = balance.algo as MapBalancer["algo"];
    this.servers = servers;
    this.allBackups = allBackups;
    this.gcd = weightGcd(servers);
    const opts = { whole: balance.uriWhole ?? false, len: balance.uriLen ?? 0, depth: balance.uriDepth ?? 0 };
    this.hash =
      this.algo === "source"
        ? (ctx) => sourceHash(ctx.srcIp)
        : this.algo === "uri"
          ? (ctx) => uriHash(ctx.uri, opts)
          : undefined;
    this.rebuild();
  }

  pick(ctx: PickContext): PickResult {
    const size = this.map.length;
    if (size === 0) return undefined;
    if (this.hash) {
      // One server left: HAProxy does not even hash. The server may be full: it then queues.
      if (this.single) return this.map[0];
      return this.map[this.hash(ctx) % size];
    }
    return this.nextInRotation(ctx.exclude);
  }

  onServerStateChange(): void {
    this.rebuild();
  }

  taken(): void {}
  released(): void {}

  private rebuild(): void {
    const g = usableGroups(this.servers, this.allBackups);
    const members = g.active.length > 0 ? g.active : g.firstBackup ? [g.firstBackup] : g.backup;
    const weights = members.map((s) => Math.ceil(Math.ceil(s.effectiveWeight) / this.gcd));
    this.map = buildMap(members, weights);
    this.single = members.length === 1;
  }

  /**
   * Walks the map from where it stopped, skipping saturated servers and the excluded one. As
   * HAProxy, the position kept after the map's last slot is the map's size, wrapped only at the
   * next pick: when a server comes back and the map grows, the walk resumes there, not at 0.
   */
  private nextInRotation(exclude: ServerRuntime | undefined): PickResult {
    const size = this.map.length;
    const start = this.rr >= size ? 0 : this.rr;
    let idx = start;
    let avoided: ServerRuntime | undefined;
    let avoidedNext = 0;
    do {
      if (idx === size) idx = 0;
      const s = this.map[idx++]!;
      if (!isSaturated(s)) {
        if (s !== exclude) {
          this.rr = idx;
          return s;
        }
        avoided = s;
        avoidedNext = idx;
      }
    } while (idx !== start && !(idx === size && start === 0));
    if (avoided) {
      this.rr = avoidedNext;
      return avoided;
    }
    return "full";
  }
}
