/**
 * A backend in one line for the balancer tests: `backend("roundrobin", "A:3 B:2 C:1 D:1:backup")`.
 * Servers are named, weighted and flagged as on a `server` line; the runtime records come
 * from the stats fixture (fully UP, ready).
 */
import { createBalancer } from "../../proxy/balance/index.js";
import type { Balancer, PickContext } from "../../proxy/balance/types.js";
import type { Balance, ProxyModel } from "../../proxy/config/model.js";
import type { BackendRuntime, ServerRuntime } from "../../proxy/state.js";
import { backendRuntime, proxyModel, serverModel } from "./stats-fixture.js";

export interface Rig {
  be: BackendRuntime;
  lb: Balancer;
  srv(name: string): ServerRuntime;
  /** Picks n times (each request finishes before the next) and returns the server names. */
  seq(n: number, ctx?: Partial<PickContext>): string;
  /** Picks n times keeping every request in flight (active++ and taken()). */
  hold(n: number): string;
  /** Applies a state change and tells the balancer. */
  change(name: string, f: (s: ServerRuntime) => void): void;
}

export function rig(
  balance: Balance | Balance["algo"],
  spec: string,
  options: Partial<ProxyModel["options"]> = {},
): Rig {
  const servers = spec
    .trim()
    .split(/\s+/)
    .map((tok, i) => {
      const [name = "", weight = "1", ...flags] = tok.split(":");
      const id = flags.find((f) => f.startsWith("id="));
      const maxconn = flags.find((f) => f.startsWith("maxconn="));
      return serverModel({
        name,
        id: id ? Number(id.slice(3)) : i + 1,
        weight: Number(weight),
        backup: flags.includes("backup"),
        ...(maxconn ? { maxconn: Number(maxconn.slice(8)) } : {}),
      });
    });
  const base = proxyModel({ name: "be", id: 1, kind: "backend" });
  const cfg = proxyModel({
    name: "be",
    id: 1,
    kind: "backend",
    servers,
    balance: typeof balance === "string" ? { algo: balance } : balance,
    options: { ...base.options, ...options },
  });
  const be = backendRuntime(cfg);
  const lb = createBalancer(be);
  const srv = (name: string) => {
    const s = be.servers.find((x) => x.cfg.name === name);
    if (!s) throw new Error(`no server ${name}`);
    return s;
  };
  return {
    be,
    lb,
    srv,
    seq(n, ctx = {}) {
      let out = "";
      for (let i = 0; i < n; i++) {
        const r = lb.pick({ srcIp: "127.0.0.1", uri: "/", ...ctx });
        if (r && r !== "full") {
          r.active++;
          lb.taken(r);
          r.active--;
          lb.released(r);
        }
        out += r === undefined ? "-" : r === "full" ? "*" : r.cfg.name;
      }
      return out;
    },
    hold(n) {
      let out = "";
      for (let i = 0; i < n; i++) {
        const r = lb.pick({ srcIp: "127.0.0.1", uri: "/" });
        if (r && r !== "full") {
          r.active++;
          lb.taken(r);
        }
        out += r === undefined ? "-" : r === "full" ? "*" : r.cfg.name;
      }
      return out;
    },
    change(name, f) {
      f(srv(name));
      lb.onServerStateChange();
    },
  };
}
