/**
 * The shape of a keyword row and the context a row's parser works in. One row per keyword
 * (HAProxy's cfg_register_keywords idea): what exists, where it is allowed, how its
 * arguments parse, what the docs say, and, for a legacy spelling, what it becomes.
 */
import { ConfigError } from "../../errors.js";
import { type AclHooks, parseCondition } from "../acl.js";
import type { GlobalDraft, HaDraft, ProxyDraft } from "../draft.js";
import type { Condition, SourceLoc } from "../model.js";
import type { SectionKind } from "../parser.js";
import { type Parsed, parseInteger, parseSize, parseTime } from "../units.js";

/** I/O the validation needs, injected so that validation itself stays pure. */
export interface ConfigHost {
  /** Reads a file named by the configuration (errorfile); throws when it cannot. */
  readFile(path: string): Buffer;
  /** True when a user / group of this name exists on the machine. */
  userExists(name: string): boolean;
  groupExists(name: string): boolean;
}

export interface KwCtx {
  readonly loc: SourceLoc;
  readonly section: SectionKind;
  /** The keyword as the row names it ("timeout connect"), for messages. */
  readonly keyword: string;
  readonly global: GlobalDraft;
  /** The proxy (or defaults) being filled; only in proxy sections. */
  readonly proxy: ProxyDraft;
  /** The ha section being filled; only in the ha section. */
  readonly ha: HaDraft;
  readonly host: ConfigHost;
  readonly hooks: AclHooks;
  warn(message: string): void;
  /** Runs another line through the table as if it were written here (legacy rows). */
  dispatch(words: readonly string[]): void;
}

export interface LegacyRule {
  /** The modern keyword (a row name) this spelling maps to, for the docs. */
  readonly modern: string;
  /** e.g. "is deprecated since HAProxy 1.5" or "was removed in HAProxy 2.5". */
  readonly status: string;
  /** The modern lines for these arguments (none when the line just goes away). */
  readonly rewrite: (args: readonly string[]) => string[][];
  /** The advice part of the warning; default: use '<modern lines>' instead. */
  readonly advice?: (args: readonly string[]) => string;
}

export interface KeywordRow {
  /** One or two words: "maxconn", "timeout connect", "option httplog", "stats socket". */
  readonly name: string;
  readonly sections: readonly SectionKind[];
  /** Argument synopsis for the docs, e.g. "<time>". */
  readonly args: string;
  /** Default value for the docs ("" when there is none worth writing). */
  readonly default?: string;
  /** One-line meaning for the docs. */
  readonly doc: string;
  /** Accepts `no NAME` (turns a boolean option off, e.g. inherited from defaults). */
  readonly negatable?: boolean;
  readonly legacy?: LegacyRule;
  readonly parse: (ctx: KwCtx, args: readonly string[], negated: boolean) => void;
}

export const PROXIES: readonly SectionKind[] = ["defaults", "frontend", "listen", "backend"];
export const FRONTS: readonly SectionKind[] = ["defaults", "frontend", "listen"];
export const BACKS: readonly SectionKind[] = ["defaults", "listen", "backend"];
export const FRONTS_ONLY: readonly SectionKind[] = ["frontend", "listen"];
export const BACKS_ONLY: readonly SectionKind[] = ["listen", "backend"];
export const NAMED_PROXIES: readonly SectionKind[] = ["frontend", "listen", "backend"];

// ---- argument helpers: each returns the value or throws a located ConfigError ---------------

export function fail(ctx: KwCtx, message: string, hint?: string): never {
  throw new ConfigError(ctx.loc, `'${ctx.keyword}': ${message}`, hint);
}

function unwrap<T>(ctx: KwCtx, p: Parsed<T>): T {
  if (!p.ok) fail(ctx, p.reason);
  return p.value;
}

export function time(ctx: KwCtx, text: string | undefined, what = "a time"): number {
  if (text === undefined) fail(ctx, `expects ${what}`, "e.g. 5000, 5s, 1m");
  return unwrap(ctx, parseTime(text));
}

export function size(ctx: KwCtx, text: string | undefined): number {
  if (text === undefined) fail(ctx, "expects a size", "e.g. 16384, 16k, 1m");
  return unwrap(ctx, parseSize(text));
}

export function int(
  ctx: KwCtx,
  text: string | undefined,
  min: number,
  max: number,
  what = "an integer",
): number {
  if (text === undefined) fail(ctx, `expects ${what} (${min}..${max})`);
  return unwrap(ctx, parseInteger(text, min, max));
}

/** Exactly `n` arguments (the usage line is the hint). */
export function exactly(ctx: KwCtx, args: readonly string[], n: number, usage: string): void {
  if (args.length < n) fail(ctx, `missing argument`, `usage: ${usage}`);
  if (args.length > n) fail(ctx, `unexpected argument '${args[n]}'`, `usage: ${usage}`);
}

/** No argument at all. */
export function none(ctx: KwCtx, args: readonly string[]): void {
  if (args.length > 0) fail(ctx, `takes no argument, got '${args[0]}'`);
}

export function oneOf<T extends string>(
  ctx: KwCtx,
  text: string | undefined,
  values: readonly T[],
  what: string,
): T {
  if (text === undefined || !values.includes(text as T)) {
    fail(
      ctx,
      text === undefined ? `expects ${what}` : `unknown ${what} '${text}'`,
      `use one of: ${values.join(", ")}`,
    );
  }
  return text as T;
}

/** `if|unless ...` at the end of a rule; undefined when absent. */
export function optionalCondition(ctx: KwCtx, words: readonly string[]): Condition | undefined {
  if (words.length === 0) return undefined;
  return parseCondition(words, ctx.loc, ctx.proxy.acls, ctx.hooks);
}

export function requiredCondition(ctx: KwCtx, words: readonly string[]): Condition {
  if (words.length === 0) fail(ctx, "expects a condition", "write 'if ACL' or 'unless ACL'");
  return parseCondition(words, ctx.loc, ctx.proxy.acls, ctx.hooks);
}

/** Splits `KEY VALUE` pairs and flags after a fixed head (server and cookie options). */
export function takeValue(ctx: KwCtx, args: readonly string[], i: number, name: string): string {
  const v = args[i + 1];
  if (v === undefined) fail(ctx, `'${name}' expects a value`);
  return v;
}
