/**
 * The runtime API (`stats socket PATH [mode M] [level L]`): HAProxy's command-line
 * interface on a unix stream socket, spoken the way HAProxy 2.6 speaks it so that the same
 * scripts (`echo "show stat" | socat - UNIX:/run/haproxy.sock`) work against either:
 *
 * - the client writes one line; several commands may be separated by `;`, each answered
 *   in turn (an empty one too, with the command list); `quit` closes without an answer;
 * - each command's answer ends with an empty line (a command that only acts answers just
 *   that empty line); the connection closes after the line's last answer;
 * - a command above the socket's level answers `Permission denied`; errors are one line
 *   in HAProxy's words (`No such backend.`, `No such server.`), with HAProxy's newlines
 *   (a few of its messages have none of their own, see `RuntimeError`);
 * - a command HAProxy has and fulcrum cannot carry out answers `Not supported by fulcrum`,
 *   never a success.
 *
 * Commands are a table (`addCommand`); what runs on top of the node (the HA pair) adds its
 * own (`show ha`). Admin changes go through `ProxyNode.setAdminState`, which the HA pair
 * writes through to the shared store.
 */

import { lookup } from "node:dns/promises";
import { chmodSync, rmSync, statSync } from "node:fs";
import { createServer, isIP, type Server, type Socket } from "node:net";
import type { BackendImpl } from "./backend.js";
import type { BalanceAlgo, ServerModel, StatsSocket } from "./config/model.js";
import { FulcrumError } from "./errors.js";
import type { ProxyNode } from "./node.js";
import { processFigures } from "./output.js";
import { SERVER_STATE_HEADER, SERVER_STATE_VERSION, serverStateLine } from "./server-state.js";
import { type AdminState, type Counters, newCounters, type ServerRuntime } from "./state.js";
import { CSV_HEADER, csvCell, type RowKind, type RowOptions, type StatsRow, statsRows } from "./stats/csv.js";
import { INFO_FIELDS, infoText } from "./stats/info.js";
import { countCliConnection } from "./stats/meter.js";
import type { HaStatus } from "./stats/snapshot.js";
import { infoJson, infoTyped, statsJson, statsTyped } from "./stats/typed.js";
import { VERSION } from "./version.js";

export type RuntimeLevel = StatsSocket["level"];

const LEVEL_RANK: Readonly<Record<RuntimeLevel, number>> = { user: 0, operator: 1, admin: 2 };

/** What a command may know of the connection it runs on. */
export interface Session {
  readonly level: RuntimeLevel;
}

/** What a command returns: its answer without the terminating empty line. */
export type CommandFn = (
  args: readonly string[],
  node: ProxyNode,
  session: Session,
) => string | Promise<string>;

interface Command {
  /** The words that name it, e.g. ["show", "stat"]. */
  readonly words: readonly string[];
  readonly level: RuntimeLevel;
  /** Its line in `help`, HAProxy's `  USAGE<pad to 40>: DESCRIPTION`; none: not listed. */
  readonly helpLine?: string;
  readonly run: CommandFn;
}

/**
 * A one-line error answer, in HAProxy's words. A few of HAProxy's messages lack their own
 * newline (`Trailing garbage in weight string`), so their answer is one line shorter than
 * the others: `bare` keeps that.
 */
export class RuntimeError extends Error {
  readonly bare: boolean;
  constructor(message: string, opts: { bare?: boolean } = {}) {
    super(message);
    this.bare = opts.bare ?? false;
  }
}

/** Longest command line accepted (HAProxy's buffer is bufsize). */
const MAX_LINE = 16384;
/** Commands run from one line (`;`-separated); the rest is refused in one answer. */
const MAX_COMMANDS_PER_LINE = 256;
/** A client that sends nothing is dropped after this long. */
const IDLE_MS = 10_000;

const HELP_HEADER = "The following commands are valid at this level:\n";
const UNKNOWN_HEADER = "Unknown command, but maybe one of the following ones is a better match:\n";
const EMPTY_HEADER = "Unknown command. Please enter one of the following commands only:\n";

