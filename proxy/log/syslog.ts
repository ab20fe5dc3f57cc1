/**
 * Syslog framing as HAProxy 2.6 sends it (pure), and the thin sender that ships framed lines
 * to a proxy's `log` targets without ever blocking the request path.
 *
 * Framing, measured against haproxy 2.6 (see README.md):
 *   rfc3164 (default)  `<PRI>Nov 26 00:28:30 haproxy[6650]: LINE\n` (no hostname unless
 *                      log-send-hostname; day padded with a space; local time)
 *   rfc5424            `<PRI>1 2026-11-26T00:34:30.379971+00:00 - haproxy 6650 - - LINE\n`
 *   short              `<LEVEL>LINE\n` (no facility)
 *   raw                `LINE\n`
 * PRI = facility * 8 + level. A message more verbose than the target's max level is not
 * sent; one more severe than its min level is raised to it. The message (header included)
 * is cut at `len` bytes (default 1024); network targets then add `\n`, stdout/stderr count
 * the `\n` inside `len`.
 */
import { createSocket, type Socket as DgramSocket } from "node:dgram";
import { lookup } from "node:dns";
import { createWriteStream, type WriteStream } from "node:fs";
import { createConnection, isIP, type Socket } from "node:net";
import type { LogTarget } from "../config/model.js";
import { rfc5424Date, syslogDate } from "./date.js";

export const SYSLOG_LEVELS = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"] as const;
export type SyslogLevelName = (typeof SYSLOG_LEVELS)[number];

/** Level numbers by name: `LOG_LEVEL.info` is 6. */
export const LOG_LEVEL: Readonly<Record<SyslogLevelName, number>> = Object.fromEntries(
  SYSLOG_LEVELS.map((n, i) => [n, i]),
) as Record<SyslogLevelName, number>;

export const DEFAULT_LOG_LEN = 1024;

/** Who sends: the tag (`log-tag`, default "haproxy"), the pid, and an optional hostname. */
export interface SyslogIdentity {
  readonly tag: string;
  readonly pid: number;
  /** `log-send-hostname`: written after the date in rfc3164, in the HOSTNAME field in rfc5424. */
  readonly hostname?: string;
}

/** The level the target receives this message at, or -1 when the target drops it. */
export function targetLevel(t: Pick<LogTarget, "maxLevel" | "minLevel">, level: number): number {
  if (level > t.maxLevel) return -1;
  return Math.max(level, t.minLevel);
}

type HeaderFn = (t: LogTarget, level: number, now: number, id: SyslogIdentity) => string;

const HEADERS: Readonly<Record<LogTarget["format"], HeaderFn>> = {
  rfc3164: (t, level, now, id) =>
    `<${t.facility * 8 + level}>${syslogDate(now)} ${id.hostname ? `${id.hostname} ` : ""}${id.tag}[${id.pid}]: `,
  rfc5424: (t, level, now, id) =>
    `<${t.facility * 8 + level}>1 ${rfc5424Date(now)} ${id.hostname || "-"} ${id.tag} ${id.pid} - - `,
  short: (_t, level) => `<${level}>`,
  raw: () => "",
};

/** Whether `\n` counts inside `len` (HAProxy's fd targets) or is added after it (network). */
const NEWLINE_INSIDE_LEN: Readonly<Record<LogTarget["kind"], boolean>> = {
  udp: false,
  unix: false,
  stdout: true,
  stderr: true,
};

/**
 * The exact bytes one target receives for one log line, or null when its level filter drops
 * it. Pure: the clock is a parameter.
 */
export function frameLog(
  t: LogTarget,
  level: number,
  line: string,
  now: number,
  id: SyslogIdentity,
): Buffer | null {
  const lvl = targetLevel(t, level);
  if (lvl < 0) return null;
  const text = HEADERS[t.format](t, lvl, now, id) + line;
  const max = (t.len ?? DEFAULT_LOG_LEN) - (NEWLINE_INSIDE_LEN[t.kind] ? 1 : 0);
  const body = Buffer.from(text, "utf8");
  const cut = body.length > max ? body.subarray(0, Math.max(0, max)) : body;
  const out = Buffer.allocUnsafe(cut.length + 1);
  cut.copy(out, 0);
  out[cut.length] = 0x0a;
  return out;
}

// ---- transports -------------------------------------------------------------------------

/** Counts shared by every sender of a hub (and shown by `show info`-like commands). */
export interface LogCounters {
  sent: number;
  dropped: number;
}

