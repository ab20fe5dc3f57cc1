/**
 * HTTP checks: the request bytes HAProxy 2.6 sends (captured with a raw TCP server) and the
 * verdicts and texts it gives for what servers answer (read from its log lines).
 */
import { describe, expect, it } from "vitest";
import type { HttpCheck, HttpCheckExpect } from "../../proxy/config/model.js";
import { checkRequest, compileExpect, dechunk, parseHead } from "../../proxy/health/http.js";

const chk = (over: Partial<HttpCheck>): HttpCheck => ({
  method: "OPTIONS",
  uri: "/",
  version: "HTTP/1.0",
  headers: [],
  ...over,
});

describe("the check request, byte for byte as HAProxy 2.6 sends it", () => {
  it.each([
    [chk({ method: "HEAD", uri: "/login" }), "HEAD /login HTTP/1.0\r\n\r\n"],
    [chk({}), "OPTIONS / HTTP/1.0\r\n\r\n"],
    [chk({ uri: "/health" }), "OPTIONS /health HTTP/1.0\r\n\r\n"],
    [chk({ method: "GET", uri: "/q" }), "GET /q HTTP/1.0\r\n\r\n"],
    [
      chk({ method: "GET", uri: "/x", version: "HTTP/1.1", headers: [["Host", "www.example.com"]] }),
      "GET /x HTTP/1.1\r\nhost: www.example.com\r\nconnection: close\r\n\r\n",
    ],
    [chk({ method: "GET", uri: "/z", version: "HTTP/1.1" }), "GET /z HTTP/1.1\r\nconnection: close\r\n\r\n"],
    [
      chk({
        method: "HEAD",
        version: "HTTP/1.0",
        headers: [
          ["Host", "foo"],
          ["X-A", "b"],
        ],
      }),
      "HEAD / HTTP/1.0\r\nhost: foo\r\nx-a: b\r\n\r\n",
    ],
    // http-check send (measured on haproxy 2.6.12 with a recording server):
    [
      chk({ method: "POST", uri: "/x", version: "HTTP/1.1", headers: [["Host", "example"]], body: "abc" }),
      "POST /x HTTP/1.1\r\nhost: example\r\ncontent-length: 3\r\nconnection: close\r\n\r\nabc",
    ],
    [chk({ method: "POST", uri: "/x", body: "abc" }), "POST /x HTTP/1.0\r\ncontent-length: 3\r\n\r\nabc"],
    [chk({ body: "abc" }), "OPTIONS / HTTP/1.0\r\ncontent-length: 3\r\n\r\nabc"],
    // A method that may carry a body gets an empty one; GET, HEAD, OPTIONS and DELETE do not.
    [chk({ method: "POST", uri: "/a" }), "POST /a HTTP/1.0\r\ncontent-length: 0\r\n\r\n"],
    [
      chk({ method: "POST", uri: "/a", version: "HTTP/1.1" }),
      "POST /a HTTP/1.1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    ],
    [chk({ method: "PUT" }), "PUT / HTTP/1.0\r\ncontent-length: 0\r\n\r\n"],
    [chk({ method: "get" }), "get / HTTP/1.0\r\ncontent-length: 0\r\n\r\n"],
    [chk({ method: "DELETE" }), "DELETE / HTTP/1.0\r\n\r\n"],
  ])("%o sends %j", (c, bytes) => {
    expect(checkRequest(c).toString("latin1")).toBe(bytes);
  });
});

const judge = (expect: HttpCheckExpect | undefined, response: string) => {
  const head = parseHead(Buffer.from(response, "latin1"));
  if (head.kind !== "head") return head.kind;
  return compileExpect(expect).judge(head.code, head.reason, response.slice(head.bodyAt));
};

describe("verdicts without http-check expect (2xx/3xx pass)", () => {
  it.each([
    ["HTTP/1.1 200 OK\r\n\r\n", { status: "L7OK", code: 200, info: "" }],
    ["HTTP/1.1 200\r\n\r\n", { status: "L7OK", code: 200, info: "" }],
    ["HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n", { status: "L7OK", code: 302, info: "" }],
    ["HTTP/1.1 200 OK\nX: y\n\n", { status: "L7OK", code: 200, info: "" }],
    ["HTTP/1.0 404 Not Found\r\n\r\n", { status: "L7STS", code: 404, info: "Not Found" }],
    ["HTTP/1.1 503 Service Unavailable\r\n\r\n", { status: "L7STS", code: 503, info: "Service Unavailable" }],
    [
      "HTTP/1.1 500 Internal Server Error\r\n\r\n",
      { status: "L7STS", code: 500, info: "Internal Server Error" },
    ],
  ])("%j -> %o", (resp, want) => {
    expect(judge(undefined, resp)).toEqual(want);
  });

  it("a reply that is not HTTP, or a head that never completes, is an invalid response", () => {
    expect(judge(undefined, "hello world\r\n\r\n")).toBe("invalid");
    expect(judge(undefined, "HTTP/1.1 abc Weird\r\n\r\n")).toBe("invalid");
    expect(judge(undefined, "HTTP/1.1 200 OK\r\n")).toBe("incomplete");
    expect(judge(undefined, "HTTP/1.1 200 OK")).toBe("incomplete");
  });
});

describe("http-check expect (texts as HAProxy logs them)", () => {
  const e = (kind: HttpCheckExpect["kind"], value: string, negate = false): HttpCheckExpect => ({
    kind,
    value,
    negate,
  });

  it("status 302: a 200 is a wrong status", () => {
    expect(judge(e("status", "302"), "HTTP/1.1 302 Found\r\n\r\n")).toMatchObject({ status: "L7OK" });
    expect(judge(e("status", "302"), "HTTP/1.1 200 OK\r\n\r\n")).toEqual({
      status: "L7STS",
      code: 200,
      info: "OK",
    });
  });

  it("status with ranges and lists", () => {
    expect(judge(e("status", "200-399"), "HTTP/1.1 404 Not Found\r\n\r\n")).toMatchObject({
      status: "L7STS",
    });
    expect(judge(e("status", "200,302"), "HTTP/1.1 302 Found\r\n\r\n")).toMatchObject({ status: "L7OK" });
  });

  it("! status 200 fails on 200 and passes on 404", () => {
    expect(judge(e("status", "200", true), "HTTP/1.1 200 OK\r\n\r\n")).toMatchObject({
      status: "L7STS",
      code: 200,
    });
    expect(judge(e("status", "200", true), "HTTP/1.1 404 Not Found\r\n\r\n")).toMatchObject({
      status: "L7OK",
    });
  });

  it("rstatus ^2", () => {
    expect(judge(e("rstatus", "^2"), "HTTP/1.1 204 No Content\r\n\r\n")).toMatchObject({ status: "L7OK" });
    expect(judge(e("rstatus", "^2"), "HTTP/1.0 404 Not Found\r\n\r\n")).toEqual({
      status: "L7STS",
      code: 404,
      info: "Not Found",
    });
  });

  it("string alive: found in the body passes whatever the status", () => {
    const body = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 11\r\n\r\nhello alive";
    expect(judge(e("string", "alive"), body)).toMatchObject({ status: "L7OK", code: 503 });
  });

  it("string alive: no body / not found / negated and found", () => {
    expect(judge(e("string", "alive"), "HTTP/1.1 200 OK\r\n\r\n")).toEqual({
      status: "L7RSP",
      info: "HTTP content check could not find a response body",
    });
    expect(judge(e("string", "alive"), "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhello dead")).toEqual({
      status: "L7RSP",
      info: "HTTP content check did not match",
    });
    expect(judge(e("string", "alive", true), "HTTP/1.1 200 OK\r\n\r\nhello alive")).toEqual({
      status: "L7RSP",
      info: "HTTP check matched unwanted content",
    });
  });

  it("rstring al.ve", () => {
    expect(judge(e("rstring", "al.ve"), "HTTP/1.1 200 OK\r\n\r\nhello alive")).toMatchObject({
      status: "L7OK",
    });
    expect(judge(e("rstring", "^hello a"), "HTTP/1.1 200 OK\r\n\r\nhello dead")).toMatchObject({
      status: "L7RSP",
      info: "HTTP content check did not match",
    });
  });

  it("a chunked body is decoded before matching", () => {
    expect(dechunk(Buffer.from("5\r\nhello\r\n6\r\n alive\r\n0\r\n\r\n")).body.toString()).toBe(
      "hello alive",
    );
    expect(dechunk(Buffer.from("5\r\nhel")).done).toBe(false);
  });
});
