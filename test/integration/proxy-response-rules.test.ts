/**
 * `http-response` rules: headers set, added and deleted on the server's response (the
 * backend's rules first, then the frontend's), `set-status`, `deny` (the proxy's page instead
 * of the server's answer, counted in dresp), conditions on the response and the connection,
 * and a request fetch that never matches there. Expectations measured on haproxy 2.6.12;
 * PROXY_UNDER_TEST=haproxy runs it there.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULTS, proxy, request, scriptedServer, statsCsv } from "./proxy-fixture.js";

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

let port: number;

beforeAll(async () => {
  const srv = await scriptedServer((head) => {
    const target = head.split(" ")[1] ?? "/";
    const status = Number(new URL(target, "http://x").searchParams.get("s") ?? "200");
    const secret = target.includes("secret") ? "X-Secret: yes\r\n" : "";
    return `HTTP/1.1 ${status} Whatever\r\nServer: nginx\r\n${secret}Content-Length: 3\r\n\r\nok\n`;
  });
  cleanup.push(() => srv.close());
  const { ports } = await proxy(
    `${DEFAULTS}frontend fe\n  bind 127.0.0.1:@PORT1\n` +
      "  stats enable\n  stats uri /st\n" +
      "  http-response set-header X-Fe fe\n" +
      "  http-response add-header X-Multi 1\n" +
      "  http-response add-header X-Multi 2\n" +
      "  http-response del-header Server\n" +
      "  http-response deny if { status 404 }\n" +
      "  http-response deny deny_status 403 if { res.hdr(x-secret) yes }\n" +
      "  http-response set-status 299 if { status 201 }\n" +
      '  http-response set-status 298 reason "Fine Thanks" if { status 202 }\n' +
      "  http-response set-header X-Path seen if { path /p }\n" +
      "  http-response set-header X-Local yes if { src 127.0.0.1 }\n" +
      "  default_backend be\n" +
      "backend be\n  http-response set-header X-Be be\n  http-response set-header X-Fe be-first\n" +
      "  http-response allow if { status 203 }\n" +
      `  server s1 127.0.0.1:${srv.port}\n`,
    cleanup,
  );
  port = ports[1]!;
});

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;

describe("http-response rules", () => {
  it("rewrite the server's headers, the backend's rules before the frontend's", async () => {
    const r = await request(port, get("/"));
    expect(r.raw).toBe(
      "HTTP/1.1 200 Whatever\r\ncontent-length: 3\r\nx-be: be\r\nx-fe: fe\r\nx-multi: 1\r\nx-multi: 2\r\n" +
        "x-local: yes\r\nconnection: close\r\n\r\nok\n",
    );
  });

  it("stop at allow, in that proxy's list only", async () => {
    const r = await request(port, get("/?s=203"));
    expect(r.raw).toBe(
      "HTTP/1.1 203 Whatever\r\ncontent-length: 3\r\nx-be: be\r\nx-fe: fe\r\nx-multi: 1\r\nx-multi: 2\r\n" +
        "x-local: yes\r\nconnection: close\r\n\r\nok\n",
    );
  });

  it("set the status, with haproxy's reason phrase or the one given", async () => {
    expect((await request(port, get("/?s=201"))).raw).toMatch(/^HTTP\/1\.1 299 Success\r\n/);
    expect((await request(port, get("/?s=202"))).raw).toMatch(/^HTTP\/1\.1 298 Fine Thanks\r\n/);
  });

  it("never match a request fetch in a response rule", async () => {
    expect((await request(port, get("/p"))).raw).not.toContain("x-path");
  });

  it("deny with the 502 page, or the deny_status one, and count dresp", async () => {
    const before = (await statsCsv(port, "/st")).find((x) => x.pxname === "fe" && x.svname === "FRONTEND")!;
    const denied = await request(port, get("/?s=404"));
    expect(denied.raw).toMatch(
      /^HTTP\/1\.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\n/,
    );
    expect(denied.raw).not.toContain("x-fe");
    const secret = await request(port, get("/secret"));
    expect(secret.raw).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    const rows = await statsCsv(port, "/st");
    const row = (px: string, sv: string) => rows.find((x) => x.pxname === px && x.svname === sv)!;
    expect(Number(row("fe", "FRONTEND").dresp) - Number(before.dresp)).toBe(2);
    expect(row("be", "BACKEND").dresp).toBe("2");
    expect(row("be", "s1").dresp).toBe("2");
  });
});
