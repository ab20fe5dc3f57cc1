import { describe, expect, it } from "vitest";
import { parseWebDemoFlags } from "../../cli/web-demo.js";
import {
  DEMO_SECRET,
  parseRedisUrl,
  reconnectDelay,
  redactUrl,
  resolveSecret,
} from "../../web-demo/config.js";
import { parseLoginInput } from "../../web-demo/login-input.js";
import { escapeHtml, loggedInPage, loginFormPage, storeDownPage } from "../../web-demo/pages.js";
import { describe as describeError } from "../../web-demo/session-store.js";
import { initialHealth, observe, type StoreEvent } from "../../web-demo/store-health.js";

describe("web-demo session store health (one log line per state change)", () => {
  const run = (events: Array<[StoreEvent, number]>) => {
    let health = initialHealth(0);
    const lines: string[] = [];
    for (const [event, at] of events) {
      const step = observe(health, event, at);
      health = step.health;
      if (step.line !== undefined) lines.push(step.line);
    }
    return { health, lines };
  };
  const ok: StoreEvent = { kind: "ok" };
  const fail = (reason: string): StoreEvent => ({ kind: "fail", reason });

  it("logs UP once when the first connection succeeds, and nothing for later successes", () => {
    const { health, lines } = run([
      [ok, 10],
      [ok, 20],
      [ok, 30],
    ]);
    expect(health.status).toBe("up");
    expect(lines).toEqual(["session store redis UP"]);
  });

  it("logs DOWN once for an outage however many requests fail, with the first reason", () => {
    const { health, lines } = run([
      [ok, 0],
      [fail("Socket closed unexpectedly"), 1000],
      ...Array.from({ length: 50 }, (_, i): [StoreEvent, number] => [fail("ECONNREFUSED"), 1001 + i]),
    ]);
    expect(health).toEqual({ status: "down", since: 1000, reason: "Socket closed unexpectedly" });
    expect(lines).toEqual([
      "session store redis UP",
      "session store redis DOWN (Socket closed unexpectedly): answering 503 until it returns",
    ]);
  });

  it("logs UP again with the length of the outage when Redis returns", () => {
    const { lines } = run([
      [ok, 0],
      [fail("x"), 1000],
      [fail("y"), 2000],
      [ok, 3500],
      [ok, 3600],
    ]);
    expect(lines.at(-1)).toBe("session store redis UP again after 2.5 s down");
    expect(lines).toHaveLength(3);
  });

  it("a store that never came up is DOWN from the first failure", () => {
    expect(run([[fail("ECONNREFUSED"), 5]]).lines).toEqual([
      "session store redis DOWN (ECONNREFUSED): answering 503 until it returns",
    ]);
  });
});

describe("web-demo login input", () => {
  it("accepts a user and any non-empty password, trimming the user name", () => {
    expect(parseLoginInput({ user: "  alice ", password: "x" })).toEqual({ ok: true, user: "alice" });
  });

  it.each([
    [{ password: "x" }, "the user name is required"],
    [{ user: "   ", password: "x" }, "the user name is required"],
    [{ user: ["a", "b"], password: "x" }, "the user name is required"],
    [{ user: "a".repeat(65), password: "x" }, "the user name is longer than 64 characters"],
    [{ user: "a\nb", password: "x" }, "the user name contains control characters"],
    [{ user: "alice" }, "the password is required (any non-empty value)"],
    [{ user: "alice", password: "" }, "the password is required (any non-empty value)"],
    [{ user: "alice", password: 42 }, "the password is required (any non-empty value)"],
  ])("refuses %j: %s", (body, problem) => {
    expect(parseLoginInput(body)).toMatchObject({ ok: false, problem });
  });

  it("refuses a body that is not an object (no form, no JSON)", () => {
    for (const body of [undefined, null, "user=a", [1]]) {
      expect(parseLoginInput(body)).toMatchObject({ ok: false, problem: expect.stringContaining("form") });
    }
  });

  it("keeps the typed user name (bounded) so the form can show it again", () => {
    expect(parseLoginInput({ user: "bob" })).toMatchObject({ ok: false, user: "bob" });
  });
});

describe("web-demo pages", () => {
  it("escape every character that could open markup or leave an attribute", () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
      "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;",
    );
  });

  it("show a hostile user name as text, in the page and in the title", () => {
    const html = loggedInPage("web1", {
      user: `<img src=x onerror="a()">`,
      visits: 3,
      sessionId: "abcd1234",
    });
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;img src=x onerror=&quot;a()&quot;&gt;");
    expect(html).toContain('<dd id="visits">3</dd>');
    expect(html).toContain('<dd id="server">web1</dd>');
  });

  it("are plain HTML forms that post without JavaScript", () => {
    const html = loginFormPage("web2", { problem: "the password is required", user: `"quoted"` });
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('<form method="post" action="/login">');
    expect(html).toContain('value="&quot;quoted&quot;"');
    expect(html).toContain("<style>");
    expect(storeDownPage("web2")).toContain("served by <strong>web2</strong>");
  });
});

