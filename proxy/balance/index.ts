/**
 * Balancers: one per backend, chosen by `balance`, built from the backend's runtime records.
 * See README.md for why each one is shaped as it is.
 */
import type { BackendRuntime } from "../state.js";
import { FirstBalancer, LeastConnBalancer } from "./leastconn.js";
import { MapBalancer } from "./map.js";
import { RoundRobinBalancer } from "./roundrobin.js";
import type { Balancer } from "./types.js";

export type { Balancer, PickContext, PickResult } from "./types.js";

type Factory = (backend: BackendRuntime) => Balancer;

const FACTORIES: Record<BackendRuntime["cfg"]["balance"]["algo"], Factory> = {
  roundrobin: (be) => new RoundRobinBalancer(be.servers, be.cfg.options.allbackups),
  "static-rr": (be) => new MapBalancer(be.servers, be.cfg.balance, be.cfg.options.allbackups),
  source: (be) => new MapBalancer(be.servers, be.cfg.balance, be.cfg.options.allbackups),
  uri: (be) => new MapBalancer(be.servers, be.cfg.balance, be.cfg.options.allbackups),
  leastconn: (be) => new LeastConnBalancer(be.servers, be.cfg.options.allbackups),
  first: (be) => new FirstBalancer(be.servers, be.cfg.options.allbackups),
};

/** The balancer for a backend's `balance` line, with its tables built from the servers' state now. */
export function createBalancer(backend: BackendRuntime): Balancer {
  return FACTORIES[backend.cfg.balance.algo](backend);
}
