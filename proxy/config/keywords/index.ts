/**
 * The keyword table: every row of every section, and the lookup that finds the row for a
 * line (longest name first: "capture request header" before "capture"), handles the `no`
 * prefix, checks the section and suggests the closest keyword for a misspelling.
 */
import { ConfigError } from "../../errors.js";
import { closest } from "../hint.js";
import type { SourceLoc } from "../model.js";
import type { SectionKind } from "../parser.js";
import { CHECK_ROWS } from "./check.js";
import { GLOBAL_ROWS } from "./global.js";
import { HA_ROWS } from "./ha.js";
import { LEGACY_ROWS } from "./legacy.js";
import { OPTION_ROWS } from "./options.js";
import { PERSIST_ROWS } from "./persist.js";
import { PROXY_ROWS } from "./proxy.js";
import { SERVER_ROWS } from "./server.js";
import { STATS_ROWS } from "./stats.js";
import type { KeywordRow } from "./types.js";

export type { KeywordRow } from "./types.js";

export const KEYWORDS: readonly KeywordRow[] = [
  ...GLOBAL_ROWS,
  ...PROXY_ROWS,
  ...CHECK_ROWS,
  ...OPTION_ROWS,
  ...STATS_ROWS,
  ...SERVER_ROWS,
  ...PERSIST_ROWS,
  ...HA_ROWS,
  ...LEGACY_ROWS,
];

/** HAProxy keywords fulcrum knows but does not run yet: refused with this hint. */
const NOT_YET: ReadonlyMap<string, string> = new Map([
  ["http-check connect", "checks connect to the server's address and port; write one send and one expect"],
  ["http-check send-state", "the check request carries no X-Haproxy-Server-State header"],
  ["http-check comment", "write a '#' comment instead"],
  ["http-check set-var", "check rules set no variables"],
  ["http-check unset-var", "check rules set no variables"],
]);

const BY_NAME: ReadonlyMap<string, KeywordRow> = new Map(KEYWORDS.map((r) => [r.name, r]));
const MAX_WORDS = Math.max(...KEYWORDS.map((r) => r.name.split(" ").length));
/** First words that only exist followed by another word ("option", "timeout", ...). */
const FAMILIES: ReadonlySet<string> = new Set(
  KEYWORDS.filter((r) => r.name.includes(" ")).map((r) => r.name.split(" ")[0]!),
);

export interface Lookup {
  readonly row: KeywordRow;
  readonly args: readonly string[];
  readonly negated: boolean;
}

const SECTION_HELP: Readonly<Record<SectionKind, string>> = {
  global: "it is a proxy setting: put it in a defaults, frontend, listen or backend section",
  defaults: "defaults only holds settings inherited by proxies",
  frontend: "a frontend has no servers: put it in a backend, listen or defaults section",
  backend: "a backend does not accept connections: put it in a frontend, listen or defaults section",
  listen: "",
  ha: "the ha section only holds the pair's settings",
};

/** Finds the row for a line in a section, or throws a located error with a hint. */
export function lookupKeyword(words: readonly string[], section: SectionKind, loc: SourceLoc): Lookup {
  const negated = words[0] === "no" && words.length > 1;
  const rest = negated ? words.slice(1) : words;
  for (let n = Math.min(MAX_WORDS, rest.length); n >= 1; n--) {
    const name = rest.slice(0, n).join(" ");
    const row = BY_NAME.get(name);
    if (!row) continue;
    if (!row.sections.includes(section)) {
      const where = row.sections.join(", ");
      throw new ConfigError(
        loc,
        `'${name}' is not allowed in a '${section}' section`,
        `allowed in: ${where}${SECTION_HELP[section] ? `; ${SECTION_HELP[section]}` : ""}`,
      );
    }
    if (negated && !row.negatable) throw new ConfigError(loc, `'no ${name}' is not supported`);
    return { row, args: rest.slice(n), negated };
  }
  throw unknownKeyword(rest, section, loc);
}

function unknownKeyword(words: readonly string[], section: SectionKind, loc: SourceLoc): ConfigError {
  const first = words[0] ?? "";
  const known = `${first} ${words[1] ?? ""}`;
  const notYet = NOT_YET.get(known);
  if (notYet !== undefined) return new ConfigError(loc, `'${known}' is not supported yet`, notYet);
  const inSection = KEYWORDS.filter((r) => r.sections.includes(section)).map((r) => r.name);
  if (FAMILIES.has(first) && words[1] === undefined) {
    const family = inSection.filter((n) => n.startsWith(`${first} `));
    return new ConfigError(
      loc,
      `'${first}' expects a keyword after it`,
      family.length
        ? `in a '${section}' section: ${family.join(", ")}`
        : `'${first}' is not used in a '${section}' section`,
    );
  }
  if (FAMILIES.has(first)) {
    const written = `${first} ${words[1]}`;
    const family = inSection.filter((n) => n.startsWith(`${first} `));
    const best = closest(written, family.length ? family : KEYWORDS.map((r) => r.name));
    return new ConfigError(
      loc,
      `unknown keyword '${written}' in '${section}' section`,
      best ? `did you mean '${best}'?` : `known: ${family.join(", ")}`,
    );
  }
  const candidates = [...inSection, ...inSection.map((n) => n.split(" ")[0]!)];
  const best =
    closest(first, candidates) ??
    closest(
      first,
      KEYWORDS.map((r) => r.name),
    );
  return new ConfigError(
    loc,
    `unknown keyword '${first}' in '${section}' section`,
    best ? `did you mean '${best}'?` : "see docs/configuration.md for the keywords fulcrum knows",
  );
}
