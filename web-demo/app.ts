/**
 * The demo web application behind the load balancer: the tutorial's Tomcat pair, with its
 * `JSESSIONID` sessions kept in this process (cookie mode) or in Redis (shared mode).
 *
 * Routes:
 *   GET  /login    login form, or the logged-in page (user, visits, server, session id prefix)
 *   POST /login    form or JSON {user, password}; 303 to /login (form) or JSON answer
 *   POST /logout   ends the session; 303 to /login (form) or JSON answer
 *   GET  /whoami   JSON: 200 logged in, 401 not logged in, 503 store unavailable (unknown)
 *   HEAD /login    200, no body, no session: the load balancer's health check
 *   GET  /health   JSON {server, store, redis}: 200, or 503 when Redis cannot be reached
 *
 * Session work is explicit: a handler that changes the session saves it and waits for the
 * store before answering, so a store failure becomes the 503 page instead of a response
 * that was already sent (express-session's own end-of-response save can only report a
 * failure too late), and a session that could not be stored sets no cookie.
 */
import express, {
  type ErrorRequestHandler,
  type Express,
  type Request,
  type RequestHandler,
  type Response,
} from "express";
import session from "express-session";
import { FulcrumError } from "../proxy/errors.js";
import {
  resolveSecret,
  SESSION_COOKIE,
  SESSION_ID_SHOWN,
  SESSION_MAX_AGE_MS,
  type StoreKind,
} from "./config.js";
import { parseLoginInput } from "./login-input.js";
import { loggedInPage, loginFormPage, messagePage, storeDownPage } from "./pages.js";
import { memoryBackend, redisBackend, type SessionBackend } from "./session-store.js";

declare module "express-session" {
  interface SessionData {
    user: string;
    visits: number;
  }
}

export interface Logger {
  info(line: string): void;
  warn(line: string): void;
}

export interface WebDemoOptions {
  /** Server name shown on pages and in `X-Served-By` (web1, web2). */
  name: string;
  store: StoreKind;
  /** Required for the redis store: redis://HOST:PORT or redis-sentinel://HOST:PORT/MASTER. */
  redisUrl?: string;
  /** Cookie signing secret, the same on every server; the public demo secret when absent. */
  secret?: string;
  logger?: Logger;
  /** Longest wait for one Redis command before answering 503 (default 500 ms). */
  redisTimeoutMs?: number;
}

export interface WebDemo {
  readonly app: Express;
  readonly name: string;
  readonly store: StoreKind;
  /** "up" | "down" | "starting" for Redis, "n/a" for memory. */
  storeStatus(): string;
  /** True once the store can serve (at once for memory), false after `timeoutMs` or a failure. */
  storeReady(timeoutMs: number): Promise<boolean>;
  /** Closes the store and its Redis connection. The caller stops its HTTP server first. */
  close(): Promise<void>;
}

export function defaultLogger(name: string): Logger {
  return {
    info: (line) => process.stdout.write(`${name}: ${line}\n`),
    warn: (line) => process.stderr.write(`${name}: ${line}\n`),
  };
}

export function createApp(opts: WebDemoOptions): WebDemo {
  const logger = opts.logger ?? defaultLogger(opts.name);
  const { secret, warning } = resolveSecret(opts.secret, undefined);
  if (warning !== undefined) logger.warn(warning);
  const backend = openBackend(opts, logger);
  const app = buildApp(opts.name, secret, backend, logger);
  return {
    app,
    name: opts.name,
    store: opts.store,
    storeStatus: () => backend.status(),
    storeReady: (timeoutMs) => backend.ready(timeoutMs),
    close: () => backend.close(),
  };
}

function openBackend(opts: WebDemoOptions, logger: Logger): SessionBackend {
  if (opts.store === "memory") return memoryBackend();
  if (opts.redisUrl === undefined || opts.redisUrl === "") {
    throw new FulcrumError("FUL_USAGE", "the redis store needs a Redis URL: --redis redis://HOST:PORT");
  }
  return redisBackend({
    url: opts.redisUrl,
    log: (line) => logger.warn(line),
    ...(opts.redisTimeoutMs !== undefined && { timeoutMs: opts.redisTimeoutMs }),
  });
}

function buildApp(name: string, secret: string, backend: SessionBackend, logger: Logger): Express {
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  app.set("trust proxy", false);

  const withSession = session({
    name: SESSION_COOKIE,
    secret,
    store: backend.store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    unset: "keep",
    cookie: { httpOnly: true, sameSite: "lax", path: "/", secure: false, maxAge: SESSION_MAX_AGE_MS },
  });
  const loginBody = [express.urlencoded({ extended: false, limit: "8kb" }), express.json({ limit: "8kb" })];
  const h = handlers(name, backend);

  app.use(servedBy(name));
  app.head("/login", h.healthCheck);
  app.get("/health", h.health);
  app.get("/login", withSession, h.loginPage);
  app.post("/login", ...loginBody, h.validateLogin, withSession, h.login);
  app.post("/logout", withSession, h.logout);
  app.get("/whoami", withSession, h.whoami);
  app.get("/", (_req, res) => res.redirect(303, "/login"));
  app.use(h.notFound);
  app.use(errorPage(name, logger));
  return app;
}

/** Every response says which server produced it, errors included. */
function servedBy(name: string): RequestHandler {
  return (_req, res, next) => {
    res.setHeader("X-Served-By", name);
    res.setHeader("Cache-Control", "no-store");
    next();
  };
}

