/**
 * `http-check ...` rows. HAProxy 2.6 keeps a backend's http-check lines as one rule list:
 * the list written in a section replaces the one inherited from defaults as a whole, and
 * `option httpchk` in a section starts a new list. fulcrum runs the single-step form (one
 * `send`, then one `expect`); longer sequences (`connect`, several sends) are refused.
 */
import type { HttpCheckSend } from "../model.js";
import { BACKS, fail, type KeywordRow, type KwCtx, none, oneOf } from "./types.js";

/** An HTTP token (method, header name). */
export const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const SEND_USAGE =
  "usage: http-check send [meth <method>] [uri <uri>] [ver <version>] [hdr <name> <value>]... [body <string>]";

/** Headers the check sets itself from the body and version (HAProxy overrides or doubles them). */
const FRAMING_HEADERS: ReadonlySet<string> = new Set(["content-length", "transfer-encoding", "connection"]);

/** Rules inherited from defaults give way to the first rule this section writes. */
function ownRuleList(ctx: KwCtx): void {
  if (ctx.proxy.checkSend?.inherited) delete ctx.proxy.checkSend;
  if (ctx.proxy.checkExpect?.inherited) delete ctx.proxy.checkExpect;
}

function parseSend(ctx: KwCtx, args: readonly string[]): HttpCheckSend {
  let method: string | undefined;
  let uri: string | undefined;
  let version: string | undefined;
  let body: string | undefined;
  const headers: [string, string][] = [];
  const value = (i: number, what: string): string => {
    const v = args[i + 1];
    if (v === undefined) fail(ctx, `'${args[i]}' expects ${what}`, SEND_USAGE);
    return v;
  };
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    if (w === "meth") {
      method = value(i++, "a method");
      if (!HTTP_TOKEN.test(method)) fail(ctx, `invalid method '${method}'`);
    } else if (w === "uri") {
      uri = value(i++, "a URI");
      if (!uri.startsWith("/") && uri !== "*") fail(ctx, `the URI must start with '/', got '${uri}'`);
    } else if (w === "ver") {
      version = value(i++, "a version");
      if (!/^HTTP\/\d\.\d$/.test(version))
        fail(ctx, `invalid HTTP version '${version}'`, "e.g. HTTP/1.0 or HTTP/1.1");
    } else if (w === "hdr") {
      const name = value(i, "a header name and a value");
      const v = args[i + 2];
      if (v === undefined) fail(ctx, "'hdr' expects a header name and a value", SEND_USAGE);
      i += 2;
      if (!HTTP_TOKEN.test(name)) fail(ctx, `invalid header name '${name}'`);
      const lower = name.toLowerCase();
      if (FRAMING_HEADERS.has(lower)) {
        fail(
          ctx,
          `header '${name}' is not supported yet`,
          "the check sets content-length and connection itself",
        );
      }
      // HAProxy refuses a second Host (and only Host) in one send rule.
      const host = headers.find(([n]) => lower === "host" && n.toLowerCase() === "host");
      if (host) fail(ctx, `'${lower}' header already defined (previous value is '${host[1]}')`);
      headers.push([name, v]);
    } else if (w === "body") {
      body = value(i++, "a string");
    } else if (w === "uri-lf" || w === "body-lf") {
      fail(ctx, `log-format '${w}' is not supported yet`, `write a fixed '${w.slice(0, -3)}'`);
    } else if (w === "comment") {
      fail(ctx, "'comment' is not supported yet");
    } else {
      fail(ctx, `unknown argument '${w}'`, SEND_USAGE);
    }
  }
  return {
    ...(method !== undefined ? { method } : {}),
    ...(uri !== undefined ? { uri } : {}),
    ...(version !== undefined ? { version } : {}),
    headers,
    ...(body !== undefined ? { body } : {}),
  };
}

export const CHECK_ROWS: readonly KeywordRow[] = [
  {
    name: "http-check send",
    sections: BACKS,
    args: "[meth <method>] [uri <uri>] [ver <version>] [hdr <name> <value>]... [body <string>]",
    default: "the request of `option httpchk`",
    doc: "the health-check request: each part given replaces that part of `option httpchk`'s request (one send per backend)",
    parse: (ctx, args) => {
      if (ctx.proxy.checkSend && !ctx.proxy.checkSend.inherited) {
        fail(
          ctx,
          "several 'http-check send' rules (a check sequence) are not supported yet",
          `the first one is at line ${ctx.proxy.checkSend.loc.line}; write one send and one expect`,
        );
      }
      if (ctx.proxy.checkExpect && !ctx.proxy.checkExpect.inherited) {
        // HAProxy refuses it too: a send after an expect starts a step that needs a connect.
        fail(
          ctx,
          "'http-check send' must come before 'http-check expect'",
          `the expect rule is at line ${ctx.proxy.checkExpect.loc.line}`,
        );
      }
      const send = parseSend(ctx, args);
      ownRuleList(ctx);
      ctx.proxy.checkSend = { send, loc: ctx.loc, inherited: false };
    },
  },
  {
    name: "http-check expect",
    sections: BACKS,
    args: "[!] status|rstatus|string|rstring <pattern>",
    default: "any 2xx or 3xx status",
    doc: "what a health-check response must contain (needs `option httpchk`)",
    parse: (ctx, args) => {
      let i = 0;
      const negate = args[0] === "!";
      if (negate) i++;
      const kind = oneOf(ctx, args[i], ["status", "rstatus", "string", "rstring"] as const, "expect kind");
      const value = args[i + 1];
      if (value === undefined) fail(ctx, `'${kind}' expects a pattern`);
      if (args[i + 2] !== undefined) fail(ctx, `unexpected argument '${args[i + 2]}'`);
      if (kind === "status" && !/^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/.test(value)) {
        fail(ctx, `'${value}' is not a status list`, "e.g. 200, 200-399 or 200,302");
      }
      if (kind === "rstatus" || kind === "rstring") {
        try {
          new RegExp(value);
        } catch (err) {
          fail(ctx, `regex '${value}' is invalid (${(err as Error).message})`);
        }
      }
      if (ctx.proxy.checkExpect && !ctx.proxy.checkExpect.inherited) {
        fail(ctx, "only one 'http-check expect' rule per backend is supported yet");
      }
      if (ctx.proxy.checkSend?.inherited) {
        // HAProxy 2.6 drops the inherited send with the rest of the list and then sends no
        // request at all (every check times out): refuse rather than copy that.
        fail(
          ctx,
          "this rule replaces the http-check rules inherited from defaults, 'http-check send' included",
          `repeat the 'http-check send' of line ${ctx.proxy.checkSend.loc.line} in this section`,
        );
      }
      ownRuleList(ctx);
      ctx.proxy.checkExpect = { expect: { kind, negate, value }, loc: ctx.loc, inherited: false };
    },
  },
  {
    name: "http-check disable-on-404",
    sections: BACKS,
    args: "",
    default: "off",
    doc: "a 404 check answer puts an UP server in NOLB: no new load-balanced traffic, sticky clients still served; a 2xx brings it back",
    parse: (ctx, args) => {
      none(ctx, args);
      ctx.proxy.options.disableOn404 = true;
    },
  },
];
