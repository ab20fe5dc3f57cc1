/** `option ...` rows. Boolean options accept `no option X` to undo an inherited one. */
import type { ProxyOptionsDraft } from "../draft.js";
import type { SectionKind } from "../parser.js";
import { HTTP_TOKEN } from "./check.js";
import { network } from "./proxy.js";
import { BACKS, FRONTS, fail, type KeywordRow, type KwCtx, none, PROXIES } from "./types.js";

type BoolField = {
  [K in keyof ProxyOptionsDraft]-?: ProxyOptionsDraft[K] extends boolean ? K : never;
}[keyof ProxyOptionsDraft];

function flag(name: string, field: BoolField, sections: readonly SectionKind[], doc: string): KeywordRow {
  return {
    name: `option ${name}`,
    sections,
    args: "",
    default: "off",
    doc,
    negatable: true,
    parse: (ctx, args, negated) => {
      none(ctx, args);
      ctx.proxy.options[field] = !negated;
    },
  };
}

/** The three HTTP connection modes exclude each other; `no option X` returns to keep-alive. */
function connMode(name: string, mode: ProxyOptionsDraft["httpConnMode"], doc: string): KeywordRow {
  return {
    name: `option ${name}`,
    sections: PROXIES,
    args: "",
    default: mode === "keep-alive" ? "on" : "off",
    doc,
    negatable: true,
    parse: (ctx, args, negated) => {
      none(ctx, args);
      if (!negated) ctx.proxy.options.httpConnMode = mode;
      else if (ctx.proxy.options.httpConnMode === mode) ctx.proxy.options.httpConnMode = "keep-alive";
    },
  };
}

function parseHttpchk(ctx: KwCtx, args: readonly string[]): void {
  let method = "OPTIONS";
  let uri = "/";
  let versionText = "HTTP/1.0";
  if (args.length === 1) uri = args[0]!;
  else if (args.length >= 2) {
    method = args[0]!;
    uri = args[1]!;
    if (args[2] !== undefined) versionText = args[2];
    if (args.length > 3)
      fail(ctx, `unexpected argument '${args[3]}'`, "usage: option httpchk [<method>] [<uri>] [<version>]");
  }
  if (!HTTP_TOKEN.test(method)) fail(ctx, `invalid method '${method}'`);
  if (!uri.startsWith("/") && uri !== "*") fail(ctx, `the URI must start with '/', got '${uri}'`);
  // HAProxy 1.4 style: "HTTP/1.1\r\nHost:\ www" carries header lines after the version.
  const [version, ...headerLines] = versionText.split(/\r\n|\n/);
  if (!/^HTTP\/\d\.\d$/.test(version!))
    fail(ctx, `invalid HTTP version '${version}'`, "e.g. HTTP/1.0 or HTTP/1.1");
  const headers: [string, string][] = [];
  for (const line of headerLines) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) fail(ctx, `invalid header line '${line}' after the version`);
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  ctx.proxy.options.httpchk = { method, uri, version: version!, headers, loc: ctx.loc };
  // As HAProxy 2.6: the option starts this section's own http-check rule list, so the
  // send and expect rules inherited from defaults no longer apply.
  if (ctx.proxy.checkSend?.inherited) delete ctx.proxy.checkSend;
  if (ctx.proxy.checkExpect?.inherited) delete ctx.proxy.checkExpect;
}

export const OPTION_ROWS: readonly KeywordRow[] = [
  {
    name: "option httplog",
    sections: FRONTS,
    args: "",
    default: "off",
    doc: "log each HTTP request in HAProxy's detailed HTTP format",

    parse: (ctx, args) => {
      if (args[0] === "clf") fail(ctx, "the 'clf' log format is not supported yet");
      none(ctx, args);
      ctx.proxy.options.httplog = true;
      ctx.proxy.options.httplogLoc = ctx.loc;
      ctx.proxy.options.tcplog = false;
    },
  },
  {
    name: "option tcplog",
    sections: PROXIES,
    args: "",
    default: "off",
    doc: "log each connection in HAProxy's TCP format",

    parse: (ctx, args) => {
      none(ctx, args);
      ctx.proxy.options.tcplog = true;
      ctx.proxy.options.httplog = false;
    },
  },
  flag("dontlognull", "dontlognull", FRONTS, "do not log connections that sent no data (probes)"),
  {
    name: "option forwardfor",
    sections: PROXIES,
    args: "[except <network>] [header <name>] [if-none]",
    default: "off; header X-Forwarded-For",
    doc: "add the client address in an X-Forwarded-For header to requests sent to servers",

    parse: (ctx, args) => {
      const ff: {
        header: string;
        ifNone: boolean;
        except?: ReturnType<typeof network>;
        loc: typeof ctx.loc;
      } = {
        header: "X-Forwarded-For",
        ifNone: false,
        loc: ctx.loc,
      };
      for (let i = 0; i < args.length; i++) {
        const w = args[i];
        if (w === "except") ff.except = network(ctx, args[++i]);
        else if (w === "header") {
          const h = args[++i];
          if (h === undefined || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(h))
            fail(ctx, `'header' expects a header name`);
          ff.header = h;
        } else if (w === "if-none") ff.ifNone = true;
        else
          fail(
            ctx,
            `unknown argument '${w}'`,
            "usage: option forwardfor [except <network>] [header <name>] [if-none]",
          );
      }
      ctx.proxy.options.forwardfor = ff;
    },
  },
  flag(
    "redispatch",
    "redispatch",
    BACKS,
    "when the server a session sticks to is down, send the request to another server",
  ),
  connMode("httpclose", "close", "close the connection on both sides after each response"),
  connMode(
    "http-server-close",
    "server-close",
    "keep clients alive but close the server connection after each response",
  ),
  connMode("http-keep-alive", "keep-alive", "keep both client and server connections alive (the default)"),
  {
    name: "option httpchk",
    sections: BACKS,
    args: "[<method>] [<uri>] [<version>]",
    default: "OPTIONS / HTTP/1.0",
    doc: "health checks send this HTTP request (a 2xx or 3xx answer is up unless `http-check expect` says otherwise)",

    parse: parseHttpchk,
  },
  flag(
    "abortonclose",
    "abortonclose",
    BACKS,
    "drop a queued or connecting request when the client has gone away",
  ),
  flag(
    "logasap",
    "logasap",
    FRONTS,
    "log a request as soon as the response headers are sent, not at its end",
  ),
  flag("dontlog-normal", "dontlogNormal", FRONTS, "log only errors and anomalies"),
  flag("log-separate-errors", "logSeparateErrors", FRONTS, "log errors at level err instead of info"),
  flag(
    "http-buffer-request",
    "httpBufferRequest",
    PROXIES,
    "wait for the request body before choosing a server",
  ),
  flag("allbackups", "allbackups", BACKS, "use all backup servers at once when no active server is up"),
  flag(
    "log-health-checks",
    "logHealthChecks",
    BACKS,
    "log every change of a server's check result or health, not only UP/DOWN transitions",
  ),
  flag(
    "persist",
    "persist",
    BACKS,
    "keep sending a sticky session to its server even when checks say it is down",
  ),
];
