/**
 * `fulcrum bench`: throughput against HAProxy, nginx and a direct connection, or with
 * --failover the HA pair's failover gap. Thin: check the flags, call bench/, print.
 * Progress goes to stderr; with --json stdout holds only the JSON document.
 */
import { projectRoot } from "../lab/state.js";
import { UsageError } from "../proxy/errors.js";

export interface BenchCommandOptions {
  quick?: boolean;
  targets?: string;
  json?: boolean;
  failover?: boolean;
  signal?: string;
  reps?: string;
  [flag: string]: unknown;
}

const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);

function commandLine(opts: BenchCommandOptions): string {
  const words = ["fulcrum", "bench"];
  if (opts.failover) words.push("--failover", "--signal", opts.signal ?? "KILL", "--reps", opts.reps ?? "20");
  else {
    if (opts.quick) words.push("--quick");
    if (opts.targets !== undefined) words.push("--targets", opts.targets);
  }
  if (opts.json) words.push("--json");
  return words.join(" ");
}

async function throughput(opts: BenchCommandOptions, root: string): Promise<void> {
  if (opts.signal !== undefined || opts.reps !== undefined) {
    throw new UsageError("--signal and --reps go with --failover (fulcrum bench --failover --signal USR1)");
  }
  const { parseTargets } = await import("../bench/plan.js");
  const targets = parseTargets(opts.targets ?? "fulcrum,haproxy,nginx,direct");
  const { runThroughput } = await import("../bench/throughput.js");
  const { renderReport } = await import("../bench/report.js");
  const { writeLatest } = await import("../bench/results.js");
  const report = await runThroughput({
    targets,
    quick: opts.quick === true,
    root,
    command: commandLine(opts),
    progress,
  });
  const file = writeLatest(root, "throughput", report);
  if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(renderReport(report));
  progress(`results written to ${file}`);
}

async function failover(opts: BenchCommandOptions, root: string): Promise<void> {
  if (opts.quick || opts.targets !== undefined) {
    throw new UsageError("--quick and --targets are for the throughput run, not --failover");
  }
  const { parseFailoverOptions, runFailover, renderFailover } = await import("../bench/failover.js");
  const { writeLatest } = await import("../bench/results.js");
  const parsed = parseFailoverOptions(opts.signal, opts.reps);
  const report = await runFailover({ ...parsed, root, command: commandLine(opts), progress });
  if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(renderFailover(report));
  if (report.failure !== undefined) {
    progress("results not written: the run did not finish");
    process.exitCode = 1;
    return;
  }
  progress(`results written to ${writeLatest(root, "failover", report, report.signal)}`);
}

export async function runBenchCommand(opts: BenchCommandOptions): Promise<void> {
  const root = projectRoot();
  await (opts.failover ? failover(opts, root) : throughput(opts, root));
}
