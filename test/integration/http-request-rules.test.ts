import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EchoServer, startEcho } from "../helpers/echo.js";
import { freePort, type RunningProxy, rawRequest, startProxy } from "../helpers/index.js";

describe("http-request rules", () => {
  let echo: EchoServer;
  let proxy: RunningProxy;
  let port: number;

  beforeAll(async () => {
    echo = await startEcho("echo1");
    port = await freePort();
    proxy = await startProxy(
      [
        "defaults",
        "  mode http",
        "  timeout connect 2s",
        "  timeout client 5s",
        "  timeout server 5s",
        "frontend fe",
        `  bind 127.0.0.1:${port}`,
        "  acl api path_beg /api",
        "  http-request deny deny_status 403 if { path /forbidden }",
        '  http-request set-header X-Via "fulcrum 100%%"',
        "  http-request add-header X-Api yes if api",
        "  http-request del-header X-Debug",
        "  use_backend be_api if { hdr(x-api) yes }",
        "  default_backend be",
        "backend be",
        `  server s1 127.0.0.1:${echo.port}`,
        "backend be_api",
        "  http-request set-header X-Backend api",
        `  server s1 127.0.0.1:${echo.port}`,
        "",
      ].join("\n"),
      port,
    );
  });
  afterAll(async () => {
    await proxy?.stop();
    await echo?.close();
  });

  it("set-header replaces every occurrence, add-header appends, del-header removes, in order", async () => {
    const r = await rawRequest(
      port,
      "GET /x HTTP/1.1\r\nHost: a\r\nX-Via: old\r\nX-Debug: 1\r\nX-Via: older\r\nConnection: close\r\n\r\n",
    );
    expect(r.text).toMatch(/^HTTP\/1\.1 200/);
    const seen = echo.requests.at(-1)!;
    expect(seen).toContain("\r\nx-via: fulcrum 100%\r\n");
    expect(seen).not.toContain("old");
    expect(seen.toLowerCase()).not.toContain("x-debug");
    expect(seen).not.toContain("x-api");
  });

  it("a header set by a rule is seen by use_backend, and the backend's own rules run", async () => {
    await rawRequest(port, "GET /api/v1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    const seen = echo.requests.at(-1)!;
    expect(seen).toContain("\r\nx-api: yes\r\n");
    expect(seen).toContain("\r\nx-backend: api\r\n");
  });

  it("deny answers HAProxy's 403 page and nothing reaches a server", async () => {
    const before = echo.requests.length;
    const r = await rawRequest(port, "GET /forbidden HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    expect(r.text).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(echo.requests.length).toBe(before);
  });
});
