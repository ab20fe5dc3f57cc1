/**
 * Persistence for one backend, assembled once: the persistence cookie first, then the learned
 * session (appsession), as the request path asks for them. Pure: values in, values out; the
 * session table is the only state.
 */
import type { BackendRuntime, ServerRuntime } from "../state.js";
import { type HeaderLookup, isCacheable } from "./cacheable.js";
import {
  acceptsCookieHolders,
  type ClientCookieState,
  type CookiePlan,
  type CookieRequest,
  compileCookie,
  decideResponseCookie,
  readRequestCookies,
  type ServerCookieState,
} from "./cookie.js";
import { idFromSetCookies, idFromUrl, idsFromCookies } from "./session-id.js";
import type { SessionTable } from "./session-table.js";

export { type CookiePlan, compileCookie } from "./cookie.js";
export { MemorySessionTable, type SessionListener, type SessionTable } from "./session-table.js";

export interface PersistRequestInput {
  readonly method: string;
  /** Request target as received (for `;jsessionid=` path parameters). */
  readonly target: string;
  /** Cookie header values, in order. */
  readonly cookies: readonly string[];
}

export interface PersistRequest {
  /** The server persistence designates (HAProxy's SF_DIRECT), if any. */
  readonly server: ServerRuntime | undefined;
  /** How it was chosen. */
  readonly by: "cookie" | "session" | undefined;
  /** Log's 3rd termination letter ("-" without a `cookie` line). */
  readonly clientCookie: ClientCookieState | "-";
  /** Cookie header values to forward instead of the received ones, or undefined to keep them. */
  readonly forwardCookies: readonly string[] | undefined;
  /** Internal: what the response step needs. */
  readonly cookie: CookieRequest | undefined;
  /** The session id the request carried (learned after the response with `request-learn`). */
  readonly sessionId: string | undefined;
}

export interface PersistResponseInput {
  readonly method: string;
  readonly status: number;
  readonly request: PersistRequest;
  /** The server that answered and whether it is the one persistence designated. */
  readonly server: ServerRuntime;
  readonly direct: boolean;
  /** The response's Set-Cookie values, in order. */
  readonly setCookies: readonly string[];
  /** Response headers by lowercase name (for the `nocache` cacheability rules). */
  readonly header: HeaderLookup;
}

export interface PersistResponse {
  /** Indexes in `setCookies` to drop. */
  readonly removeSetCookies: readonly number[];
  /** Headers to append at the end, in order (HAProxy 2.6 writes the names in lowercase). */
  readonly append: readonly (readonly [string, string])[];
  /** Log's 4th termination letter ("-" without a `cookie` line). */
  readonly serverCookie: ServerCookieState | "-";
}

export class Persistence {
  readonly cookie: CookiePlan | undefined;
  readonly sessions: SessionTable | undefined;
  private readonly backend: BackendRuntime;
  private readonly byName: Map<string, ServerRuntime>;

  constructor(backend: BackendRuntime, sessions?: SessionTable) {
    this.backend = backend;
    this.cookie = compileCookie(backend);
    this.sessions = backend.cfg.learnedSession ? sessions : undefined;
    this.byName = new Map(backend.servers.map((s) => [s.cfg.name, s]));
  }

  request(r: PersistRequestInput, nowMs: number): PersistRequest {
    const persist = this.backend.cfg.options.persist;
    const ck = this.cookie
      ? readRequestCookies(this.cookie, r.cookies, Math.floor(nowMs / 1000), { persist })
      : undefined;
    const clientCookie = ck ? ck.state : "-";
    const forwardCookies = ck?.forward;
    if (ck?.server) {
      return {
        server: ck.server,
        by: "cookie",
        clientCookie,
        forwardCookies,
        cookie: ck,
        sessionId: undefined,
      };
    }
    const learned = this.lookupSession(r, nowMs, persist);
    return {
      server: learned.server,
      by: learned.server ? "session" : undefined,
      clientCookie,
      forwardCookies,
      cookie: ck,
      sessionId: learned.id,
    };
  }

  response(r: PersistResponseInput, nowMs: number): PersistResponse {
    this.learnSession(r, nowMs);
    if (!this.cookie || !r.request.cookie) return { removeSetCookies: [], append: [], serverCookie: "-" };
    const cacheable = this.cookie.cfg.nocache && isCacheable(r.method, r.status, r.header);
    const d = decideResponseCookie(this.cookie, {
      method: r.method,
      request: r.request.cookie,
      server: r.server,
      direct: r.direct,
      setCookies: r.setCookies,
      cacheable,
      nowSec: Math.floor(nowMs / 1000),
    });
    const append: [string, string][] = [];
    if (d.insert !== undefined) append.push(["set-cookie", d.insert]);
    if (d.cachePrivate) append.push(["cache-control", "private"]);
    return { removeSetCookies: d.remove, append, serverCookie: d.state };
  }

  /** The learned session the request carries: from its cookies first, then its URL. */
  private lookupSession(
    r: PersistRequestInput,
    nowMs: number,
    persist: boolean,
  ): { server: ServerRuntime | undefined; id: string | undefined } {
    const cfg = this.backend.cfg.learnedSession;
    const table = this.sessions;
    if (!cfg || !table) return { server: undefined, id: undefined };
    const ids = idsFromCookies(cfg, r.cookies);
    const fromUrl = idFromUrl(cfg, r.method, r.target);
    if (fromUrl !== undefined) ids.push(fromUrl);
    for (const id of ids) {
      const name = table.get(id);
      if (name === undefined) continue;
      const s = this.byName.get(name);
      if (s && (acceptsCookieHolders(s) || persist)) {
        table.touch(id, nowMs);
        return { server: s, id };
      }
    }
    return { server: undefined, id: ids[0] };
  }

  /** The server set a session id (or, with request-learn, the client brought an unknown one). */
  private learnSession(r: PersistResponseInput, nowMs: number): void {
    const cfg = this.backend.cfg.learnedSession;
    const table = this.sessions;
    if (!cfg || !table) return;
    const id =
      idFromSetCookies(cfg, r.setCookies) ??
      (cfg.requestLearn && r.request.sessionId !== undefined && table.get(r.request.sessionId) === undefined
        ? r.request.sessionId
        : undefined);
    if (id !== undefined) table.learn(id, r.server.cfg.name, nowMs);
  }
}