function handlers(name: string, backend: SessionBackend) {
  const loggedIn = (req: Request, user: string) => ({
    server: name,
    user,
    visits: req.session.visits ?? 0,
    sessionId: req.sessionID.slice(0, SESSION_ID_SHOWN),
  });

  /**
   * A visitor with no session touches no store. While Redis is known to be down, ask it again
   * (a PING, bounded like every command) rather than offer a form that cannot work.
   */
  const refuseWhenStoreDown = async () => {
    if (backend.status() === "down") await backend.check();
  };

  return {
    healthCheck: ((_req, res) => {
      res.status(200).type("html").end();
    }) satisfies RequestHandler,

    health: (async (_req, res) => {
      const body = { server: name, store: backend.kind, redis: "n/a" as "up" | "down" | "n/a" };
      if (backend.kind === "memory") return void res.status(200).json(body);
      try {
        await backend.check();
        res.status(200).json({ ...body, redis: "up" });
      } catch {
        res.status(503).json({ ...body, redis: "down" });
      }
    }) satisfies RequestHandler,

    loginPage: (async (req, res) => {
      const user = req.session.user;
      if (user === undefined) {
        await refuseWhenStoreDown();
        return void sendHtml(res, 200, loginFormPage(name));
      }
      req.session.visits = (req.session.visits ?? 0) + 1;
      await commit(req);
      sendHtml(res, 200, loggedInPage(name, loggedIn(req, user)));
    }) satisfies RequestHandler,

    validateLogin: ((req, res, next) => {
      const input = parseLoginInput(req.body);
      if (input.ok) {
        res.locals.user = input.user;
        return next();
      }
      const problem = { server: name, error: input.problem, code: "FUL_BAD_REQUEST" };
      if (wantsJson(req)) return void res.status(400).json(problem);
      sendHtml(
        res,
        400,
        loginFormPage(name, { problem: input.problem, ...(input.user && { user: input.user }) }),
      );
    }) satisfies RequestHandler,

    login: (async (req, res) => {
      // A new session id at login: an id the client chose or saw before cannot be fixed on it.
      await regenerate(req);
      req.session.user = res.locals.user as string;
      req.session.visits = 0;
      await commit(req);
      if (wantsJson(req)) return void res.status(200).json(loggedIn(req, req.session.user));
      res.redirect(303, "/login");
    }) satisfies RequestHandler,

    logout: (async (req, res) => {
      await destroy(req);
      res.clearCookie(SESSION_COOKIE, { path: "/", httpOnly: true, sameSite: "lax" });
      if (wantsJson(req)) return void res.status(200).json({ server: name, user: null });
      res.redirect(303, "/login");
    }) satisfies RequestHandler,

    whoami: (async (req, res) => {
      const user = req.session.user;
      if (user === undefined) {
        await refuseWhenStoreDown();
        return void res.status(401).json({ server: name, user: null, visits: null, sessionId: null });
      }
      req.session.visits = (req.session.visits ?? 0) + 1;
      await commit(req);
      res.status(200).json(loggedIn(req, user));
    }) satisfies RequestHandler,

    notFound: ((req, res) => {
      if (wantsJson(req)) return void res.status(404).json({ server: name, error: "not found" });
      sendHtml(res, 404, messagePage(name, "Not found", `There is nothing at ${req.path}.`));
    }) satisfies RequestHandler,
  };
}

/** Saves the session now; on failure the session is dropped so no cookie points at it. */
async function commit(req: Request): Promise<void> {
  await sessionOp(req, (done) => req.session.save(done));
}

async function regenerate(req: Request): Promise<void> {
  await sessionOp(req, (done) => req.session.regenerate(done));
}

async function destroy(req: Request): Promise<void> {
  await sessionOp(req, (done) => req.session.destroy(done));
}

function sessionOp(req: Request, op: (done: (err?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    op((err) => {
      if (err === undefined || err === null) return resolve();
      // express-session sets the cookie for any session still on the request: take it away.
      (req as { session?: unknown }).session = undefined;
      reject(err);
    });
  });
}

/** JSON for /whoami and /health, for JSON bodies, and for clients that prefer JSON to HTML. */
function wantsJson(req: Request): boolean {
  if (req.path === "/whoami" || req.path === "/health") return true;
  if (req.is("application/json")) return true;
  return req.accepts(["html", "json"]) === "json";
}

function sendHtml(res: Response, status: number, html: string): void {
  res.status(status).type("html").send(html);
}

/** What each failure becomes: a status and the words a user reads. Never a stack trace. */
function classify(err: unknown): { status: number; title: string; text: string; code: string } {
  if (err instanceof FulcrumError && err.code === "FUL_REDIS") {
    return { status: 503, title: "Sessions unavailable", text: "session store unavailable", code: err.code };
  }
  const status = (err as { status?: unknown; statusCode?: unknown }).status;
  if (typeof status === "number" && status >= 400 && status < 500) {
    const text = status === 413 ? "the request body is too large" : "the request could not be read";
    return { status, title: "Bad request", text, code: "FUL_BAD_REQUEST" };
  }
  return {
    status: 500,
    title: "Server error",
    text: "something went wrong on this server",
    code: "FUL_RUNTIME",
  };
}

function errorPage(name: string, logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const { status, title, text, code } = classify(err);
    // 503s are logged once per store state change (session-store.ts), not per request.
    if (status === 500) logger.warn(`${req.method} ${req.path} failed: ${String(err)}`);
    if (res.headersSent) return;
    (req as { session?: unknown }).session = undefined;
    if (wantsJson(req)) {
      const body: Record<string, unknown> = { server: name, error: text, code };
      if (status === 503) body.redis = "down";
      return void res.status(status).json(body);
    }
    sendHtml(res, status, status === 503 ? storeDownPage(name) : messagePage(name, title, text));
  };
}
