/**
 * The HA pair as users run it: one configuration file, two real `fulcrum proxy -db -f FILE
 * -L lbN` processes on one host (`takeover bind`, both on the same service port), a real
 * redis-server, two echo upstreams. What a test reads is what an operator reads: each node's
 * stats page (its own `keep-bound` listener: the HA block, the CSV) and its log lines.
 *
 * - `startPair()` plans the ports and writes the file; `pair.start("lb1")` runs a node.
 * - `pair.roles()` reads both HA blocks; `pair.expectRoles({...})` waits until they say so.
 * - `load(port)` is a client sending a request every 10 ms on a fresh connection (bounded in
 *   count and time) that records who answered and, for a failure, whether the request had
 *   been sent (a refused connection sent nothing).
 * - `masterPeriods()` parses "serving as MASTER from X" / "stopped serving as MASTER at Y";
 *   `assertNeverTwoMasters()` checks that no two of them overlap.
 *
 * Needs `npm run build` first (dist/cli/main.js), like every CLI test.
 */
import { writeFileSync } from "node:fs";
import { type Agent, request } from "node:http";
import { join } from "node:path";
import { onTestFailed, onTestFinished } from "vitest";
import { type EchoServer, startEcho } from "../helpers/echo.js";
import {
  isGone,
  type Proc,
  type RedisServer,
  runCli,
  spawnCli,
  stablePort,
  startRedis,
  tempDir,
  waitFor,
} from "../helpers/index.js";

export type NodeName = "lb1" | "lb2";
export const NODES: readonly NodeName[] = ["lb1", "lb2"];
export const PRIORITY: Record<NodeName, number> = { lb1: 150, lb2: 100 };

export interface PairOptions {
  readonly preempt?: "on" | "off";
  readonly fence?: "kill" | "off";
  readonly notify?: string;
  /** Extra lines in the `listen service` section (persistence, ...). */
  readonly service?: readonly string[];
  /** Extra lines in the `ha` section. */
  readonly ha?: readonly string[];
}

export interface HaView {
  readonly node: string;
  readonly role: string;
  readonly priority: number;
  readonly epoch: number;
  readonly peer?: { readonly name: string; readonly role: string; readonly advertAge: string };
  readonly mismatch: boolean;
}

export interface RunningNode {
  readonly name: NodeName;
  readonly proc: Proc;
  /** Everything it logged (stderr, where fulcrum writes its notices, then stdout). */
  log(): string;
  /** Wall-clock ms of the signal that ended it when the test killed it (SIGKILL/SIGSTOP). */
  deadAt?: number;
}

export interface Answer {
  /** Wall-clock ms when the request was started and when it ended. */
  readonly at: number;
  readonly end: number;
  /** ok, http-NNN, refused (nothing sent), reset, timeout (sent, no answer). */
  readonly kind: string;
  /** Which node forwarded it (the X-LB-<node> header it adds), which server answered. */
  readonly lb?: string;
  readonly server?: string;
}

const CLIENT_EVERY_MS = 10;

export class Pair {
  readonly dir: string;
  readonly cfgPath: string;
  readonly nodes = new Map<NodeName, RunningNode>();
  /** Every node process started, restarts included, for the MASTER-period check. */
  readonly history: RunningNode[] = [];

  constructor(
    readonly haName: string,
    readonly redis: RedisServer,
    readonly servicePort: number,
    readonly statsPorts: Record<NodeName, number>,
    readonly peerPorts: Record<NodeName, number>,
    readonly web: readonly EchoServer[],
    readonly opts: PairOptions,
    dir: string,
  ) {
    this.dir = dir;
    this.cfgPath = join(dir, "pair.cfg");
    writeFileSync(this.cfgPath, this.config());
  }

