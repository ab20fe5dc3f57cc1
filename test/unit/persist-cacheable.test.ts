/**
 * `nocache`: HAProxy 2.6 adds `Cache-Control: private` next to an inserted cookie only when
 * the response is cacheable. Each row was one request through HAProxy with the response
 * headers shown (the server sent nothing else but Content-Length).
 */
import { describe, expect, it } from "vitest";
import { isCacheable } from "../../proxy/persist/cacheable.js";

function headers(list: readonly string[]) {
  return (name: string) =>
    list
      .filter((h) => h.slice(0, h.indexOf(":")).toLowerCase() === name)
      .map((h) => h.slice(h.indexOf(":") + 1));
}
const cacheable = (list: readonly string[], status = 200, method = "GET") =>
  isCacheable(method, status, headers(list));

describe("cacheable responses (matches HAProxy 2.6)", () => {
  it.each([
    [[], false],
    [["Cache-Control: public"], false],
    [["Cache-Control: max-age=60"], true],
    [["Cache-Control: s-maxage=60"], true],
    [["Cache-Control: no-cache"], false],
    [["Cache-Control: private"], false],
    [["Cache-Control: no-store"], false],
    [["Cache-Control: max-age=0"], false],
    [["Cache-Control: s-maxage=0"], false],
    [["Expires: Thu, 01 Jan 2099 00:00:00 GMT"], true],
    [["Expires: 0"], true],
    [["Last-Modified: Thu, 01 Jan 2015 00:00:00 GMT"], true],
    [['ETag: "x"'], true],
    [["Cache-Control: public", "ETag: x"], true],
    [["Cache-Control: max-age=60", "Pragma: no-cache"], false],
    [["Cache-Control: max-age=60", "Pragma: No-Cache"], false],
    [["Cache-Control: max-age=60", "Pragma: no-cache,x"], true],
    [["Cache-Control: max-age=60", "Set-Cookie: a=1"], true],
    [["Cache-Control: max-age=60", "Vary: *"], true],
    [["Cache-Control: max-age=60, no-cache"], false],
    [["Cache-Control: max-age=60, NO-CACHE"], false],
    [["Cache-Control: max-age=60, private"], false],
    [['Cache-Control: no-cache="set-cookie", max-age=60'], true],
    [['Cache-Control: private="x",max-age=60'], true],
    [["Cache-Control: no-store=1,max-age=60"], true],
    [["Cache-Control: max-age=0, s-maxage=60"], false],
    [["Cache-Control: max-age=00"], true],
    [["Cache-Control: max-age=abc"], true],
    [["Cache-Control: max-age"], true],
    [["Cache-Control: Max-Age=60"], true],
    [["Cache-Control: max-age=60", "Cache-Control: no-cache"], false],
    [["Cache-Control: max-age=0", "Expires: 0"], false],
  ])("%j -> %s", (list, want) => {
    expect(cacheable(list)).toBe(want);
  });

  it.each([
    [200, true],
    [203, true],
    [204, true],
    [206, true],
    [300, true],
    [301, true],
    [302, false],
    [304, false],
    [307, false],
    [308, false],
    [404, true],
    [405, true],
    [410, true],
    [414, true],
    [500, false],
    [501, true],
  ])("status %i -> %s", (status, want) => {
    expect(cacheable(["Cache-Control: max-age=60"], status)).toBe(want);
  });

  it.each([
    ["GET", true],
    ["HEAD", true],
    ["OPTIONS", true],
    ["TRACE", true],
    ["POST", false],
    ["PUT", false],
    ["DELETE", false],
    ["PATCH", false],
    ["PROPFIND", false],
    ["FOO", false],
  ])("method %s -> %s", (method, want) => {
    expect(cacheable(["Cache-Control: max-age=60"], 200, method)).toBe(want);
  });
});
