/**
 * The lab's HTTP client: one request on a fresh connection (as a browser behind `option
 * httpclose` does), a deadline, and every failure turned into a short kind the drills
 * count (refused, reset, timeout, ...). Loopback only.
 */
import { request } from "node:http";

export type NetFailure = "refused" | "reset" | "timeout" | "error";

export type HttpResult =
  | {
      readonly ok: true;
      readonly status: number;
      readonly headers: Readonly<Record<string, string | string[] | undefined>>;
      readonly body: string;
      readonly ms: number;
    }
  | { readonly ok: false; readonly failure: NetFailure; readonly message: string; readonly ms: number };

export interface HttpOptions {
  readonly host?: string;
  readonly port: number;
  readonly path: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Whole exchange deadline (default 2000 ms). */
  readonly timeoutMs?: number;
}

const FAILURE_BY_CODE: Readonly<Record<string, NetFailure>> = {
  ECONNREFUSED: "refused",
  ECONNRESET: "reset",
  EPIPE: "reset",
  ETIMEDOUT: "timeout",
};

export function failureOf(err: NodeJS.ErrnoException): NetFailure {
  if (err.code !== undefined && FAILURE_BY_CODE[err.code]) return FAILURE_BY_CODE[err.code]!;
  if (/socket hang up/i.test(err.message)) return "reset";
  return "error";
}

export function httpRequest(opts: HttpOptions): Promise<HttpResult> {
  const started = performance.now();
  const timeoutMs = opts.timeoutMs ?? 2000;
  return new Promise<HttpResult>((resolve) => {
    let done = false;
    const finish = (r: HttpResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.body !== undefined) headers["content-length"] = String(Buffer.byteLength(opts.body));
    const req = request({
      host: opts.host ?? "127.0.0.1",
      port: opts.port,
      path: opts.path,
      method: opts.method ?? "GET",
      headers,
      agent: false,
    });
    const timer = setTimeout(() => {
      finish({ ok: false, failure: "timeout", message: `no answer within ${timeoutMs} ms`, ms: timeoutMs });
      req.destroy();
    }, timeoutMs);
    req.on("error", (err: NodeJS.ErrnoException) =>
      finish({ ok: false, failure: failureOf(err), message: err.message, ms: performance.now() - started }),
    );
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", (err: NodeJS.ErrnoException) =>
        finish({ ok: false, failure: failureOf(err), message: err.message, ms: performance.now() - started }),
      );
      res.on("end", () =>
        finish({
          ok: true,
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          ms: performance.now() - started,
        }),
      );
    });
    req.end(opts.body);
  });
}
