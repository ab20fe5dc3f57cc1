// biome-ignore-all lint/suspicious/noTemplateCurlyInString: HAProxy writes environment variables as ${NAME}
/**
 * Every row of the keyword table, with forms it accepts (and what they put in the model) and
 * forms it rejects (and the located message). A row added without cases fails the first test.
 */
import { describe, expect, it } from "vitest";
import { KEYWORDS } from "../../proxy/config/keywords/index.js";
import { CASES, proxyOf } from "./config-cases.js";
import { around, errorsOf, load } from "./config-fixtures.js";

describe("keyword table coverage", () => {
  it("has accepted and rejected forms for every keyword row", () => {
    const missing = KEYWORDS.filter(
      (r) => !CASES[r.name] || CASES[r.name]!.ok.length === 0 || CASES[r.name]!.bad.length === 0,
    );
    expect(missing.map((r) => r.name)).toEqual([]);
    expect(Object.keys(CASES).filter((k) => !KEYWORDS.some((r) => r.name === k))).toEqual([]);
  });
});

for (const [name, cases] of Object.entries(CASES)) {
  describe(`keyword '${name}'`, () => {
    cases.ok.forEach((c, i) => {
      it(`accepts form ${i + 1} in a ${c.section} section: ${c.lines.split("\n").pop()}`, () => {
        const { text } = around(c.section, c.lines);
        const { model } = load(text);
        c.check?.(model, proxyOf(model, c.section));
      });
    });
    cases.bad.forEach((c, i) => {
      it(`rejects form ${i + 1} with a located error: ${c.lines.split("\n").pop()}`, () => {
        const { text, line } = around(c.section, c.lines);
        const errors = errorsOf(text).errors;
        const hit = errors.find((e) => e.format().includes(c.error));
        expect(hit, errors.map((e) => e.format()).join("\n")).toBeDefined();
        const last = line + c.lines.split("\n").length - 1;
        expect(hit!.loc.file).toBe("t.cfg");
        expect(hit!.loc.line).toBeGreaterThanOrEqual(line);
        expect(hit!.loc.line).toBeLessThanOrEqual(last + 1);
      });
    });
  });
}
