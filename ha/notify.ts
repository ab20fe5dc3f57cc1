/**
 * `notify SCRIPT`: run on every transition with keepalived's arguments
 * (`INSTANCE <name> <MASTER|BACKUP|FAULT|STOP> <priority>`). It never blocks a transition:
 * the script runs in the background with a timeout, and a failure is logged.
 */
import { spawn } from "node:child_process";
import type { NotifyState } from "./election.js";

export interface NotifyOutcome {
  readonly ok: boolean;
  /** Exit code, signal name, or the spawn error code. */
  readonly result: string;
}

export function runNotify(
  script: string,
  args: { readonly name: string; readonly state: NotifyState; readonly priority: number },
  opts: { readonly timeout: number; readonly log: (level: "info" | "warn", message: string) => void },
): Promise<NotifyOutcome> {
  return new Promise((resolve) => {
    const argv = ["INSTANCE", args.name, args.state, String(args.priority)];
    const what = `notify ${script} ${argv.join(" ")}`;
    let done = false;
    const finish = (ok: boolean, result: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (!ok) opts.log("warn", `${what} failed: ${result}`);
      resolve({ ok, result });
    };
    const child = spawn(script, argv, { stdio: "ignore" });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish(false, `no exit after ${opts.timeout} ms, killed`);
    }, opts.timeout);
    timer.unref();
    child.once("error", (err: NodeJS.ErrnoException) => finish(false, err.code ?? err.message));
    child.once("exit", (code, signal) => {
      if (signal !== null) finish(false, `killed by ${signal}`);
      else finish(code === 0, `exit code ${code}`);
    });
  });
}
