/**
 * Numbers, times and sizes as HAProxy writes them. Each parser returns the value or a
 * one-line reason; callers turn the reason into a located ConfigError.
 */

/** The largest timer HAProxy accepts, in milliseconds (~24.8 days). */
export const MAX_TIME_MS = 2_147_483_647;

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(reason: string): Parsed<T> => ({ ok: false, reason });

/** Milliseconds per unit; a bare number is milliseconds. */
const TIME_UNITS: ReadonlyMap<string, number> = new Map([
  ["us", 0.001],
  ["ms", 1],
  ["s", 1000],
  ["m", 60_000],
  ["h", 3_600_000],
  ["d", 86_400_000],
]);

const SIZE_UNITS: ReadonlyMap<string, number> = new Map([
  ["", 1],
  ["k", 1024],
  ["m", 1024 ** 2],
  ["g", 1024 ** 3],
]);

const NUMBER_WITH_UNIT = /^(\d+)([a-z]*)$/i;

/** `5000`, `5s`, `3h`, `100ms`, `250us` -> milliseconds (microseconds round up). */
export function parseTime(text: string): Parsed<number> {
  const m = NUMBER_WITH_UNIT.exec(text);
  if (!m) return bad(`'${text}' is not a time (a whole number with an optional unit us, ms, s, m, h, d)`);
  const unit = m[2]!.toLowerCase() || "ms";
  const factor = TIME_UNITS.get(unit);
  if (factor === undefined) return bad(`unknown time unit '${m[2]}' in '${text}' (use us, ms, s, m, h or d)`);
  const ms = Math.ceil(Number(m[1]) * factor);
  if (!Number.isSafeInteger(ms) || ms > MAX_TIME_MS) {
    return bad(`timer overflow in '${text}' (the maximum is 2147483647 ms, about 24.8 days)`);
  }
  return ok(ms);
}

/** `16384`, `16k`, `1m`, `2g` -> bytes (binary multiples, as HAProxy). */
export function parseSize(text: string): Parsed<number> {
  const m = NUMBER_WITH_UNIT.exec(text);
  if (!m) return bad(`'${text}' is not a size (a whole number with an optional unit k, m or g)`);
  const factor = SIZE_UNITS.get(m[2]!.toLowerCase());
  if (factor === undefined) return bad(`unknown size unit '${m[2]}' in '${text}' (use k, m or g)`);
  const bytes = Number(m[1]) * factor;
  if (!Number.isSafeInteger(bytes)) return bad(`size '${text}' is too large`);
  return ok(bytes);
}

/** A whole decimal number within [min, max]. */
export function parseInteger(text: string, min: number, max: number): Parsed<number> {
  if (!/^-?\d+$/.test(text)) return bad(`'${text}' is not a whole number`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    return bad(`${text} is out of range (expected ${min}..${max})`);
  }
  return ok(n);
}

/** Writes milliseconds back in the largest unit that divides them, for messages and docs. */
export function formatTime(ms: number): string {
  for (const [unit, factor] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const) {
    if (ms !== 0 && ms % factor === 0) return `${ms / factor}${unit}`;
  }
  return `${ms}ms`;
}
