/** Helpers shared by the config-*.test.ts suites: build small configurations around a line. */
import { expect } from "vitest";
import { type LoadOptions, type LoadResult, parseConfigText } from "../../proxy/config/index.js";
import type { ConfigHost } from "../../proxy/config/keywords/types.js";
import { ConfigErrors } from "../../proxy/errors.js";

export const TIMEOUTS =
  "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n";

/** A host with one readable errorfile and the users/groups root, nobody, nogroup. */
export const FAKE_HOST: ConfigHost = {
  readFile: (path) => {
    if (path === "errors/503.http")
      return Buffer.from(
        "HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/html\r\n\r\n<h1>down</h1>\n",
      );
    if (path === "errors/bad.http") return Buffer.from("<h1>not a response</h1>\n");
    const err = new Error(`ENOENT: ${path}`) as NodeJS.ErrnoException;
    err.code = "ENOENT";
    throw err;
  },
  userExists: (n) => ["root", "nobody"].includes(n),
  groupExists: (n) => ["root", "nogroup"].includes(n),
};

export const OPTS: LoadOptions = { host: FAKE_HOST, localNode: "lb1", env: { HOME: "/root" } };

export type Section = "global" | "defaults" | "frontend" | "backend" | "listen" | "ha";

/**
 * A whole configuration with `lines` in a section of the given kind, plus what that section
 * needs to be valid. Returns the text and the line number of the first of `lines`.
 */
export function around(section: Section, lines: string): { text: string; line: number } {
  const body = lines
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
  let head: string;
  let tail = "";
  switch (section) {
    case "global":
      head = "global\n";
      tail = `${TIMEOUTS}`;
      break;
    case "defaults":
      head = `${TIMEOUTS}`;
      tail = "backend be\n    server s1 127.0.0.1:8081\n";
      break;
    case "frontend":
      head = `${TIMEOUTS}frontend fe\n    bind :8080\n    default_backend be\n`;
      tail = "backend be\n    server s1 127.0.0.1:8081\nbackend other\n    server s1 127.0.0.1:8082\n";
      break;
    case "backend":
      head = `${TIMEOUTS}backend be\n`;
      tail = "backend other\n    server s1 127.0.0.1:8082\n";
      break;
    case "listen":
      head = `${TIMEOUTS}listen ls\n    bind :8080\n`;
      tail = "backend other\n    server s1 127.0.0.1:8082\n";
      break;
    case "ha":
      head = `${TIMEOUTS}ha pair\n`;
      tail =
        "frontend fe\n    bind :8080\n    default_backend be\nbackend be\n    server s1 127.0.0.1:8081\n";
      break;
  }
  const line = head.split("\n").length;
  return { text: `${head}${body}\n${tail}`, line };
}

export function load(text: string, opts: LoadOptions = {}): LoadResult {
  return parseConfigText(text, "t.cfg", { ...OPTS, ...opts });
}

/** The errors a text produces (fails the test when it loads). */
export function errorsOf(text: string, opts: LoadOptions = {}): ConfigErrors {
  try {
    load(text, opts);
  } catch (err) {
    if (err instanceof ConfigErrors) return err;
    throw err;
  }
  expect.fail(`expected configuration errors, the text loaded:\n${text}`);
}

/** One line per error, as users see them. */
export function formatted(text: string, opts: LoadOptions = {}): string[] {
  return errorsOf(text, opts).errors.map((e) => e.format());
}

/** The model as plain data without source locations (to compare two spellings). */
export function plain(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (k, v) => {
      if (k === "loc" || k === "checksum") return undefined;
      if (v instanceof Map) return [...v];
      if (v && v.type === "Buffer") return v;
      return v;
    }),
  );
}
