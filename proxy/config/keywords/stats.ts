/**
 * `stats ...` rows of a proxy: the statistics page. As in HAProxy, any of these lines turns
 * the page on for the proxy (and, in defaults, for the proxies that follow).
 */
import type { StatsDraft } from "../draft.js";
import {
  exactly,
  FRONTS_ONLY,
  fail,
  type KeywordRow,
  type KwCtx,
  none,
  PROXIES,
  requiredCondition,
  time,
} from "./types.js";

export const DEFAULT_STATS_URI = "/haproxy?stats";
export const DEFAULT_STATS_REALM = "HAProxy Statistics";

function stats(ctx: KwCtx): StatsDraft {
  ctx.proxy.stats ??= {
    uri: DEFAULT_STATS_URI,
    hideVersion: false,
    auth: [],
    admin: [],
    showLegends: false,
    loc: ctx.loc,
  };
  return ctx.proxy.stats;
}

type Row = Omit<KeywordRow, "sections"> & { sections?: KeywordRow["sections"] };

function row(r: Row): KeywordRow {
  return { sections: PROXIES, ...r };
}

export const STATS_ROWS: readonly KeywordRow[] = [
  row({
    name: "stats enable",
    args: "",
    default: "off",
    doc: "serve the statistics page at the stats uri",
    parse: (ctx, args) => {
      none(ctx, args);
      stats(ctx);
    },
  }),
  row({
    name: "stats uri",
    args: "<prefix>",
    default: DEFAULT_STATS_URI,
    doc: "path prefix of the statistics page (enables it)",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "stats uri <prefix>");
      if (!args[0]!.startsWith("/")) fail(ctx, `the URI must start with '/', got '${args[0]}'`);
      stats(ctx).uri = args[0]!;
    },
  }),
  row({
    name: "stats refresh",
    args: "<time>",
    doc: "the page reloads itself at this interval (enables it)",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "stats refresh <time>");
      const t = time(ctx, args[0]);
      if (t < 1000) fail(ctx, `'${args[0]}' is too short: the page refreshes in whole seconds`);
      stats(ctx).refresh = t;
    },
  }),
  row({
    name: "stats hide-version",
    args: "",
    default: "off",
    doc: "do not show the version on the page (enables it)",
    parse: (ctx, args) => {
      none(ctx, args);
      stats(ctx).hideVersion = true;
    },
  }),
  row({
    name: "stats realm",
    args: "<realm>",
    default: DEFAULT_STATS_REALM,
    doc: "HTTP basic authentication realm of the page (enables it)",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "stats realm <realm>");
      stats(ctx).realm = args[0]!;
    },
  }),
  row({
    name: "stats auth",
    args: "<user>:<password>",
    doc: "allow this user on the page; once any is set, the page needs authentication (enables it)",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "stats auth <user>:<password>");
      const colon = args[0]!.indexOf(":");
      if (colon <= 0) fail(ctx, `expects <user>:<password>, got '${args[0]}'`);
      stats(ctx).auth.push({ user: args[0]!.slice(0, colon), password: args[0]!.slice(colon + 1) });
    },
  }),
  row({
    name: "stats admin",
    sections: [...FRONTS_ONLY, "backend"],
    args: "if|unless <condition>",
    doc: "allow changing server states from the page when the condition holds (enables it)",
    parse: (ctx, args) => {
      const cond = requiredCondition(ctx, args);
      stats(ctx).admin.push(cond);
    },
  }),
  row({
    name: "stats show-legends",
    args: "",
    default: "off",
    doc: "show the legends and extra server details (enables it)",
    parse: (ctx, args) => {
      none(ctx, args);
      stats(ctx).showLegends = true;
    },
  }),
  row({
    name: "stats show-node",
    args: "[<name>]",
    default: "host name",
    doc: "show this node's name on the page (enables it)",
    parse: (ctx, args) => {
      if (args.length > 1) fail(ctx, `unexpected argument '${args[1]}'`);
      stats(ctx).showNode = args[0] ?? "";
    },
  }),
];