  /** The one file both nodes run; `-L` picks each node's stats listener. */
  config(extraComment = ""): string {
    const o = this.opts;
    const stats = (n: NodeName, first: boolean) => [
      `${first ? ".if" : ".elif"} streq("\${HAPROXY_LOCALPEER}",${n})`,
      "listen node_stats",
      `    bind 127.0.0.1:${this.statsPorts[n]}`,
      "    stats enable",
      "    stats uri /stats",
    ];
    return [
      `# the HA pair of a test${extraComment}`,
      "global",
      "    maxconn 4096",
      // Each node's runtime API: fulcrum ctl -S DIR/lbN.sock ...
      `    stats socket "${this.dir}/\${HAPROXY_LOCALPEER}.sock" mode 600 level admin`,
      "",
      "defaults",
      "    mode http",
      "    timeout connect 1s",
      "    timeout client 10s",
      "    timeout server 10s",
      "",
      "listen service",
      `    bind 127.0.0.1:${this.servicePort}`,
      "    balance roundrobin",
      // Which node forwarded a request: the header name says it (X-LB-lb1: 127.0.0.1).
      `    option forwardfor header "X-LB-\${HAPROXY_LOCALPEER}"`,
      ...(o.service ?? []).map((l) => `    ${l}`),
      ...this.web.map((w) => `    server ${w.name} 127.0.0.1:${w.port}`),
      "",
      ...stats("lb1", true),
      ...stats("lb2", false),
      ".endif",
      "",
      `ha ${this.haName}`,
      `    redis ${this.redis.url}`,
      ...NODES.map((n) => `    peer ${n} 127.0.0.1:${this.peerPorts[n]} priority ${PRIORITY[n]}`),
      "    advert-interval 100ms",
      "    lease-time 300ms",
      // The test machine is shared (2 cores, other suites): a scheduling pause of 80 ms is
      // noise there, not a dying node. The serve gate still checks the lease deadline.
      "    stall-threshold 250ms",
      `    preempt ${o.preempt ?? "off"}`,
      "    takeover bind",
      `    fence ${o.fence ?? "kill"}`,
      "    keep-bound node_stats",
      ...(o.notify !== undefined ? [`    notify ${o.notify}`] : []),
      ...(o.ha ?? []).map((l) => `    ${l}`),
      "",
    ].join("\n");
  }

  node(name: NodeName): RunningNode {
    const n = this.nodes.get(name);
    if (n === undefined) throw new Error(`${name} is not running`);
    return n;
  }

  /** Starts `fulcrum proxy -db -f FILE -L name` and waits until its stats listener answers. */
  async start(name: NodeName, cfgPath = this.cfgPath): Promise<RunningNode> {
    // -d: foreground with debug lines, among them each request the serve gate turned away.
    const proc = spawnCli(["proxy", "-d", "-f", cfgPath, "-L", name]);
    onTestFinished(() => proc.stop(1000));
    const node: RunningNode = { name, proc, log: () => proc.stderr() + proc.stdout() };
    this.nodes.set(name, node);
    this.history.push(node);
    await Promise.race([
      waitFor(() => this.view(name).then((v) => v.role !== ""), {
        what: `${name}'s stats page`,
        timeout: 10_000,
      }),
      proc.exited.then((code) => {
        throw new Error(`${name} exited (${code}) at start:\n${node.log()}`);
      }),
    ]);
    return node;
  }

  /** Sends a signal to a node; SIGKILL and SIGSTOP record when it stopped being able to serve. */
  signal(name: NodeName, sig: NodeJS.Signals): number {
    const n = this.node(name);
    const at = Date.now();
    if (sig === "SIGKILL" || sig === "SIGSTOP") n.deadAt ??= at;
    n.proc.kill(sig);
    return at;
  }

  /** Waits until a node's process has ended; returns its exit code or signal. */
  async ended(name: NodeName, timeout = 5000): Promise<number | string> {
    const n = this.node(name);
    const code = await Promise.race([
      n.proc.exited,
      new Promise<never>((_, rej) =>
        setTimeout(() => rej(new Error(`${name} still running after ${timeout} ms`)), timeout).unref(),
      ),
    ]);
    await waitFor(() => isGone(n.proc.pid), { what: `${name}'s pid to go` });
    this.nodes.delete(name);
    return code;
  }