/** HAProxy's help line: the usage padded to 40 columns, then `: ` and what it does. */
function helpLine(usage: string, description: string): string {
  return `  ${usage.padEnd(40)}: ${description}\n`;
}

/** The commands the CLI itself answers, listed last as HAProxy lists them. */
const SESSION_HELP =
  helpLine("help [<command>]", "list matching or all commands") + helpLine("quit", "disconnect");

export class RuntimeApi {
  private readonly node: ProxyNode;
  private readonly commands: Command[] = [];
  private readonly servers: { server: Server; path: string; ino: number }[] = [];
  private readonly clients = new Set<Socket>();
  /** The help list, rebuilt when a command is added rather than per `help`. */
  private usage = "";

  constructor(node: ProxyNode) {
    this.node = node;
    for (const c of BUILTIN) this.add(c);
  }

  /**
   * Adds (or replaces) a command. `name` is its words (`"show ha"`); the arguments after
   * them are passed to `fn`. `level` is the least socket level allowed to run it. `help` is
   * `USAGE : DESCRIPTION`, as it is listed by `help`.
   */
  addCommand(name: string, level: RuntimeLevel, help: string, fn: CommandFn): void {
    const [usage = name, description = ""] = help.split(" : ");
    this.add({ words: name.trim().split(/\s+/), level, helpLine: helpLine(usage, description), run: fn });
  }

  private add(cmd: Command): void {
    const name = cmd.words.join(" ");
    const i = this.commands.findIndex((c) => c.words.join(" ") === name);
    if (i === -1) this.commands.push(cmd);
    else this.commands[i] = cmd;
    // HAProxy lists every command whatever the level, sorted, then its own session ones.
    const lines = this.commands.flatMap((c) => (c.helpLine !== undefined ? [c.helpLine] : []));
    this.usage = lines.sort().join("") + SESSION_HELP;
  }

  /**
   * Runs one line at `level`; returns the bytes to send back. Commands are separated by `;`
   * and answered in turn, an empty one included (HAProxy answers it with the command list,
   * the nothing after a final `;` too). `quit` ends the line: what follows is not run.
   */
  async execute(line: string, level: RuntimeLevel): Promise<string> {
    let out = "";
    let n = 0;
    for (const part of splitCommands(line)) {
      const words = tokenize(part);
      if (words[0] === "quit") break;
      // A line of thousands of `;` would build an answer of megabytes in one string.
      if (++n > MAX_COMMANDS_PER_LINE) {
        out += `Too many commands on one line: ${MAX_COMMANDS_PER_LINE} at most.\n\n`;
        break;
      }
      out += `${await this.run(words, { level })}\n`;
    }
    return out;
  }

