/**
 * The stats URI's answers (auth, refresh, CSV or HTML, HEAD, POST) as haproxy 2.6.12 gave
 * them, and the HTML page's content: rows, check results, versions, the HA block.
 */
import { describe, expect, it } from "vitest";
import { esc, humanDuration, statsHtml, uptime } from "../../proxy/stats/html.js";
import {
  isStatsRequest,
  serialiseStatsReply,
  statsAuthorized,
  statsFlags,
  statsResponse,
} from "../../proxy/stats/page.js";
import type { StatsSnapshot } from "../../proxy/stats/snapshot.js";
import {
  backendRuntime,
  frontendRuntime,
  L4CON,
  L7OK,
  proxyModel,
  serverModel,
  statsConfig,
} from "./stats-fixture.js";

const NOW = 1_800_000_000_000;

function snapshot(): StatsSnapshot {
  const web = proxyModel({
    name: "web_proxy",
    id: 1,
    kind: "listen",
    servers: [
      serverModel({ name: "web1", id: 1, check: true, cookie: "A", port: 9001 }),
      serverModel({ name: "web2", id: 2, check: true, cookie: "B", port: 9002 }),
      serverModel({ name: "web3", id: 3, port: 9003, backup: true }),
    ],
  });
  const be = backendRuntime(web, {
    web1: { check: L7OK(NOW - 1000, 1), lastChange: NOW - 42_000 },
    web2: {
      up: false,
      check: { ...L4CON(NOW - 500), info: "Connection <refused>" },
      lastChange: NOW - 150_000,
      downSince: NOW - 150_000,
      chkdown: 1,
      chkfail: 3,
    },
  });
  be.servers[0]!.counters.stot = 1728000;
  return {
    pid: 4242,
    now: NOW,
    startedAt: NOW - 310_000,
    globalMaxconn: 100,
    version: "0.1.0",
    actconn: 3,
    proxies: [{ cfg: web, frontend: frontendRuntime(web), backend: be, fullconn: 10 }],
  };
}

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;
const header = (r: { headers: readonly (readonly [string, string])[] }, name: string) =>
  r.headers.find((h) => h[0] === name)?.[1];

