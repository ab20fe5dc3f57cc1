/** Rows of the proxy sections (defaults, frontend, listen, backend): routing and basics. */
import { addNamedAcl } from "../acl.js";
import type { Bind, Condition, HttpRedirectRule, HttpRequestRule, HttpResponseRule } from "../model.js";
import { parseHostPort, parseNetwork } from "../net.js";
import {
  BACKS,
  exactly,
  FRONTS,
  FRONTS_ONLY,
  fail,
  int,
  type KeywordRow,
  type KwCtx,
  NAMED_PROXIES,
  none,
  oneOf,
  optionalCondition,
  PROXIES,
  requiredCondition,
  time,
} from "./types.js";

/** Status codes HAProxy 2.6 can produce itself, hence the ones `errorfile` may replace. */
export const ERRORFILE_CODES: readonly number[] = [
  200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
];

const PROXY_NAME = /^[A-Za-z0-9_.:-]+$/;

/** A condition that always holds (for `use_backend NAME` written without one). */
function always(ctx: KwCtx): Condition {
  return { polarity: "if", anyOf: [[{ kind: "named", name: "TRUE", negate: false }]], loc: ctx.loc };
}

function parseBindAddress(ctx: KwCtx, text: string): Bind {
  const fd = /^fd@(.*)$/.exec(text);
  if (fd) {
    if (!/^\d+$/.test(fd[1]!)) {
      fail(
        ctx,
        `'${text}' is not a file descriptor number`,
        fd[1]!.includes("$") ? `write "fd@$\{NAME}" in double quotes so the variable is expanded` : undefined,
      );
    }
    return { kind: "fd", host: "", port: 0, fd: Number(fd[1]), loc: ctx.loc };
  }
  if (text.startsWith("/") || /^(unix|abns|sockpair|uxst|uxdg|quic4|quic6|udp|udp4|udp6)@/.test(text)) {
    fail(ctx, `address '${text}' is not supported yet`, "bind to ADDRESS:PORT or fd@N");
  }
  const bare = text.replace(/^(ipv4|ipv6|tcp|tcp4|tcp6)@/, "");
  const hp = parseHostPort(bare, { anyHost: true });
  if (!hp.ok) fail(ctx, hp.reason);
  return { kind: "tcp", host: hp.value.host, port: hp.value.port, loc: ctx.loc };
}

/** `bind ADDR[,ADDR...]` (shared with the legacy `listen NAME ADDR`). */
export function addBinds(ctx: KwCtx, list: string): void {
  for (const part of list.split(",")) {
    if (part === "") fail(ctx, `empty address in '${list}'`);
    ctx.proxy.binds.push(parseBindAddress(ctx, part));
  }
}

function backendName(ctx: KwCtx, name: string | undefined): string {
  if (name === undefined) fail(ctx, "expects a backend name");
  if (name.includes("%[")) fail(ctx, "dynamic backend names ('%[...]') are not supported yet");
  if (!PROXY_NAME.test(name)) fail(ctx, `invalid backend name '${name}'`);
  return name;
}

/**
 * A log-format argument (a header value of `set-header`/`add-header`, a redirect target,
 * a `return` header). fulcrum takes plain text (`%%` is a literal `%`) and refuses the
 * expressions it does not evaluate yet rather than sending them verbatim.
 */
function plainFormat(ctx: KwCtx, value: string, what = "header values"): string {
  if (/%(?!%)/.test(value.replace(/%%/g, ""))) {
    fail(
      ctx,
      `log-format expressions in ${what} ('${value}') are not supported yet`,
      "write a plain value; %% is a literal %",
    );
  }
  return value.replace(/%%/g, "%");
}

function headerValue(ctx: KwCtx, value: string): string {
  return plainFormat(ctx, value);
}

const REDIRECT_CODES = [301, 302, 303, 307, 308] as const;

