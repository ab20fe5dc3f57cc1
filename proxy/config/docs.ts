// biome-ignore-all lint/suspicious/noTemplateCurlyInString: HAProxy writes environment variables as ${NAME}
/**
 * docs/configuration.md is generated from the keyword table, so the two cannot drift (a test
 * compares them). Regenerate after changing a row:
 *   npm run build && node dist/proxy/config/docs.js > docs/configuration.md && npx biome format --write docs/
 * (Biome pads the Markdown tables; the test compares the cells, not the padding.)
 */
import { pathToFileURL } from "node:url";
import { DERIVED_SUFFIX, FETCHES, MATCH_DOCS, PREDEFINED_ACL_SOURCES } from "./acl.js";
import { FULCRUM_FEATURES } from "./cond.js";
import { DEFAULT_GLOBAL_MAXCONN } from "./finish.js";
import { CHECK_ROWS } from "./keywords/check.js";
import { GLOBAL_ROWS } from "./keywords/global.js";
import { HA_ROWS } from "./keywords/ha.js";
import { KEYWORDS, type KeywordRow } from "./keywords/index.js";
import { LEGACY_ROWS } from "./keywords/legacy.js";
import { OPTION_ROWS } from "./keywords/options.js";
import { PERSIST_ROWS } from "./keywords/persist.js";
import { ERRORFILE_CODES, PROXY_ROWS } from "./keywords/proxy.js";
import { SERVER_OPTIONS, SERVER_ROWS } from "./keywords/server.js";
import { STATS_ROWS } from "./keywords/stats.js";
import { UNSUPPORTED_SECTIONS } from "./parser.js";

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function code(text: string): string {
  return text === "" ? "" : `\`${text}\``;
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

/** The legacy spellings that map to a modern row, for its "legacy spelling" cell. */
function legacyOf(row: KeywordRow): string {
  const names = LEGACY_ROWS.filter((l) => l.legacy?.modern === row.name).map((l) =>
    code(`${l.name}${l.args ? ` ${l.args.split(" ")[0]}` : ""}`),
  );
  if (row.name === "bind") names.push(code("listen <name> <address>"));
  return names.join(", ");
}

function keywordTable(rows: readonly KeywordRow[]): string {
  return table(
    ["Keyword", "Sections", "Arguments", "Default", "Legacy spelling", "Meaning"],
    rows.map((r) => [
      code(`${r.negatable ? "[no] " : ""}${r.name}`),
      r.sections.join(", "),
      code(r.args),
      r.default ?? "",
      r.legacy ? `legacy: use ${code(r.legacy.modern || "nothing")}` : legacyOf(r),
      r.doc,
    ]),
  );
}

const isTimeout = (r: KeywordRow) => r.name.startsWith("timeout ");

/** The reference as Markdown. */
export function renderReference(): string {
  const groups: readonly (readonly [string, readonly KeywordRow[]])[] = [
    ["Global section", GLOBAL_ROWS],
    ["Proxies: routing, frontends and backends", PROXY_ROWS.filter((r) => !isTimeout(r))],
    ["Proxies: timeouts", PROXY_ROWS.filter(isTimeout)],
    ["Proxies: options", OPTION_ROWS],
    ["Proxies: health checks", CHECK_ROWS],
    ["Proxies: statistics page", STATS_ROWS],
    ["Proxies: servers", SERVER_ROWS],
    ["Proxies: persistence", PERSIST_ROWS],
    ["The ha section", HA_ROWS],
    ["HAProxy 1.4 spellings (each loads with one warning naming the modern spelling)", LEGACY_ROWS],
  ];
  const listed = groups.reduce((n, [, rows]) => n + rows.length, 0);
  if (listed !== KEYWORDS.length) throw new Error("docs.ts: a keyword group is missing from the reference");
  const out: string[] = [];
  out.push(
    "# Configuration reference",
    "",
    "<!-- Generated from the keyword table by proxy/config/docs.ts; a test fails when the two differ.",
    "     Regenerate: npm run build && node dist/proxy/config/docs.js > docs/configuration.md && npx biome format --write docs/ -->",
    "",
    "fulcrum reads HAProxy's configuration language (HAProxy 2.6 semantics) plus its own `ha` section.",
    "A keyword that is not in these tables is an error with the closest known keyword as a hint;",
    "a keyword that HAProxy has but fulcrum does not implement yet is an error that says so.",
    "Nothing is silently ignored. `fulcrum proxy -c -f FILE` checks a file, and",
    "`fulcrum proxy -c -f FILE --print-modern` prints it with each 1.4 keyword in its modern spelling.",
    "",
    "## Syntax",
    "",
    "- One keyword and its arguments per line; `#` starts a comment (outside quotes). Files are UTF-8.",
    '- `"..."` keeps spaces and `#`, and expands `$NAME`, `${NAME}`, `${NAME-default}` (default when unset)',
    "  and `${NAME[*]}` (one argument per space-separated item); `'...'` keeps everything as written.",
    "  Outside single quotes a backslash escapes a space, `#`, `\\`, `'`, `\"`, and writes `\\r`, `\\n`, `\\t`, `\\xHH`.",
    '- Environment variables are expanded only inside double quotes, as HAProxy does: write `bind "fd@${FD}"`.',
    "  An unset variable expands to an empty string with a warning; an unquoted `${NAME}` stays literal with a warning.",
    "  Pseudo-variables: `${.FILE}`, `${.LINE}`, `${.SECTION}`; `HAPROXY_LOCALPEER` is the -L name.",
    "- `.if COND` / `.elif COND` / `.else` / `.endif` keep or skip lines. COND is empty (false), an integer",
    "  (non-zero is true), a predicate, `!X`, `(X)`, `X && Y`, `X || Y`. Predicates: `defined(NAME)`,",
    `  \`feature(NAME)\` (fulcrum reports: ${[...FULCRUM_FEATURES].join(", ")}), \`streq(A,B)\`, \`strneq(A,B)\`,`,
    "  `version_atleast(V)`, `version_before(V)` (fulcrum follows HAProxy 2.6.12). `fulcrum proxy -cc COND`",
    "  evaluates one: exit 0 true, 1 false, 2 unparsable.",
    '- `.notice "text"`, `.warning "text"` print a message; `.alert "text"` is an error; `.diag` is silent.',
    "- Several `-f FILE` load in order; `-f DIR` loads the directory's `*.cfg` files in lexical order.",
    "- Times: a whole number with an optional unit `us`, `ms` (default), `s`, `m`, `h`, `d`; at most 2147483647 ms.",
    "  Sizes: a whole number with an optional unit `k`, `m`, `g` (powers of 1024).",
    "",
    "## Sections",
    "",
    table(
      ["Section", "Meaning"],
      [
        [code("global"), "process-wide settings; several global sections merge"],
        [
          code("defaults [<name>]"),
          "settings inherited by every proxy that follows, until the next defaults section (which starts afresh)",
        ],
        [code("frontend <name>"), "accepts connections and chooses a backend"],
        [code("backend <name>"), "a set of servers"],
        [
          code("listen <name>"),
          "a frontend and a backend in one; `listen <name> <address>` is the 1.4 spelling of `listen <name>` + `bind <address>`",
        ],
        [
          code("ha <name>"),
          "fulcrum's active/standby pair (one per file; both nodes read the same file, -L names the local peer)",
        ],
      ],
    ),
    "",
    "A frontend and a backend may share a name; other proxies with overlapping capabilities may not.",
    `HAProxy's other sections (${[...UNSUPPORTED_SECTIONS].map(code).join(", ")}) are not supported yet: each is one error at its header.`,
    `Global \`maxconn\` defaults to ${DEFAULT_GLOBAL_MAXCONN} (HAProxy derives it from \`ulimit -n\`).`,
    "",
  );
  for (const [title, rows] of groups) out.push(`## ${title}`, "", keywordTable(rows), "");
  out.push(
    `\`errorfile\` codes: ${ERRORFILE_CODES.join(", ")}.`,
    "",
    "## Server options",
    "",
    table(
      ["Option", "Arguments", "Default", "Meaning"],
      SERVER_OPTIONS.map((o) => [code(o.name), code(o.args), o.default ?? "", o.doc]),
    ),
    "",
    "## ACLs and conditions",
    "",
    "`acl <name> <fetch> [-i] [-m <method>] [--] [<operator>] <value>...` names a test; several lines with",
    "the same name are OR-ed. A condition is `if` or `unless` followed by ACL names (`!name` negates),",
    "anonymous ACLs `{ <fetch> ... }`, AND by juxtaposition and OR with `||` (or `or`). Named ACLs must be",
    "declared before the line that uses them. Integer values take `eq ne lt le gt ge` or ranges `a:b`, `:b`, `a:`.",
    `Derived fetch names add a match method: ${[...DERIVED_SUFFIX.keys()].map((s) => code(`<fetch>${s}`)).join(", ")}`,
    "(for fetches marked yes below), e.g. `path_beg /static`, `hdr_end(host) .example.com`.",
    "",
    "### Fetches",
    "",
    table(
      ["Fetch", "Arguments", "Type", "Derived names", "Meaning"],
      FETCHES.map((f) => [code(f.name), code(f.argDoc), f.type, f.derived ? "yes" : "", f.doc]),
    ),
    "",
    "### Match methods (`-m`)",
    "",
    table(
      ["Method", "Meaning"],
      MATCH_DOCS.map(([m, d]) => [code(m), d]),
    ),
    "",
    "### Predefined ACLs",
    "",
    table(
      ["Name", "Equivalent"],
      PREDEFINED_ACL_SOURCES.map(([n, words]) => [code(n), code(words.join(" "))]),
    ),
    "",
  );
  return out.join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(renderReference());
}
