/**
 * The node's own responses against the bytes haproxy 2.6.12 sent: `http-request deny
 * deny_status N` for each built-in page, an unparsable request and `timeout http-request`
 * at the H1 layer, a dead server (503), `timeout server` (504), a garbage response (502),
 * monitor-uri, and `errorfile` replacements.
 */
import { describe, expect, it } from "vitest";
import {
  BUILTIN_STATUSES,
  ErrorReplies,
  errorReply,
  parseErrorResponse,
} from "../../proxy/http/responses.js";

/** Status line and body text of each page, as haproxy answered `deny_status N`. */
const HAPROXY_PAGES: readonly [number, string, string][] = [
  [200, "OK", "Service ready."],
  [400, "Bad request", "Your browser sent an invalid request."],
  [401, "Unauthorized", "You need a valid user and password to access this content."],
  [403, "Forbidden", "Request forbidden by administrative rules."],
  [404, "Not Found", "The resource could not be found."],
  [
    405,
    "Method Not Allowed",
    "A request was made of a resource using a request method not supported by that resource",
  ],
  [407, "Unauthorized", "You need a valid user and password to access this content."],
  [408, "Request Time-out", "Your browser didn't send a complete request in time."],
  [410, "Gone", "The resource is no longer available and will not be available again."],
  [413, "Payload Too Large", "The request entity exceeds the maximum allowed."],
  [421, "Misdirected Request", "Request sent to a non-authoritative server."],
  [422, "Unprocessable Content", "The server cannot process the contained instructions."],
  [425, "Too Early", "Your browser sent early data."],
  [429, "Too Many Requests", "You have sent too many requests in a given amount of time."],
  [500, "Internal Server Error", "An internal server error occurred."],
  [501, "Not Implemented", ".The server does not support the functionality required to fulfill the request."],
  [502, "Bad Gateway", "The server returned an invalid or incomplete response."],
  [503, "Service Unavailable", "No server is available to handle this request."],
  [504, "Gateway Time-out", "The server didn't respond in time."],
];

/** Content-length haproxy sent for each page (checks the body bytes independently). */
const HAPROXY_LENGTHS: Readonly<Record<number, number>> = {
  200: 58,
  400: 90,
  401: 112,
  403: 93,
  404: 83,
  405: 146,
  407: 112,
  408: 110,
  410: 114,
  413: 106,
  421: 104,
  422: 116,
  425: 80,
  429: 117,
  500: 97,
  501: 136,
  502: 107,
  503: 107,
  504: 92,
};

describe("built-in responses", () => {
  it("has a page for every status haproxy 2.6 accepts in deny_status", () => {
    expect([...BUILTIN_STATUSES].sort()).toEqual(HAPROXY_PAGES.map((p) => p[0]).sort());
  });

  it.each(HAPROXY_PAGES)("answers %i with HAProxy's bytes", (status, reason, text) => {
    const close = status === 400 || status === 408 ? "connection: close\r\n" : "";
    const body = `<html><body><h1>${status} ${reason}</h1>\n${text}\n</body></html>\n`;
    expect(body.length).toBe(HAPROXY_LENGTHS[status]);
    expect(errorReply(status).toString("latin1")).toBe(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-length: ${body.length}\r\ncache-control: no-cache\r\n` +
        `content-type: text/html\r\n${close}\r\n${body}`,
    );
  });

  it("sends exactly haproxy's 503 when no server is available", () => {
    expect(errorReply(503).toString("latin1")).toBe(
      "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n",
    );
  });

  it("adds connection: close last when the connection ends after the reply", () => {
    expect(errorReply(502, { close: true }).toString("latin1")).toBe(
      "HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n",
    );
  });

  it("answers HEAD on monitor-uri with the 200 page's head only", () => {
    expect(errorReply(200, { head: true }).toString("latin1")).toBe(
      "HTTP/1.1 200 OK\r\ncontent-length: 58\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n",
    );
  });

  it("sends the H1 layer's 400 and 408 verbatim, mixed case and Connection: close included", () => {
    expect(parseErrorResponse(400).toString("latin1")).toBe(
      "HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n",
    );
    expect(parseErrorResponse(408).toString("latin1")).toBe(
      "HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n",
    );
  });
});

describe("errorfile", () => {
  const file = (s: string) => Buffer.from(s, "latin1");
  const replies = new ErrorReplies(
    new Map([
      [
        503,
        file(
          "HTTP/1.1 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\nX-Custom: Yes\r\n\r\n<h1>custom 503</h1>\n",
        ),
      ],
      [504, file("HTTP/1.1 504 Slow\r\nContent-Type: text/plain\r\n\r\nslow\n")],
      [400, file("HTTP/1.0 400 Bad\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nbad\n")],
    ]),
  );

  it("re-writes the file's headers in lower case with connection moved last, as haproxy does", () => {
    expect(replies.get(503).toString("latin1")).toBe(
      "HTTP/1.1 503 Service Unavailable\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nx-custom: Yes\r\nconnection: close\r\n\r\n<h1>custom 503</h1>\n",
    );
    expect(replies.closes(503)).toBe(true);
  });

  it("closes after a file without content-length, keeping its reason phrase", () => {
    expect(replies.get(504).toString("latin1")).toBe(
      "HTTP/1.1 504 Slow\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nslow\n",
    );
  });

  it("keeps an HTTP/1.0 file's version: keep-alive when the connection stays, no header when it closes", () => {
    expect(replies.get(400).toString("latin1")).toBe(
      "HTTP/1.0 400 Bad\r\ncontent-type: text/plain\r\ncontent-length: 4\r\nconnection: keep-alive\r\n\r\nbad\n",
    );
    expect(replies.get(400, { close: true }).toString("latin1")).toBe(
      "HTTP/1.0 400 Bad\r\ncontent-type: text/plain\r\ncontent-length: 4\r\n\r\nbad\n",
    );
  });

  it("says keep-alive on a built-in page kept open for an HTTP/1.0 client", () => {
    expect(errorReply(503, { http10: true }).toString("latin1")).toContain("connection: keep-alive\r\n");
    expect(errorReply(503, { http10: true, close: true }).toString("latin1")).toContain(
      "connection: close\r\n",
    );
  });

  it("keeps the built-in page for statuses without a file, and sends the monitor 503 from the file", () => {
    expect(replies.get(502)).toEqual(errorReply(502));
    expect(replies.get(503, { head: true }).toString("latin1")).toBe(
      "HTTP/1.1 503 Service Unavailable\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nx-custom: Yes\r\nconnection: close\r\n\r\n",
    );
  });

  it("adds the stats realm after the 401 page's headers", () => {
    expect(
      new ErrorReplies()
        .get(401, { extraHeaders: [["WWW-Authenticate", 'Basic realm="HAProxy Statistics"']] })
        .toString("latin1"),
    ).toBe(
      'HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nwww-authenticate: Basic realm="HAProxy Statistics"\r\n\r\n<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n',
    );
  });
});