  /** A node's HA block, read from its stats page (role "" when it did not answer). */
  async view(name: NodeName): Promise<HaView> {
    const html = await get(this.statsPorts[name], "/stats");
    return parseHaBlock(html.body);
  }

  /** A node's stats CSV. */
  async csv(name: NodeName): Promise<string> {
    return (await get(this.statsPorts[name], "/stats;csv")).body;
  }

  /** One runtime API command on a node's stats socket, through `fulcrum ctl`. */
  async ctl(
    name: NodeName,
    command: string,
  ): Promise<{ code: number | string; stdout: string; stderr: string }> {
    return runCli(["ctl", "-S", join(this.dir, `${name}.sock`), ...command.split(" ")]);
  }

  /** Each running node's role from its stats page. */
  async roles(): Promise<Partial<Record<NodeName, string>>> {
    const out: Partial<Record<NodeName, string>> = {};
    for (const n of this.nodes.keys()) out[n] = (await this.view(n).catch(() => undefined))?.role ?? "";
    return out;
  }

  /** True while a node's log shows an open MASTER period (its frontends bound). */
  bound(name: NodeName): boolean {
    const ps = masterPeriods(name, this.node(name).log(), Number.POSITIVE_INFINITY);
    return ps.at(-1)?.to === Number.POSITIVE_INFINITY;
  }

  /**
   * Waits until the running nodes' stats pages show exactly these roles, and each MASTER has
   * bound its frontends (the page says MASTER from the lease on; binding follows the resync).
   */
  async expectRoles(want: Partial<Record<NodeName, string>>, timeout = 5000): Promise<void> {
    let last: Partial<Record<NodeName, string>> = {};
    try {
      await waitFor(
        async () => {
          last = await this.roles();
          return JSON.stringify(sortKeys(last)) === JSON.stringify(sortKeys(want));
        },
        { timeout, interval: 20, what: `roles ${JSON.stringify(want)}` },
      );
      for (const [n, role] of Object.entries(want)) {
        if (role === "MASTER")
          await waitFor(() => this.bound(n as NodeName), { what: `${n} to bind`, timeout });
      }
    } catch (err) {
      throw new Error(
        `${(err as Error).message}; the stats pages say ${JSON.stringify(last)}\n${this.logs()}`,
      );
    }
  }

  /** Both logs, for failure messages. */
  logs(): string {
    return this.history.map((n) => `---- ${n.name} (pid ${n.proc.pid}):\n${n.log()}`).join("\n");
  }

  /** Every MASTER period of every process the test started (a killed node's ends at its kill). */
  periods(): Period[] {
    const now = Date.now();
    return this.history.flatMap((n) => masterPeriods(`${n.name}/${n.proc.pid}`, n.log(), n.deadAt ?? now));
  }

