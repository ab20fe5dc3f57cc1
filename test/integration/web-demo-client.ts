/**
 * A browser-like client for the web-demo tests: one cookie jar per user (JSESSIONID only, as
 * the load balancer and the app see it), redirects not followed so 303s can be asserted.
 */

export interface Reply {
  status: number;
  headers: Headers;
  body: string;
  ms: number;
  json: () => Record<string, unknown>;
}

export class User {
  cookie: string | undefined;

  constructor(readonly name: string) {}

  async request(
    base: string,
    path: string,
    init: { method?: string; form?: Record<string, string>; json?: unknown; accept?: string } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (this.cookie !== undefined) headers.cookie = this.cookie;
    if (init.accept !== undefined) headers.accept = init.accept;
    let body: string | undefined;
    if (init.form !== undefined) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(init.form).toString();
    } else if (init.json !== undefined) {
      headers["content-type"] = "application/json";
      body = typeof init.json === "string" ? init.json : JSON.stringify(init.json);
    }
    const started = performance.now();
    const res = await fetch(`${base}${path}`, {
      method: init.method ?? (body === undefined ? "GET" : "POST"),
      headers,
      ...(body !== undefined && { body }),
      redirect: "manual",
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    const ms = performance.now() - started;
    this.remember(res.headers);
    return { status: res.status, headers: res.headers, body: text, ms, json: () => JSON.parse(text) };
  }

  /** POST /login as a form; resolves with the reply (303 expected). */
  login(base: string, password = "secret"): Promise<Reply> {
    return this.request(base, "/login", { form: { user: this.name, password } });
  }

  whoami(base: string): Promise<Reply> {
    return this.request(base, "/whoami");
  }

  private remember(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const eq = pair.indexOf("=");
      if (pair.slice(0, eq).trim() !== "JSESSIONID") continue;
      const value = pair.slice(eq + 1);
      const expired = /expires=thu, 01 jan 1970/i.test(line) || value === "";
      this.cookie = expired ? undefined : `JSESSIONID=${value}`;
    }
  }
}

/** The JSESSIONID Set-Cookie line of a reply, if any. */
export function sessionCookieLine(reply: Reply): string | undefined {
  return reply.headers.getSetCookie().find((l) => l.startsWith("JSESSIONID="));
}
