/**
 * `fulcrum lab`: run the whole topology on this machine and drill failures. Thin: parse the
 * words (node:util parseArgs), check them against the command table, call lab/.
 * Exit codes 0 ok, 1 runtime error, 2 usage error; with --json stdout holds only the JSON
 * document and progress goes to stderr.
 */
import { parseArgs } from "node:util";
import { UsageError } from "../proxy/errors.js";

const USAGE = `Usage: fulcrum lab COMMAND [options]

  up [--mode cookie|shared] [--base-port N] [--redis URL] [--single] [--lb fulcrum|haproxy]
     [--detach] [--json]        start redis, web1, web2, lb1, lb2 (foreground: live status
                                until Ctrl-C; --detach: return once healthy, one MASTER)
  status [--json]               processes, roles, server health
  down [--json]                 stop everything the lab started, remove its state
  start NODE                    start (or resume) one node: lb1 lb2 web1 web2 redis
  kill NODE [--signal KILL|TERM|STOP|INT|USR1]
  logs NODE [--lines N]         the node's log file (last 100 lines by default)
  drill failover [--signal KILL|STOP|TERM] [--users N]
  drill sessions [--mode cookie|shared] [--users N]
  drill redis [--users N] [--down-ms MS]
  drill compare [--users N]     sessions + failover in cookie and in shared mode, side by side
  chaos --schedule CRON [--nodes LIST] [--down-ms MS] [--rounds N] [--users N]

Every command takes --dir DIR (default .lab/default in the project). Drills take --json and
--report FILE.html (a self-contained report with a timeline chart).`;

const OPTIONS = {
  dir: { type: "string" },
  mode: { type: "string" },
  "base-port": { type: "string" },
  redis: { type: "string" },
  single: { type: "boolean" },
  lb: { type: "string" },
  detach: { type: "boolean" },
  json: { type: "boolean" },
  signal: { type: "string" },
  lines: { type: "string" },
  users: { type: "string" },
  "down-ms": { type: "string" },
  report: { type: "string" },
  schedule: { type: "string" },
  nodes: { type: "string" },
  rounds: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type OptionName = keyof typeof OPTIONS;
export type LabFlags = {
  [K in OptionName]?: (typeof OPTIONS)[K]["type"] extends "boolean" ? boolean : string;
};

interface CommandRow {
  /** Positional words after the command (NODE, drill kind). */
  readonly args: readonly string[];
  readonly options: readonly OptionName[];
}

const DRILL_COMMON: readonly OptionName[] = ["dir", "json", "report", "users"];

/** Which words and options each command takes: one table, checked before anything runs. */
export const LAB_COMMANDS: Readonly<Record<string, CommandRow>> = {
  up: { args: [], options: ["dir", "mode", "base-port", "redis", "single", "lb", "detach", "json"] },
  status: { args: [], options: ["dir", "json"] },
  down: { args: [], options: ["dir", "json"] },
  start: { args: ["NODE"], options: ["dir", "json"] },
  kill: { args: ["NODE"], options: ["dir", "signal", "json"] },
  logs: { args: ["NODE"], options: ["dir", "lines"] },
  "drill failover": { args: [], options: [...DRILL_COMMON, "signal"] },
  "drill sessions": { args: [], options: [...DRILL_COMMON, "mode"] },
  "drill redis": { args: [], options: [...DRILL_COMMON, "down-ms"] },
  "drill compare": { args: [], options: DRILL_COMMON },
  chaos: { args: [], options: ["dir", "json", "schedule", "nodes", "down-ms", "rounds", "users"] },
};

export interface ParsedLab {
  readonly command: string;
  readonly args: readonly string[];
  readonly flags: LabFlags;
}

/** Pure: words after `lab` -> command, its positional words and flags; UsageError otherwise. */
export function parseLabWords(words: readonly string[]): ParsedLab | "help" {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: [...words], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split(/\.\s/)[0]} (see fulcrum lab --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  const [first, second, ...rest] = positionals;
  if (first === undefined)
    throw new UsageError("no lab command given: try `fulcrum lab up` (see fulcrum lab --help)");
  const command = first === "drill" ? `drill ${second ?? ""}`.trim() : first;
  const row = LAB_COMMANDS[command];
  if (!row) {
    const hint =
      first === "drill"
        ? "drills: failover, sessions, redis, compare"
        : "commands: up, status, down, start, kill, logs, drill, chaos";
    throw new UsageError(`unknown lab command "${command}" (${hint}; see fulcrum lab --help)`);
  }
  const args = first === "drill" ? rest : [second, ...rest].filter((w): w is string => w !== undefined);
  if (args.length !== row.args.length) {
    throw new UsageError(
      row.args.length === 0
        ? `unexpected word "${args[0]}" after \`lab ${command}\` (see fulcrum lab --help)`
        : `\`lab ${command}\` needs ${row.args.join(" ")}, e.g. \`fulcrum lab ${command} lb1\``,
    );
  }
  for (const name of Object.keys(values) as OptionName[]) {
    if (values[name] !== undefined && name !== "help" && !row.options.includes(name)) {
      throw new UsageError(`--${name} does not go with \`lab ${command}\` (see fulcrum lab --help)`);
    }
  }
  return { command, args, flags: values as LabFlags };
}

export async function runLabCommand(words: string[]): Promise<void> {
  const parsed = parseLabWords(words);
  if (parsed === "help") {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const { runLab } = await import("../lab/main.js");
  await runLab(parsed.command, parsed.args, parsed.flags);
}