describe("stats uri requests", () => {
  it("matches the prefix against the URI with its query string, for GET, HEAD and POST only", () => {
    const cfg = statsConfig({ uri: "/haproxy?stats" });
    expect(isStatsRequest(cfg, "GET", "/haproxy?stats")).toBe(true);
    expect(isStatsRequest(cfg, "GET", "/haproxy?stats;csv")).toBe(true);
    expect(isStatsRequest(cfg, "HEAD", "/haproxy?stats")).toBe(true);
    expect(isStatsRequest(cfg, "POST", "/haproxy?stats")).toBe(true);
    expect(isStatsRequest(cfg, "PUT", "/haproxy?stats")).toBe(false);
    expect(isStatsRequest(cfg, "GET", "/haproxy")).toBe(false);
    expect(isStatsRequest(statsConfig({ enabled: false }), "GET", "/haproxy-stats")).toBe(false);
  });

  it("reads ;csv, ;typed, ;json, ;norefresh, ;up and ;no-maint anywhere after the prefix", () => {
    expect(statsFlags(";csv;norefresh")).toEqual({
      csv: true,
      typed: false,
      json: false,
      noRefresh: true,
      hideDown: false,
      hideMaint: false,
    });
    expect(statsFlags("?x;up;no-maint;json;typed")).toEqual({
      csv: false,
      typed: true,
      json: true,
      noRefresh: false,
      hideDown: true,
      hideMaint: true,
    });
  });

  it("asks for credentials with HAProxy's 401 and realm when stats auth is set", () => {
    const cfg = statsConfig({ auth: [{ user: "admin", password: "secret" }] });
    const r = statsResponse({ cfg, method: "GET", uri: "/haproxy-stats", snapshot });
    expect(serialiseStatsReply(r).toString("latin1")).toBe(
      'HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nwww-authenticate: Basic realm="HAProxy Statistics"\r\n\r\n<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n',
    );
    const wrong = statsResponse({
      cfg,
      method: "GET",
      uri: "/haproxy-stats",
      authorization: basic("admin", "x"),
      snapshot,
    });
    expect(wrong.status).toBe(401);
    const realm = statsResponse({
      cfg: { ...cfg, realm: "My Realm" },
      method: "GET",
      uri: "/haproxy-stats",
      snapshot,
    });
    expect(header(realm, "www-authenticate")).toBe('Basic realm="My Realm"');
    const ok = statsResponse({
      cfg,
      method: "GET",
      uri: "/haproxy-stats",
      authorization: basic("admin", "secret"),
      snapshot,
    });
    expect(ok.status).toBe(200);
  });

  it("accepts any of several stats auth users and refuses a malformed header", () => {
    const cfg = statsConfig({
      auth: [
        { user: "a", password: "1" },
        { user: "b", password: "2:with:colons" },
      ],
    });
    expect(statsAuthorized(cfg, basic("b", "2:with:colons"))).toBe(true);
    expect(statsAuthorized(cfg, basic("a", "2"))).toBe(false);
    expect(statsAuthorized(cfg, "Bearer abc")).toBe(false);
    expect(statsAuthorized(statsConfig(), undefined)).toBe(true);
  });

  it("sends the HTML page with cache-control: no-cache, content-type text/html and refresh in seconds", () => {
    const cfg = statsConfig({ refresh: 5000 });
    const r = statsResponse({ cfg, method: "GET", uri: "/haproxy-stats", snapshot });
    expect(r.headers).toEqual([
      ["cache-control", "no-cache"],
      ["content-type", "text/html"],
      ["refresh", "5"],
    ]);
    expect(r.body.toString()).toContain("<table>");
  });

  it("sends the CSV as text/plain, with refresh too unless ;norefresh", () => {
    const cfg = statsConfig({ refresh: 10000 });
    const csv = statsResponse({ cfg, method: "GET", uri: "/haproxy-stats;csv", snapshot });
    expect(csv.headers).toEqual([
      ["cache-control", "no-cache"],
      ["content-type", "text/plain"],
      ["refresh", "10"],
    ]);
    expect(csv.body.toString().startsWith("# pxname,svname,")).toBe(true);
    const quiet = statsResponse({ cfg, method: "GET", uri: "/haproxy-stats;csv;norefresh", snapshot });
    expect(header(quiet, "refresh")).toBeUndefined();
  });

  it("answers HEAD with the head only and builds no snapshot", () => {
    const r = statsResponse({
      cfg: statsConfig(),
      method: "HEAD",
      uri: "/haproxy-stats",
      snapshot: () => {
        throw new Error("not needed");
      },
    });
    expect(serialiseStatsReply(r, { head: true, close: true }).toString("latin1")).toBe(
      "HTTP/1.1 200 OK\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n",
    );
  });

  it("refuses POST without stats admin with HAProxy's 303 to ;st=DENY", () => {
    const r = statsResponse({
      cfg: statsConfig(),
      method: "POST",
      uri: "/haproxy-stats;norefresh;up",
      snapshot,
    });
    expect(serialiseStatsReply(r, { close: true }).toString("latin1")).toBe(
      "HTTP/1.1 303 See Other\r\ncache-control: no-cache\r\ncontent-type: text/plain\r\ncontent-length: 0\r\nlocation: /haproxy-stats;st=DENY;up\r\nconnection: close\r\n\r\n",
    );
  });

  it("frames a page with content-length", () => {
    const r = statsResponse({ cfg: statsConfig(), method: "GET", uri: "/haproxy-stats;csv", snapshot });
    const bytes = serialiseStatsReply(r).toString("utf8");
    const [head, body] = bytes.split("\r\n\r\n");
    expect(head).toContain(`content-length: ${Buffer.byteLength(body!)}`);
  });
});

