/**
 * The dates HAProxy appends to its persistence cookie with `maxidle`/`maxlife`
 * (`SRV=A|<last>|<first>`): each is a Unix time in 4-second units, 30 bits, written as five
 * base64 characters (standard alphabet, most significant first). Recorded from HAProxy 2.6:
 * at 1795653323 it wrote `awd+z`, i.e. (1795653323 + 3) >> 2.
 */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const VALUE = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]));

/** Encodes a date given in 4-second units (30 bits). */
export function encodeQuad(quads: number): string {
  let v = quads & 0x3fffffff;
  let out = "";
  for (let i = 0; i < 5; i++) {
    out = ALPHABET[v & 63] + out;
    v >>>= 6;
  }
  return out;
}

/** The date HAProxy writes for "now" (seconds): rounded up to the next 4-second step. */
export function encodeNow(nowSec: number): string {
  return encodeQuad((nowSec + 3) >>> 2);
}

/** Decodes five characters into seconds, or 0 when they are not a valid positive date. */
export function decodeDate(text: string): number {
  if (text.length < 5) return 0;
  let v = 0;
  for (let i = 0; i < 5; i++) {
    const d = VALUE.get(text[i]!);
    if (d === undefined) return 0;
    v = v * 64 + d;
  }
  return v > 0 ? v * 4 : 0;
}
