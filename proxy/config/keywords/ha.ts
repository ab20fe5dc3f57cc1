/**
 * Rows of fulcrum's own `ha` section: how the two nodes of a pair find Redis and each other
 * and how the active one takes the service over. One file serves both nodes; `-L NAME`
 * says which peer this process is.
 */
import { isIPv4, isIPv6 } from "node:net";
import { parseHostPort } from "../net.js";
import { exactly, fail, int, type KeywordRow, type KwCtx, oneOf, time } from "./types.js";

const H = ["ha"] as const;
const PEER_NAME = /^[A-Za-z0-9_.-]+$/;

function hostPort(ctx: KwCtx, text: string) {
  const hp = parseHostPort(text, { anyHost: false });
  if (!hp.ok) fail(ctx, hp.reason);
  return hp.value;
}

function setRedis(ctx: KwCtx, redis: NonNullable<KwCtx["ha"]["redis"]>): void {
  if (ctx.ha.redis) {
    fail(
      ctx,
      `Redis is already configured at line ${ctx.ha.redis.loc.line}`,
      "use either one 'redis' or one 'redis-sentinel' line",
    );
  }
  ctx.ha.redis = redis;
}

export const HA_ROWS: readonly KeywordRow[] = [
  {
    name: "redis",
    sections: H,
    args: "<url>",
    doc: "Redis holding the lease, the adverts channel and the shared state: redis://[user:pass@]host:port[/db]",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "redis redis://HOST:PORT");
      const url = args[0]!;
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        fail(ctx, `'${url}' is not a URL`, "e.g. redis://127.0.0.1:6379");
      }
      if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
        fail(ctx, `unsupported scheme '${parsed.protocol}'`, "use redis:// or rediss://");
      }
      if (parsed.hostname === "") fail(ctx, `missing host in '${url}'`);
      setRedis(ctx, { kind: "url", url, loc: ctx.loc });
    },
  },
  {
    name: "redis-sentinel",
    sections: H,
    args: "<master> <host>:<port>[,<host>:<port>...]",
    doc: "find Redis through Sentinel (for a Redis that itself fails over)",
    parse: (ctx, args) => {
      exactly(ctx, args, 2, "redis-sentinel <master> <host>:<port>[,<host>:<port>...]");
      const hosts = args[1]!.split(",").map((h) => hostPort(ctx, h));
      setRedis(ctx, { kind: "sentinel", master: args[0]!, hosts, loc: ctx.loc });
    },
  },
  {
    name: "peer",
    sections: H,
    args: "<name> <host>:<port> [priority <1..255>]",
    default: "priority 100",
    doc: "a node of the pair and its direct peer-link address; the highest priority is preferred as active",
    parse: (ctx, args) => {
      const [name, address, kw, value] = args;
      if (name === undefined || address === undefined) {
        fail(ctx, "expects a name and an address", "usage: peer <name> <host>:<port> [priority <n>]");
      }
      if (!PEER_NAME.test(name)) fail(ctx, `invalid peer name '${name}'`);
      let priority = 100;
      if (kw !== undefined) {
        if (kw !== "priority") fail(ctx, `unknown peer option '${kw}'`, "the only option is priority <n>");
        priority = int(ctx, value, 1, 255, "a priority");
        if (args.length > 4) fail(ctx, `unexpected argument '${args[4]}'`);
      }
      const hp = hostPort(ctx, address);
      ctx.ha.peers.push({ name, host: hp.host, port: hp.port, priority, loc: ctx.loc });
    },
  },
  {
    name: "advert-interval",
    sections: H,
    args: "<time>",
    default: "100ms",
    doc: "how often the nodes advertise themselves (Redis channel and peer link)",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "advert-interval <time>");
      const t = time(ctx, args[0]);
      if (t === 0) fail(ctx, "must be greater than 0");
      ctx.ha.advertInterval = t;
    },
  },
  {
    name: "lease-time",
    sections: H,
    args: "<time>",
    default: "300ms",
    doc: "validity of the active node's lease in Redis; the active renews it and steps down before it can expire",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "lease-time <time>");
      const t = time(ctx, args[0]);
      if (t === 0) fail(ctx, "must be greater than 0");
      ctx.ha.leaseTime = t;
      ctx.ha.leaseLoc = ctx.loc;
    },
  },
  {
    name: "stall-threshold",
    sections: H,
    args: "<time>",
    default: "a quarter of lease-time",
    doc: "event-loop stall above which the active steps down rather than risk serving on a stale lease; raise it on a busy host (below lease-time)",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "stall-threshold <time>");
      const t = time(ctx, args[0]);
      if (t === 0) fail(ctx, "must be greater than 0");
      ctx.ha.stallThreshold = { value: t, loc: ctx.loc };
    },
  },
  {
    name: "preempt",
    sections: H,
    args: "on [delay <time>] | off",
    default: "off",
    doc: "whether a higher-priority node takes the active role back from a healthy active (after the delay)",
    parse: (ctx, args) => {
      const mode = oneOf(ctx, args[0], ["on", "off"] as const, "preempt mode");
      if (mode === "off") {
        exactly(ctx, args, 1, "preempt off");
        ctx.ha.preempt = { on: false, delay: 0 };
        return;
      }
      let delay = 0;
      if (args.length > 1) {
        if (args[1] !== "delay")
          fail(ctx, `unknown argument '${args[1]}'`, "usage: preempt on [delay <time>]");
        exactly(ctx, args, 3, "preempt on [delay <time>]");
        delay = time(ctx, args[2]);
      }
      ctx.ha.preempt = { on: true, delay };
    },
  },
  {
    name: "takeover",
    sections: H,
    args: "bind | vip <address>/<prefix> dev <interface>",
    default: "bind",
    doc: "how the active node serves: bind the frontends (standby keeps them unbound), or add a virtual IP to an interface",
    parse: (ctx, args) => {
      const kind = oneOf(ctx, args[0], ["bind", "vip"] as const, "takeover mode");
      if (kind === "bind") {
        exactly(ctx, args, 1, "takeover bind");
        ctx.ha.takeover = { kind: "bind" };
        return;
      }
      exactly(ctx, args, 4, "takeover vip <address>/<prefix> dev <interface>");
      const m = /^([^/]+)\/(\d{1,3})$/.exec(args[1]!);
      const addr = m?.[1] ?? "";
      const family = isIPv4(addr) ? 4 : isIPv6(addr) ? 6 : 0;
      if (!m || family === 0 || Number(m[2]) > (family === 4 ? 32 : 128)) {
        fail(
          ctx,
          `'${args[1]}' is not an address with a prefix length`,
          "e.g. takeover vip 192.0.2.10/24 dev eth0",
        );
      }
      if (args[2] !== "dev") fail(ctx, `expects 'dev <interface>', got '${args[2]}'`);
      if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(args[3]!)) fail(ctx, `invalid interface name '${args[3]}'`);
      ctx.ha.takeover = { kind: "vip", address: addr, prefix: Number(m[2]), dev: args[3]! };
    },
  },
  {
    name: "fence",
    sections: H,
    args: "kill|off",
    default: "kill",
    doc: "whether a node that takes over kills a frozen former active on the same host (by pid)",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "fence kill|off");
      ctx.ha.fence = oneOf(ctx, args[0], ["kill", "off"] as const, "fence mode");
    },
  },
  {
    name: "keep-bound",
    sections: H,
    args: "<proxy> [<proxy>...]",
    doc: "frontends or listens that every node keeps bound whatever its role (a per-node stats listener); takeover moves only the others",
    parse: (ctx, args) => {
      if (args.length === 0) fail(ctx, "'keep-bound' expects at least one frontend or listen name");
      for (const name of args) ctx.ha.keepBound.push({ name, loc: ctx.loc });
    },
  },
  {
    name: "notify",
    sections: H,
    args: "<path>",
    doc: "script run on each transition with keepalived's arguments (INSTANCE <name> MASTER|BACKUP|FAULT|STOP <priority>), in the background with a 5 s timeout; a failure is logged, never waited for",
    parse: (ctx, args) => {
      exactly(ctx, args, 1, "notify <path>");
      ctx.ha.notify = args[0]!;
    },
  },
];