describe("web-demo Redis URLs", () => {
  it("hands redis:// and rediss:// URLs to the client unchanged", () => {
    expect(parseRedisUrl("redis://127.0.0.1:6379")).toEqual({ kind: "redis", url: "redis://127.0.0.1:6379" });
    expect(parseRedisUrl("rediss://u:p@h:1/2")).toEqual({ kind: "redis", url: "rediss://u:p@h:1/2" });
  });

  it("reads Sentinel URLs: several Sentinels, the master name, credentials and database", () => {
    expect(parseRedisUrl("redis-sentinel://127.0.0.1:26379,127.0.0.1:26380/mymaster")).toEqual({
      kind: "sentinel",
      name: "mymaster",
      nodes: [
        { host: "127.0.0.1", port: 26379 },
        { host: "127.0.0.1", port: 26380 },
      ],
    });
    expect(parseRedisUrl("redis-sentinel://:pw@h/m/3")).toEqual({
      kind: "sentinel",
      name: "m",
      nodes: [{ host: "h", port: 26379 }],
      password: "pw",
      database: 3,
    });
  });

  it.each([
    ["http://h:1", "invalid Redis URL"],
    ["127.0.0.1:6379", "invalid Redis URL"],
    ["redis-sentinel://h:1", "the master name is missing"],
    ["redis-sentinel://h:99999/m", "out of range"],
    ["redis-sentinel://h:1/m/x", "not a database number"],
  ])("refuses %s", (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(message);
  });

  it("hides passwords in logs", () => {
    expect(redactUrl("redis://user:pw@h:1")).toBe("redis://user:***@h:1");
    expect(redactUrl("redis://h:1")).toBe("redis://h:1");
  });

  it("reconnects quickly at first, then no slower than every 500 ms", () => {
    expect(reconnectDelay(0)).toBe(25);
    expect(reconnectDelay(1)).toBe(50);
    expect(reconnectDelay(5)).toBe(500);
    expect(reconnectDelay(10_000)).toBe(500);
  });
});

describe("web-demo secret and flags", () => {
  it("takes --secret first, then FULCRUM_SESSION_SECRET, then the demo secret with a warning", () => {
    expect(resolveSecret("a", "b")).toEqual({ secret: "a" });
    expect(resolveSecret(undefined, "b")).toEqual({ secret: "b" });
    const fallback = resolveSecret(undefined, undefined);
    expect(fallback.secret).toBe(DEMO_SECRET);
    expect(fallback.warning).toMatch(/public demo secret/);
    expect(() => resolveSecret("", undefined)).toThrow("--secret is empty");
  });

  it("accepts --redis with the memory store, so one command line serves both modes", () => {
    const flags = parseWebDemoFlags({ name: "web1", port: 9001, store: "memory", redis: "redis://h:1" }, {});
    expect(flags).toMatchObject({ name: "web1", port: 9001, host: "127.0.0.1", store: "memory" });
  });

  it.each([
    [{ name: "web1", port: 1, store: "disk" }, 'unknown --store "disk"'],
    [{ name: "web1", port: 1, store: "redis" }, "--store redis needs --redis URL"],
    [{ name: "web1", port: 1, store: "redis", redis: "http://x" }, "invalid Redis URL"],
    [{ name: " ", port: 1 }, "--name is empty"],
    [{ name: "web1", port: 1, secret: "" }, "--secret is empty"],
  ])("refuses %j as a usage error", (opts, message) => {
    expect(() => parseWebDemoFlags(opts, {})).toThrow(expect.objectContaining({ code: "FUL_USAGE" }));
    expect(() => parseWebDemoFlags(opts, {})).toThrow(message);
  });
});

describe("web-demo store failure reasons", () => {
  it("name the error code once, and never come out empty", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    expect(describeError(refused)).toBe("connect ECONNREFUSED 127.0.0.1:1");
    expect(describeError(Object.assign(new AggregateError([], ""), { code: "ECONNREFUSED" }))).toBe(
      "ECONNREFUSED",
    );
    expect(describeError(Object.assign(new Error("boom"), { code: "EPIPE" }))).toBe("EPIPE: boom");
    expect(describeError("text")).toBe("text");
  });
});
