/** The `server` row and its options (one small table, like the keyword table). */
import { isIPv4, isIPv6 } from "node:net";
import { didYouMean } from "../hint.js";
import type { ServerModel } from "../model.js";
import { parseHostPort } from "../net.js";
import { BACKS, BACKS_ONLY, fail, int, type KeywordRow, type KwCtx, takeValue, time } from "./types.js";

type Draft = {
  -readonly [K in keyof ServerModel]: ServerModel[K];
};

interface ServerOption {
  readonly name: string;
  readonly args: string;
  readonly default?: string;
  readonly doc: string;
  /** Returns how many extra words it consumed. */
  readonly apply: (ctx: KwCtx, s: Draft, value: string | undefined) => void;
  readonly takesValue: boolean;
}

function valueOpt(
  name: string,
  args: string,
  doc: string,
  apply: (ctx: KwCtx, s: Draft, v: string) => void,
  def?: string,
): ServerOption {
  return {
    name,
    args,
    doc,
    takesValue: true,
    apply: (ctx, s, v) => apply(ctx, s, v!),
    ...(def ? { default: def } : {}),
  };
}

function flagOpt(name: string, doc: string, apply: (s: Draft) => void): ServerOption {
  return { name, args: "", doc, takesValue: false, apply: (_ctx, s) => apply(s) };
}

const COOKIE_VALUE = /^[!#$%&'()*+\-./0-9:<=>?@A-Z[\]^_`a-z{|}~]+$/;

export const SERVER_OPTIONS: readonly ServerOption[] = [
  valueOpt(
    "cookie",
    "<value>",
    "value of the persistence cookie that designates this server",
    (ctx, s, v) => {
      if (!COOKIE_VALUE.test(v)) fail(ctx, `invalid cookie value '${v}'`);
      s.cookie = v;
    },
  ),
  flagOpt("check", "run health checks on this server", (s) => {
    s.check = true;
  }),
  flagOpt("no-check", "no health checks (the default)", (s) => {
    s.check = false;
  }),
  valueOpt(
    "inter",
    "<time>",
    "interval between two health checks",
    (ctx, s, v) => {
      s.inter = positiveTime(ctx, v, "inter");
    },
    "2s",
  ),
  valueOpt(
    "fastinter",
    "<time>",
    "check interval while a state change is being confirmed",
    (ctx, s, v) => {
      s.fastinter = positiveTime(ctx, v, "fastinter");
    },
    "inter",
  ),
  valueOpt(
    "downinter",
    "<time>",
    "check interval while the server is down",
    (ctx, s, v) => {
      s.downinter = positiveTime(ctx, v, "downinter");
    },
    "inter",
  ),
  valueOpt(
    "rise",
    "<count>",
    "consecutive successful checks to consider the server up",
    (ctx, s, v) => {
      s.rise = int(ctx, v, 1, 1_000_000, "a count");
    },
    "2",
  ),
  valueOpt(
    "fall",
    "<count>",
    "consecutive failed checks to consider the server down",
    (ctx, s, v) => {
      s.fall = int(ctx, v, 1, 1_000_000, "a count");
    },
    "3",
  ),
  valueOpt(
    "weight",
    "<0..256>",
    "share of the load relative to the other servers (0: no new sessions)",
    (ctx, s, v) => {
      s.weight = int(ctx, v, 0, 256, "a weight");
    },
    "1",
  ),
  valueOpt(
    "maxconn",
    "<number>",
    "most concurrent connections to this server; more wait in the queue (0: no limit)",
    (ctx, s, v) => {
      s.maxconn = int(ctx, v, 0, 10_000_000);
    },
    "0",
  ),
  valueOpt(
    "maxqueue",
    "<number>",
    "most requests waiting for this server (0: no limit)",
    (ctx, s, v) => {
      s.maxqueue = int(ctx, v, 0, 10_000_000);
    },
    "0",
  ),
  flagOpt("backup", "used only when no active server is up", (s) => {
    s.backup = true;
  }),
  flagOpt("disabled", "starts in maintenance", (s) => {
    s.disabled = true;
  }),
  flagOpt("enabled", "starts in service (the default)", (s) => {
    s.disabled = false;
  }),
  valueOpt(
    "slowstart",
    "<time>",
    "ramp the weight up over this time after the server comes back",
    (ctx, s, v) => {
      s.slowstart = time(ctx, v);
    },
  ),
  valueOpt("port", "<port>", "port health checks connect to, when not the service port", (ctx, s, v) => {
    s.checkPort = int(ctx, v, 1, 65535, "a port");
  }),
  valueOpt(
    "track",
    "[<backend>/]<server>",
    "follow that server's health (and maintenance) instead of checking",
    (ctx, s, v) => {
      const slash = v.indexOf("/");
      const server = slash === -1 ? v : v.slice(slash + 1);
      if (server === "" || (slash !== -1 && slash === 0))
        fail(ctx, `'${v}' names no server`, "track <server> or track <backend>/<server>");
      // The backend is this one unless named; finish() checks both exist.
      s.track = { backend: slash === -1 ? "" : v.slice(0, slash), server };
    },
  ),
  valueOpt("addr", "<ip>", "address health checks connect to, when not the server's", (ctx, s, v) => {
    if (!isIPv4(v) && !isIPv6(v)) fail(ctx, `'${v}' is not an IPv4 or IPv6 address`, "e.g. addr 10.0.0.5");
    s.checkAddr = v;
  }),
];

const OPTION_BY_NAME: ReadonlyMap<string, ServerOption> = new Map(SERVER_OPTIONS.map((o) => [o.name, o]));

function positiveTime(ctx: KwCtx, v: string, name: string): number {
  const t = time(ctx, v);
  if (t === 0) fail(ctx, `'${name}' must be greater than 0`);
  return t;
}

const SERVER_NAME = /^[A-Za-z0-9_.:-]+$/;

/** Applies server option words to `s` (located errors on `ctx`), noting which were given. */
function applyOptions(ctx: KwCtx, s: Draft, words: readonly string[], given: Set<string>): void {
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const opt = OPTION_BY_NAME.get(word);
    if (!opt) {
      fail(
        ctx,
        `server option '${word}' is unknown or not supported yet`,
        didYouMean(word, OPTION_BY_NAME.keys()) ?? `supported: ${[...OPTION_BY_NAME.keys()].join(", ")}`,
      );
    }
    if (opt.takesValue) {
      opt.apply(ctx, s, takeValue(ctx, words, i, word));
      i++;
    } else opt.apply(ctx, s, undefined);
    given.add(word);
  }
}

