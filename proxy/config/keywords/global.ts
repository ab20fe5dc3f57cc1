/** Rows of the `global` section (process-wide settings). */
import { parseLogTarget } from "./log.js";
import { exactly, fail, int, type KeywordRow, type KwCtx, none, oneOf } from "./types.js";

const G = ["global"] as const;

function path(ctx: KwCtx, args: readonly string[], what: string): string {
  exactly(ctx, args, 1, `${ctx.keyword} <${what}>`);
  return args[0]!;
}

export const GLOBAL_ROWS: readonly KeywordRow[] = [
  {
    name: "log",
    sections: ["global", "defaults", "frontend", "listen", "backend"],
    args: "<address> [len <length>] [format <fmt>] <facility> [<max> [<min>]] | global",
    default: "none",
    doc: "send logs to a syslog server (UDP HOST[:PORT], /unix/socket, stdout, stderr); in a proxy `log global` uses the global targets and `no log` clears inherited ones",
    negatable: true,
    parse: (ctx, args, negated) => {
      if (ctx.section === "global") {
        if (negated || args[0] === "global") {
          fail(ctx, `'${negated ? "no log" : "log global"}' is only meaningful in a proxy section`);
        }
        ctx.global.logs.push(parseLogTarget(ctx, args));
        return;
      }
      if (negated) {
        none(ctx, args);
        ctx.proxy.logs = [];
        return;
      }
      if (args[0] === "global") {
        exactly(ctx, args, 1, "log global");
        ctx.proxy.logs.push({ global: true, loc: ctx.loc });
        return;
      }
      ctx.proxy.logs.push(parseLogTarget(ctx, args));
    },
  },
  {
    name: "maxconn",
    sections: ["global", "defaults", "frontend", "listen"],
    args: "<number>",
    default: "global: 4096; proxy: the global value",
    doc: "most concurrent connections accepted (process-wide in global, per frontend in a proxy)",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "maxconn <number>");
      const n = int(ctx, args[0], ctx.section === "global" ? 1 : 0, 10_000_000);
      if (ctx.section === "global") ctx.global.maxconn = n;
      else if (n > 0) ctx.proxy.maxconn = n;
      else delete ctx.proxy.maxconn;
    },
  },
  {
    name: "uid",
    sections: G,
    args: "<number>",
    doc: "user id the process switches to after binding its sockets",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "uid <number>");
      ctx.global.uid = int(ctx, args[0], 0, 2 ** 32 - 2, "a user id");
    },
  },
  {
    name: "gid",
    sections: G,
    args: "<number>",
    doc: "group id the process switches to after binding its sockets",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "gid <number>");
      ctx.global.gid = int(ctx, args[0], 0, 2 ** 32 - 2, "a group id");
    },
  },
  {
    name: "user",
    sections: G,
    args: "<name>",
    doc: "like uid, by user name (must exist on this machine)",
    parse: (ctx, args) => {
      const name = path(ctx, args, "name");
      if (!ctx.host.userExists(name)) fail(ctx, `unknown user '${name}'`);
      ctx.global.user = name;
    },
  },
  {
    name: "group",
    sections: G,
    args: "<name>",
    doc: "like gid, by group name (must exist on this machine)",
    parse: (ctx, args) => {
      const name = path(ctx, args, "name");
      if (!ctx.host.groupExists(name)) fail(ctx, `unknown group '${name}'`);
      ctx.global.group = name;
    },
  },
  {
    name: "daemon",
    sections: G,
    args: "",
    default: "off (foreground)",
    doc: "detach from the terminal and run in the background (same as -D)",
    parse: (ctx, args) => {
      none(ctx, args);
      ctx.global.daemon = true;
    },
  },
  {
    name: "nbthread",
    sections: G,
    args: "<number>",
    default: "1",
    doc: "accepted for compatibility: fulcrum serves from one event loop per process (a warning says so)",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "nbthread <number>");
      ctx.global.nbthread = int(ctx, args[0], 1, 64);
      if (ctx.global.nbthread > 1) {
        ctx.warn(`'nbthread ${args[0]}' has no effect: fulcrum serves from one event loop per process`);
      }
    },
  },
  {
    name: "pidfile",
    sections: G,
    args: "<path>",
    doc: "write the process id to this file (-p on the command line takes precedence)",
    parse: (ctx, args) => {
      ctx.global.pidfile = path(ctx, args, "path");
    },
  },
  {
    name: "chroot",
    sections: G,
    args: "<dir>",
    doc: "jail directory to change into before dropping privileges",
    parse: (ctx, args) => {
      ctx.global.chroot = path(ctx, args, "dir");
    },
  },
  {
    name: "stats socket",
    sections: G,
    args: "<path> [mode <octal>] [level user|operator|admin]",
    default: "level operator",
    doc: "UNIX socket of the runtime API (`fulcrum ctl -S PATH`)",
    parse: (ctx, args) => {
      const p = args[0];
      if (p === undefined)
        fail(ctx, "expects a socket path", "usage: stats socket <path> [mode <octal>] [level <level>]");
      if (/^[a-z0-9+]+@/.test(p) && !p.startsWith("unix@")) {
        fail(ctx, `address '${p}' is not supported yet`, "give the path of a UNIX socket");
      }
      let mode: number | undefined;
      let level: "user" | "operator" | "admin" = "operator";
      for (let i = 1; i < args.length; i += 2) {
        const key = args[i]!;
        const value = args[i + 1];
        if (key === "mode") {
          if (value === undefined || !/^[0-7]{1,4}$/.test(value))
            fail(ctx, `'mode' expects an octal file mode, got '${value ?? ""}'`);
          mode = Number.parseInt(value, 8);
        } else if (key === "level") {
          level = oneOf(ctx, value, ["user", "operator", "admin"] as const, "level");
        } else {
          fail(ctx, `socket parameter '${key}' is not supported yet`, "supported: mode, level");
        }
      }
      const path = p.replace(/^unix@/, "");
      ctx.global.statsSockets.push(
        mode === undefined ? { path, level, loc: ctx.loc } : { path, mode, level, loc: ctx.loc },
      );
    },
  },
  {
    name: "server-state-file",
    sections: G,
    args: "<path>",
    doc: "file where server states (admin state, weight) are saved and read back across restarts",
    parse: (ctx, args) => {
      ctx.global.serverStateFile = path(ctx, args, "path");
    },
  },
  {
    name: "log-tag",
    sections: G,
    args: "<string>",
    default: "haproxy",
    doc: "program name written in syslog headers",
    parse: (ctx, args) => {
      ctx.global.logTag = path(ctx, args, "string");
    },
  },
  {
    name: "tune.bufsize",
    sections: G,
    args: "<bytes>",
    default: "16384",
    doc: "buffer size: a request or response head must fit in it",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "tune.bufsize <bytes>");
      const n = int(ctx, args[0], 1024, 1024 * 1024 * 1024, "a number of bytes");
      ctx.global.bufsize = n;
      ctx.global.tuneLoc = ctx.loc;
    },
  },
  {
    name: "tune.maxrewrite",
    sections: G,
    args: "<bytes>",
    default: "1024",
    doc: "part of the buffer kept free for header rewrites",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "tune.maxrewrite <bytes>");
      ctx.global.maxrewrite = int(ctx, args[0], 0, 1024 * 1024 * 1024, "a number of bytes");
      ctx.global.tuneLoc = ctx.loc;
    },
  },
  {
    name: "tune.http.maxhdr",
    sections: G,
    args: "<number>",
    default: "101",
    doc: "most header lines in a request or response",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "tune.http.maxhdr <number>");
      ctx.global.maxHeaders = int(ctx, args[0], 1, 32767);
    },
  },
];
