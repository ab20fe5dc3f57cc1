/**
 * The lab's ports: from --base-port N in a fixed layout (documented, so a user can open the
 * same URLs every time), or free ports picked by the system.
 */
import { createServer, type Server } from "node:net";
import { FulcrumError } from "../proxy/errors.js";
import type { LabPorts } from "./state.js";

/** Offsets from --base-port: the service first, so `--base-port 8080` serves on 8080. */
export const PORT_LAYOUT = {
  service: 0,
  statsLb1: 1,
  statsLb2: 2,
  peerLb1: 3,
  peerLb2: 4,
  web1: 5,
  web2: 6,
  redis: 7,
} as const;

/** Pure: the ports of a lab started with --base-port N (redis 0 when not managed). */
export function portsFromBase(base: number, managedRedis: boolean): LabPorts {
  return {
    service: base + PORT_LAYOUT.service,
    stats: { lb1: base + PORT_LAYOUT.statsLb1, lb2: base + PORT_LAYOUT.statsLb2 },
    peer: { lb1: base + PORT_LAYOUT.peerLb1, lb2: base + PORT_LAYOUT.peerLb2 },
    web1: base + PORT_LAYOUT.web1,
    web2: base + PORT_LAYOUT.web2,
    redis: managedRedis ? base + PORT_LAYOUT.redis : 0,
  };
}

/** Pure: every port with the name of what uses it. */
export function namedPorts(p: LabPorts): [string, number][] {
  const all: [string, number][] = [
    ["service", p.service],
    ["lb1 stats", p.stats.lb1],
    ["lb2 stats", p.stats.lb2],
    ["lb1 peer link", p.peer.lb1],
    ["lb2 peer link", p.peer.lb2],
    ["web1", p.web1],
    ["web2", p.web2],
    ["redis", p.redis],
  ];
  return all.filter(([, port]) => port !== 0);
}

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen({ port, host: "127.0.0.1", exclusive: true }, () => resolve(srv));
  });
}

function closeAll(servers: Server[]): Promise<void> {
  return Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined);
}

/** `count` distinct ports that were free a moment ago (all bound at once, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listenOn(0));
    return servers.map((s) => {
      const a = s.address();
      if (a === null || typeof a === "string") throw new Error("no port");
      return a.port;
    });
  } finally {
    await closeAll(servers);
  }
}

/** Fails with a one-line error naming the first port of the plan that is in use. */
export async function checkPortsFree(p: LabPorts, hint: string): Promise<void> {
  for (const [what, port] of namedPorts(p)) {
    if (port < 1 || port > 65535) {
      throw new FulcrumError("FUL_USAGE", `port ${port} (${what}) is out of range: ${hint}`);
    }
    try {
      await closeAll([await listenOn(port)]);
    } catch {
      throw new FulcrumError("FUL_BIND", `port ${port} (${what}) is in use: ${hint}`);
    }
  }
}

export async function pickPorts(base: number | undefined, managedRedis: boolean): Promise<LabPorts> {
  if (base !== undefined) {
    const p = portsFromBase(base, managedRedis);
    await checkPortsFree(p, "choose another --base-port, or stop what listens there");
    return p;
  }
  const [service, s1, s2, p1, p2, w1, w2, r] = (await freePorts(8)) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return {
    service,
    stats: { lb1: s1, lb2: s2 },
    peer: { lb1: p1, lb2: p2 },
    web1: w1,
    web2: w2,
    redis: managedRedis ? r : 0,
  };
}
