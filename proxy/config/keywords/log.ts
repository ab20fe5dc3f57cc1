/**
 * `log` targets, shared by the global section and the proxies (which also accept
 * `log global` and `no log`).
 */
import { isIPv6 } from "node:net";
import type { LogTarget } from "../model.js";
import { parseHostPort } from "../net.js";
import { fail, int, type KwCtx, oneOf } from "./types.js";

const FACILITIES = [
  "kern",
  "user",
  "mail",
  "daemon",
  "auth",
  "syslog",
  "lpr",
  "news",
  "uucp",
  "cron",
  "auth2",
  "ftp",
  "ntp",
  "audit",
  "alert",
  "cron2",
  "local0",
  "local1",
  "local2",
  "local3",
  "local4",
  "local5",
  "local6",
  "local7",
] as const;

const LEVELS = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"] as const;

/** `format` values: HAProxy's default `local` header is written like rfc3164 (no hostname). */
const FORMATS: ReadonlyMap<string, LogTarget["format"]> = new Map<string, LogTarget["format"]>([
  ["local", "rfc3164"],
  ["rfc3164", "rfc3164"],
  ["rfc5424", "rfc5424"],
  ["raw", "raw"],
  ["short", "short"],
]);
const UNSUPPORTED_FORMATS = new Set(["priority", "timed", "iso"]);

type Where = Pick<LogTarget, "kind" | "host" | "port" | "path">;

function parseLogAddress(ctx: KwCtx, text: string): Where {
  if (text === "stdout" || text === "fd@1") return { kind: "stdout" };
  if (text === "stderr" || text === "fd@2") return { kind: "stderr" };
  if (text.startsWith("/") || text.startsWith("unix@")) {
    const path = text.startsWith("/") ? text : text.slice(5);
    // Node.js cannot send AF_UNIX datagrams: say so where the target is written.
    ctx.warn(
      `'log ${text}': fulcrum writes to unix log sockets as a stream (Node.js has no unix datagram sockets); ` +
        "a datagram-only socket such as systemd's /dev/log refuses it and drops the messages: " +
        "point it at a stream socket (a syslog-ng unix-stream() source) " +
        "or log to 127.0.0.1:514 (UDP)",
    );
    return { kind: "unix", path };
  }
  if (/^[a-z0-9+]+@/.test(text) && !text.startsWith("udp@") && !text.startsWith("ipv4@")) {
    fail(
      ctx,
      `address '${text}' is not supported yet`,
      "use HOST[:PORT] (UDP), a /path (unix socket), stdout or stderr",
    );
  }
  const bare = text.replace(/^(udp|ipv4)@/, "");
  if (isIPv6(bare)) return { kind: "udp", host: bare, port: 514 };
  const bracketed = /^\[([^\]]+)\]$/.exec(bare);
  if (bracketed && isIPv6(bracketed[1]!)) return { kind: "udp", host: bracketed[1]!, port: 514 };
  const hasPort = bare.startsWith("[") ? bare.includes("]:") : bare.includes(":");
  const hp = parseHostPort(hasPort ? bare : `${bare}:514`, { anyHost: false });
  if (!hp.ok) fail(ctx, `invalid log address '${text}': ${hp.reason}`);
  return { kind: "udp", host: hp.value.host, port: hp.value.port };
}

/** `log <address> [format F] <facility> [max [min]]` -> a target. */
export function parseLogTarget(ctx: KwCtx, args: readonly string[]): LogTarget {
  const usage = "log <address> [len <length>] [format <fmt>] <facility> [<max level> [<min level>]]";
  const address = args[0];
  if (address === undefined) fail(ctx, "expects an address and a facility", `usage: ${usage}`);
  const where = parseLogAddress(ctx, address);
  let format: LogTarget["format"] = "rfc3164";
  let len: number | undefined;
  let i = 1;
  for (;;) {
    const w = args[i];
    if (w === "format") {
      const f = args[i + 1];
      if (f !== undefined && UNSUPPORTED_FORMATS.has(f)) fail(ctx, `log format '${f}' is not supported yet`);
      const mapped = f === undefined ? undefined : FORMATS.get(f);
      if (mapped === undefined) {
        fail(ctx, `unknown log format '${f ?? ""}'`, `use one of: ${[...FORMATS.keys()].join(", ")}`);
      }
      format = mapped;
      i += 2;
    } else if (w === "len") {
      len = int(ctx, args[i + 1], 80, 65535, "a length");
      i += 2;
    } else if (w === "sample") {
      fail(ctx, "'sample' is not supported yet");
    } else break;
  }
  const facility = oneOf(ctx, args[i], FACILITIES, "syslog facility");
  const max = args[i + 1] === undefined ? "debug" : oneOf(ctx, args[i + 1], LEVELS, "log level");
  const min = args[i + 2] === undefined ? "emerg" : oneOf(ctx, args[i + 2], LEVELS, "log level");
  if (args[i + 3] !== undefined) fail(ctx, `unexpected argument '${args[i + 3]}'`, `usage: ${usage}`);
  return {
    ...where,
    facility: FACILITIES.indexOf(facility),
    maxLevel: LEVELS.indexOf(max),
    minLevel: LEVELS.indexOf(min),
    format,
    ...(len !== undefined ? { len } : {}),
    loc: ctx.loc,
  };
}
