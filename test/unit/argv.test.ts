import { describe, expect, it } from "vitest";
import { normaliseHaproxyArgs } from "../../cli/argv.js";

describe("HAProxy flag normaliser", () => {
  it("turns multi-letter single-dash flags of the proxy command into long options", () => {
    expect(normaliseHaproxyArgs(["proxy", "-db", "-f", "a.cfg", "-sf", "12", "13"])).toEqual([
      "proxy",
      "--db",
      "-f",
      "a.cfg",
      "--sf",
      "12",
      "13",
    ]);
  });

  it("leaves other commands and words after -- alone", () => {
    expect(normaliseHaproxyArgs(["lab", "-db"])).toEqual(["lab", "-db"]);
    expect(normaliseHaproxyArgs(["proxy", "--", "-db"])).toEqual(["proxy", "--", "-db"]);
  });
});