  private async run(words: string[], session: Session): Promise<string> {
    if (words.length === 0) return EMPTY_HEADER + this.usage;
    if (words[0] === "help") return HELP_HEADER + this.usage;
    // The longest matching name wins ("show stat" and "show stat resolvers" alike).
    let best: Command | undefined;
    for (const c of this.commands) {
      if (c.words.length > words.length) continue;
      if (c.words.every((w, i) => words[i] === w) && (!best || c.words.length > best.words.length)) best = c;
    }
    // HAProxy ranks the known commands by likeness to what was typed; fulcrum lists them all.
    if (best === undefined) return UNKNOWN_HEADER + this.usage;
    if (LEVEL_RANK[session.level] < LEVEL_RANK[best.level]) return "Permission denied\n";
    try {
      const text = await best.run(words.slice(best.words.length), this.node, session);
      return text === "" || text.endsWith("\n") ? text : `${text}\n`;
    } catch (err) {
      if (err instanceof RuntimeError) return err.bare ? err.message : `${err.message}\n`;
      if (err instanceof FulcrumError) return `${err.message}\n`;
      throw err;
    }
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
      this.node.ctx.process.cliListeners++;
    }
  }

  private serve(sock: Socket, level: RuntimeLevel): void {
    const counts = this.node.ctx.process;
    countCliConnection(counts);
    counts.cliConns++;
    this.clients.add(sock);
    sock.on("close", () => {
      this.clients.delete(sock);
      counts.cliConns--;
    });
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
      // A line longer than the buffer is refused whether or not its newline came with it.
      if (nl > MAX_LINE || (nl === -1 && buf.length > MAX_LINE)) sock.destroy();
      else if (nl !== -1) onLine(buf.slice(0, nl).replace(/\r$/, ""));
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
    this.node.ctx.process.cliListeners -= this.servers.length;
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

/** C's `atoi`, which HAProxy reads numeric arguments with: leading digits, else 0. */
function atoi(s: string): number {
  return Number.parseInt(s, 10) || 0;
}

/** `BACKEND/SERVER` -> the server, or HAProxy's error (its `cli_find_server`). */
function findServer(node: ProxyNode, ref: string | undefined): { backend: string; server: string } {
  const slash = ref?.indexOf("/") ?? -1;
  if (ref === undefined || slash <= 0 || slash === ref.length - 1)
    throw new RuntimeError("Require 'backend/server'.");
  return lookupServer(node, ref.slice(0, slash), ref.slice(slash + 1));
}

function lookupServer(node: ProxyNode, backend: string, server: string): { backend: string; server: string } {
  const be = node.backends.get(backend);
  if (be === undefined) throw new RuntimeError("No such backend.");
  if (!be.rt.servers.some((s) => s.cfg.name === server)) throw new RuntimeError("No such server.");
  return { backend, server };
}

function serverRuntime(node: ProxyNode, backend: string, server: string): ServerRuntime {
  return node.backends.get(backend)!.rt.servers.find((s) => s.cfg.name === server)!;
}

const ADMIN_STATES: Readonly<Record<string, AdminState>> = { ready: "ready", drain: "drain", maint: "maint" };

function setAdmin(node: ProxyNode, backend: string, server: string, state: AdminState): string {
  node.setAdminState(backend, server, state);
  return "";
}

function setServer(args: readonly string[], node: ProxyNode): string {
  const { backend, server } = findServer(node, args[0]);
  const what = args[1];
  const SET: Readonly<Record<string, () => string>> = {
    state: () => {
      const st = ADMIN_STATES[args[2] ?? ""];
      if (st === undefined)
        throw new RuntimeError("'set server <srv> state' expects 'ready', 'drain' and 'maint'.");
      return setAdmin(node, backend, server, st);
    },
    weight: () => setWeight(node, backend, server, args[2]),
  };
  const fn = what !== undefined ? SET[what] : undefined;
  if (fn === undefined) throw new RuntimeError("usage: set server <backend>/<server> state | weight");
  return fn();
}

/** Balancers whose tables are built once (HAProxy's map-based ones, no `BE_LB_PROP_DYN`). */
const STATIC_ALGOS: ReadonlySet<BalanceAlgo> = new Set(["static-rr", "source", "uri"]);

/**
 * HAProxy's `server_parse_weight_change_request`, shared by `set weight` and `set server
 * ... weight`: `N` (0..256) or `N%` of the configured weight (truncated, capped at 256), read
 * as `strtol` reads it. A static balancer only takes 0 or the configured weight.
 */
export function parseWeightChange(text: string | undefined, initial: number, dynamic: boolean): number {
  if (text === undefined || text === "") throw new RuntimeError("Require <weight> or <weight%>.");
  const m = /^\s*([+-]?\d+)(.*)$/s.exec(text);
  if (m === null) throw new RuntimeError("Empty weight string empty or preceded by garbage", { bare: true });
  let w = Number(m[1]);
  if (m[2] === "%") {
    if (w < 0) throw new RuntimeError("Relative weight must be positive.");
    w = Math.min(256, Math.floor((initial * Math.min(w, 25600)) / 100));
  } else if (w < 0 || w > 256) {
    throw new RuntimeError("Absolute weight can only be between 0 and 256 inclusive.");
  } else if (m[2] !== "") {
    throw new RuntimeError("Trailing garbage in weight string", { bare: true });
  }
  if (w !== 0 && w !== initial && !dynamic)
    throw new RuntimeError(
      "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.",
    );
  return w;
}

function setWeight(node: ProxyNode, backend: string, server: string, arg: string | undefined): string {
  const be = node.backends.get(backend)!;
  const sv = serverRuntime(node, backend, server);
  const w = parseWeightChange(arg, sv.cfg.weight, !STATIC_ALGOS.has(be.cfg.balance.algo));
  node.setWeight(backend, server, w);
  return "";
}

/** `get weight B/S`: HAProxy only requires the server part, so `/S` is "No such backend.". */
function getWeight(args: readonly string[], node: ProxyNode): string {
  const ref = args[0] ?? "";
  const slash = ref.indexOf("/");
  if (slash === -1 || slash === ref.length - 1) throw new RuntimeError("Require 'backend/server'.");
  const { backend, server } = lookupServer(node, ref.slice(0, slash), ref.slice(slash + 1));
  const sv = serverRuntime(node, backend, server);
  return `${sv.userWeight ?? sv.cfg.weight} (initial ${sv.cfg.weight})\n`;
}

// ---- show stat --------------------------------------------------------------------------

/** The `<type>` bits of `show stat <iid> <type> <sid>`. */
const ROW_BIT: Readonly<Record<RowKind, number>> = { frontend: 1, backend: 2, server: 4 };

interface StatFilter {
  /** Proxy `iid`, -1 for all. */
  readonly iid: number;
  readonly type: number;
  /** Server `sid`, -1 for all (frontend and backend rows are kept whatever it is). */
  readonly sid: number;
}

const ALL_ROWS: StatFilter = { iid: -1, type: -1, sid: -1 };

/** The forms `show stat` and `show info` print (`typed`, `json`: the last one given wins). */
type StatFormat = "csv" | "typed" | "json";

interface StatRequest {
  readonly format: StatFormat;
  readonly rows: RowOptions;
  /** `desc`: field descriptions, which only the typed form prints. */
  readonly desc: boolean;
}

/** What `show stat` does with each word HAProxy takes as an output option; others are ignored. */
const STAT_OPTIONS: Readonly<Record<string, (o: StatRequest) => StatRequest>> = {
  up: (o) => ({ ...o, rows: { ...o.rows, hideDown: true } }),
  "no-maint": (o) => ({ ...o, rows: { ...o.rows, hideMaint: true } }),
  desc: (o) => ({ ...o, desc: true }),
  typed: (o) => ({ ...o, format: "typed" }),
  json: (o) => ({ ...o, format: "json" }),
};

/** Reads the option words in turn, as HAProxy's `cli_parse_show_stat` does. */
function statRequest(words: readonly string[]): StatRequest {
  let req: StatRequest = { format: "csv", rows: { legends: true }, desc: false };
  for (const w of words) req = STAT_OPTIONS[w]?.(req) ?? req;
  return req;
}

function statsCsvText(rows: readonly StatsRow[]): string {
  let out = CSV_HEADER;
  for (const r of rows) out += `${r.fields.map(csvCell).join(",")},\n`;
  return out;
}

const STAT_FORMS: Readonly<Record<StatFormat, (rows: readonly StatsRow[]) => string>> = {
  csv: statsCsvText,
  typed: statsTyped,
  json: statsJson,
};

/** HAProxy's descriptions of its fields are not carried: say so rather than print them bare. */
function refuseTypedDesc(req: { format: StatFormat; desc: boolean }, what: string): void {
  if (req.format === "typed" && req.desc)
    throw new RuntimeError(`Not supported by fulcrum: '${what} typed desc' (use '${what} typed').`);
}

/**
 * `show stat [{<iid>|<proxy>} <type> <sid>] [typed|json|desc|up|no-maint]*`, read as HAProxy
 * 2.6 reads it: the three filters count only when all three are there; a proxy name, else its
 * number (0, or a name that is no proxy, is "No such proxy."); the options come after them,
 * in any number and order.
 */
function showStat(args: readonly string[], node: ProxyNode): string {
  let filter = ALL_ROWS;
  let options = args;
  if (args.length >= 3) {
    const named = node.model.proxies.find((p) => p.name === args[0]);
    const iid = named?.id ?? atoi(args[0]!);
    if (iid === 0) throw new RuntimeError("No such proxy.");
    filter = { iid, type: atoi(args[1]!), sid: atoi(args[2]!) };
    options = args.slice(3);
  }
  const req = statRequest(options);
  refuseTypedDesc(req, "show stat");
  const rows = statsRows(node.out.snapshot(node), req.rows).filter((r) => rowShown(r, filter));
  return STAT_FORMS[req.format](rows);
}

function rowShown(r: StatsRow, f: StatFilter): boolean {
  if (f.iid !== -1 && r.proxy.id !== f.iid) return false;
  if ((f.type & ROW_BIT[r.kind]) === 0) return false;
  return f.sid === -1 || r.server === undefined || r.server.cfg.id === f.sid;
}

// ---- show servers state, show backend ----------------------------------------------------

/** Server addresses, resolved once as HAProxy resolves them once at start. */
const resolved = new WeakMap<ServerModel, Promise<string>>();

function serverAddr(cfg: ServerModel): Promise<string> {
  let p = resolved.get(cfg);
  if (p === undefined) {
    p =
      isIP(cfg.host) !== 0
        ? Promise.resolve(cfg.host)
        : lookup(cfg.host, { verbatim: false }).then(
            (r) => r.address,
            () => cfg.host,
          );
    resolved.set(cfg, p);
  }
  return p;
}

/** `show servers state [<backend>]`: HAProxy's server-state format (see server-state.ts). */
async function showServersState(args: readonly string[], node: ProxyNode): Promise<string> {
  const name = args[0];
  const backends = name === undefined ? [...node.backends.values()] : [node.backends.get(name)];
  if (backends[0] === undefined) throw new RuntimeError("Can't find backend.");
  let out = `${SERVER_STATE_VERSION}\n${SERVER_STATE_HEADER}\n`;
  const now = node.ctx.now();
  for (const be of backends as BackendImpl[]) {
    for (const sv of be.rt.servers) {
      out += `${serverStateLine(sv, {
        addr: await serverAddr(sv.cfg),
        backendId: be.cfg.id,
        backendName: be.cfg.name,
        now,
      })}\n`;
    }
  }
  return out;
}

/** `show backend`: every proxy with a backend side, in configuration order. */
function showBackend(_args: readonly string[], node: ProxyNode): string {
  return `# name\n${node.model.proxies
    .filter((p) => p.isBackend)
    .map((p) => `${p.name}\n`)
    .join("")}`;
}

// ---- clear counters ---------------------------------------------------------------------

/** The "max" counters `clear counters` resets (HAProxy's conn_max, sps_max, *_max...). */
const MAX_COUNTERS = [
  "smax",
  "qmax",
  "rateMax",
  "reqRateMax",
  "qtimeMax",
  "ctimeMax",
  "rtimeMax",
  "ttimeMax",
] as const;

function clearMax(c: Counters): void {
  for (const k of MAX_COUNTERS) c[k] = 0;
}

/**
 * `clear counters all` zeroes HAProxy's counter structs; what it keeps outside them stays:
 * the current sessions and queue, and the rate meters (HAProxy's freq counters).
 */
function clearAll(c: Counters): void {
  const { scur, qcur, sessRate, reqRate } = c;
  Object.assign(c, newCounters(), { scur, qcur, sessRate, reqRate });
}

function clearCounters(args: readonly string[], node: ProxyNode, session: Session): string {
  const all = args[0] === "all";
  if (all && session.level !== "admin") return "Permission denied\n";
  const clear = all ? clearAll : clearMax;
  // Either form resets the process's maxima too (MaxConnRate, MaxSessRate), not its totals.
  node.ctx.process.connRateMax = 0;
  node.ctx.process.sessRateMax = 0;
  for (const fe of node.frontends) clear(fe.rt.counters);
  for (const be of node.backends.values()) {
    clear(be.rt.counters);
    if (all) be.rt.chkdown = 0;
    for (const sv of be.rt.servers) {
      clear(sv.counters);
      // HAProxy keeps failed checks and DOWN transitions in the server's counters too.
      if (all) {
        sv.chkfail = 0;
        sv.chkdown = 0;
      }
    }
  }
  return "";
}

// ---- show info, show ha -------------------------------------------------------------------

/** `show info [typed|json|desc]*`: HAProxy's fields, in its order, with this node's values (stats/info.ts). */
function showInfo(args: readonly string[], node: ProxyNode): string {
  const req = statRequest(args);
  refuseTypedDesc(req, "show info");
  const figures = processFigures(node);
  if (req.format === "csv") return infoText(figures);
  const fields = INFO_FIELDS.map((f) => ({ ...f, value: f.value(figures) }));
  return req.format === "typed" ? infoTyped(fields) : infoJson(fields);
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

// ---- the table ----------------------------------------------------------------------------

function command(
  name: string,
  level: RuntimeLevel,
  usage: string,
  description: string,
  run: CommandFn,
): Command {
  return { words: name.split(" "), level, helpLine: helpLine(usage, description), run };
}

/**
 * A command HAProxy has and fulcrum does not: it says so, at HAProxy's level (a user socket
 * still gets "Permission denied"), rather than answering a success it did not carry out.
 */
function unsupported(name: string, level: RuntimeLevel, why: string): Command {
  return {
    words: name.split(" "),
    level,
    run: () => {
      throw new RuntimeError(`Not supported by fulcrum: '${name}' (${why}).`);
    },
  };
}

const BUILTIN: readonly Command[] = [
  command(
    "show stat",
    "user",
    "show stat [desc|json|no-maint|typed|up]*",
    "report counters for each proxy and server",
    showStat,
  ),
  command(
    "show info",
    "user",
    "show info [desc|json|typed]*",
    "report information about the running process",
    showInfo,
  ),
  command("show ha", "user", "show ha", "this node's HA role, epoch and peer", (_a, node) => showHa(node)),
  command("show backend", "user", "show backend", "list backends in the current running config", showBackend),
  command(
    "show servers state",
    "user",
    "show servers state [<backend>]",
    "dump volatile server information (all or for a single backend)",
    showServersState,
  ),
  command(
    "show version",
    "user",
    "show version",
    "show version of the current process",
    () => `${VERSION}\n`,
  ),
  command(
    "show cli level",
    "user",
    "show cli level",
    "display the level of the current CLI session",
    (_a, _n, session) => `${session.level}\n`,
  ),
  command("get weight", "user", "get weight <bk>/<srv>", "report a server's current weight", getWeight),
  command(
    "set weight",
    "admin",
    "set weight <bk>/<srv>  (DEPRECATED)",
    "change a server's weight (use 'set server' instead)",
    (args, node) => {
      const { backend, server } = findServer(node, args[0]);
      return setWeight(node, backend, server, args[1]);
    },
  ),
  command(
    "set server",
    "admin",
    "set server <bk>/<srv> [opts]",
    "change a server's state or weight",
    setServer,
  ),
  command(
    "disable server",
    "admin",
    "disable server (DEPRECATED)",
    "disable a server for maintenance (use 'set server' instead)",
    (args, node) => {
      const { backend, server } = findServer(node, args[0]);
      return setAdmin(node, backend, server, "maint");
    },
  ),
  command(
    "enable server",
    "admin",
    "enable server  (DEPRECATED)",
    "enable a disabled server (use 'set server' instead)",
    (args, node) => {
      const { backend, server } = findServer(node, args[0]);
      return setAdmin(node, backend, server, "ready");
    },
  ),
  command(
    "clear counters",
    "operator",
    "clear counters [all]",
    "clear max statistics counters (or all counters)",
    clearCounters,
  ),
  unsupported("disable health", "admin", "a server's checks cannot be paused alone"),
  unsupported("enable health", "admin", "a server's checks cannot be paused alone"),
  unsupported("disable frontend", "admin", "a frontend's listeners cannot be paused alone"),
  unsupported("enable frontend", "admin", "a frontend's listeners cannot be paused alone"),
  unsupported("set maxconn server", "admin", "a server's maxconn is fixed by the configuration"),
  unsupported("shutdown sessions server", "admin", "a server's sessions cannot be killed from the CLI"),
];
