/**
 * Layer one: configuration text -> raw tree. Splits lines into words (lexer.ts), runs the
 * `.if/.elif/.else/.endif` blocks and the `.diag/.notice/.warning/.alert` messages, and
 * groups the remaining lines under their section headers. It knows section names but no
 * keyword: the keyword table (validate.ts) gives the lines their meaning.
 */
import { ConfigError } from "../errors.js";
import { type CondEnv, CondSyntaxError, evalCondition } from "./cond.js";
import { tokenizeLine } from "./lexer.js";
import type { SourceLoc } from "./model.js";

export type SectionKind = "global" | "defaults" | "frontend" | "backend" | "listen" | "ha";

export const SECTION_KINDS: readonly SectionKind[] = [
  "global",
  "defaults",
  "frontend",
  "backend",
  "listen",
  "ha",
];

export interface RawLine {
  readonly loc: SourceLoc;
  /** The words after quoting, escapes and expansion. */
  readonly words: readonly string[];
  /** The line as written (for --print-modern). */
  readonly text: string;
}

export interface RawSection {
  readonly kind: SectionKind;
  /** The header line (`listen web_proxy *:80`). */
  readonly header: RawLine;
  readonly lines: RawLine[];
}

export interface RawMessage {
  readonly loc: SourceLoc;
  readonly level: "diag" | "notice" | "warning";
  readonly message: string;
}

export interface RawFile {
  readonly file: string;
  readonly sections: RawSection[];
  readonly errors: ConfigError[];
  readonly messages: RawMessage[];
}

export interface ParseEnv {
  readonly vars: NodeJS.ProcessEnv;
  readonly cond: CondEnv;
}

const SECTION_SET: ReadonlySet<string> = new Set(SECTION_KINDS);

/** HAProxy sections fulcrum does not have: one error at the header, their lines are skipped. */
export const UNSUPPORTED_SECTIONS: ReadonlySet<string> = new Set([
  "userlist",
  "peers",
  "resolvers",
  "mailers",
  "program",
  "http-errors",
  "ring",
  "cache",
  "fcgi-app",
  "log-forward",
]);

/** One level of `.if` nesting. */
interface CondFrame {
  /** Lines of the current branch are used. */
  active: boolean;
  /** A branch of this block was already taken. */
  taken: boolean;
  /** The enclosing block is active (otherwise no branch here is). */
  parentActive: boolean;
  sawElse: boolean;
  loc: SourceLoc;
}

type Directive = (ctx: DirectiveCtx, args: readonly string[]) => void;

interface DirectiveCtx {
  readonly loc: SourceLoc;
  readonly stack: CondFrame[];
  readonly env: ParseEnv;
  readonly out: RawFile;
  readonly active: boolean;
}

function condOf(ctx: DirectiveCtx, args: readonly string[]): boolean {
  try {
    return evalCondition(args.join(" "), ctx.env.cond);
  } catch (err) {
    if (err instanceof CondSyntaxError) throw new ConfigError(ctx.loc, err.message);
    throw err;
  }
}

function message(level: RawMessage["level"] | "alert"): Directive {
  return (ctx, args) => {
    if (!ctx.active) return;
    const name = `.${level}`;
    if (args.length > 1) {
      throw new ConfigError(
        ctx.loc,
        `unexpected argument '${args[1]}' for '${name}'`,
        "use quotes if the message contains spaces",
      );
    }
    const text = args[0] ?? "";
    if (level === "alert") throw new ConfigError(ctx.loc, text);
    ctx.out.messages.push({ loc: ctx.loc, level, message: text });
  };
}

