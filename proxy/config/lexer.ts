/**
 * One configuration line -> its words, the way HAProxy 2.6 splits them:
 *   - words are separated by spaces and tabs; `#` outside quotes starts a comment;
 *   - `"..."` keeps spaces and `#`, and expands `$NAME`, `${NAME}`, `${NAME-default}` and
 *     `${NAME[*]}` (one word per space-separated item); escapes work inside;
 *   - `'...'` keeps everything as written (no escapes, no expansion);
 *   - outside single quotes a backslash escapes ` `, `#`, `\`, `'`, `"`, and writes `\r`,
 *     `\n`, `\t`, `\xHH`; any other backslash stays as written.
 * Environment variables are expanded only inside double quotes, as HAProxy does; an unquoted
 * `${NAME}` stays literal and produces a note, since that is almost always a mistake.
 * Pure: the environment is passed in.
 */

export interface LexEnv {
  readonly vars: NodeJS.ProcessEnv;
  /** Values of the pseudo-variables `.FILE`, `.LINE`, `.SECTION`. */
  readonly file?: string;
  readonly line?: number;
  readonly section?: string;
}

export interface LexResult {
  readonly words: string[];
  /** Set when the line cannot be split (unmatched quote, bad escape, bad variable name). */
  readonly error?: string;
  /** Variables referenced inside double quotes that are not set (expanded to ""). */
  readonly unsetVars: string[];
  /** `${NAME}` written outside double quotes (kept literally). */
  readonly literalVars: string[];
}

const VAR_FIRST = /[A-Za-z_.]/;
const VAR_NEXT = /[A-Za-z0-9_]/;
const HEX2 = /^[0-9A-Fa-f]{2}$/;
const SIMPLE_ESCAPES: ReadonlyMap<string, string> = new Map([
  [" ", " "],
  ["\\", "\\"],
  ["#", "#"],
  ["'", "'"],
  ['"', '"'],
  ["r", "\r"],
  ["n", "\n"],
  ["t", "\t"],
]);

class LexFailure extends Error {}

/** Collects one word; bytes from `\xHH` are joined as UTF-8. */
class WordBuilder {
  private parts: (string | number[])[] = [];
  private hasBytes = false;
  started = false;

  text(s: string): void {
    this.started = true;
    this.parts.push(s);
  }

  byte(b: number): void {
    this.started = true;
    this.hasBytes = true;
    const last = this.parts[this.parts.length - 1];
    if (Array.isArray(last)) last.push(b);
    else this.parts.push([b]);
  }

  take(): string {
    const parts = this.parts;
    const hasBytes = this.hasBytes;
    this.parts = [];
    this.hasBytes = false;
    this.started = false;
    if (!hasBytes) return (parts as string[]).join("");
    return Buffer.concat(
      parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p))),
    ).toString("utf8");
  }
}

export function tokenizeLine(line: string, env: LexEnv): LexResult {
  const words: string[] = [];
  const unsetVars: string[] = [];
  const literalVars: string[] = [];
  const word = new WordBuilder();
  const endWord = () => {
    if (word.started) words.push(word.take());
  };
  const fail = (msg: string, index: number): never => {
    throw new LexFailure(`${msg} at column ${index + 1}`);
  };

  /** Handles the backslash at `i`; returns the index after the sequence. */
  const backslash = (i: number, inDouble: boolean): number => {
    const next = line[i + 1];
    if (next === undefined) {
      word.text("\\");
      return i + 1;
    }
    const simple = SIMPLE_ESCAPES.get(next);
    if (simple !== undefined) {
      word.text(simple);
      return i + 2;
    }
    if (next === "x") {
      const hex = line.slice(i + 2, i + 4);
      if (!HEX2.test(hex)) fail("truncated or invalid hexadecimal sequence", i);
      word.byte(Number.parseInt(hex, 16));
      return i + 4;
    }
    if (next === "$" && inDouble) {
      word.text("$");
      return i + 2;
    }
    word.text(`\\${next}`);
    return i + 2;
  };

  const lookup = (name: string): string | undefined => {
    if (name === ".FILE") return env.file ?? "";
    if (name === ".LINE") return String(env.line ?? 0);
    if (name === ".SECTION") return env.section ?? "";
    return env.vars[name];
  };

  /** Expands the variable whose `$` is at `i` (inside double quotes); returns the next index. */
  const variable = (i: number): number => {
    const braced = line[i + 1] === "{";
    let j = braced ? i + 2 : i + 1;
    if (!VAR_FIRST.test(line[j] ?? "")) fail("forbidden first char in environment variable name", j);
    const start = j;
    j++;
    while (j < line.length && VAR_NEXT.test(line[j]!)) j++;
    const name = line.slice(start, j);
    let split = false;
    let fallback: string | undefined;
    if (braced) {
      if (line.startsWith("[*]}", j)) {
        split = true;
        j += 4;
      } else if (line[j] === "-") {
        const close = line.indexOf("}", j);
        if (close < 0) fail("unmatched brace in environment variable name", j);
        fallback = line.slice(j + 1, close);
        j = close + 1;
      } else if (line[j] === "}") {
        j++;
      } else {
        fail("unmatched brace in environment variable name", j);
      }
    }
    let value = lookup(name);
    if (value === undefined) {
      if (fallback === undefined) unsetVars.push(name);
      value = fallback ?? "";
    }
    if (!split) {
      word.text(value);
      return j;
    }
    const items = value.split(/[ \t]+/).filter((s) => s !== "");
    items.forEach((item, k) => {
      if (k > 0) endWord();
      word.text(item);
    });
    return j;
  };

  try {
    let quote: '"' | "'" | "" = "";
    let quoteAt = 0;
    let i = 0;
    while (i < line.length) {
      const c = line[i]!;
      if (quote === "'") {
        if (c === "'") quote = "";
        else word.text(c);
        i++;
        continue;
      }
      if (quote === '"') {
        if (c === '"') {
          quote = "";
          i++;
        } else if (c === "\\") i = backslash(i, true);
        else if (c === "$") i = variable(i);
        else {
          word.text(c);
          i++;
        }
        continue;
      }
      if (c === " " || c === "\t" || c === "\r") {
        endWord();
        i++;
      } else if (c === "#") {
        break;
      } else if (c === '"' || c === "'") {
        word.text("");
        quote = c;
        quoteAt = i;
        i++;
      } else if (c === "\\") {
        i = backslash(i, false);
      } else {
        if (c === "$" && line[i + 1] === "{") {
          const close = line.indexOf("}", i);
          literalVars.push(close > 0 ? line.slice(i, close + 1) : line.slice(i));
        }
        word.text(c);
        i++;
      }
    }
    if (quote !== "") fail("unmatched quote", quoteAt);
    endWord();
  } catch (err) {
    if (err instanceof LexFailure) return { words, error: err.message, unsetVars, literalVars };
    throw err;
  }
  return { words, unsetVars, literalVars };
}

/** Writes a word back so that tokenizeLine reads it unchanged (for --print-modern). */
export function quoteWord(word: string): string {
  if (word !== "" && /^[^\s#"'\\$]+$/.test(word)) return word;
  if (!/['\x00-\x1f]/.test(word)) return `'${word}'`;
  const escaped = word
    .replace(/[\\"$]/g, (c) => `\\${c}`)
    .replace(/[\x00-\x1f]/g, (c) => {
      const named: Record<string, string> = { "\r": "\\r", "\n": "\\n", "\t": "\\t" };
      return named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
    });
  return `"${escaped}"`;
}