  assertNeverTwoMasters(): Period[] {
    const ps = this.periods();
    assertNeverTwoMasters(ps);
    return ps;
  }
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

/** A redis-server, two echo servers and the ports of a pair; everything stopped after the test. */
export async function startPair(opts: PairOptions = {}, shared?: { redis?: RedisServer }): Promise<Pair> {
  const redis = shared?.redis ?? (await startRedis());
  if (shared?.redis === undefined) onTestFinished(() => redis.stop());
  const web = [await startEcho("web1"), await startEcho("web2")];
  onTestFinished(async () => {
    for (const w of web) await w.close();
  });
  const dir = tempDir("fulcrum-pair-");
  onTestFinished(() => dir.remove());
  seq += 1;
  const pair = new Pair(
    `pair${seq}_${process.pid}`,
    redis,
    // Ports bound later (the service port only by a MASTER): outside the ephemeral range.
    await stablePort(),
    { lb1: await stablePort(), lb2: await stablePort() },
    { lb1: await stablePort(), lb2: await stablePort() },
    web,
    opts,
    dir.path,
  );
  // A failure shows what both nodes said and their MASTER periods.
  onTestFailed(() => {
    console.error(`${pair.logs()}\n---- MASTER periods: ${JSON.stringify(pair.periods())}`);
  });
  return pair;
}

let seq = 0;

/** Starts lb1, waits for it to be MASTER, then lb2 as BACKUP: the usual starting point. */
export async function activePair(opts: PairOptions = {}): Promise<Pair> {
  const pair = await startPair(opts);
  await pair.start("lb1");
  await pair.expectRoles({ lb1: "MASTER" });
  await pair.start("lb2");
  await pair.expectRoles({ lb1: "MASTER", lb2: "BACKUP" });
  return pair;
}

// ---- reading a node -------------------------------------------------------------------------

const HA_NODE = /<li>this node: (\S+) <strong>([A-Z]+)<\/strong>, priority (\d+), epoch (\d+)<\/li>/;
const HA_PEER = /<li>peer: (\S+) <strong>([A-Z]+)<\/strong>, last advert ([^<]+)<\/li>/;

/** The stats page's HA block, as a reader sees it. */
export function parseHaBlock(html: string): HaView {
  const me = HA_NODE.exec(html);
  if (me === null) return { node: "", role: "", priority: 0, epoch: 0, mismatch: false };
  const peer = HA_PEER.exec(html);
  return {
    node: me[1]!,
    role: me[2]!,
    priority: Number(me[3]),
    epoch: Number(me[4]),
    ...(peer !== null ? { peer: { name: peer[1]!, role: peer[2]!, advertAge: peer[3]! } } : {}),
    mismatch: /configuration differs from the peer/.test(html),
  };
}

/** One GET on a fresh connection: status, headers, body ("" with status 0 on failure). */
export function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  timeout = 1000,
  agent: Agent | false = false,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, headers, agent, timeout }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", () => resolve({ status: 0, headers: {}, body: "" }));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve({ status: 0, headers: {}, body: "" }));
    req.end();
  });
}

/** One request through the service, classified: was it sent, who forwarded it, who answered. */
export function ask(port: number, path = "/", headers: Record<string, string> = {}, timeout = 1000) {
  return new Promise<Answer>((resolve) => {
    const at = Date.now();
    let connected = false;
    let timedOut = false;
    const req = request({ host: "127.0.0.1", port, path, headers, agent: false, timeout }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        const lb = /\r\nX-LB-(lb\d):/i.exec(body)?.[1];
        const server = res.headers["x-echo"];
        resolve({
          at,
          end: Date.now(),
          kind: status === 200 ? "ok" : `http-${status}`,
          ...(lb !== undefined ? { lb } : {}),
          ...(typeof server === "string" ? { server } : {}),
        });
      });
      res.on("error", () => resolve({ at, end: Date.now(), kind: "reset" }));
    });
    req.on("socket", (s) => s.once("connect", () => (connected = true)));
    req.on("timeout", () => {
      timedOut = true;
      req.destroy();
    });
    req.on("error", () =>
      resolve({ at, end: Date.now(), kind: !connected ? "refused" : timedOut ? "timeout" : "reset" }),
    );
    req.end();
  });
}

/**
 * A client sending a request every 10 ms on a fresh connection (several may be in flight, at
 * most 32), stopped by `stop()`, after `maxMs` or after `maxRequests`, whichever comes first.
 */
