/**
 * The runtime API (`stats socket PATH [mode M] [level L]`): HAProxy's command-line
 * interface on a unix stream socket, spoken the way HAProxy 2.6 speaks it so that the same
 * scripts (`echo "show stat" | socat - UNIX:/run/haproxy.sock`) work against either:
 *
 * - the client writes one line; several commands may be separated by `;`;
 * - each command's answer ends with an empty line (a command that only acts answers just
 *   that empty line); the connection closes after the line's last answer;
 * - a command above the socket's level answers `Permission denied`; errors are one line
 *   in HAProxy's words (`No such backend.`, `No such server.`).
 *
 * Commands are a table (`addCommand`); what runs on top of the node (the HA pair) adds its
 * own (`show ha`). Admin changes go through `ProxyNode.setAdminState`, which the HA pair
 * writes through to the shared store.
 */
import { chmodSync, rmSync, statSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import type { StatsSocket } from "./config/model.js";
import { FulcrumError } from "./errors.js";
import type { ProxyNode } from "./node.js";
import { processFigures } from "./output.js";
import type { AdminState } from "./state.js";
import { statsCsv } from "./stats/csv.js";
import type { HaStatus } from "./stats/snapshot.js";
import { VERSION } from "./version.js";

export type RuntimeLevel = StatsSocket["level"];

const LEVEL_RANK: Readonly<Record<RuntimeLevel, number>> = { user: 0, operator: 1, admin: 2 };

/** What a command returns: its answer without the terminating empty line. */
export type CommandFn = (args: readonly string[], node: ProxyNode) => string | Promise<string>;

interface Command {
  /** The words that name it, e.g. ["show", "stat"]. */
  readonly words: readonly string[];
  readonly level: RuntimeLevel;
  readonly help: string;
  readonly run: CommandFn;
}

/** A one-line error answer, in HAProxy's words. */
export class RuntimeError extends Error {}

/** Longest command line accepted (HAProxy's buffer is bufsize). */
const MAX_LINE = 16384;
/** A client that sends nothing is dropped after this long. */
const IDLE_MS = 10_000;

export class RuntimeApi {
  private readonly node: ProxyNode;
  private readonly commands: Command[] = [];
  private readonly servers: { server: Server; path: string; ino: number }[] = [];
  private readonly clients = new Set<Socket>();

  constructor(node: ProxyNode) {
    this.node = node;
    for (const c of BUILTIN) this.addCommand(c.words.join(" "), c.level, c.help, c.run);
  }

  /**
   * Adds (or replaces) a command. `name` is its words (`"show ha"`); the arguments after
   * them are passed to `fn`. `level` is the least socket level allowed to run it.
   */
  addCommand(name: string, level: RuntimeLevel, help: string, fn: CommandFn): void {
    const words = name.trim().split(/\s+/);
    const i = this.commands.findIndex((c) => c.words.join(" ") === words.join(" "));
    const cmd: Command = { words, level, help, run: fn };
    if (i === -1) this.commands.push(cmd);
    else this.commands[i] = cmd;
  }

  /** Runs one line (commands separated by `;`) at `level`; returns the bytes to send back. */
  async execute(line: string, level: RuntimeLevel): Promise<string> {
    let out = "";
    for (const part of splitCommands(line)) {
      const words = tokenize(part);
      if (words.length === 0) continue;
      out += `${await this.run(words, level)}\n`;
    }
    return out;
  }

  private async run(words: string[], level: RuntimeLevel): Promise<string> {
    if (words[0] === "help") return this.helpText(level);
    // The longest matching name wins ("show stat" and "show stat resolvers" alike).
    let best: Command | undefined;
    for (const c of this.commands) {
      if (c.words.length > words.length) continue;
      if (c.words.every((w, i) => words[i] === w) && (!best || c.words.length > best.words.length)) best = c;
    }
    if (best === undefined) {
      return `Unknown command, but maybe one of the following ones is a better match:\n${this.helpText(level)}`;
    }
    if (LEVEL_RANK[level] < LEVEL_RANK[best.level]) return "Permission denied\n";
    try {
      const text = await best.run(words.slice(best.words.length), this.node);
      return text === "" || text.endsWith("\n") ? text : `${text}\n`;
    } catch (err) {
      if (err instanceof RuntimeError) return `${err.message}\n`;
      if (err instanceof FulcrumError) return `${err.message}\n`;
      throw err;
    }
  }

  private helpText(level: RuntimeLevel): string {
    const rows = this.commands
      .filter((c) => LEVEL_RANK[level] >= LEVEL_RANK[c.level])
      .map((c) => `  ${c.help.split(" : ")[0]!.padEnd(40)}: ${c.help.split(" : ")[1] ?? ""}`);
    return `${["  help                                    : this message", ...rows].join("\n")}\n`;
  }

  /** Listens on every `stats socket`; a stale socket file is replaced, as HAProxy does. */
  async listen(sockets: readonly StatsSocket[]): Promise<void> {
    for (const s of sockets) {
      rmSync(s.path, { force: true });
      const server = createServer((sock) => this.serve(sock, s.level));
      await new Promise<void>((resolve, reject) => {
        server.once("error", (err: NodeJS.ErrnoException) =>
          reject(
            new FulcrumError(
              "FUL_BIND",
              `${s.loc.file}:${s.loc.line}: cannot open the stats socket ${s.path}: ${err.code ?? err.message}`,
            ),
          ),
        );
        // exclusive: under -W a worker owns its socket (cluster would share the master's,
        // whose path the reload just replaced).
        server.listen({ path: s.path, exclusive: true }, () => resolve());
      });
      server.on("error", () => undefined);
      if (s.mode !== undefined) chmodSync(s.path, s.mode);
      this.servers.push({ server, path: s.path, ino: statSync(s.path).ino });
    }
  }

  private serve(sock: Socket, level: RuntimeLevel): void {
    this.clients.add(sock);
    sock.on("close", () => this.clients.delete(sock));
    sock.on("error", () => sock.destroy());
    sock.setTimeout(IDLE_MS, () => sock.destroy());
    let buf = "";
    let busy = false;
    const onLine = (line: string) => {
      busy = true;
      this.execute(line, level).then(
        (out) => sock.end(out),
        (err: unknown) => sock.end(`Internal error: ${(err as Error).message}\n\n`),
      );
    };
    sock.setEncoding("latin1");
    sock.on("data", (d: string) => {
      if (busy) return;
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl !== -1) onLine(buf.slice(0, nl).replace(/\r$/, ""));
      else if (buf.length > MAX_LINE) sock.destroy();
    });
    // A line without its newline, then the client's FIN: run it all the same.
    sock.on("end", () => {
      if (!busy && buf.trim() !== "") onLine(buf);
      else if (!busy) sock.end();
    });
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.destroy();
    await Promise.all(
      this.servers.map(({ server, path, ino }) => {
        // Closing unlinks the path: when a newer process (a reload) has put its own socket
        // there, ours is only let go, so that the new one stays reachable.
        let mine = false;
        try {
          mine = statSync(path).ino === ino;
        } catch {
          // gone already
        }
        if (!mine) {
          server.unref();
          return Promise.resolve();
        }
        return new Promise<void>((res) => server.close(() => res()));
      }),
    );
    this.servers.length = 0;
  }
}

