/**
 * Persistence rows: the sticky `cookie`, and the `stick-table` / `stick` subset that says
 * "learn the application's session cookie from the server, route it back to that server"
 * (what HAProxy 1.4's `appsession` did; the legacy row rewrites it into these lines).
 */
import type { StickRule } from "../draft.js";
import { BACKS, BACKS_ONLY, fail, int, type KeywordRow, type KwCtx, size, takeValue, time } from "./types.js";

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function parseCookie(ctx: KwCtx, args: readonly string[]): void {
  const name = args[0];
  if (name === undefined) fail(ctx, "expects a cookie name", "e.g. cookie SRV insert indirect nocache");
  if (!COOKIE_NAME.test(name)) fail(ctx, `invalid cookie name '${name}'`);
  let mode: "insert" | undefined;
  const c = {
    indirect: false,
    nocache: false,
    postonly: false,
    preserve: false,
    httponly: false,
    secure: false,
    attrs: [] as string[],
    domains: [] as string[],
    maxidle: undefined as number | undefined,
    maxlife: undefined as number | undefined,
  };
  const FLAGS = ["indirect", "nocache", "postonly", "preserve", "httponly", "secure"] as const;
  for (let i = 1; i < args.length; i++) {
    const w = args[i]!;
    if (w === "insert") mode = "insert";
    else if (w === "rewrite" || w === "prefix") {
      fail(ctx, `cookie mode '${w}' is not supported yet`, "use 'insert'");
    } else if ((FLAGS as readonly string[]).includes(w)) c[w as (typeof FLAGS)[number]] = true;
    else if (w === "domain") {
      const d = takeValue(ctx, args, i++, w);
      c.domains.push(d);
    } else if (w === "attr") {
      const a = takeValue(ctx, args, i++, w);
      if (/[;\x00-\x1f]/.test(a)) fail(ctx, `invalid cookie attribute '${a}'`);
      c.attrs.push(a);
    } else if (w === "maxidle") c.maxidle = time(ctx, takeValue(ctx, args, i++, w));
    else if (w === "maxlife") c.maxlife = time(ctx, takeValue(ctx, args, i++, w));
    else if (w === "dynamic") fail(ctx, "dynamic cookies are not supported yet");
    else {
      fail(
        ctx,
        `unknown cookie option '${w}'`,
        "options: insert, indirect, nocache, postonly, preserve, httponly, secure, domain <d>, attr <v>, maxidle <t>, maxlife <t>",
      );
    }
  }
  if (mode === undefined) {
    fail(
      ctx,
      "passive cookie persistence (no 'insert') is not supported yet",
      `write 'cookie ${name} insert ...'`,
    );
  }
  const { maxidle, maxlife, ...flags } = c;
  ctx.proxy.cookie = {
    name,
    mode,
    ...flags,
    ...(maxidle !== undefined ? { maxidle } : {}),
    ...(maxlife !== undefined ? { maxlife } : {}),
    loc: ctx.loc,
  };
}

/** `stick-table type string [len N] size S expire T` */
function parseStickTable(ctx: KwCtx, args: readonly string[]): void {
  if (args[0] !== "type" || args[1] !== "string") {
    fail(
      ctx,
      `only 'type string' tables are supported yet, got '${args.slice(0, 2).join(" ")}'`,
      "e.g. stick-table type string len 52 size 1m expire 3h",
    );
  }
  let len = 32;
  let tableSize: number | undefined;
  let expire: number | undefined;
  for (let i = 2; i < args.length; i++) {
    const w = args[i]!;
    if (w === "len") len = int(ctx, takeValue(ctx, args, i++, w), 1, 65535, "a length");
    else if (w === "size") tableSize = size(ctx, takeValue(ctx, args, i++, w));
    else if (w === "expire") expire = time(ctx, takeValue(ctx, args, i++, w));
    else fail(ctx, `stick-table option '${w}' is not supported yet`, "supported: len, size, expire");
  }
  if (tableSize === undefined || tableSize === 0) fail(ctx, "missing 'size'", "e.g. size 1m");
  if (expire === undefined) fail(ctx, "missing 'expire': learned sessions need a timeout", "e.g. expire 3h");
  if (ctx.proxy.stickTable) fail(ctx, "only one stick-table per backend");
  ctx.proxy.stickTable = { len, size: tableSize, expire, loc: ctx.loc };
}

