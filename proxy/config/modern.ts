/**
 * `--print-modern`: the configuration as written, with each legacy line replaced by the
 * modern lines it means (the same rewrite the keyword table applies when loading), so the
 * output loads into HAProxy 2.6 and into fulcrum with the same model and no warning.
 * Comments, blank lines, conditional blocks and modern lines are kept as they are.
 */
import { lookupKeyword } from "./keywords/index.js";
import { renderLine } from "./keywords/legacy.js";
import { type ParseEnv, parseFile, type RawLine, type RawSection } from "./parser.js";

function indentOf(text: string): string {
  return /^[ \t]*/.exec(text)![0];
}

/** Replacement lines for a section header with a 1.4 address (`listen NAME ADDR`). */
function header(s: RawSection): string[] | undefined {
  const [kind, name, addr] = s.header.words;
  if ((kind !== "listen" && kind !== "frontend") || name === undefined || addr === undefined)
    return undefined;
  if (s.header.words.length !== 3) return undefined;
  const indent = s.lines[0] ? indentOf(s.lines[0].text) : "    ";
  return [`${indentOf(s.header.text)}${renderLine([kind, name])}`, `${indent}${renderLine(["bind", addr])}`];
}

/** Replacement lines for a legacy keyword line, or undefined to keep the line as written. */
function body(s: RawSection, line: RawLine): string[] | undefined {
  let found: ReturnType<typeof lookupKeyword>;
  try {
    found = lookupKeyword(line.words, s.kind, line.loc);
  } catch {
    return undefined;
  }
  const legacy = found.row.legacy;
  if (!legacy) return undefined;
  const indent = indentOf(line.text);
  const lines = legacy.rewrite(found.args);
  if (lines.length === 0) {
    return [`${indent}# '${line.words.join(" ")}' removed: ${found.row.doc}`];
  }
  return lines.map((words) => `${indent}${renderLine(words)}`);
}

export function printModernText(text: string, file: string, env: ParseEnv): string {
  const raw = parseFile(text, file, env);
  const replace = new Map<number, string[]>();
  for (const s of raw.sections) {
    const h = header(s);
    if (h) replace.set(s.header.loc.line, h);
    for (const line of s.lines) {
      const b = body(s, line);
      if (b) replace.set(line.loc.line, b);
    }
  }
  const lines = text.split("\n");
  const out = lines.flatMap((l, i) => replace.get(i + 1) ?? [l.replace(/\r$/, "")]);
  return out.join("\n");
}