/** `a; b\; c` -> ["a", "b; c"]: `;` separates commands unless escaped. */
function splitCommands(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "\\" && line[i + 1] === ";") {
      cur += ";";
      i++;
    } else if (c === ";") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function tokenize(s: string): string[] {
  return s
    .trim()
    .split(/[ \t]+/)
    .filter((w) => w !== "");
}

// ---- built-in commands ------------------------------------------------------------------

/** `BACKEND/SERVER` -> the server, or HAProxy's error. */
function findServer(node: ProxyNode, ref: string | undefined): { backend: string; server: string } {
  const slash = ref?.indexOf("/") ?? -1;
  if (ref === undefined || slash <= 0) throw new RuntimeError("Require 'backend/server'.");
  const backend = ref.slice(0, slash);
  const server = ref.slice(slash + 1);
  const be = node.backends.get(backend);
  if (be === undefined) throw new RuntimeError("No such backend.");
  if (!be.rt.servers.some((s) => s.cfg.name === server)) throw new RuntimeError("No such server.");
  return { backend, server };
}

const ADMIN_STATES: Readonly<Record<string, AdminState>> = { ready: "ready", drain: "drain", maint: "maint" };

function setServer(args: readonly string[], node: ProxyNode): string {
  const { backend, server } = findServer(node, args[0]);
  const what = args[1];
  const SET: Readonly<Record<string, () => string>> = {
    state: () => {
      const st = ADMIN_STATES[args[2] ?? ""];
      if (st === undefined)
        throw new RuntimeError("'set server <srv> state' expects 'ready', 'drain' and 'maint'.");
      node.setAdminState(backend, server, st);
      return "";
    },
    weight: () => setWeight(node, backend, server, args[2]),
  };
  const fn = what !== undefined ? SET[what] : undefined;
  if (fn === undefined) throw new RuntimeError("usage: set server <backend>/<server> state | weight");
  return fn();
}