/** `req.cook(NAME)`, `res.cook(NAME)`, `urlp(NAME[,DELIM])` / `url_param(...)`. */
function parseStickFetch(ctx: KwCtx, kind: StickRule["kind"], text: string | undefined): StickRule {
  const m =
    text === undefined ? null : /^(req\.cook|res\.cook|urlp|url_param)\(([^,()]+)(?:,(.))?\)$/.exec(text);
  if (!m) {
    fail(
      ctx,
      `only req.cook(NAME), res.cook(NAME) and urlp(NAME[,DELIM]) are supported yet, got '${text ?? ""}'`,
      "learned sessions: stick match req.cook(JSESSIONID) + stick store-response res.cook(JSESSIONID)",
    );
  }
  const fetch = m[1] === "url_param" ? "urlp" : m[1]!;
  const wantRes = kind === "store-response";
  if ((fetch === "res.cook") !== wantRes) {
    fail(
      ctx,
      wantRes ? "'store-response' needs res.cook(NAME)" : `'${kind}' needs a request fetch, not res.cook`,
    );
  }
  if (fetch === "urlp" && kind !== "match") fail(ctx, "urlp() is supported in 'stick match' only");
  return { kind, fetch, name: m[2]!, delim: m[3] ?? "?", loc: ctx.loc };
}

function stickRow(kind: StickRule["kind"], doc: string): KeywordRow {
  return {
    name: `stick ${kind}`,
    sections: BACKS_ONLY,
    args:
      kind === "store-response"
        ? "res.cook(<name>)"
        : kind === "match"
          ? "req.cook(<name>)|urlp(<name>[,<delim>])"
          : "req.cook(<name>)",
    doc,
    parse: (ctx, args) => {
      if (args.length > 1) {
        fail(ctx, `'${args[1]}' is not supported yet in stick rules`, "write the fetch only");
      }
      ctx.proxy.stickRules.push(parseStickFetch(ctx, kind, args[0]));
    },
  };
}

export const PERSIST_ROWS: readonly KeywordRow[] = [
  {
    name: "cookie",
    sections: BACKS,
    args: "<name> insert [indirect] [nocache] [postonly] [preserve] [httponly] [secure] [domain <d>]... [attr <v>]... [maxidle <t>] [maxlife <t>]",
    doc: "sticky sessions: insert a cookie naming the server (each server's `cookie` value); rewrite/prefix are not supported yet",
    parse: parseCookie,
  },
  {
    name: "stick-table",
    sections: BACKS_ONLY,
    args: "type string [len <n>] size <entries> expire <time>",
    default: "len 32",
    doc: "table of learned session ids (with `stick` rules: learned-session persistence)",
    parse: parseStickTable,
  },
  stickRow("match", "route a request whose session id is in the table to the server it was learned from"),
  stickRow("on", "match, and also learn from the request (stick match + stick store-request)"),
  stickRow("store-request", "learn the session id from the request's cookie"),
  stickRow("store-response", "learn the session id from the server's Set-Cookie"),
];

/** `appsession` arguments -> the stick lines that mean the same. */
export function appsessionToStick(args: readonly string[]): string[][] | string {
  const [cookie, lenKw, len, timeoutKw, timeout, ...opts] = args;
  if (
    cookie === undefined ||
    lenKw !== "len" ||
    len === undefined ||
    timeoutKw !== "timeout" ||
    timeout === undefined
  ) {
    return "usage: appsession <cookie> len <length> timeout <holdtime> [request-learn] [prefix] [mode path-parameters|query-string]";
  }
  let requestLearn = false;
  let mode = "path-parameters";
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i];
    if (o === "request-learn") requestLearn = true;
    else if (o === "prefix") return "appsession 'prefix' is not supported yet";
    else if (o === "mode") {
      mode = opts[++i] ?? "";
      if (mode !== "path-parameters" && mode !== "query-string") {
        return `unknown appsession mode '${mode}' (path-parameters or query-string)`;
      }
    } else return `unknown appsession option '${o}'`;
  }
  const lines = [
    ["stick-table", "type", "string", "len", len, "size", "1m", "expire", timeout],
    ["stick", "match", `req.cook(${cookie})`],
    ["stick", "match", mode === "path-parameters" ? `urlp(${cookie},;)` : `urlp(${cookie})`],
    ["stick", "store-response", `res.cook(${cookie})`],
  ];
  if (requestLearn) lines.push(["stick", "store-request", `req.cook(${cookie})`]);
  return lines;
}