interface Transport {
  write(buf: Buffer): void;
  close(): Promise<void>;
}

/** Messages kept while a target is being resolved or connected; beyond, they are dropped. */
const PENDING_MAX = 256;
/** UDP datagrams handed to the kernel but not yet confirmed; beyond, new ones are dropped. */
const INFLIGHT_MAX = 4096;
/** Bytes waiting on a slow stdout/stderr reader before new lines are dropped. */
const STREAM_BACKLOG_MAX = 1 << 20;
/** Wait before trying a failed unix stream socket again. */
const UNIX_RETRY_MS = 1000;

class UdpTransport implements Transport {
  private address: string | undefined;
  private pending: Buffer[] | undefined;
  private inflight = 0;

  constructor(
    private readonly hub: LogHub,
    host: string,
    private readonly port: number,
  ) {
    if (isIP(host) !== 0) {
      this.address = host;
      return;
    }
    // A host name is resolved once; lines logged meanwhile wait (bounded).
    this.pending = [];
    lookup(host, (err, address) => {
      const waiting = this.pending ?? [];
      this.pending = undefined;
      if (err) {
        this.hub.warn(`log server ${host}: ${err.message}; its messages are dropped`);
        this.hub.counters.dropped += waiting.length;
        return;
      }
      this.address = address;
      for (const b of waiting) this.write(b);
    });
  }

  write(buf: Buffer): void {
    if (this.address === undefined) {
      if (this.pending !== undefined && this.pending.length < PENDING_MAX) this.pending.push(buf);
      else this.hub.counters.dropped++;
      return;
    }
    if (this.inflight >= INFLIGHT_MAX) {
      this.hub.counters.dropped++;
      return;
    }
    const sock = this.hub.udpSocket(isIP(this.address) === 6 ? 6 : 4);
    this.inflight++;
    try {
      sock.send(buf, this.port, this.address, (err) => {
        this.inflight--;
        if (err) this.hub.counters.dropped++;
        else this.hub.counters.sent++;
      });
    } catch {
      // A closed hub or an address the kernel refuses at once: never the request's problem.
      this.inflight--;
      this.hub.counters.dropped++;
    }
  }

  async close(): Promise<void> {}
}

class FdTransport implements Transport {
  private readonly stream: WriteStream;

  constructor(
    private readonly hub: LogHub,
    fd: 1 | 2,
  ) {
    // Our own stream on the fd: asynchronous even where process.stdout would block.
    this.stream = createWriteStream("", { fd, autoClose: false });
    this.stream.on("error", () => {
      this.hub.counters.dropped++;
    });
  }

  write(buf: Buffer): void {
    if (this.stream.destroyed || this.stream.writableLength > STREAM_BACKLOG_MAX) {
      this.hub.counters.dropped++;
      return;
    }
    this.stream.write(buf);
    this.hub.counters.sent++;
  }

  close(): Promise<void> {
    // Flushes what is queued; the fd itself stays open (autoClose is off).
    return new Promise((res) => {
      if (this.stream.destroyed) return res();
      this.stream.once("error", () => res());
      this.stream.end(() => res());
    });
  }
}

/**
 * Unix socket target. Node's standard library has no AF_UNIX datagram sockets, so this
 * connects as a stream socket (syslog-ng `unix-stream`, rsyslog with a stream input): one
 * line per message. A datagram-only socket such as systemd's /dev/log refuses the
 * connection (EPROTOTYPE): that is reported once and its messages are counted as dropped.
 */
class UnixStreamTransport implements Transport {
  private sock: Socket | undefined;
  private connected = false;
  private pending: Buffer[] = [];
  private retryAt = 0;
  private unsupported = false;
  private closed = false;

  constructor(
    private readonly hub: LogHub,
    private readonly path: string,
  ) {}

  private connect(): void {
    const now = this.hub.now();
    if (this.sock !== undefined || now < this.retryAt || this.closed) return;
    const sock = createConnection({ path: this.path });
    this.sock = sock;
    sock.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPROTOTYPE" && !this.unsupported) {
        this.unsupported = true;
        this.hub.warn(
          `log ${this.path}: a datagram socket, which Node.js cannot write to; its messages are dropped`,
        );
      }
      this.drop();
    });
    sock.on("close", () => this.drop());
    sock.on("connect", () => {
      this.connected = true;
      const waiting = this.pending;
      this.pending = [];
      for (const b of waiting) this.write(b);
    });
    sock.unref();
  }

  private drop(): void {
    this.hub.counters.dropped += this.pending.length;
    this.pending = [];
    this.sock?.destroy();
    this.sock = undefined;
    this.connected = false;
    this.retryAt = this.hub.now() + UNIX_RETRY_MS;
  }

  write(buf: Buffer): void {
    if (this.unsupported || this.closed) {
      this.hub.counters.dropped++;
      return;
    }
    if (!this.connected || this.sock === undefined) {
      this.connect();
      if (this.sock !== undefined && this.pending.length < PENDING_MAX) this.pending.push(buf);
      else this.hub.counters.dropped++;
      return;
    }
    if (this.sock.writableLength > STREAM_BACKLOG_MAX) {
      this.hub.counters.dropped++;
      return;
    }
    this.sock.write(buf);
    this.hub.counters.sent++;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.sock?.end();
    this.sock = undefined;
  }
}

