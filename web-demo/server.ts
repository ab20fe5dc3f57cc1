/**
 * The web-demo as a listening server, with a graceful stop: stop accepting, let in-flight
 * requests finish (closing each keep-alive connection as it goes idle), then close the store.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { FulcrumError } from "../proxy/errors.js";
import { createApp, type WebDemo, type WebDemoOptions } from "./app.js";

export interface ListenOptions extends WebDemoOptions {
  /** 0 picks a free port (read it back from `port`). */
  port: number;
  host?: string;
  /** How long the first connection to Redis may take before listening anyway (default 2000 ms). */
  storeWaitMs?: number;
  /** In-flight requests still running after this long are cut at stop (default 10000 ms). */
  drainTimeoutMs?: number;
}

export interface RunningWebDemo {
  readonly demo: WebDemo;
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** Requests being served right now. */
  inFlight(): number;
  /** Graceful stop; resolves once every connection is closed and the store is closed. */
  stop(): Promise<void>;
}

export async function startWebDemo(opts: ListenOptions): Promise<RunningWebDemo> {
  const demo = createApp(opts);
  const host = opts.host ?? "127.0.0.1";
  const active = new Set<ServerResponse>();
  let stopping = false;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    active.add(res);
    if (stopping) res.setHeader("Connection", "close");
    res.once("close", () => {
      active.delete(res);
      if (stopping) server.closeIdleConnections();
    });
    demo.app(req, res);
  });
  server.on("clientError", (_err, socket) => {
    if (socket.writable)
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    else socket.destroy();
  });

  // Listen once the store answered (or visibly failed, or the wait ran out): a server that
  // accepts before its sessions work would fail its first requests for no reason.
  await demo.storeReady(opts.storeWaitMs ?? 2000);
  try {
    await listen(server, opts.port, host);
  } catch (err) {
    await demo.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      stopping = true;
      // Responses still to come tell their client this connection ends with them.
      for (const res of active) if (!res.headersSent) res.setHeader("Connection", "close");
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const cut = setTimeout(() => server.closeAllConnections(), opts.drainTimeoutMs ?? 10_000);
      await closed;
      clearTimeout(cut);
      await demo.close();
    })();
    return stopped;
  };

  return {
    demo,
    server,
    host,
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    inFlight: () => active.size,
    stop,
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(
        new FulcrumError("FUL_BIND", `cannot listen on ${host}:${port}: ${err.code ?? err.message}`, 500, {
          cause: err,
        }),
      );
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}
