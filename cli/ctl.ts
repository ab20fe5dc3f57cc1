/**
 * `fulcrum ctl -S SOCKET COMMAND...`: one runtime API command (or several separated by `;`)
 * sent to a node's `stats socket`, the answer printed as it comes. It speaks HAProxy's
 * protocol, so it works against haproxy's socket too.
 *
 * Exit 0 when the command ran, 1 when the node answered an error (`No such server.`,
 * `Permission denied`, ...: printed on stderr) or could not be reached, 2 on a usage error.
 */
import { connect } from "node:net";
import { FulcrumError, UsageError } from "../proxy/errors.js";

/** First lines of the answers HAProxy's CLI (and ours) gives when a command failed. */
const ERROR_ANSWERS: readonly RegExp[] = [
  /^Unknown command/,
  /^Permission denied/,
  /^No such /,
  /^Require /,
  /^usage: /i,
  /expects /,
  /can only be between/,
  /too large/,
  /^Internal error/,
  /^Not supported by fulcrum/,
  /^Empty weight string/,
  /^Trailing garbage/,
  /^Relative weight must be positive/,
  /^Backend is using a static LB algorithm/,
  /^Can't find backend/,
];

/** Time allowed for the whole exchange. */
const TIMEOUT_MS = 10_000;

export function isErrorAnswer(text: string): boolean {
  const first = text.split("\n", 1)[0] ?? "";
  return ERROR_ANSWERS.some((re) => re.test(first));
}

/** Sends `line` to the socket and resolves with everything the node answered. */
export function ctlExchange(socket: string, line: string, timeoutMs = TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ path: socket });
    let out = "";
    const timer = setTimeout(() => {
      s.destroy();
      reject(new FulcrumError("FUL_RUNTIME", `no answer from ${socket} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    s.setEncoding("latin1");
    s.on("connect", () => s.write(`${line}\n`));
    s.on("data", (d: string) => {
      out += d;
    });
    s.on("end", () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why =
        err.code === "ENOENT"
          ? "no such socket (is the node running, with `stats socket` in its global section?)"
          : err.code === "ECONNREFUSED"
            ? "connection refused (nothing listens there: the node has stopped)"
            : err.code === "EACCES"
              ? "permission denied (the socket's mode does not let this user in)"
              : err.message;
      reject(new FulcrumError("FUL_RUNTIME", `cannot reach ${socket}: ${why}`));
    });
  });
}

export async function runCtlCommand(socket: string, words: string[]): Promise<void> {
  if (words.length === 0) throw new UsageError("no command given: e.g. fulcrum ctl -S SOCKET show stat");
  const answer = await ctlExchange(socket, words.join(" "));
  // Each command's answer ends with an empty line: drop the last one.
  const text = answer.endsWith("\n\n") ? answer.slice(0, -1) : answer;
  if (isErrorAnswer(text)) {
    process.stderr.write(`fulcrum: ${text.trimEnd().split("\n")[0]}\n`);
    process.exitCode = 1;
    return;
  }
  if (text !== "\n") process.stdout.write(text);
}