/** `N` (0..256) or `N%` of the configured weight, as HAProxy. */
function setWeight(node: ProxyNode, backend: string, server: string, arg: string | undefined): string {
  const m = /^(\d+)(%?)$/.exec(arg ?? "");
  if (m === null) throw new RuntimeError("Require <weight> or <weight%>.");
  const sv = node.backends.get(backend)!.rt.servers.find((s) => s.cfg.name === server)!;
  const n = Number(m[1]);
  const w = m[2] === "%" ? Math.round((sv.cfg.weight * n) / 100) : n;
  if (m[2] === "" && (n < 0 || n > 256))
    throw new RuntimeError("Absolute weight can only be between 0 and 256 inclusive.");
  if (w > 256) throw new RuntimeError("Relative weight too large.");
  node.setWeight(backend, server, w);
  return "";
}

function uptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d}d ${h}h${pad(m)}m${pad(s % 60)}s`;
}

/** `show info`: HAProxy's field names, with the values this node has. */
function showInfo(node: ProxyNode): string {
  const now = node.ctx.now();
  const p = processFigures(node);
  const rows: [string, string | number][] = [
    ["Name", "fulcrum"],
    ["Version", VERSION],
    ["Nbthread", 1],
    ["Nbproc", 1],
    ["Process_num", 1],
    ["Pid", node.pid],
    ["Uptime", uptime(now - node.startedAt)],
    ["Uptime_sec", p.uptimeSec],
    ["Maxconn", p.maxconn],
    ["Hard_maxconn", p.maxconn],
    ["CurrConns", p.currentConnections],
    ["CumConns", p.connectionsTotal],
    ["CumReq", p.requestsTotal],
    ["SessRate", p.sessRate],
    ["MaxSessRate", p.maxSessRate],
    ["Stopping", p.stopping ? 1 : 0],
    ["Listeners", p.listeners],
    ["DroppedLogs", p.droppedLogs],
    ["TotalBytesOut", p.bytesOut],
    ["Start_time_sec", p.startTimeSec],
  ];
  return `${rows.map(([k, v]) => `${k}: ${v}`).join("\n")}\n`;
}

/** `show ha` before the HA layer adds its own: the stats page's HA block, as lines. */
function showHa(node: ProxyNode): string {
  const ha: HaStatus | undefined = node.out.haStatus?.();
  if (ha === undefined) return "No ha section in the configuration: this node runs alone.\n";
  const rows: [string, string | number | undefined][] = [
    ["node", ha.node],
    ["role", ha.role],
    ["epoch", ha.epoch],
    ["priority", ha.priority],
    ["config_checksum", ha.configChecksum],
    ["reason", ha.reason],
    ["peer", ha.peer?.name],
    ["peer_role", ha.peer?.role],
    ["peer_last_advert_ms", ha.peer?.lastAdvertMs],
    ["peer_config_checksum", ha.peer?.configChecksum],
  ];
  return `${rows
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n")}\n`;
}

const BUILTIN: readonly Command[] = [
  {
    words: ["show", "stat"],
    level: "user",
    help: "show stat : report counters for each proxy and server (CSV)",
    run: (_args, node) => statsCsv(node.out.snapshot(node), { legends: true }),
  },
  {
    words: ["show", "info"],
    level: "user",
    help: "show info : report information about the running process",
    run: (_args, node) => showInfo(node),
  },
  {
    words: ["show", "ha"],
    level: "user",
    help: "show ha : this node's HA role, epoch and peer",
    run: (_args, node) => showHa(node),
  },
  {
    words: ["set", "server"],
    level: "admin",
    help: "set server <bk>/<srv> state|weight : change a server's admin state (ready|drain|maint) or weight",
    run: setServer,
  },
  {
    words: ["disable", "server"],
    level: "admin",
    help: "disable server <bk>/<srv> : put a server in maintenance mode",
    run: (args, node) => {
      const { backend, server } = findServer(node, args[0]);
      node.setAdminState(backend, server, "maint");
      return "";
    },
  },
  {
    words: ["enable", "server"],
    level: "admin",
    help: "enable server <bk>/<srv> : take a server out of maintenance mode",
    run: (args, node) => {
      const { backend, server } = findServer(node, args[0]);
      node.setAdminState(backend, server, "ready");
      return "";
    },
  },
];
