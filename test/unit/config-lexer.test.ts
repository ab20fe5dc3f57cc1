// biome-ignore-all lint/suspicious/noTemplateCurlyInString: HAProxy writes environment variables as ${NAME}
/**
 * Splitting lines into words as HAProxy 2.6 does (checked against `haproxy -c` with
 * `.notice` lines): quoting, escapes, comments, and environment expansion only inside
 * double quotes. Plus a property test: arbitrary input never makes the reader throw anything
 * but located configuration errors.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../proxy/config/index.js";
import { KEYWORDS } from "../../proxy/config/keywords/index.js";
import { quoteWord, tokenizeLine } from "../../proxy/config/lexer.js";
import { ConfigError, ConfigErrors } from "../../proxy/errors.js";
import { load, OPTS } from "./config-fixtures.js";

const ENV = { vars: { HOME: "/root", FOO: "zz", EMPTY: "", LIST: "a b  c" } };
const words = (line: string) => {
  const r = tokenizeLine(line, ENV);
  expect(r.error).toBeUndefined();
  return r.words;
};

describe("line splitting", () => {
  it("separates words on spaces and tabs and ignores what follows '#'", () => {
    expect(words("  server\tweb1  127.0.0.1:80   # comment")).toEqual(["server", "web1", "127.0.0.1:80"]);
    expect(words("a#b c")).toEqual(["a"]);
    expect(words("# only a comment")).toEqual([]);
  });

  it("keeps spaces and '#' inside double and single quotes, and joins adjacent quoted parts", () => {
    expect(words('stats realm "HAProxy Statistics"')).toEqual(["stats", "realm", "HAProxy Statistics"]);
    expect(words(`x '#not a comment' "a""b" "q"'s'u`)).toEqual(["x", "#not a comment", "ab", "qsu"]);
    expect(words('x ""')).toEqual(["x", ""]);
  });

  it("reads backslash escapes outside single quotes: space, #, quotes, \\r \\n \\t \\xHH", () => {
    expect(words("bs\\ space \\#hash")).toEqual(["bs space", "#hash"]);
    expect(words('"dq \\" \\\\ \\x41 \\t"')).toEqual(['dq " \\ A \t']);
    expect(words("a\\r\\nb")).toEqual(["a\r\nb"]);
    expect(words("\\xc3\\xa9")).toEqual(["é"]);
    expect(words("\\z '\\n'")).toEqual(["\\z", "\\n"]);
    expect(words('\\$x "\\$x"')).toEqual(["\\$x", "$x"]);
  });

  it("reads UTF-8 files with a BOM, CRLF line ends and comments in any language", () => {
    const text =
      '\uFEFFglobal\r\n    # 全局配置：日志发送到本机\r\n    log-tag "négociant" # 注释\r\n    maxconn 100\r\n';
    const { model } = load(text);
    expect([model.global.logTag, model.global.maxconn]).toEqual(["négociant", 100]);
  });

  it("rejects an unmatched quote and a bad hexadecimal escape with the column", () => {
    expect(tokenizeLine("x 'it\\'s'", ENV).error).toBe("unmatched quote at column 9");
    expect(tokenizeLine("x \\x4z", ENV).error).toBe("truncated or invalid hexadecimal sequence at column 3");
  });
});

describe("environment variables", () => {
  it("expands $NAME, ${NAME}, ${NAME-default} and ${NAME[*]} inside double quotes only", () => {
    expect(words('"$HOME/x" "${HOME}x" "${FOO-d}" "${NOPE-a b}" "${EMPTY-d}"')).toEqual([
      "/root/x",
      "/rootx",
      "zz",
      "a b",
      "",
    ]);
    expect(words('x"${LIST[*]}"y')).toEqual(["xa", "b", "cy"]);
    expect(words("${FOO} '${FOO}'")).toEqual(["${FOO}", "${FOO}"]);
  });

  it("expands an unset variable to an empty string and reports it", () => {
    const r = tokenizeLine('x "a${NOPE}b"', ENV);
    expect(r.words).toEqual(["x", "ab"]);
    expect(r.unsetVars).toEqual(["NOPE"]);
  });

  it("rejects a variable name that starts badly or a brace left open", () => {
    expect(tokenizeLine('"$1"', ENV).error).toMatch(/^forbidden first char in environment variable name/);
    expect(tokenizeLine('"${}"', ENV).error).toMatch(/^forbidden first char/);
    expect(tokenizeLine('"${NOPE:-x}"', ENV).error).toMatch(/^unmatched brace in environment variable name/);
  });

  it("resolves the pseudo-variables .FILE, .LINE and .SECTION", () => {
    expect(
      tokenizeLine('"${.FILE}:${.LINE}:${.SECTION}"', { ...ENV, file: "a.cfg", line: 7, section: "web" })
        .words,
    ).toEqual(["a.cfg:7:web"]);
  });

  it("feeds expanded values to keywords and warns about unset or unquoted variables", () => {
    const text = 'global\n    pidfile "${RUN}/fulcrum.pid"\n    log-tag ${TAG}\n    chroot "${UNSET}/jail"\n';
    const { model, warnings } = load(text, { env: { RUN: "/run" } });
    expect(model.global.pidfile).toBe("/run/fulcrum.pid");
    expect(model.global.logTag).toBe("${TAG}");
    expect(warnings.map((w) => `${w.loc.line}: ${w.message}`)).toEqual([
      `3: '\${TAG}' is kept as written: environment variables are expanded only inside double quotes (write "\${TAG}")`,
      "4: environment variable 'UNSET' is not set: it expands to an empty string",
    ]);
  });

  it("sets HAPROXY_LOCALPEER to the local node name, as HAProxy does with -L", () => {
    const { model } = load('global\n    log-tag "${HAPROXY_LOCALPEER}"\n', { localNode: "lb2" });
    expect(model.global.logTag).toBe("lb2");
  });
});

/** Lines built from keywords, quotes, escapes and variables in any order. */
const vocabulary = fc.constantFrom(
  ...KEYWORDS.map((k) => k.name),
  "global",
  "defaults",
  "frontend fe",
  "backend be",
  "listen ls",
  "ha pair",
  "listen web *:80",
  "if",
  "unless",
  "{",
  "}",
  "!",
  "||",
  "acl",
  "TRUE",
  "path_beg",
  "/x",
  "127.0.0.1:80",
  "5s",
  "1h",
  "0",
  '"',
  "'",
  "\\",
  "\\x",
  "\\x4",
  "#",
  "${",
  "$",
  "${A",
  "${A-",
  "[*]}",
  "}",
  "\t",
  " ",
  "é",
  "\u0000",
  ".if",
  ".elif",
  ".else",
  ".endif",
  ".notice",
  ".alert",
  ".warning",
  ".diag",
  "defined(A)",
  "&&",
  "(",
  ")",
);
const line = fc
  .tuple(fc.array(vocabulary, { maxLength: 8 }), fc.constantFrom(" ", "", "    "))
  .map(([parts, sep]) => parts.join(sep));
const text = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.array(line, { maxLength: 12 }).map((ls) => ls.join("\n")),
);

describe("reader robustness", () => {
  it("never throws anything but located configuration errors, whatever the input", () => {
    fc.assert(
      fc.property(text, (input) => {
        try {
          parseConfigText(input, "fuzz.cfg", OPTS);
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigErrors);
          const errors = (err as ConfigErrors).errors;
          expect(errors.length).toBeGreaterThan(0);
          for (const e of errors) {
            expect(e).toBeInstanceOf(ConfigError);
            expect(e.format()).toMatch(/^fuzz\.cfg:\d+: /);
          }
        }
      }),
      { numRuns: 1500 },
    );
  });

  it("reads back every word --print-modern writes, whatever it contains", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), (w) => {
        expect(tokenizeLine(`x ${quoteWord(w)}`, ENV).words).toEqual(["x", w]);
      }),
      { numRuns: 2000 },
    );
  });

  it("never throws from the lexer on arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const r = tokenizeLine(s, ENV);
        expect(Array.isArray(r.words)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});
