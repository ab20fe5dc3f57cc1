// biome-ignore-all lint/suspicious/noTemplateCurlyInString: HAProxy writes environment variables as ${NAME}
/**
 * Conditional blocks and messages (`.if/.elif/.else/.endif`, `.notice/.warning/.alert/.diag`)
 * and `-cc` conditions, with HAProxy 2.6's predicates and rules (checked with haproxy -c
 * and haproxy -cc).
 */
import { describe, expect, it } from "vitest";
import { compareVersions, evalCondition, FULCRUM_FEATURES } from "../../proxy/config/cond.js";
import { CondSyntaxError, evalCc } from "../../proxy/config/index.js";
import { formatted, load } from "./config-fixtures.js";

const env = { vars: { A: "1", EMPTY: "", WITH_SSL: "yes" }, version: "2.6.12", features: FULCRUM_FEATURES };
const cond = (text: string) => evalCondition(text, env);

describe("conditions", () => {
  it("treats an empty condition as false and integers as false when zero", () => {
    expect(cond("")).toBe(false);
    expect(cond("0")).toBe(false);
    expect(cond("1")).toBe(true);
    expect(cond("2")).toBe(true);
  });

  it("evaluates the 2.6 predicates", () => {
    expect(cond("defined(A)")).toBe(true);
    expect(cond("defined(EMPTY)")).toBe(true);
    expect(cond("defined(NOPE)")).toBe(false);
    expect(cond("streq(yes,yes)")).toBe(true);
    expect(cond("strneq(yes,no)")).toBe(true);
    expect(cond("feature(PROMEX)")).toBe(true);
    expect(cond("feature(OPENSSL)")).toBe(false);
    expect(cond("version_atleast(2.4)")).toBe(true);
    expect(cond("version_atleast(2.6.12)")).toBe(true);
    expect(cond("version_atleast(2.7)")).toBe(false);
    expect(cond("version_before(2.7-dev1)")).toBe(true);
    expect(cond("version_before(2.6)")).toBe(false);
  });

  it("combines with !, parentheses, && before ||", () => {
    expect(cond("!0")).toBe(true);
    expect(cond("1 && 0 || 1")).toBe(true);
    expect(cond("1 && (0 || 0)")).toBe(false);
    expect(cond("!feature(OPENSSL) && (defined(A) || 0)")).toBe(true);
  });

  it("rejects what HAProxy cannot parse", () => {
    for (const bad of ["abc", "foo(1)", "1 &&", "(1", "defined(A,B)", "enabled(X)", "version_atleast(x)"]) {
      expect(() => cond(bad), bad).toThrow(CondSyntaxError);
    }
  });

  it("orders versions with dev < rc < release and missing parts as zero", () => {
    expect(compareVersions("2.6", "2.6.0")).toBe(0);
    expect(compareVersions("2.7-dev1", "2.7-rc1")).toBeLessThan(0);
    expect(compareVersions("2.7-rc2", "2.7")).toBeLessThan(0);
    expect(compareVersions("2.10", "2.9")).toBeGreaterThan(0);
  });
});

describe("-cc", () => {
  it("answers true, false, or throws on a syntax error, with double-quoted variables expanded", () => {
    expect(evalCc("version_atleast(2.4)")).toBe(true);
    expect(evalCc("version_atleast(2.7)")).toBe(false);
    expect(evalCc('streq("$X",on)', { env: { X: "on" } })).toBe(true);
    expect(() => evalCc("foo(1)")).toThrow(CondSyntaxError);
  });
});

describe("conditional blocks", () => {
  it("keeps the lines of the first true branch only, nested blocks included", () => {
    const text = [
      ".if defined(PROD)",
      "global",
      "    maxconn 10000",
      '.elif streq("${STAGE}",test)',
      "global",
      "    maxconn 100",
      "    .if 0",
      "        maxconn 1",
      "    .elif 1",
      "        log-tag nested",
      "    .else",
      "        maxconn 2",
      "    .endif",
      ".else",
      "global",
      "    maxconn 5",
      ".endif",
    ].join("\n");
    expect(load(text, { env: { PROD: "" } }).model.global.maxconn).toBe(10000);
    const test = load(text, { env: { STAGE: "test" } }).model.global;
    expect([test.maxconn, test.logTag]).toEqual([100, "nested"]);
    expect(load(text, { env: {} }).model.global.maxconn).toBe(5);
  });

  it("does not interpret the lines of a skipped branch, but still reports lines that cannot be split", () => {
    expect(load(".if 0\nglobal\n    no-such-keyword\n.endif\n").warnings).toEqual([]);
    expect(formatted(".if 0\nglobal\n    no-such-keyword\n    bad 'quote\n.endif\n")).toEqual([
      "t.cfg:4: unmatched quote at column 9",
    ]);
  });

  it("reports misplaced directives and unterminated blocks", () => {
    expect(formatted(".endif\n.elif 1\n.else\n")).toEqual([
      "t.cfg:1: lone '.endif' with no matching '.if'",
      "t.cfg:2: lone '.elif' with no matching '.if'",
      "t.cfg:3: lone '.else' with no matching '.if'",
    ]);
    expect(formatted(".if 1\n.else\n.else\n.elif 1\n.endif\n.if 1\n")).toEqual([
      "t.cfg:3: '.else' after '.else' is not permitted",
      "t.cfg:4: '.elif' after '.else' is not permitted",
      "t.cfg:6: non-terminated '.if' block (add the matching '.endif')",
    ]);
    expect(formatted(".if abc\n.endif\n")[0]).toMatch(/^t\.cfg:1: unparsable conditional expression 'abc'/);
    expect(formatted(".iff 1\n")[0]).toMatch(/^t\.cfg:1: unknown directive '\.iff'/);
  });
});

describe("message directives", () => {
  it("turns .notice into a notice, .warning into a warning, .alert into an error, and keeps .diag silent", () => {
    const { warnings, notices } = load('.notice "hello"\n.warning "careful"\n.diag "quiet"\n');
    expect(notices.map((n) => [n.level, n.message])).toEqual([
      ["notice", "hello"],
      ["diag", "quiet"],
    ]);
    expect(warnings.map((w) => `${w.loc.line}: ${w.message}`)).toEqual(["2: careful"]);
    expect(formatted('.alert "SSL support is mandatory"\n')).toEqual(["t.cfg:1: SSL support is mandatory"]);
  });

  it("asks for quotes when a message has several words, as HAProxy", () => {
    expect(formatted(".notice two words\n")).toEqual([
      "t.cfg:1: unexpected argument 'words' for '.notice' (use quotes if the message contains spaces)",
    ]);
  });
});
