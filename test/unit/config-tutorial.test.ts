import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, parseConfigText, printModern } from "../../proxy/config/index.js";
import { ROOT } from "../helpers/index.js";

const TUTORIAL = join(ROOT, "examples/tutorial-1.4.cfg");

describe("the tutorial's HAProxy 1.4 file", () => {
  it("loads with one warning per legacy keyword, each naming the modern spelling", () => {
    const { warnings } = loadConfig([TUTORIAL]);
    const keywords = warnings.map((w) => /^'([^' ]+)/.exec(w.message)?.[1]);
    expect(keywords).toEqual(["nbproc", "contimeout", "clitimeout", "srvtimeout", "listen", "appsession"]);
    expect(warnings.find((w) => w.message.startsWith("'contimeout'"))?.message).toBe(
      "'contimeout' is deprecated since HAProxy 1.5, use 'timeout connect 5000' instead",
    );
  });

  it("gives the same model as its --print-modern output, which loads without warnings", () => {
    const legacy = loadConfig([TUTORIAL]);
    const modernText = printModern([TUTORIAL]);
    const modern = parseConfigText(modernText, TUTORIAL);
    expect(modern.warnings).toEqual([]);
    const strip = (m: typeof legacy.model) =>
      JSON.parse(
        JSON.stringify({ ...m, checksum: "", global: { ...m.global, nbproc: undefined } }, (k, v) =>
          // `appsession` keeps HAProxy 1.4's URL-parameter rules (a flag 2.6's spelling cannot say).
          k === "loc" || k === "appsession" ? undefined : v instanceof Map ? [...v] : v,
        ),
      );
    expect(strip(modern.model)).toEqual(strip(legacy.model));
  });
});
