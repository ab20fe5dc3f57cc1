/**
 * A small ordered collection keyed by an integer, where equal keys keep insertion order, as
 * HAProxy's ebtrees do with duplicate keys. Backends hold tens of servers, so a sorted array
 * with binary-search insertion is both the simplest and the fastest choice here.
 */
export interface Keyed {
  key: number;
}

export class Ordered<T extends Keyed> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  first(): T | undefined {
    return this.items[0];
  }

  /** Items in order (for walking, e.g. leastconn skipping saturated servers). */
  at(i: number): T | undefined {
    return this.items[i];
  }

  insert(item: T, key: number): void {
    item.key = key;
    // Insert after every item with a key <= this key: equal keys keep arrival order.
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid]!.key <= key) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, item);
  }

  remove(item: T): boolean {
    const i = this.items.indexOf(item);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }

  has(item: T): boolean {
    return this.items.includes(item);
  }
}