/** Options a server may not take from `default-server` (they name one server). */
const PER_SERVER_ONLY = new Set(["cookie"]);

function parseDefaultServer(ctx: KwCtx, args: readonly string[]): void {
  if (args.length === 0)
    fail(ctx, "expects at least one server option", "e.g. default-server inter 3s fall 3 rise 2");
  for (const word of args) {
    if (PER_SERVER_ONLY.has(word)) fail(ctx, `'${word}' names one server: set it on the server line`);
  }
  // Checked now, on a scratch server, so a mistake is reported on this line.
  const scratch = { inter: 2000 } as Draft;
  applyOptions(ctx, scratch, args, new Set());
  ctx.proxy.defaultServer.push(...args);
}

function parseServer(ctx: KwCtx, args: readonly string[]): void {
  const [name, address] = args;
  if (name === undefined || address === undefined) {
    fail(ctx, "expects a name and an address", "usage: server <name> <address>:<port> [options]");
  }
  if (!SERVER_NAME.test(name))
    fail(ctx, `invalid server name '${name}'`, "use letters, digits, '-', '_', '.' and ':'");
  const prior = ctx.proxy.servers.find((s) => s.name === name);
  if (prior) {
    fail(
      ctx,
      `another server named '${name}' was already defined at line ${prior.loc.line} of backend '${ctx.proxy.name}'`,
      "use distinct names",
    );
  }
  const hp = parseHostPort(address.replace(/^(ipv4|ipv6)@/, ""), { anyHost: false });
  if (!hp.ok) fail(ctx, hp.reason);
  const s: Draft = {
    name,
    id: ctx.proxy.servers.length + 1,
    host: hp.value.host,
    port: hp.value.port,
    check: false,
    inter: 2000,
    fastinter: 0,
    downinter: 0,
    rise: 2,
    fall: 3,
    weight: 1,
    maxconn: 0,
    maxqueue: 0,
    backup: false,
    disabled: false,
    loc: ctx.loc,
  };
  // `default-server` lines of this section (or its defaults) first, then the server's own.
  const set = new Set<string>();
  applyOptions(ctx, s, ctx.proxy.defaultServer, set);
  applyOptions(ctx, s, args.slice(2), set);
  const fastinter = set.has("fastinter");
  const downinter = set.has("downinter");
  if (!fastinter) s.fastinter = s.inter;
  if (!downinter) s.downinter = s.inter;
  const { checkPort, checkAddr, slowstart, cookie, track, ...rest } = s;
  if (track !== undefined && s.check) fail(ctx, "unable to enable checks and tracking at the same time!");
  const model: ServerModel = {
    ...rest,
    ...(track !== undefined
      ? { track: { backend: track.backend || ctx.proxy.name, server: track.server } }
      : {}),
    ...(cookie !== undefined ? { cookie } : {}),
    ...(checkPort !== undefined ? { checkPort } : {}),
    ...(checkAddr !== undefined ? { checkAddr } : {}),
    ...(slowstart !== undefined ? { slowstart } : {}),
  };
  ctx.proxy.servers.push(model);
}

export const SERVER_ROWS: readonly KeywordRow[] = [
  {
    name: "default-server",
    sections: BACKS,
    args: "[<option> ...]",
    doc: "server options every later server line of the section starts from (a backend also inherits its defaults section's)",
    parse: parseDefaultServer,
  },
  {
    name: "server",
    sections: BACKS_ONLY,
    args: "<name> <address>:<port> [<option> ...]",
    doc: "a server of the backend; its options are in the server options table",
    parse: parseServer,
  },
];
