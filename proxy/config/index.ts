/**
 * Entry points of the configuration reader. Loading runs at every process start (failover
 * and reload start processes), so this module imports only Node built-ins and its own parts.
 *
 *   loadConfig(files)        files -> { model, warnings, notices }, or throws ConfigErrors
 *   parseConfigText(text)    the same from a string (tests, lab)
 *   printModern(files)       the configuration with each legacy line in modern spelling
 *   evalCc(expr)             `fulcrum proxy -cc EXPR`
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import { join } from "node:path";
import { ConfigError, ConfigErrors } from "../errors.js";
import { CondSyntaxError, evalCondition, FULCRUM_FEATURES } from "./cond.js";
import { finish } from "./finish.js";
import { deepFreeze } from "./freeze.js";
import type { ConfigHost } from "./keywords/types.js";
import { tokenizeLine } from "./lexer.js";
import type { ConfigModel, ConfigWarning, SourceLoc } from "./model.js";
import { printModernText } from "./modern.js";
import { type ParseEnv, parseFile, type RawFile } from "./parser.js";
import { type Collector, walk } from "./validate.js";

export { CondSyntaxError } from "./cond.js";
export type { ConfigHost } from "./keywords/types.js";

import { HAPROXY_COMPAT_VERSION } from "../version.js";

export { HAPROXY_COMPAT_VERSION } from "../version.js";

export interface LoadOptions {
  /** Environment for `"${VAR}"` and `.if defined(VAR)`; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** This node's name in the ha section (-L); default the host name. */
  readonly localNode?: string;
  /** Version reported to version_atleast()/version_before(); default HAPROXY_COMPAT_VERSION. */
  readonly version?: string;
  /** File access for errorfile and user/group checks; default the real machine. */
  readonly host?: ConfigHost;
}

export interface ConfigNotice {
  readonly loc: SourceLoc;
  readonly level: "notice" | "diag";
  readonly message: string;
}

export interface LoadResult {
  readonly model: ConfigModel;
  readonly warnings: ConfigWarning[];
  /** `.notice` and `.diag` messages, in order. */
  readonly notices: ConfigNotice[];
}

function namesIn(file: string, db: string): Set<string> {
  try {
    return new Set(
      readFileSync(db, "utf8")
        .split("\n")
        .map((l) => l.split(":")[0]!)
        .filter((n) => n !== "" && !n.startsWith("#")),
    );
  } catch {
    return new Set([file]);
  }
}

/** The machine as the configuration sees it: files relative to the current directory. */
export const SYSTEM_HOST: ConfigHost = {
  readFile: (path) => readFileSync(path),
  userExists: (name) => namesIn(name, "/etc/passwd").has(name),
  groupExists: (name) => namesIn(name, "/etc/group").has(name),
};

/** `-f DIR` loads the directory's `*.cfg` files in lexical order, as HAProxy does. */
export function expandConfigPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (existsSync(p) && statSync(p).isDirectory()) {
      const entries = readdirSync(p)
        .filter((n) => n.endsWith(".cfg") && statSync(join(p, n)).isFile())
        .sort();
      out.push(...entries.map((n) => join(p, n)));
    } else out.push(p);
  }
  return out;
}

interface Source {
  readonly file: string;
  readonly text: string;
}

function readSources(paths: readonly string[]): Source[] {
  const errors: ConfigError[] = [];
  const sources: Source[] = [];
  for (const file of expandConfigPaths(paths)) {
    try {
      sources.push({ file, text: readFileSync(file, "utf8") });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      errors.push(new ConfigError({ file, line: 0 }, `cannot open configuration file (${code})`));
    }
  }
  if (errors.length) throw new ConfigErrors(errors);
  return sources;
}

