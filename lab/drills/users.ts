/**
 * A logged-in user of the demo application, as a browser would be: a cookie jar (the load
 * balancer's SRV cookie and the application's JSESSIONID), requests through the service
 * address on a fresh connection each time (`option httpclose`).
 */
import { type HttpResult, httpRequest } from "../http.js";

/** What one request told about the user's session. */
export type SessionAnswer =
  /** 200: logged in as this user. */
  | "kept"
  /** 401: not logged in any more (the session was lost). */
  | "lost"
  /** 503 FUL_REDIS: the server cannot tell (session store down). */
  | "store-down"
  /** Anything else: a failed request. */
  | "failed";

export interface WhoamiResult {
  readonly answer: SessionAnswer;
  /** Failure kind for the tallies: ok, logged-out, store-down, http-502, refused, ... */
  readonly kind: string;
  /** Server that answered (X-Served-By), when one did. */
  readonly server?: string;
}

/** Pure: classifies a /whoami exchange for user NAME. */
export function classifyWhoami(r: HttpResult, name: string): WhoamiResult {
  if (!r.ok) return { answer: "failed", kind: r.failure };
  const served = r.headers["x-served-by"];
  const server = typeof served === "string" ? served : undefined;
  const withServer = server !== undefined ? { server } : {};
  let body: { user?: unknown; code?: unknown } = {};
  try {
    body = JSON.parse(r.body) as typeof body;
  } catch {
    // not JSON: a proxy error page
  }
  if (r.status === 200 && body.user === name) return { answer: "kept", kind: "ok", ...withServer };
  if (r.status === 401 || (r.status === 200 && body.user !== name)) {
    return { answer: "lost", kind: "logged-out", ...withServer };
  }
  if (r.status === 503 && body.code === "FUL_REDIS")
    return { answer: "store-down", kind: "store-down", ...withServer };
  return { answer: "failed", kind: `http-${r.status}`, ...withServer };
}

export class LabUser {
  private readonly jar = new Map<string, string>();
  /** Server that created the session at login. */
  loginServer: string | undefined;

  constructor(
    readonly name: string,
    private readonly port: number,
  ) {}

  get cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  /** The load balancer's sticky cookie value (A or B), if set. */
  get stickyCookie(): string | undefined {
    return this.jar.get("SRV");
  }

  private remember(r: HttpResult): void {
    if (!r.ok) return;
    const lines = r.headers["set-cookie"];
    for (const line of Array.isArray(lines) ? lines : lines ? [lines] : []) {
      const [pair = "", ...attrs] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*(max-age=0|expires=thu, 01 jan 1970)/i.test(a)) || value === "";
      if (expired) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  private async send(path: string, init: { method?: string; json?: unknown; timeoutMs?: number } = {}) {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.jar.size > 0) headers.cookie = this.cookieHeader;
    let body: string | undefined;
    if (init.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(init.json);
    }
    const r = await httpRequest({
      port: this.port,
      path,
      method: init.method ?? "GET",
      headers,
      ...(body !== undefined ? { body } : {}),
      timeoutMs: init.timeoutMs ?? 2000,
    });
    this.remember(r);
    return r;
  }

  /** POST /login as JSON; true when the session was created. */
  async login(timeoutMs = 2000): Promise<boolean> {
    const r = await this.send("/login", {
      method: "POST",
      json: { user: this.name, password: "lab" },
      timeoutMs,
    });
    if (!r.ok || r.status !== 200) return false;
    try {
      this.loginServer = (JSON.parse(r.body) as { server?: string }).server;
    } catch {
      return false;
    }
    return true;
  }

  async whoami(timeoutMs = 2000): Promise<WhoamiResult> {
    return classifyWhoami(await this.send("/whoami", { timeoutMs }), this.name);
  }
}

/** Logs in `count` users named PREFIX-N; fails with the first reason when one cannot. */
export async function loginUsers(port: number, count: number, prefix = "user"): Promise<LabUser[]> {
  const users = Array.from({ length: count }, (_, i) => new LabUser(`${prefix}-${i + 1}`, port));
  // a few at a time: logins go through the balancer in order, so roundrobin spreads them.
  for (const u of users) {
    if (!(await u.login())) {
      throw new Error(`user ${u.name} could not log in through 127.0.0.1:${port}`);
    }
  }
  return users;
}