export function load(port: number, o: { maxMs?: number; maxRequests?: number; path?: string } = {}) {
  const answers: Answer[] = [];
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  const maxRequests = o.maxRequests ?? 4000;
  const timer = setInterval(() => {
    if (sent >= maxRequests || inFlight.size >= 32) return;
    sent += 1;
    const p = ask(port, o.path ?? "/").then((a) => {
      answers.push(a);
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }, CLIENT_EVERY_MS);
  const limit = setTimeout(() => clearInterval(timer), o.maxMs ?? 30_000);
  const stop = async () => {
    clearInterval(timer);
    clearTimeout(limit);
    await Promise.all([...inFlight]);
  };
  onTestFinished(stop);
  return {
    answers,
    stop,
    /** Answers completed after wall-clock `t`. */
    after(t: number): Answer[] {
      return answers.filter((a) => a.end >= t);
    },
    /** Waits until `n` successful answers forwarded by `lb` completed after `t`. */
    async served(lb: string, n: number, t = 0, timeout = 5000): Promise<void> {
      await waitFor(() => answers.filter((a) => a.end >= t && a.kind === "ok" && a.lb === lb).length >= n, {
        what: `${n} answers through ${lb}`,
        timeout,
      }).catch((err: Error) => {
        throw new Error(
          `${err.message}; answers since: ${JSON.stringify(tally(answers.filter((a) => a.end >= t)))}`,
        );
      });
    },
    /** Failed requests the client had sent (a refused connection sent nothing). */
    sentAndFailed(): Answer[] {
      return answers.filter((a) => a.kind !== "ok" && a.kind !== "refused");
    },
    failed(): Answer[] {
      return answers.filter((a) => a.kind !== "ok");
    },
    /** Longest time between two successful answers (by completion) from `t` on. */
    longestGap(t: number): number {
      const oks = answers
        .filter((a) => a.kind === "ok" && a.end >= t)
        .map((a) => a.end)
        .sort((a, b) => a - b);
      let gap = 0;
      let last = t;
      for (const e of oks) {
        gap = Math.max(gap, e - last);
        last = e;
      }
      return gap;
    },
  };
}

export type Load = ReturnType<typeof load>;

/** Answers counted by kind and forwarding node ("ok lb1": 12, "refused": 3, ...). */
export function tally(answers: readonly Answer[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of answers) {
    const k = a.kind === "ok" ? `ok ${a.lb ?? "?"}` : a.kind;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

// ---- MASTER periods -------------------------------------------------------------------------

export interface Period {
  readonly node: string;
  readonly from: number;
  to: number;
  readonly epoch: number;
}

/** MASTER periods from one process's log; one still open ends at `end`. */
export function masterPeriods(node: string, log: string, end: number): Period[] {
  const out: Period[] = [];
  for (const line of log.split("\n")) {
    const start = /serving as MASTER from (\d+) \(epoch (\d+)\)/.exec(line);
    if (start !== null && !line.includes("stopped serving")) {
      out.push({ node, from: Number(start[1]), to: end, epoch: Number(start[2]) });
      continue;
    }
    const stop = /stopped serving as MASTER at (\d+) \(served from (\d+)/.exec(line);
    const last = out.at(-1);
    if (stop !== null && last !== undefined && last.from === Number(stop[2])) last.to = Number(stop[1]);
  }
  return out;
}

/** The epoch of a node process's last MASTER period (0: it never served). */
export function lastEpoch(node: RunningNode): number {
  return masterPeriods(node.name, node.log(), 0).at(-1)?.epoch ?? 0;
}

/** The node's serve gate closed a connection whose request had arrived (a -d debug line). */
export const GATE_REFUSED = /refused: this node is not the active one/;

/**
 * An orderly hand-over (SIGUSR1, preempt) fails no request the client had sent: the old MASTER
 * turned none away at its serve gate, and at most one failed at all. That one is the race no
 * process can close: a connection the kernel completed in the instant the listener closed is
 * reset with it (nothing can accept it any more); with a request every 10 ms it is rare.
 */
export function assertOrderlyHandOver(oldMaster: RunningNode, failedSent: readonly Answer[]): void {
  const refused = oldMaster
    .log()
    .split("\n")
    .filter((l) => GATE_REFUSED.test(l));
  if (refused.length > 0)
    throw new Error(`${oldMaster.name} turned sent requests away:\n${refused.join("\n")}`);
  if (failedSent.length > 1) throw new Error(`requests already sent failed: ${JSON.stringify(failedSent)}`);
}

export function assertNeverTwoMasters(ps: readonly Period[]): void {
  for (const a of ps) {
    for (const b of ps) {
      if (a !== b && a.node !== b.node && a.from < b.to && b.from < a.to) {
        throw new Error(`two MASTERs at once: ${JSON.stringify(a)} and ${JSON.stringify(b)}`);
      }
    }
  }
}
