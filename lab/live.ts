/**
 * The foreground `lab up`: a status view that updates in place until Ctrl-C (or `lab down`
 * from another terminal), then everything the lab started is stopped.
 */

import { stopLab } from "./ops.js";
import { renderView } from "./render.js";
import { type LabState, labExists, readState } from "./state.js";
import { gatherView } from "./view.js";

export interface LiveOptions {
  readonly out: NodeJS.WriteStream;
  readonly progress: (line: string) => void;
  readonly everyMs?: number;
}

/** Runs until SIGINT/SIGTERM or until the lab's state disappears; stops the lab on a signal. */
export async function runLive(state: LabState, opts: LiveOptions): Promise<void> {
  const tty = opts.out.isTTY === true;
  let stopRequested = false;
  let wake: (() => void) | undefined;
  const onSignal = () => {
    stopRequested = true;
    wake?.();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let shownLines = 0;
  let lastText = "";
  let lastReq: { n: number; t: number } | undefined;
  try {
    while (!stopRequested) {
      if (!labExists(state.dir)) {
        opts.progress("the lab was stopped from elsewhere (lab down): leaving");
        return;
      }
      const current = readState(state.dir) ?? state;
      const view = await gatherView(current);
      const now = Date.now();
      let rate: number | undefined;
      if (view.facts) {
        if (lastReq && now > lastReq.t) rate = ((view.facts.requests - lastReq.n) * 1000) / (now - lastReq.t);
        lastReq = { n: view.facts.requests, t: now };
      }
      const text = `${renderView(view, rate)}\n(Ctrl-C stops the lab)`;
      if (tty) {
        if (shownLines > 0) opts.out.write(`\x1b[${shownLines}A\r\x1b[J`);
        opts.out.write(`${text}\n`);
        shownLines = text.split("\n").length;
      } else if (stripCounters(text) !== stripCounters(lastText)) {
        opts.out.write(`${new Date().toISOString()}\n${text}\n`);
      }
      lastText = text;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, opts.everyMs ?? 1000);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    opts.progress("stopping the lab");
    const latest = readState(state.dir);
    if (latest) {
      const left = await stopLab(latest, opts.progress);
      if (left.length > 0) opts.progress(`still running: ${left.join(", ")}`);
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** Without a terminal, print only when something other than the counters changed. */
function stripCounters(text: string): string {
  return text.replace(/^requests .*$/m, "");
}