const DIRECTIVES: ReadonlyMap<string, Directive> = new Map<string, Directive>([
  [
    ".if",
    (ctx, args) => {
      const parentActive = ctx.active;
      const value = parentActive ? condOf(ctx, args) : false;
      ctx.stack.push({ active: value, taken: value, parentActive, sawElse: false, loc: ctx.loc });
    },
  ],
  [
    ".elif",
    (ctx, args) => {
      const top = ctx.stack[ctx.stack.length - 1];
      if (!top) throw new ConfigError(ctx.loc, "lone '.elif' with no matching '.if'");
      if (top.sawElse) throw new ConfigError(ctx.loc, "'.elif' after '.else' is not permitted");
      if (!top.parentActive || top.taken) {
        top.active = false;
        return;
      }
      top.active = condOf(ctx, args);
      top.taken = top.active;
    },
  ],
  [
    ".else",
    (ctx) => {
      const top = ctx.stack[ctx.stack.length - 1];
      if (!top) throw new ConfigError(ctx.loc, "lone '.else' with no matching '.if'");
      if (top.sawElse) throw new ConfigError(ctx.loc, "'.else' after '.else' is not permitted");
      top.sawElse = true;
      top.active = top.parentActive && !top.taken;
      top.taken = true;
    },
  ],
  [
    ".endif",
    (ctx) => {
      if (!ctx.stack.pop()) throw new ConfigError(ctx.loc, "lone '.endif' with no matching '.if'");
    },
  ],
  [".diag", message("diag")],
  [".notice", message("notice")],
  [".warning", message("warning")],
  [".alert", message("alert")],
]);

const CONDITIONAL = new Set([".if", ".elif", ".else", ".endif"]);

/** Parses one file's text. Never throws a located error: they are collected in `errors`. */
export function parseFile(text: string, file: string, env: ParseEnv): RawFile {
  const out: RawFile = { file, sections: [], errors: [], messages: [] };
  const stack: CondFrame[] = [];
  let current: RawSection | undefined;
  /** Inside a section fulcrum does not support (already reported at its header). */
  let skipping = false;
  const lines = (text.startsWith("\uFEFF") ? text.slice(1) : text).split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  lines.forEach((raw, index) => {
    const loc: SourceLoc = { file, line: index + 1 };
    const active = stack.every((f) => f.active);
    const lexed = tokenizeLine(raw, {
      vars: env.vars,
      file,
      line: index + 1,
      section: current ? sectionLabel(current) : "",
    });
    // As HAProxy: a line that cannot be split is an error even inside a skipped block.
    if (lexed.error !== undefined) {
      out.errors.push(new ConfigError(loc, lexed.error));
      return;
    }
    const first = lexed.words[0];
    if (!active && !(first !== undefined && CONDITIONAL.has(first))) return;
    if (first === undefined) return;
    const directive = DIRECTIVES.get(first);
    if (directive) {
      try {
        directive({ loc, stack, env, out, active }, lexed.words.slice(1));
      } catch (err) {
        if (err instanceof ConfigError) out.errors.push(err);
        else throw err;
      }
      return;
    }
    for (const name of lexed.unsetVars) {
      out.messages.push({
        loc,
        level: "warning",
        message: `environment variable '${name}' is not set: it expands to an empty string`,
      });
    }
    for (const ref of lexed.literalVars) {
      out.messages.push({
        loc,
        level: "warning",
        message: `'${ref}' is kept as written: environment variables are expanded only inside double quotes (write "${ref}")`,
      });
    }
    const line: RawLine = { loc, words: lexed.words, text: raw.replace(/\r$/, "") };
    if (SECTION_SET.has(first)) {
      current = { kind: first as SectionKind, header: line, lines: [] };
      out.sections.push(current);
      skipping = false;
      return;
    }
    if (UNSUPPORTED_SECTIONS.has(first)) {
      out.errors.push(
        new ConfigError(
          loc,
          `the '${first}' section is not supported yet`,
          "its lines are not read; see docs/configuration.md",
        ),
      );
      current = undefined;
      skipping = true;
      return;
    }
    if (skipping) return;
    if (first.startsWith(".")) {
      out.errors.push(new ConfigError(loc, `unknown directive '${first}'`, directiveHint()));
      return;
    }
    if (!current) {
      out.errors.push(
        new ConfigError(
          loc,
          `unknown keyword '${first}' out of section`,
          "start a section first: global, defaults, frontend, backend, listen or ha",
        ),
      );
      return;
    }
    current.lines.push(line);
  });
  for (const frame of stack) {
    out.errors.push(new ConfigError(frame.loc, "non-terminated '.if' block", "add the matching '.endif'"));
  }
  return out;
}

function directiveHint(): string {
  return `known directives: ${[...DIRECTIVES.keys()].join(", ")}`;
}

/** What `${.SECTION}` gives: the section's name, or its kind when it has none. */
function sectionLabel(s: RawSection): string {
  return s.header.words[1] ?? s.kind;
}