function parseEnv(opts: LoadOptions, localNode: string, files: readonly string[]): ParseEnv {
  const vars = {
    ...(opts.env ?? process.env),
    HAPROXY_LOCALPEER: localNode,
    HAPROXY_CFGFILES: files.join(";"),
  };
  return {
    vars,
    cond: { vars, version: opts.version ?? HAPROXY_COMPAT_VERSION, features: FULCRUM_FEATURES },
  };
}

function loadSources(sources: readonly Source[], opts: LoadOptions): LoadResult {
  const hostname = osHostname();
  const localNode = opts.localNode ?? hostname;
  const files = sources.map((s) => s.file);
  const env = parseEnv(opts, localNode, files);
  const raw: RawFile[] = sources.map((s) => parseFile(s.text, s.file, env));
  const out: Collector = { errors: raw.flatMap((r) => r.errors), warnings: [] };
  const notices: ConfigNotice[] = [];
  for (const r of raw) {
    for (const m of r.messages) {
      if (m.level === "warning") out.warnings.push({ loc: m.loc, message: m.message });
      else notices.push({ loc: m.loc, level: m.level, message: m.message });
    }
  }
  const drafts = walk(raw, opts.host ?? SYSTEM_HOST, out);
  const checksum = sources.reduce((h, s) => h.update(s.text), createHash("sha256")).digest("hex");
  const model = finish(drafts, { files, checksum, localNode, hostname }, out);
  if (out.errors.length > 0 || !model) {
    const order = new Map(files.map((f, i) => [f, i]));
    const rank = (e: ConfigError) => [order.get(e.loc.file) ?? files.length, e.loc.line] as const;
    const sorted = [...out.errors].sort((a, b) => {
      const [fa, la] = rank(a);
      const [fb, lb] = rank(b);
      return fa - fb || la - lb;
    });
    throw new ConfigErrors(sorted);
  }
  return { model: deepFreeze(model), warnings: sortWarnings(out.warnings, files), notices };
}

function sortWarnings(warnings: ConfigWarning[], files: readonly string[]): ConfigWarning[] {
  const order = new Map(files.map((f, i) => [f, i]));
  return [...warnings].sort(
    (a, b) =>
      (order.get(a.loc.file) ?? files.length) - (order.get(b.loc.file) ?? files.length) ||
      a.loc.line - b.loc.line,
  );
}

/** Reads, validates and freezes the configuration; throws ConfigErrors with every problem found. */
export function loadConfig(files: readonly string[], opts: LoadOptions = {}): LoadResult {
  if (files.length === 0)
    throw new ConfigErrors([
      new ConfigError({ file: "<command line>", line: 0 }, "no configuration file given"),
    ]);
  return loadSources(readSources(files), opts);
}

/** The same as loadConfig for one text (tests, generated configurations). */
export function parseConfigText(text: string, file = "<text>", opts: LoadOptions = {}): LoadResult {
  return loadSources([{ file, text }], opts);
}

/** Reads the files and prints them with each legacy keyword in its modern spelling. */
export function printModern(files: readonly string[], opts: LoadOptions = {}): string {
  const sources = readSources(files);
  const env = parseEnv(
    opts,
    opts.localNode ?? osHostname(),
    sources.map((s) => s.file),
  );
  return sources
    .map((s) => {
      const body = printModernText(s.text, s.file, env);
      return sources.length > 1 ? `# ---- ${s.file} ----\n${body}` : body;
    })
    .join("\n");
}

/** `-cc EXPR`: true/false, or throws CondSyntaxError when the expression cannot be parsed. */
export function evalCc(expr: string, opts: Pick<LoadOptions, "env" | "version"> = {}): boolean {
  const vars = opts.env ?? process.env;
  const lexed = tokenizeLine(expr, { vars });
  if (lexed.error !== undefined)
    throw new CondSyntaxError(`unparsable conditional expression '${expr}': ${lexed.error}`);
  return evalCondition(lexed.words.join(" "), {
    vars,
    version: opts.version ?? HAPROXY_COMPAT_VERSION,
    features: FULCRUM_FEATURES,
  });
}