describe("stats page (HTML)", () => {
  const page = (over: Partial<Parameters<typeof statsConfig>[0]> = {}, snap = snapshot()) =>
    statsHtml(snap, { stats: statsConfig(over) });

  it("shows one table per proxy with its FRONTEND, each server and BACKEND", () => {
    const html = page();
    expect(html.match(/<table>/g)).toHaveLength(1);
    expect(html).toContain('<h2 id="web_proxy">');
    for (const name of ["Frontend", "web1", "web2", "web3", "Backend"]) expect(html).toContain(name);
    const rows = html.match(/<tr class="[^"]+">/g)!.map((r) => r.slice(11, -2));
    expect(rows).toEqual(["fe", "act-up", "down", "nocheck", "be"]);
  });

  it("shows each server's status and check result as HAProxy does (42s UP, L7OK/200 in 1ms)", () => {
    const html = page();
    expect(html).toContain("42s UP");
    expect(html).toContain("L7OK/200 in 1ms");
    expect(html).toContain("2m30s DOWN");
    expect(html).toContain("L4CON in 0ms");
    expect(html).toContain('title="Layer4 connection problem: Connection &lt;refused&gt;"');
    expect(html).toContain("1\u202f728\u202f000");
  });

  it("prints version X.Y.Z unless stats hide-version", () => {
    expect(page()).toContain("version 0.1.0");
    expect(page({ hideVersion: true })).not.toContain("version");
  });

  it("shows uptime and pid in the header", () => {
    const html = page();
    expect(html).toContain("pid = 4242");
    expect(html).toContain("uptime = 0d 0h05m10s");
  });

  it("adds addresses and cookies with stats show-legends", () => {
    expect(page()).not.toContain("127.0.0.1:9001");
    const html = page({ showLegends: true });
    expect(html).toContain("address 127.0.0.1:9001, cookie A");
  });

  it("is readable on a phone: viewport meta and tables that scroll sideways in their box", () => {
    const html = page();
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain('<div class="scroll"><table>');
    expect(html).toContain(".scroll{overflow-x:auto");
  });

  it("offers each backend's admin form only when stats admin allows it, and says what the last action did", () => {
    const plain = statsHtml(snapshot(), { stats: statsConfig() });
    expect(plain).not.toContain("<form");
    const admin = statsHtml(snapshot(), { stats: statsConfig(), admin: true, outcome: "PART" });
    expect(admin).toContain('<form class="admin" method="post" action="/haproxy-stats">');
    expect(admin).toContain('<input type="hidden" name="b" value="#1">');
    expect(admin).toContain('<input type="checkbox" name="s" value="web1">');
    expect(admin).toContain('<option value="drain">');
    expect(admin).toContain("Action partially processed");
  });

  it("shows this node's HA role and warns when the peer's configuration differs", () => {
    const snap = {
      ...snapshot(),
      ha: {
        node: "lb1",
        role: "MASTER",
        epoch: 7,
        priority: 150,
        transitions: 2,
        configChecksum: "aaaaaaaaaaaaaaaa",
        peer: { name: "lb2", role: "BACKUP", lastAdvertMs: 1200, configChecksum: "bbbbbbbbbbbbbbbb" },
      },
    };
    const html = statsHtml(snap, { stats: statsConfig() });
    expect(html).toContain("lb1 <strong>MASTER</strong>, priority 150, epoch 7");
    expect(html).toContain("lb2 <strong>BACKUP</strong>, last advert 1.2s ago");
    expect(html).toContain("configuration differs from the peer's");
    const same = statsHtml(
      { ...snap, ha: { ...snap.ha, peer: { ...snap.ha.peer, configChecksum: "aaaaaaaaaaaaaaaa" } } },
      { stats: statsConfig() },
    );
    expect(same).not.toContain("configuration differs");
  });

  it("escapes every value taken from configuration or the network", () => {
    expect(esc(`<script>"&'`)).toBe("&lt;script&gt;&quot;&amp;&#39;");
    const snap = snapshot();
    const html = statsHtml(snap, { stats: statsConfig({ uri: '/s"><script>x</script>' }) });
    expect(html).not.toContain("<script>");
  });

  it("spells durations as HAProxy: 42s, 1m5s, 3h12m, 2d4h; uptime 0d 0h05m10s", () => {
    expect([42, 65, 3 * 3600 + 12 * 60, 2 * 86400 + 4 * 3600].map(humanDuration)).toEqual([
      "42s",
      "1m5s",
      "3h12m",
      "2d4h",
    ]);
    expect(uptime(310)).toBe("0d 0h05m10s");
  });
});
