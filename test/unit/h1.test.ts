import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createDecoder, requestFraming, responseFraming } from "../../proxy/http/body.js";
import { parseRequestHead, parseResponseHead } from "../../proxy/http/h1.js";

const limits = { maxHead: 15360, maxHeaders: 101 };
const b = (s: string) => Buffer.from(s, "latin1");

describe("request head parser", () => {
  it("parses a request line and lowercases header names, keeping order and duplicates", () => {
    const r = parseRequestHead(
      b("GET /a?x=1 HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a:  2 \r\n\r\nrest"),
      0,
      limits,
    );
    expect(r).toMatchObject({ ok: true, length: 50 });
    if (!r?.ok) throw new Error("parse failed");
    expect(r.head).toMatchObject({ method: "GET", uri: "/a?x=1", version: 11, line: "GET /a?x=1 HTTP/1.1" });
    expect(r.head.headers.names).toEqual(["host", "x-a", "x-a"]);
    expect(r.head.headers.values).toEqual(["x", "1", "2"]);
  });

  it("accepts bare LF line ends and skips empty lines before the request line", () => {
    const r = parseRequestHead(b("\r\n\nGET / HTTP/1.0\nA: b\n\n"), 0, limits);
    expect(r?.ok).toBe(true);
    if (r?.ok) expect(r.head.version).toBe(10);
  });

  it("waits for more bytes when the head is incomplete", () => {
    expect(parseRequestHead(b("GET / HTTP/1.1\r\nHost: x\r\n"), 0, limits)).toBeNull();
  });

  it.each([
    ["space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n"],
    ["obsolete line folding", "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"],
    ["bad method", "G(T / HTTP/1.1\r\n\r\n"],
    ["missing version", "GET /\r\n\r\n"],
    ["bad version", "GET / HTTP/x.1\r\n\r\n"],
    ["control character in value", "GET / HTTP/1.1\r\nA: b\x01c\r\n\r\n"],
    ["header without colon", "GET / HTTP/1.1\r\nfoo\r\n\r\n"],
    ["two spaces", "GET  / HTTP/1.1\r\n\r\n"],
  ])("rejects %s with 400", (_name, raw) => {
    const r = parseRequestHead(b(raw), 0, limits);
    expect(r).toMatchObject({ ok: false, status: 400 });
  });

  it("rejects a head larger than the buffer, even before it is complete", () => {
    const big = `GET / HTTP/1.1\r\nX: ${"a".repeat(20000)}`;
    expect(parseRequestHead(b(big), 0, limits)).toMatchObject({ ok: false });
  });

  it("never throws on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const r = parseRequestHead(Buffer.from(bytes), 0, limits);
        expect(r === null || typeof r.ok === "boolean").toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("response head parser", () => {
  it("parses the status line and keeps the reason phrase", () => {
    const r = parseResponseHead(b("HTTP/1.0 404 Not Found\r\nA: 1\r\n\r\n"), 0, limits);
    expect(r).toMatchObject({ ok: true, head: { version: 10, status: 404, reason: "Not Found" } });
  });
  it("rejects a status line without a three-digit code with 502", () => {
    expect(parseResponseHead(b("HTTP/1.1 20 OK\r\n\r\n"), 0, limits)).toMatchObject({
      ok: false,
      status: 502,
    });
  });
});

describe("framing", () => {
  const h = (pairs: [string, string][]) => ({
    names: pairs.map((p) => p[0]),
    values: pairs.map((p) => p[1]),
  });

  it("lets Transfer-Encoding win over Content-Length and removes the latter, as HAProxy", () => {
    const headers = h([
      ["content-length", "3"],
      ["transfer-encoding", "chunked"],
    ]);
    expect(requestFraming(headers, 11)).toEqual({ ok: true, framing: { kind: "chunked" } });
    expect(headers.names).toEqual(["transfer-encoding"]);
  });

  it("rejects differing duplicate Content-Length and merges identical ones", () => {
    expect(
      requestFraming(
        h([
          ["content-length", "3"],
          ["content-length", "4"],
        ]),
        11,
      ).ok,
    ).toBe(false);
    const same = h([
      ["content-length", "3"],
      ["content-length", "3"],
    ]);
    expect(requestFraming(same, 11)).toEqual({ ok: true, framing: { kind: "length", length: 3 } });
    expect(same.names).toEqual(["content-length"]);
  });

  it("rejects a Transfer-Encoding that does not end with chunked", () => {
    expect(requestFraming(h([["transfer-encoding", "chunked, gzip"]]), 11).ok).toBe(false);
  });

  it("has no body for HEAD, 204 and 304 and reads until close without a length", () => {
    expect(responseFraming(h([["content-length", "10"]]), 200, "HEAD")).toEqual({
      ok: true,
      framing: { kind: "none" },
    });
    expect(responseFraming(h([]), 304, "GET")).toEqual({ ok: true, framing: { kind: "none" } });
    expect(responseFraming(h([]), 200, "GET")).toEqual({ ok: true, framing: { kind: "close" } });
  });
});

describe("chunked decoder", () => {
  function decode(input: string, split = 0): { out: string; result: unknown } {
    const dec = createDecoder({ kind: "chunked" })!;
    let out = "";
    const emit = (p: Buffer | string) => {
      out += typeof p === "string" ? p : p.toString("latin1");
    };
    const buf = b(input);
    const parts = split > 0 ? [buf.subarray(0, split), buf.subarray(split)] : [buf];
    let result: unknown;
    for (const part of parts) {
      result = dec.feed(part, 0, emit);
      if (result && typeof result === "object" && ("error" in result || (result as { done: boolean }).done))
        break;
    }
    return { out, result };
  }

  it("drops chunk extensions and lowercases trailer names, as HAProxy forwards them", () => {
    const r = decode("3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\nNEXT");
    expect(r.out).toBe("3\r\nabc\r\n0\r\nx-trailer: t\r\n\r\n");
    expect(r.result).toEqual({ done: true, consumed: 33 });
  });

  it("gives the same output whatever the split of the input", () => {
    const input = "a\r\n0123456789\r\n5\r\nhello\r\n0\r\n\r\n";
    const whole = decode(input).out;
    for (let i = 1; i < input.length; i++) expect(decode(input, i).out).toBe(whole);
  });

  it.each(["x\r\n", "3\r\nabcd\r\n", "123456789\r\n", "-1\r\n"])("rejects the invalid chunk %j", (input) => {
    expect(decode(input).result).toHaveProperty("error");
  });
});
