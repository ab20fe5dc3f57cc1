#!/usr/bin/env node
/**
 * The `fulcrum` command. Thin: parse flags, then load the one part that does the work (each
 * subcommand is imported lazily so that `fulcrum proxy` starts fast: failover and reload
 * start processes).
 */
import { Command, CommanderError } from "commander";
import { normaliseHaproxyArgs } from "./argv.js";
import { exitWith } from "./exit.js";
import { VERSION } from "./version.js";

const program = new Command();
program
  .name("fulcrum")
  .description("High-availability HTTP load balancer that reads HAProxy's configuration language")
  .version(VERSION, "-v, --version", "print the version and exit")
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

program
  .command("proxy")
  .description("run a proxy node (HAProxy-compatible flags)")
  .option(
    "-f, --file <FILE>",
    "configuration file (repeatable; a directory loads its *.cfg files)",
    collect,
    [],
  )
  .option("-c, --check", "check the configuration and exit (0 valid, 1 errors)")
  .option("--print-modern", "with -c: print the configuration in modern syntax")
  .option("--db", "stay in the foreground (HAProxy's -db)")
  .option("-d, --debug", "foreground with debug output")
  .option("-D, --daemon", "detach from the terminal")
  .option("-W, --master-worker", "master process that owns the sockets and reloads the worker on SIGUSR2")
  .option("-p, --pidfile <PIDFILE>", "write the pid (of the master with -W) to this file")
  .option("-L, --local <NAME>", "name of this node in the ha section (default: the host name)")
  .option("--sf <PID...>", "ask these processes to finish their work and stop once this one runs")
  .option("--st <PID...>", "ask these processes to stop at once once this one runs")
  .option("--cc <EXPR>", "evaluate a condition such as version_atleast(2.4); exit 0 when true")
  .option("-q, --quiet", "print nothing at start-up")
  .option("-V, --verbose", "verbose start-up")
  .action(async (opts) => {
    const { runProxyCommand } = await import("./proxy.js");
    await runProxyCommand(opts);
  });

program
  .command("ctl")
  .description("talk to a running node's runtime API (show stat, set server ..., show ha)")
  .requiredOption("-S, --socket <SOCKET>", "path of the stats socket")
  .argument("<command...>", "the runtime API command")
  .action(async (words: string[], opts) => {
    const { runCtlCommand } = await import("./ctl.js");
    await runCtlCommand(opts.socket, words);
  });

program
  .command("web-demo")
  .description("the demo web application (sessions in memory or in Redis)")
  .requiredOption("--name <NAME>", "server name shown on pages, e.g. web1")
  .requiredOption("--port <PORT>", "port to listen on", parsePort)
  .option("--host <HOST>", "address to listen on", "127.0.0.1")
  .option("--store <STORE>", "session store: memory or redis", "memory")
  .option("--redis <URL>", "Redis URL for --store redis (redis:// or redis-sentinel://)")
  .option("--secret <S>", "session cookie secret (default: $FULCRUM_SESSION_SECRET or a demo value)")
  .action(async (opts) => {
    const { runWebDemoCommand } = await import("./web-demo.js");
    await runWebDemoCommand(opts);
  });

program
  .command("lab")
  .description("run the whole topology on this machine and drill failures")
  .argument("<action...>", "up|status|down|start NODE|kill NODE|logs NODE|drill KIND|chaos")
  .allowUnknownOption(true)
  .helpOption(false)
  .action(async (words: string[], _opts, cmd: Command) => {
    const { runLabCommand } = await import("./lab.js");
    await runLabCommand([...words, ...cmd.args.slice(words.length)]);
  });

program
  .command("bench")
  .description("compare fulcrum with HAProxy, nginx and a direct connection (or measure failover)")
  .option("--quick", "a short run")
  .option("--targets <LIST>", "comma-separated, default all: fulcrum,haproxy,nginx,direct")
  .option("--json", "print the result as JSON")
  .option("--failover", "measure the HA pair's failover gap instead (bench/failover)")
  .option("--signal <SIG>", "with --failover: KILL or USR1 sent to the active node")
  .option("--reps <N>", "with --failover: repetitions (default 20)")
  .action(async (opts) => {
    const { runBenchCommand } = await import("./bench.js");
    await runBenchCommand(opts);
  });

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new CommanderError(2, "fulcrum.port", `invalid port "${value}": give a number from 0 to 65535`);
  }
  return n;
}

try {
  await program.parseAsync(normaliseHaproxyArgs(process.argv.slice(2)), { from: "user" });
} catch (err) {
  exitWith(err);
}
