/** docs/configuration.md is the keyword table rendered; neither can change without the other. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderReference } from "../../proxy/config/docs.js";
import { KEYWORDS } from "../../proxy/config/keywords/index.js";
import { SERVER_OPTIONS } from "../../proxy/config/keywords/server.js";
import { ROOT } from "../helpers/index.js";

/** Table cells without the padding Biome's Markdown formatter adds (`biome format` runs on docs/). */
function unpadded(markdown: string): string {
  return markdown
    .split("\n")
    .map((line) => {
      if (!line.startsWith("|")) return line;
      const cells = line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((c) => c.trim());
      return cells.map((c) => (/^-+$/.test(c) ? "---" : c)).join("|");
    })
    .join("\n");
}

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("configuration reference", () => {
  it("has a one-line meaning for every keyword row and server option", () => {
    const undocumented = [...KEYWORDS, ...SERVER_OPTIONS].filter(
      (r) => r.doc.trim() === "" || r.doc.includes("\n"),
    );
    expect(undocumented.map((r) => r.name)).toEqual([]);
  });

  it("lists every keyword in docs/configuration.md", () => {
    const docs = readFileSync(join(ROOT, "docs/configuration.md"), "utf8");
    const missing = KEYWORDS.filter(
      (r) =>
        !new RegExp(`^\\| \`${reEscape(r.negatable ? "[no] " : "")}${reEscape(r.name)}\` +\\|`, "m").test(
          docs,
        ),
    );
    expect(missing.map((r) => r.name)).toEqual([]);
  });

  it("is what renderReference() gives, table padding aside (regenerate: see proxy/config/docs.ts)", () => {
    const docs = readFileSync(join(ROOT, "docs/configuration.md"), "utf8");
    expect(unpadded(docs)).toBe(unpadded(renderReference()));
  });
});