// ---- hub and senders --------------------------------------------------------------------

export interface LogHubOptions extends SyslogIdentity {
  /** Clock for headers (injected in tests). */
  readonly now?: () => number;
  /** One-line problems (an unresolvable host, an unusable socket), reported once each. */
  readonly warn?: (line: string) => void;
}

/**
 * Owns the sockets every proxy's sender shares: one UDP socket per address family, one
 * stream per fd or unix path. Created once per node; `close()` when the node stops.
 */
export class LogHub {
  readonly counters: LogCounters = { sent: 0, dropped: 0 };
  readonly id: SyslogIdentity;
  readonly now: () => number;
  private readonly warnFn: ((line: string) => void) | undefined;
  private readonly warned = new Set<string>();
  private readonly udp: { 4?: DgramSocket; 6?: DgramSocket } = {};
  private readonly transports = new Map<string, Transport>();

  constructor(opts: LogHubOptions) {
    this.id = { tag: opts.tag, pid: opts.pid, ...(opts.hostname ? { hostname: opts.hostname } : {}) };
    this.now = opts.now ?? Date.now;
    this.warnFn = opts.warn;
  }

  warn(line: string): void {
    if (this.warned.has(line)) return;
    this.warned.add(line);
    this.warnFn?.(line);
  }

  udpSocket(family: 4 | 6): DgramSocket {
    let s = this.udp[family];
    if (s === undefined) {
      s = createSocket(family === 6 ? "udp6" : "udp4");
      s.on("error", () => {
        this.counters.dropped++;
      });
      s.unref();
      this.udp[family] = s;
    }
    return s;
  }

  private transport(t: LogTarget): Transport {
    const key =
      t.kind === "udp" ? `udp:${t.host}:${t.port ?? 514}` : t.kind === "unix" ? `unix:${t.path}` : t.kind;
    let tr = this.transports.get(key);
    if (tr === undefined) {
      tr = TRANSPORTS[t.kind](this, t);
      this.transports.set(key, tr);
    }
    return tr;
  }

  /** A sender for one proxy's targets (`log global` already resolved by the caller). */
  sender(targets: readonly LogTarget[]): LogSender {
    return new LogSender(
      this,
      targets.map((t) => ({ target: t, transport: this.transport(t) })),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.transports.values()].map((t) => t.close()));
    this.transports.clear();
    for (const f of [4, 6] as const) {
      const s = this.udp[f];
      if (s !== undefined) {
        delete this.udp[f];
        await new Promise<void>((res) => s.close(() => res()));
      }
    }
  }
}

const TRANSPORTS: Readonly<Record<LogTarget["kind"], (hub: LogHub, t: LogTarget) => Transport>> = {
  udp: (hub, t) => new UdpTransport(hub, t.host ?? "127.0.0.1", t.port ?? 514),
  unix: (hub, t) => new UnixStreamTransport(hub, t.path ?? "/dev/log"),
  stdout: (hub) => new FdTransport(hub, 1),
  stderr: (hub) => new FdTransport(hub, 2),
};

/** Sends a proxy's log lines to each of its targets. Never throws, never waits. */
export class LogSender {
  constructor(
    private readonly hub: LogHub,
    private readonly targets: readonly { readonly target: LogTarget; readonly transport: Transport }[],
  ) {}

  /** True when at least one target would receive a message at `level`. */
  wants(level: number): boolean {
    return this.targets.some((t) => targetLevel(t.target, level) >= 0);
  }

  send(level: number, line: string): void {
    if (this.targets.length === 0) return;
    const now = this.hub.now();
    for (const { target, transport } of this.targets) {
      const buf = frameLog(target, level, line, now, this.hub.id);
      if (buf !== null) transport.write(buf);
    }
  }
}
