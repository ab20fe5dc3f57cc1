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
    ["bad method", "G(T / HTTP/1.1\r\n\r\n"],
    ["missing version (HTTP/0.9)", "GET /\r\n\r\n"],
    ["bad version", "GET / HTTP/x.1\r\n\r\n"],
    ["blank after the version", "GET / HTTP/1.1 \r\n\r\n"],
    ["bare CR in a value", "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n"],
    ["header without colon", "GET / HTTP/1.1\r\nfoo\r\n\r\n"],
    ["fragment in the target", "GET /a#b HTTP/1.1\r\n\r\n"],
    ["non-ASCII in the target", "GET /\xff HTTP/1.1\r\n\r\n"],
    ["folded first header", "GET / HTTP/1.1\r\n A: b\r\n\r\n"],
    ["Host headers that differ", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"],
    ["an absolute target for another host", "GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n"],
    [
      "a WebSocket upgrade without its key",
      "GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
    ],
  ])("rejects %s with 400", (_name, raw) => {
    const r = parseRequestHead(b(raw), 0, limits);
    expect(r).toMatchObject({ ok: false, status: 400 });
  });

  it("answers an invalid request line before the head is complete, as HAProxy's incremental parser", () => {
    expect(parseRequestHead(b("G@T / HTTP/1.1\r\n"), 0, limits)).toMatchObject({ ok: false });
    expect(parseRequestHead(b("GET / HTTP/1.1\r\nHo st"), 0, limits)).toMatchObject({ ok: false });
    expect(parseRequestHead(b("GET / HTT"), 0, limits)).toBeNull();
  });

  it("accepts what HAProxy 2.6 forwards: blanks between the parts, control bytes in values, folded lines", () => {
    const r = parseRequestHead(b("GET\t/  HTTP/1.1\r\nA: b\x01c\r\nB: x\r\n  y\r\n\r\n"), 0, limits);
    if (!r?.ok) throw new Error("parse failed");
    expect(r.head.uri).toBe("/");
    expect(r.head.headers.values).toEqual(["b\x01c", "x    y"]);
  });

  it("forwards HTTP/1.0 and 0.x as received and every later version as HTTP/1.1", () => {
    const proto = (v: string) => {
      const r = parseRequestHead(b(`GET / ${v}\r\n\r\n`), 0, limits);
      return r?.ok ? [r.head.version, r.head.proto] : r;
    };
    expect(proto("HTTP/1.0")).toEqual([10, "HTTP/1.0"]);
    expect(proto("HTTP/0.9")).toEqual([10, "HTTP/0.9"]);
    expect(proto("HTTP/1.2")).toEqual([11, "HTTP/1.1"]);
    expect(proto("HTTP/2.0")).toEqual([11, "HTTP/1.1"]);
  });

  it("merges identical Host headers and drops an http default port from an absolute target", () => {
    const r = parseRequestHead(
      b("GET http://a:80/x HTTP/1.1\r\nHost: a:80\r\nHost: a:80\r\n\r\n"),
      0,
      limits,
    );
    if (!r?.ok) throw new Error("parse failed");
    expect(r.head.uri).toBe("http://a/x");
    expect(r.head.headers.values).toEqual(["a"]);
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
    expect(requestFraming(headers, 11, "POST")).toEqual({
      ok: true,
      framing: { kind: "chunked" },
      forceClose: true,
    });
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
        "POST",
      ).ok,
    ).toBe(false);
    const same = h([
      ["content-length", "3"],
      ["content-length", "3"],
    ]);
    expect(requestFraming(same, 11, "POST")).toMatchObject({
      ok: true,
      framing: { kind: "length", length: 3 },
    });
    expect(same.names).toEqual(["content-length"]);
  });

  it("rejects a Transfer-Encoding that does not end with chunked (400) or has other codings (422)", () => {
    expect(requestFraming(h([["transfer-encoding", "chunked, gzip"]]), 11, "POST")).toMatchObject({
      status: 400,
    });
    expect(requestFraming(h([["transfer-encoding", "gzip, chunked"]]), 11, "POST")).toMatchObject({
      status: 422,
    });
    expect(requestFraming(h([["transfer-encoding", ""]]), 11, "POST")).toMatchObject({ status: 400 });
  });

  it("fails chunked next to a malformed or differing Content-Length (400) and reads ',chunked' as another coding (422)", () => {
    expect(
      requestFraming(
        h([
          ["content-length", "abc"],
          ["transfer-encoding", "chunked"],
        ]),
        11,
        "POST",
      ),
    ).toMatchObject({ status: 400 });
    expect(requestFraming(h([["transfer-encoding", ",chunked"]]), 11, "POST")).toMatchObject({ status: 422 });
    expect(requestFraming(h([["transfer-encoding", "chunked,"]]), 11, "POST")).toMatchObject({ ok: true });
  });

  it("refuses a body in an HTTP/1.0 GET, HEAD or DELETE (413), as HAProxy 2.6", () => {
    expect(requestFraming(h([["content-length", "3"]]), 10, "GET")).toMatchObject({ status: 413 });
    expect(requestFraming(h([["transfer-encoding", "chunked"]]), 10, "DELETE")).toMatchObject({
      status: 413,
    });
    expect(requestFraming(h([["content-length", "0"]]), 10, "HEAD")).toMatchObject({ ok: true });
    expect(requestFraming(h([["content-length", "3"]]), 10, "PUT")).toMatchObject({ ok: true });
    expect(requestFraming(h([["content-length", "3"]]), 11, "GET")).toMatchObject({ ok: true });
  });

  it("relays a response whose Transfer-Encoding names no coding up to the close, without its length", () => {
    const r = h([
      ["transfer-encoding", ""],
      ["content-length", "2"],
    ]);
    expect(responseFraming(r, 200, "GET", 11)).toMatchObject({ ok: true, framing: { kind: "close" } });
    expect(r.names).toEqual(["transfer-encoding"]);
    const bad = h([
      ["content-length", "3"],
      ["content-length", "5"],
      ["transfer-encoding", "chunked"],
    ]);
    expect(responseFraming(bad, 200, "GET", 11)).toMatchObject({ ok: false, status: 502 });
    expect(responseFraming(h([["transfer-encoding", ",chunked"]]), 200, "GET", 11)).toMatchObject({
      status: 502,
    });
    const early = h([["content-length", "5"]]);
    expect(responseFraming(early, 103, "GET", 11)).toMatchObject({ ok: true, framing: { kind: "none" } });
    expect(early.names).toEqual([]);
  });

  it("forwards a single Content-Length as written and closes after chunked HTTP/1.0", () => {
    const one = h([["content-length", "007"]]);
    expect(requestFraming(one, 11, "POST")).toMatchObject({
      ok: true,
      framing: { kind: "length", length: 7 },
    });
    expect(one.values).toEqual(["007"]);
    expect(requestFraming(h([["transfer-encoding", "chunked"]]), 10, "POST")).toMatchObject({
      forceClose: true,
    });
  });

  it("has no body for HEAD, 204 and 304 and reads until close without a length", () => {
    expect(responseFraming(h([["content-length", "10"]]), 200, "HEAD", 11)).toMatchObject({
      ok: true,
      framing: { kind: "none" },
    });
    expect(responseFraming(h([]), 304, "GET", 11)).toMatchObject({ ok: true, framing: { kind: "none" } });
    expect(responseFraming(h([]), 200, "GET", 11)).toMatchObject({ ok: true, framing: { kind: "close" } });
  });

  it("drops Content-Length and Transfer-Encoding from a 204 and refuses other codings (502)", () => {
    const h204 = h([
      ["content-length", "0"],
      ["x", "1"],
    ]);
    responseFraming(h204, 204, "GET", 11);
    expect(h204.names).toEqual(["x"]);
    expect(responseFraming(h([["transfer-encoding", "gzip, chunked"]]), 200, "GET", 11)).toMatchObject({
      ok: false,
      status: 502,
    });
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

  it("re-chunks what one read brought into one chunk with an upper-case size, as HAProxy", () => {
    const r = decode("a\r\n0123456789\r\n0005\r\nhello\r\n0\r\n\r\n");
    expect(r.out).toBe("F\r\n0123456789hello\r\n0\r\n\r\n");
  });

  it("forwards the same payload whatever the split of the input", () => {
    const input = "a\r\n0123456789\r\n5\r\nhello\r\n0\r\nT: 1\r\n\r\n";
    const payload = (out: string) => {
      let p = "";
      let rest = out;
      for (;;) {
        const eol = rest.indexOf("\r\n");
        const size = Number.parseInt(rest.slice(0, eol), 16);
        if (size === 0) return { p, trailers: rest.slice(eol + 2) };
        p += rest.slice(eol + 2, eol + 2 + size);
        rest = rest.slice(eol + 4 + size);
      }
    };
    const whole = payload(decode(input).out);
    expect(whole).toEqual({ p: "0123456789hello", trailers: "t: 1\r\n\r\n" });
    for (let i = 1; i < input.length; i++) expect(payload(decode(input, i).out)).toEqual(whole);
  });

  it("emits nothing of a read that holds a malformed chunk, not even the valid chunks before it", () => {
    expect(decode("2\r\nab\r\nzz\r\n")).toMatchObject({ out: "", result: { error: "invalid chunk size" } });
  });

  it.each(["x\r\n", "3\r\nabcd\r\n", "10000000000000\r\n", "-1\r\n", " 1\r\n"])(
    "rejects the invalid chunk %j",
    (input) => {
      expect(decode(input).result).toHaveProperty("error");
    },
  );
});
