/**
 * `fulcrum web-demo`: checks its flags, runs the demo web server, and stops it gracefully on
 * SIGTERM or SIGINT (stop accepting, finish in-flight requests, close the store, exit 0).
 */
import { UsageError } from "../proxy/errors.js";
import type { Logger } from "../web-demo/app.js";
import { parseRedisUrl, redactUrl, resolveSecret, STORE_KINDS, type StoreKind } from "../web-demo/config.js";
import { startWebDemo } from "../web-demo/server.js";

export interface WebDemoFlags {
  name: string;
  port: number;
  host: string;
  store: StoreKind;
  redisUrl?: string;
  secret: string;
  secretWarning?: string;
}

/** Flags and environment to settings; every mistake is a UsageError (exit 2). Pure. */
export function parseWebDemoFlags(opts: Record<string, unknown>, env: NodeJS.ProcessEnv): WebDemoFlags {
  const store = String(opts.store ?? "memory");
  if (!(STORE_KINDS as readonly string[]).includes(store)) {
    throw new UsageError(`unknown --store "${store}": use --store memory or --store redis`);
  }
  const name = String(opts.name ?? "");
  if (name.trim() === "") throw new UsageError("--name is empty: give the server a name such as web1");
  const redisUrl = typeof opts.redis === "string" && opts.redis !== "" ? opts.redis : undefined;
  // --redis is accepted (and unused) with the memory store: one command line serves both modes.
  if (store === "redis") {
    if (redisUrl === undefined)
      throw new UsageError("--store redis needs --redis URL, e.g. --redis redis://127.0.0.1:6379");
    try {
      parseRedisUrl(redisUrl);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  let resolved: ReturnType<typeof resolveSecret>;
  try {
    resolved = resolveSecret(
      typeof opts.secret === "string" ? opts.secret : undefined,
      env.FULCRUM_SESSION_SECRET,
    );
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return {
    name,
    port: Number(opts.port),
    host: typeof opts.host === "string" ? opts.host : "127.0.0.1",
    store: store as StoreKind,
    ...(redisUrl !== undefined && { redisUrl }),
    secret: resolved.secret,
    ...(resolved.warning !== undefined && { secretWarning: resolved.warning }),
  };
}

function cliLogger(name: string): Logger {
  const line = (text: string) => `${new Date().toISOString()} ${name}: ${text}\n`;
  return {
    info: (text) => process.stdout.write(line(text)),
    warn: (text) => process.stderr.write(line(text)),
  };
}

export async function runWebDemoCommand(opts: Record<string, unknown>): Promise<void> {
  const flags = parseWebDemoFlags(opts, process.env);
  const logger = cliLogger(flags.name);
  if (flags.secretWarning !== undefined) logger.warn(flags.secretWarning);
  const running = await startWebDemo({
    name: flags.name,
    port: flags.port,
    host: flags.host,
    store: flags.store,
    secret: flags.secret,
    logger,
    ...(flags.store === "redis" && flags.redisUrl !== undefined && { redisUrl: flags.redisUrl }),
  });
  const storeText =
    flags.store === "redis" && flags.redisUrl !== undefined ? `redis ${redactUrl(flags.redisUrl)}` : "memory";
  logger.info(`listening on ${running.url} (store ${storeText}, pid ${process.pid})`);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.info(`${signal} again: cutting ${running.inFlight()} in-flight request(s)`);
      running.server.closeAllConnections();
      return;
    }
    logger.info(`${signal}: no new connections, finishing ${running.inFlight()} in-flight request(s)`);
    running.stop().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        logger.warn(`stop failed: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