/** `http-request redirect ...`: options in any order, as HAProxy reads them. */
function parseRedirect(ctx: KwCtx, args: readonly string[], cond: Condition | undefined): HttpRequestRule {
  let kind: HttpRedirectRule["kind"] | undefined;
  let target = "";
  let code: HttpRedirectRule["code"] = 302;
  let dropQuery = false;
  let appendSlash = false;
  let cookie: HttpRedirectRule["cookie"];
  const value = (i: number, word: string): string => {
    const v = args[i];
    if (v === undefined) fail(ctx, `missing argument for '${word}'`);
    return v;
  };
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    if (w === "location" || w === "prefix" || w === "scheme") {
      kind = w;
      target = plainFormat(ctx, value(++i, w), `redirect ${w}s`);
    } else if (w === "code") {
      const c = Number(value(++i, w));
      const ok = REDIRECT_CODES.find((k) => k === c);
      if (ok === undefined || !/^\d+$/.test(args[i]!)) {
        fail(ctx, `unsupported HTTP code '${args[i]}'`, "use one of 301, 302, 303, 307 or 308");
      }
      code = ok;
    } else if (w === "set-cookie" || w === "clear-cookie") {
      cookie = { clear: w === "clear-cookie", text: value(++i, w) };
    } else if (w === "drop-query") dropQuery = true;
    else if (w === "append-slash") appendSlash = true;
    else if (w === "ignore-empty") {
      // Only a log-format target can be empty; a plain one never is.
    } else {
      fail(
        ctx,
        `unexpected '${w}'`,
        "expects code, prefix, location, scheme, set-cookie, clear-cookie, drop-query, ignore-empty or append-slash",
      );
    }
  }
  if (kind === undefined) fail(ctx, "redirection type expected ('prefix', 'location', or 'scheme')");
  return withCond(
    {
      action: "redirect" as const,
      kind,
      target,
      code,
      dropQuery,
      appendSlash,
      ...(cookie !== undefined ? { cookie } : {}),
      loc: ctx.loc,
    },
    cond,
  );
}

/** Headers a `return` reply sets itself (HAProxy warns and drops them from `hdr`). */
const RETURN_OWN_HEADERS = new Set(["content-length", "content-type", "transfer-encoding", "connection"]);

