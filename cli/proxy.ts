/**
 * `fulcrum proxy`: -cc evaluates a condition, -c checks the configuration (and with
 * --print-modern prints it in modern syntax), anything else runs a node. Messages follow
 * HAProxy 2.6's layout (`[WARNING]  (PID) : config : ...`, "Configuration file is valid" on
 * stdout) and always carry FILE:LINE.
 */
import type { ConfigNotice, LoadResult } from "../proxy/config/index.js";
import type { ConfigWarning } from "../proxy/config/model.js";
import { ConfigErrors, UsageError } from "../proxy/errors.js";
import { HAPROXY_COMPAT_VERSION } from "./version.js";

export interface ProxyCommandOptions {
  file?: string[];
  check?: boolean;
  printModern?: boolean;
  cc?: string;
  local?: string;
  quiet?: boolean;
  [flag: string]: unknown;
}

type Level = "NOTICE" | "WARNING" | "ALERT";

/** `[WARNING]  (1234) : config : text`, HAProxy's layout for configuration messages. */
export function configLine(level: Level, text: string, pid = process.pid): string {
  return `${`[${level}]`.padEnd(11)}(${pid}) : config : ${text}\n`;
}

function located(w: ConfigWarning | ConfigNotice): string {
  return `${w.loc.file}:${w.loc.line}: ${w.message}`;
}

function printAlerts(err: ConfigErrors): void {
  for (const e of err.errors) process.stderr.write(configLine("ALERT", e.format()));
  process.stderr.write(configLine("ALERT", "Fatal errors found in configuration."));
}

/** `-cc EXPR`: exit 0 when true, 1 when false, 2 when it cannot be parsed (as HAProxy 2.6). */
async function conditionCheck(expr: string): Promise<void> {
  const { evalCc, CondSyntaxError } = await import("../proxy/config/index.js");
  try {
    process.exitCode = evalCc(expr, { version: HAPROXY_COMPAT_VERSION }) ? 0 : 1;
  } catch (err) {
    if (!(err instanceof CondSyntaxError)) throw err;
    process.stderr.write(configLine("ALERT", `Failed to evaluate condition: ${err.message}`));
    process.exitCode = 2;
  }
}

function printDiagnostics(result: LoadResult, quiet: boolean): void {
  if (quiet) return;
  for (const n of result.notices)
    if (n.level === "notice") process.stderr.write(configLine("NOTICE", located(n)));
  for (const w of result.warnings) process.stderr.write(configLine("WARNING", located(w)));
}

export async function runProxyCommand(opts: ProxyCommandOptions): Promise<void> {
  if (opts.cc !== undefined) {
    await conditionCheck(opts.cc);
    return;
  }
  const files = opts.file ?? [];
  if (files.length === 0)
    throw new UsageError("no configuration file: give one with -f FILE (see fulcrum proxy --help)");
  if (opts.printModern && !opts.check)
    throw new UsageError("--print-modern goes with -c (fulcrum proxy -c -f FILE --print-modern)");
  const config = await import("../proxy/config/index.js");
  let result: LoadResult;
  try {
    result = config.loadConfig(files, {
      ...(opts.local !== undefined ? { localNode: opts.local } : {}),
      version: HAPROXY_COMPAT_VERSION,
    });
  } catch (err) {
    if (!(err instanceof ConfigErrors)) throw err;
    printAlerts(err);
    process.exitCode = 1;
    return;
  }
  if (opts.check) {
    printDiagnostics(result, opts.quiet === true);
    if (opts.printModern) {
      process.stdout.write(
        config.printModern(files, opts.local !== undefined ? { localNode: opts.local } : {}),
      );
      return;
    }
    if (!opts.quiet) {
      if (result.warnings.length > 0) process.stdout.write("Warnings were found.\n");
      process.stdout.write("Configuration file is valid\n");
    }
    return;
  }
  // A running node prints the warnings itself (it may be a re-executed daemon or worker).
  const { runNode } = await import("../proxy/node-main.js");
  if (result.model.ha !== undefined) {
    const { installHa } = await import("./ha.js");
    await installHa(result.model, { debug: opts.debug === true });
  }
  await runNode(result.model, result.warnings, { ...opts, file: files });
}
