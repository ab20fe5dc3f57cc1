/**
 * One place that turns an error into a one-line message on stderr and an exit code:
 * 0 ok, 1 configuration or runtime error, 2 usage error.
 */
import { CommanderError } from "commander";
import { ConfigError, ConfigErrors, FulcrumError, UsageError } from "../proxy/errors.js";

export function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  if (err instanceof UsageError) return 2;
  return 1;
}

export function exitWith(err: unknown): never {
  if (err instanceof CommanderError) {
    // commander already printed its message (or the help / version).
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  if (err instanceof ConfigErrors) {
    for (const e of err.errors) process.stderr.write(`[ALERT] ${e.format()}\n`);
  } else if (err instanceof ConfigError) {
    process.stderr.write(`[ALERT] ${err.format()}\n`);
  } else if (err instanceof FulcrumError) {
    process.stderr.write(`fulcrum: ${err.message}\n`);
  } else if (err instanceof Error) {
    process.stderr.write(`fulcrum: ${err.message}\n`);
  } else {
    process.stderr.write(`fulcrum: ${String(err)}\n`);
  }
  process.exit(exitCodeFor(err));
}
