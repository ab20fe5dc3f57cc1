/**
 * The conditions of `.if` / `.elif` and of `fulcrum proxy -cc`, as HAProxy 2.6 defines them:
 * an empty condition is false; `0` false, another integer true; predicates `defined(NAME)`,
 * `feature(NAME)`, `streq(A,B)`, `strneq(A,B)`, `version_atleast(V)`, `version_before(V)`;
 * `!`, parentheses, `&&` binding tighter than `||`. Pure: environment and version injected.
 */

export interface CondEnv {
  readonly vars: NodeJS.ProcessEnv;
  /** The HAProxy version whose behaviour we follow, e.g. "2.6.12". */
  readonly version: string;
  /** Names that `feature()` reports present (what `haproxy -vv` lists after a '+'). */
  readonly features: ReadonlySet<string>;
}

/** What fulcrum reports to `feature()`: it exports Prometheus metrics, it does no TLS yet. */
export const FULCRUM_FEATURES: ReadonlySet<string> = new Set(["PROMEX"]);

export class CondSyntaxError extends Error {}

type Predicate = (args: readonly string[], env: CondEnv) => boolean;

interface PredicateRow {
  readonly arity: number;
  readonly run: Predicate;
}

const PREDICATES: ReadonlyMap<string, PredicateRow> = new Map<string, PredicateRow>([
  ["defined", { arity: 1, run: ([name], env) => env.vars[name!] !== undefined }],
  ["feature", { arity: 1, run: ([name], env) => env.features.has(name!) }],
  ["streq", { arity: 2, run: ([a, b]) => a === b }],
  ["strneq", { arity: 2, run: ([a, b]) => a !== b }],
  ["version_atleast", { arity: 1, run: ([v], env) => compareVersions(env.version, v!) >= 0 }],
  ["version_before", { arity: 1, run: ([v], env) => compareVersions(env.version, v!) < 0 }],
]);

/** Evaluates a condition text; throws CondSyntaxError when it cannot be parsed. */
export function evalCondition(text: string, env: CondEnv): boolean {
  const p = new CondParser(text, env);
  return p.parseAll();
}

class CondParser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly env: CondEnv,
  ) {}

  parseAll(): boolean {
    this.skipSpaces();
    if (this.pos >= this.text.length) return false;
    const v = this.parseOr();
    this.skipSpaces();
    if (this.pos < this.text.length) this.fail("unexpected text");
    return v;
  }

  private fail(what: string): never {
    throw new CondSyntaxError(
      `unparsable conditional expression '${this.text}': ${what} at position ${this.pos + 1}`,
    );
  }

  private skipSpaces(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  private eat(token: string): boolean {
    this.skipSpaces();
    if (this.text.startsWith(token, this.pos)) {
      this.pos += token.length;
      return true;
    }
    return false;
  }

  // Both sides are always parsed (syntax errors anywhere are reported); values are combined.
  private parseOr(): boolean {
    let v = this.parseAnd();
    while (this.eat("||")) {
      const r = this.parseAnd();
      v = v || r;
    }
    return v;
  }

  private parseAnd(): boolean {
    let v = this.parseTerm();
    while (this.eat("&&")) {
      const r = this.parseTerm();
      v = v && r;
    }
    return v;
  }

  private parseTerm(): boolean {
    this.skipSpaces();
    if (this.eat("!")) return !this.parseTerm();
    if (this.eat("(")) {
      const v = this.parseOr();
      if (!this.eat(")")) this.fail("expected ')'");
      return v;
    }
    const rest = this.text.slice(this.pos);
    const int = /^-?\d+/.exec(rest);
    if (int) {
      this.pos += int[0].length;
      return Number(int[0]) !== 0;
    }
    const name = /^[a-z_]+/.exec(rest);
    if (!name) this.fail("expected a predicate, an integer, '!' or '('");
    const row = PREDICATES.get(name[0]);
    if (!row) this.fail(`unknown predicate '${name[0]}'`);
    this.pos += name[0].length;
    if (this.text[this.pos] !== "(") this.fail(`expected '(' after '${name[0]}'`);
    this.pos++;
    const close = this.text.indexOf(")", this.pos);
    if (close < 0) this.fail(`expected ')' to close '${name[0]}('`);
    const inner = this.text.slice(this.pos, close);
    const args = inner === "" ? [] : inner.split(",");
    if (args.length !== row.arity) {
      this.fail(`'${name[0]}' takes ${row.arity} argument${row.arity > 1 ? "s" : ""}, got ${args.length}`);
    }
    this.pos = close + 1;
    return row.run(args, this.env);
  }
}

/**
 * Orders HAProxy version strings: numeric components (missing ones are zero), then the
 * suffix: `-devN` < `-rcN` < release. Returns <0, 0, >0 like a comparator.
 */
export function compareVersions(a: string, b: string): number {
  const pa = splitVersion(a);
  const pb = splitVersion(b);
  const len = Math.max(pa.nums.length, pb.nums.length);
  for (let i = 0; i < len; i++) {
    const d = (pa.nums[i] ?? 0) - (pb.nums[i] ?? 0);
    if (d !== 0) return d;
  }
  if (pa.stage !== pb.stage) return pa.stage - pb.stage;
  return pa.stageNum - pb.stageNum;
}

function splitVersion(v: string): { nums: number[]; stage: number; stageNum: number } {
  const m = /^(\d+(?:\.\d+)*)(?:-(dev|rc)(\d*))?/.exec(v.trim());
  if (!m) throw new CondSyntaxError(`'${v}' is not a version (e.g. 2.4, 2.6.12, 2.7-dev1)`);
  const nums = m[1]!.split(".").map(Number);
  const stage = m[2] === "dev" ? -2 : m[2] === "rc" ? -1 : 0;
  return { nums, stage, stageNum: m[3] ? Number(m[3]) : 0 };
}
