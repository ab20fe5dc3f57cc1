/**
 * The hashes of `balance source` and `balance uri` with HAProxy's default `hash-type
 * map-based`: no avalanche step, the raw value modulo the map size. Matching them bit for bit
 * is what lets a client keep its server when traffic moves from HAProxy to fulcrum.
 */
import { isIPv4, isIPv6 } from "node:net";

/**
 * IPv4: the address as a 32-bit number (127.0.0.1 -> 0x7f000001). IPv6: the XOR of its four
 * 32-bit words. IPv4-mapped IPv6 (`::ffff:a.b.c.d`, what a dual-stack socket reports) counts
 * as the IPv4 address, as HAProxy sees it on an IPv4 listener. Anything else hashes to 0.
 */
export function sourceHash(ip: string): number {
  const mapped = ip.startsWith("::ffff:") && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (isIPv4(mapped)) return ipv4Number(mapped);
  if (isIPv6(mapped)) {
    const w = ipv6Words(mapped);
    return ((w[0]! ^ w[1]! ^ w[2]! ^ w[3]!) >>> 0) as number;
  }
  return 0;
}

function ipv4Number(ip: string): number {
  let n = 0;
  for (const part of ip.split(".")) n = n * 256 + Number(part);
  return n >>> 0;
}

/** The four 32-bit words of an IPv6 address (with `::` and an embedded IPv4 tail). */
function ipv6Words(ip: string): number[] {
  let text = ip;
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  const groups: number[] = [];
  const tailV4 = text.match(/:(\d+\.\d+\.\d+\.\d+)$/);
  if (tailV4) {
    const v4 = ipv4Number(tailV4[1]!);
    text = `${text.slice(0, text.length - tailV4[1]!.length)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const headParts = head === "" ? [] : head.split(":");
  const tailParts = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined ? 0 : 8 - headParts.length - tailParts.length;
  for (const p of headParts) groups.push(Number.parseInt(p, 16));
  for (let i = 0; i < zeros; i++) groups.push(0);
  for (const p of tailParts) groups.push(Number.parseInt(p, 16));
  const words: number[] = [];
  for (let i = 0; i < 8; i += 2) words.push((((groups[i] ?? 0) << 16) | (groups[i + 1] ?? 0)) >>> 0);
  return words;
}

export interface UriHashOptions {
  /** `whole`: hash the query string too (otherwise stop at '?'). */
  readonly whole: boolean;
  /** `len N`: only the first N characters (0 = no limit). */
  readonly len: number;
  /** `depth N`: stop before the (N+1)th slash (0 = no limit). */
  readonly depth: number;
}

/** sdbm over the request target, 32-bit, with `whole`, `len` and `depth` as HAProxy applies them. */
export function uriHash(uri: string, opts: UriHashOptions): number {
  const end = opts.len > 0 ? Math.min(opts.len, uri.length) : uri.length;
  let hash = 0;
  let slashes = 0;
  for (let i = 0; i < end; i++) {
    const c = uri.charCodeAt(i);
    if (c === 0x2f) {
      slashes++;
      if (opts.depth > 0 && slashes === opts.depth + 1) break;
    } else if (c === 0x3f && !opts.whole) break;
    hash = (c + (hash << 6) + (hash << 16) - hash) >>> 0;
  }
  return hash;
}