/** `http-request return ...`. */
function parseReturn(ctx: KwCtx, args: readonly string[], cond: Condition | undefined): HttpRequestRule {
  let status = 200;
  let contentType: string | undefined;
  let body: Buffer | undefined;
  const headers: [string, string][] = [];
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    const next = (): string => {
      const v = args[++i];
      if (v === undefined) fail(ctx, `'${w}' expects an argument`);
      return v;
    };
    if (w === "status") {
      status = int(ctx, next(), 200, 599, "a status code");
    } else if (w === "content-type") {
      contentType = next();
    } else if (w === "string" || w === "file") {
      if (body !== undefined) fail(ctx, `unexpected '${w}' argument, the payload is already defined`);
      const v = next();
      if (w === "string") body = Buffer.from(v, "utf8");
      else {
        try {
          body = ctx.host.readFile(v);
        } catch (err) {
          fail(ctx, `cannot read '${v}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
      }
    } else if (w === "hdr") {
      const name = args[i + 1];
      const v = args[i + 2];
      if (name === undefined || v === undefined) fail(ctx, "'hdr' expects <name> and <value> as arguments");
      i += 2;
      if (RETURN_OWN_HEADERS.has(name.toLowerCase())) {
        ctx.warn(`header '${name}' always ignored by the http reply.`);
        continue;
      }
      headers.push([headerName(ctx, name), plainFormat(ctx, v)]);
    } else if (["errorfile", "errorfiles", "default-errorfiles", "lf-string", "lf-file"].includes(w)) {
      fail(ctx, `'${w}' is not supported yet`, "give the payload with 'string' or 'file'");
    } else {
      fail(ctx, `unexpected '${w}'`, "expects status, content-type, string, file or hdr");
    }
  }
  if (body !== undefined && body.length > 0) {
    if (contentType === undefined)
      fail(ctx, "a content type must be defined when non-empty payload is configured");
    if (status === 204 || status === 304) fail(ctx, `No body expected for ${status} responses.`);
  } else if (contentType !== undefined) {
    ctx.warn(
      `content-type '${contentType}' ignored by the http reply because neither errorfile nor payload defined.`,
    );
    contentType = undefined;
  }
  return withCond(
    {
      action: "return" as const,
      status,
      ...(contentType !== undefined ? { contentType } : {}),
      body: body ?? Buffer.alloc(0),
      headers,
      loc: ctx.loc,
    },
    cond,
  );
}

function headerName(ctx: KwCtx, name: string | undefined): string {
  if (name === undefined || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    fail(ctx, `expects a header name, got '${name ?? ""}'`);
  }
  return name;
}

/** Splits `ARGS... [if|unless COND...]`. */
function splitCondition(args: readonly string[]): [readonly string[], readonly string[]] {
  const at = args.findIndex((a) => a === "if" || a === "unless");
  return at < 0 ? [args, []] : [args.slice(0, at), args.slice(at)];
}

type ActionParser = (ctx: KwCtx, args: readonly string[], cond: Condition | undefined) => HttpRequestRule;

const withCond = <T extends object>(rule: T, cond: Condition | undefined): T =>
  cond === undefined ? rule : { ...rule, cond };

/** `http-request ACTION ...`: the actions fulcrum implements. */
const HTTP_REQUEST_ACTIONS: ReadonlyMap<string, ActionParser> = new Map<string, ActionParser>([
  [
    "deny",
    (ctx, args, cond) => {
      let status = 403;
      for (let i = 0; i < args.length; i++) {
        if (args[i] === "deny_status") status = int(ctx, args[++i], 200, 599, "a status code");
        else fail(ctx, `deny option '${args[i]}' is not supported yet`, "supported: deny_status <code>");
      }
      return withCond({ action: "deny" as const, status, loc: ctx.loc }, cond);
    },
  ],
  [
    "allow",
    (ctx, args, cond) => {
      none(ctx, args);
      return withCond({ action: "allow" as const, loc: ctx.loc }, cond);
    },
  ],
  [
    "set-header",
    (ctx, args, cond) => {
      exactly(ctx, args, 2, "http-request set-header <name> <value> [if|unless <cond>]");
      return withCond(
        {
          action: "set-header" as const,
          name: headerName(ctx, args[0]),
          value: headerValue(ctx, args[1]!),
          loc: ctx.loc,
        },
        cond,
      );
    },
  ],
  [
    "add-header",
    (ctx, args, cond) => {
      exactly(ctx, args, 2, "http-request add-header <name> <value> [if|unless <cond>]");
      return withCond(
        {
          action: "add-header" as const,
          name: headerName(ctx, args[0]),
          value: headerValue(ctx, args[1]!),
          loc: ctx.loc,
        },
        cond,
      );
    },
  ],
  [
    "del-header",
    (ctx, args, cond) => {
      exactly(ctx, args, 1, "http-request del-header <name> [if|unless <cond>]");
      return withCond({ action: "del-header" as const, name: headerName(ctx, args[0]), loc: ctx.loc }, cond);
    },
  ],
  ["redirect", parseRedirect],
  ["return", parseReturn],
  [
    "use-service",
    (ctx, args, cond) => {
      exactly(ctx, args, 1, "http-request use-service prometheus-exporter [if|unless <cond>]");
      if (args[0] !== "prometheus-exporter") {
        fail(ctx, `service '${args[0]}' is not supported yet`, "the only service is prometheus-exporter");
      }
      return withCond(
        { action: "use-service" as const, service: "prometheus-exporter" as const, loc: ctx.loc },
        cond,
      );
    },
  ],
]);

export const HTTP_REQUEST_ACTION_NAMES: readonly string[] = [...HTTP_REQUEST_ACTIONS.keys()];

type ResponseActionParser = (
  ctx: KwCtx,
  args: readonly string[],
  cond: Condition | undefined,
) => HttpResponseRule;

/** The header actions read the same way on both sides. */
const sameAsRequest = (name: "set-header" | "add-header" | "del-header" | "allow"): ResponseActionParser => {
  const parse = HTTP_REQUEST_ACTIONS.get(name)!;
  return (ctx, args, cond) => parse(ctx, args, cond) as HttpResponseRule;
};

/** `http-response ACTION ...`: the actions fulcrum implements. */
const HTTP_RESPONSE_ACTIONS: ReadonlyMap<string, ResponseActionParser> = new Map<
  string,
  ResponseActionParser
>([
  [
    "deny",
    (ctx, args, cond) => {
      // A denied response is replaced by the proxy's 502 page unless deny_status says otherwise.
      let status = 502;
      for (let i = 0; i < args.length; i++) {
        if (args[i] === "deny_status") status = int(ctx, args[++i], 200, 599, "a status code");
        else fail(ctx, `deny option '${args[i]}' is not supported yet`, "supported: deny_status <code>");
      }
      return withCond({ action: "deny" as const, status, loc: ctx.loc }, cond);
    },
  ],
  ["allow", sameAsRequest("allow")],
  ["set-header", sameAsRequest("set-header")],
  ["add-header", sameAsRequest("add-header")],
  ["del-header", sameAsRequest("del-header")],
  [
    "set-status",
    (ctx, args, cond) => {
      const status = int(ctx, args[0], 100, 999, "a status code");
      let reason: string | undefined;
      if (args.length > 1) {
        if (args[1] !== "reason" || args[2] === undefined || args.length > 3) {
          fail(ctx, `unexpected '${args.slice(1).join(" ")}'`, "usage: set-status <status> [reason <str>]");
        }
        reason = args[2];
      }
      return withCond(
        { action: "set-status" as const, status, ...(reason !== undefined ? { reason } : {}), loc: ctx.loc },
        cond,
      );
    },
  ],
]);

export const HTTP_RESPONSE_ACTION_NAMES: readonly string[] = [...HTTP_RESPONSE_ACTIONS.keys()];

function capture(kind: "request" | "response"): KeywordRow["parse"] {
  return (ctx, args) => {
    exactly(ctx, args, 3, `capture ${kind} header <name> len <length>`);
    if (args[1] !== "len") fail(ctx, `expects 'len' after the header name, got '${args[1]}'`);
    const entry = { name: headerName(ctx, args[0]), len: int(ctx, args[2], 1, 65535, "a length") };
    (kind === "request" ? ctx.proxy.captureRequestHeaders : ctx.proxy.captureResponseHeaders).push(entry);
  };
}

const BALANCE_SUPPORTED = ["roundrobin", "static-rr", "leastconn", "first", "source", "uri"] as const;
const BALANCE_UNSUPPORTED = /^(random|url_param|hdr|rdp-cookie|hash)\b/;

export const PROXY_ROWS: readonly KeywordRow[] = [
  {
    name: "mode",
    sections: PROXIES,
    args: "http|tcp",
    default: "tcp",
    doc: "protocol the proxy works at: HTTP (layer 7) or plain TCP",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "mode http|tcp");
      ctx.proxy.mode = oneOf(ctx, args[0], ["http", "tcp"] as const, "mode");
    },
  },
  {
    name: "bind",
    sections: FRONTS_ONLY,
    args: "<address>:<port>[,...] | fd@<n>",
    doc: "listening address: `*:80`, `:80`, `0.0.0.0:80`, `:::80`, `127.0.0.1:80`, or an inherited socket fd@N",
    parse: (ctx, args) => {
      const list = args[0];
      if (list === undefined) fail(ctx, "expects an address", "e.g. bind *:80");
      if (args.length > 1) fail(ctx, `bind option '${args[1]}' is not supported yet`);
      addBinds(ctx, list);
    },
  },
  {
    name: "default_backend",
    sections: FRONTS,
    args: "<backend>",
    doc: "backend used when no use_backend rule matches",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "default_backend <backend>");
      ctx.proxy.defaultBackend = { name: backendName(ctx, args[0]), loc: ctx.loc };
    },
  },
  {
    name: "use_backend",
    sections: FRONTS_ONLY,
    args: "<backend> [if|unless <condition>]",
    doc: "switch to a backend when the condition holds (rules are tried in order)",
    parse: (ctx, args) => {
      const [head, condWords] = splitCondition(args);
      exactly(ctx, head, 1, "use_backend <backend> [if|unless <condition>]");
      const backend = backendName(ctx, head[0]);
      ctx.proxy.useBackends.push({
        backend,
        cond: optionalCondition(ctx, condWords) ?? always(ctx),
        loc: ctx.loc,
      });
    },
  },
  {
    name: "acl",
    sections: NAMED_PROXIES,
    args: "<name> <fetch> [flags] [<operator>] <value>...",
    doc: "name a test on the request; several lines with one name are OR-ed (see the ACL tables below)",
    parse: (ctx, args) => {
      addNamedAcl(ctx.proxy.acls, args, ctx.loc, ctx.hooks);
    },
  },
  {
    name: "monitor-uri",
    sections: FRONTS,
    args: "<uri>",
    doc: "answer 200 on this path without forwarding, for an external monitor (503 when `monitor fail` holds)",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "monitor-uri <uri>");
      if (!args[0]!.startsWith("/")) fail(ctx, `the URI must start with '/', got '${args[0]}'`);
      ctx.proxy.monitorUri = { uri: args[0]!, loc: ctx.loc };
    },
  },
  {
    name: "monitor fail",
    sections: FRONTS_ONLY,
    args: "if|unless <condition>",
    doc: "make the monitor-uri answer 503 when the condition holds, e.g. `if { nbsrv(app) lt 1 }`",
    parse: (ctx, args) => {
      ctx.proxy.monitorFail.push(requiredCondition(ctx, args));
    },
  },
  {
    name: "http-request",
    sections: NAMED_PROXIES,
    args: "deny [deny_status <code>]|allow|set-header <name> <fmt>|add-header <name> <fmt>|del-header <name>|redirect location|prefix|scheme <value> [code <code>] [drop-query] [append-slash] [set-cookie|clear-cookie <name>[=<value>]]|return [status <code>] [content-type <type>] [string <text>|file <path>] [hdr <name> <value>]...|use-service prometheus-exporter [if|unless <condition>]",
    doc: "request rules evaluated in order, before choosing a backend",
    parse: (ctx, args) => {
      const action = args[0];
      const parser = action === undefined ? undefined : HTTP_REQUEST_ACTIONS.get(action);
      if (!parser) {
        fail(
          ctx,
          action === undefined ? "expects an action" : `action '${action}' is not supported yet`,
          `supported actions: ${HTTP_REQUEST_ACTION_NAMES.join(", ")}`,
        );
      }
      const [head, condWords] = splitCondition(args.slice(1));
      ctx.proxy.httpRequestRules.push(parser(ctx, head, optionalCondition(ctx, condWords)));
    },
  },
  {
    name: "http-response",
    sections: NAMED_PROXIES,
    args: "deny [deny_status <code>]|allow|set-header <name> <fmt>|add-header <name> <fmt>|del-header <name>|set-status <code> [reason <str>] [if|unless <condition>]",
    doc: "response rules evaluated in order on the server's response head, the backend's before the frontend's; conditions read the response (`status`, `res.hdr`) and the connection (`src` ...)",
    parse: (ctx, args) => {
      const action = args[0];
      const parser = action === undefined ? undefined : HTTP_RESPONSE_ACTIONS.get(action);
      if (!parser) {
        fail(
          ctx,
          action === undefined ? "expects an action" : `action '${action}' is not supported yet`,
          `supported actions: ${HTTP_RESPONSE_ACTION_NAMES.join(", ")}`,
        );
      }
      const [head, condWords] = splitCondition(args.slice(1));
      ctx.proxy.httpResponseRules.push(parser(ctx, head, optionalCondition(ctx, condWords)));
    },
  },
  {
    name: "capture cookie",
    sections: FRONTS_ONLY,
    args: "<name> len <length>",
    doc: "log the value of this request/response cookie (one per frontend)",
    parse: (ctx, args) => {
      exactly(ctx, args, 3, "capture cookie <name> len <length>");
      if (args[1] !== "len") fail(ctx, `expects 'len' after the cookie name, got '${args[1]}'`);
      if (ctx.proxy.captureCookie) fail(ctx, "only one cookie capture per frontend");
      ctx.proxy.captureCookie = { name: args[0]!, len: int(ctx, args[2], 1, 65535, "a length") };
    },
  },
  {
    name: "capture request header",
    sections: FRONTS_ONLY,
    args: "<name> len <length>",
    doc: "log the value of this request header",
    parse: capture("request"),
  },
  {
    name: "capture response header",
    sections: FRONTS_ONLY,
    args: "<name> len <length>",
    doc: "log the value of this response header",
    parse: capture("response"),
  },
  {
    name: "balance",
    sections: BACKS,
    args: "roundrobin|static-rr|leastconn|first|source|uri [whole] [len <n>] [depth <n>]",
    default: "roundrobin",
    doc: "how a server is chosen for a new session",
    parse: (ctx, args) => {
      const algo = args[0];
      if (algo !== undefined && BALANCE_UNSUPPORTED.test(algo))
        fail(ctx, `algorithm '${algo}' is not supported yet`);
      const a = oneOf(ctx, algo, BALANCE_SUPPORTED, "balance algorithm");
      if (a !== "uri") {
        exactly(ctx, args, 1, `balance ${a}`);
        ctx.proxy.balance = { algo: a };
        return;
      }
      const b: { algo: "uri"; uriWhole?: boolean; uriLen?: number; uriDepth?: number } = { algo: "uri" };
      for (let i = 1; i < args.length; i++) {
        const w = args[i];
        if (w === "whole") b.uriWhole = true;
        else if (w === "len") b.uriLen = int(ctx, args[++i], 1, 65535, "a length");
        else if (w === "depth") b.uriDepth = int(ctx, args[++i], 1, 65535, "a depth");
        else if (w === "path-only") fail(ctx, "'path-only' is not supported yet");
        else fail(ctx, `unknown 'balance uri' option '${w}'`, "options: whole, len <n>, depth <n>");
      }
      ctx.proxy.balance = b;
    },
  },
  {
    name: "retries",
    sections: BACKS,
    args: "<number>",
    default: "3",
    doc: "connection attempts to a server after the first one fails",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "retries <number>");
      ctx.proxy.retries = int(ctx, args[0], 0, 1000);
    },
  },
  {
    name: "fullconn",
    sections: BACKS,
    args: "<number>",
    doc: "backend load at which servers reach their maxconn (dynamic limits)",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "fullconn <number>");
      ctx.proxy.fullconn = int(ctx, args[0], 1, 10_000_000);
    },
  },
  {
    name: "errorfile",
    sections: PROXIES,
    args: "<code> <file>",
    doc: "answer with this file's raw HTTP response instead of the built-in error page (read at load time, path relative to the current directory)",
    parse: (ctx, args) => {
      exactly(ctx, args, 2, "errorfile <code> <file>");
      const code = Number(args[0]);
      if (!ERRORFILE_CODES.includes(code) || !/^\d{3}$/.test(args[0]!)) {
        fail(ctx, `status code '${args[0]}' not handled`, `use one of ${ERRORFILE_CODES.join(", ")}`);
      }
      let content: Buffer;
      try {
        content = ctx.host.readFile(args[1]!);
      } catch (err) {
        fail(
          ctx,
          `cannot read '${args[1]}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
      }
      const head = content.toString("latin1", 0, Math.min(content.length, 65536));
      if (!/^HTTP\/1\.[01] \d{3}/.test(head) || !/\r?\n\r?\n/.test(head)) {
        fail(
          ctx,
          `'${args[1]}' is not a raw HTTP response`,
          "it must start with a status line such as 'HTTP/1.0 503 Service Unavailable' and end its headers with an empty line",
        );
      }
      ctx.proxy.errorfiles.set(code, content);
    },
  },
  {
    name: "timeout connect",
    sections: BACKS,
    args: "<time>",
    doc: "longest wait for a connection to a server to be established",
    parse: timeoutParser("connect"),
  },
  {
    name: "timeout client",
    sections: FRONTS,
    args: "<time>",
    doc: "longest inactivity on the client side",
    parse: timeoutParser("client"),
  },
  {
    name: "timeout server",
    sections: BACKS,
    args: "<time>",
    doc: "longest inactivity on the server side (time to first response byte included)",
    parse: timeoutParser("server"),
  },
  {
    name: "timeout queue",
    sections: BACKS,
    args: "<time>",
    default: "timeout connect",
    doc: "longest wait in the queue for a connection slot (503 after)",
    parse: timeoutParser("queue"),
  },
  {
    name: "timeout http-request",
    sections: PROXIES,
    args: "<time>",
    default: "timeout client",
    doc: "longest wait for a complete request head (408 after)",
    parse: timeoutParser("httpRequest"),
  },
  {
    name: "timeout http-keep-alive",
    sections: PROXIES,
    args: "<time>",
    default: "timeout http-request",
    doc: "longest wait for the next request on a kept-alive connection",
    parse: timeoutParser("httpKeepAlive"),
  },
  {
    name: "timeout check",
    sections: BACKS,
    args: "<time>",
    default: "inter",
    doc: "extra read timeout of a health check once connected",
    parse: timeoutParser("check"),
  },
  {
    name: "timeout tunnel",
    sections: BACKS,
    args: "<time>",
    doc: "inactivity timeout of tunnels (WebSocket, CONNECT) on both sides",
    parse: timeoutParser("tunnel"),
  },
  {
    name: "timeout client-fin",
    sections: FRONTS,
    args: "<time>",
    doc: "inactivity timeout on the client side once it has half-closed",
    parse: timeoutParser("clientFin"),
  },
  {
    name: "timeout server-fin",
    sections: BACKS,
    args: "<time>",
    doc: "inactivity timeout on the server side once it has half-closed",
    parse: timeoutParser("serverFin"),
  },
  {
    name: "timeout tarpit",
    sections: PROXIES,
    args: "<time>",
    default: "timeout connect",
    doc: "how long a tarpitted connection is held",
    parse: timeoutParser("tarpit"),
  },
];

function timeoutParser(field: keyof KwCtx["proxy"]["timeouts"]): KeywordRow["parse"] {
  return (ctx, args) => {
    exactly(ctx, args, 1, `${ctx.keyword} <time>`);
    ctx.proxy.timeouts[field] = time(ctx, args[0]);
  };
}

/** Checks a network written after `except` (option forwardfor). */
export function network(ctx: KwCtx, text: string | undefined) {
  if (text === undefined) fail(ctx, "expects a network", "e.g. 127.0.0.0/8");
  const n = parseNetwork(text);
  if (!n.ok) fail(ctx, n.reason);
  return n.value;
}
