/**
 * HAProxy 1.4 spellings that HAProxy 2.x refuses. Each row rewrites its line into the modern
 * lines, runs those through the table (so the model is exactly what the modern spelling
 * gives) and leaves one warning naming both spellings. `--print-modern` uses the same
 * rewrite.
 */
import { quoteWord } from "../lexer.js";
import type { SectionKind } from "../parser.js";
import { appsessionToStick } from "./persist.js";
import {
  BACKS,
  BACKS_ONLY,
  FRONTS,
  fail,
  int,
  type KeywordRow,
  type KwCtx,
  type LegacyRule,
} from "./types.js";

export function renderLine(words: readonly string[]): string {
  return words.map(quoteWord).join(" ");
}

function renderLines(lines: readonly (readonly string[])[]): string {
  return lines.map((l) => `'${renderLine(l)}'`).join(" + ");
}

/** Runs a legacy line: modern lines through the table first, then the one warning. */
function applyLegacy(ctx: KwCtx, name: string, rule: LegacyRule, args: readonly string[]): void {
  const lines = rule.rewrite(args);
  for (const words of lines) ctx.dispatch(words);
  const advice = rule.advice ? rule.advice(args) : `use ${renderLines(lines)} instead`;
  ctx.warn(`'${name}' ${rule.status}, ${advice}`);
}

function legacyRow(
  name: string,
  sections: readonly SectionKind[],
  args: string,
  doc: string,
  rule: LegacyRule,
): KeywordRow {
  return { name, sections, args, doc, legacy: rule, parse: (ctx, a) => applyLegacy(ctx, name, rule, a) };
}

function timeoutAlias(
  name: string,
  modern: "connect" | "client" | "server",
  sections: readonly SectionKind[],
): KeywordRow {
  return legacyRow(name, sections, "<time>", `HAProxy 1.4 spelling of \`timeout ${modern}\``, {
    modern: `timeout ${modern}`,
    status: "is deprecated since HAProxy 1.5",
    rewrite: (args) => [["timeout", modern, ...args]],
  });
}

/** Thrown through `fail` when a legacy line cannot be rewritten at all. */
function rewriteOrFail(ctx: KwCtx, result: string[][] | string): string[][] {
  if (typeof result === "string") fail(ctx, result);
  return result;
}

export const LEGACY_ROWS: readonly KeywordRow[] = [
  timeoutAlias("contimeout", "connect", BACKS),
  timeoutAlias("clitimeout", "client", FRONTS),
  timeoutAlias("srvtimeout", "server", BACKS),
  legacyRow("redispatch", BACKS, "", "HAProxy 1.4 spelling of `option redispatch`", {
    modern: "option redispatch",
    status: "is deprecated since HAProxy 1.5",
    rewrite: (args) => [["option", "redispatch", ...args]],
  }),
  {
    name: "appsession",
    sections: BACKS_ONLY,
    args: "<cookie> len <length> timeout <holdtime> [request-learn] [mode path-parameters|query-string]",
    doc: "HAProxy 1.4 learned-session persistence: learn the application's session cookie from responses, route requests carrying it to the same server; becomes `stick-table` + `stick` lines",
    legacy: {
      modern: "stick-table",
      status: "was removed in HAProxy 1.6",
      rewrite: (args) => {
        const r = appsessionToStick(args);
        return typeof r === "string" ? [] : r;
      },
    },
    parse: (ctx, args) => {
      const lines = rewriteOrFail(ctx, appsessionToStick(args));
      for (const words of lines) ctx.dispatch(words);
      if (ctx.proxy.stickTable) ctx.proxy.stickTable.appsession = true;
      ctx.warn(
        `'appsession' was removed in HAProxy 1.6; fulcrum keeps its meaning (learned-session persistence), use ${renderLines(lines)} instead`,
      );
    },
  },
  {
    name: "nbproc",
    sections: ["global"],
    args: "<number>",
    doc: "HAProxy 1.4 process count; accepted and explained: fulcrum runs one process, the HA pair gives redundancy",
    legacy: {
      modern: "",
      status: "was removed in HAProxy 2.5",
      rewrite: () => [],
    },
    parse: (ctx, args) => {
      if (args.length !== 1) fail(ctx, "expects a number", "usage: nbproc <number>");
      ctx.global.nbproc = int(ctx, args[0], 1, 64);
      ctx.warn(
        `'nbproc' was removed in HAProxy 2.5: fulcrum runs one process and the HA pair (the ha section) gives redundancy; remove 'nbproc ${args[0]}'`,
      );
    },
  },
];
