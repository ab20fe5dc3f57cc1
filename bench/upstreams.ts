/**
 * The two upstream servers every target sits in front of: nginx, one process each, serving
 * the bench bodies from a temp folder. Shared by the throughput run and the failover run.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { httpRequest } from "../lab/http.js";
import { type ServerAddr, upstreamNginxConf } from "./configs.js";
import { BODIES } from "./plan.js";
import { type Service, startService, waitUntil } from "./procs.js";

export const UPSTREAM_NAMES = ["a", "b"] as const;

/** Is something answering 200 on GET `path` at 127.0.0.1:port? (undefined: not yet) */
export async function answers(port: number, path = BODIES.small.path): Promise<true | undefined> {
  const r = await httpRequest({ port, path, timeoutMs: 500 });
  return r.ok && r.status === 200 ? true : undefined;
}

/** nginx with a config written in `dir`, in the foreground, its error log on stderr. */
export function startNginx(name: string, dir: string, conf: string): Service {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "nginx.conf");
  writeFileSync(file, conf);
  return startService(name, "nginx", ["-e", "stderr", "-p", dir, "-c", file]);
}

/**
 * Writes the bodies, starts upstreams a and b on the given ports and waits until both answer.
 * Each started service is pushed to `services` at once, so the caller's `finally` stops it.
 */
export async function startUpstreams(
  dir: string,
  ports: readonly [number, number],
  services: Service[],
): Promise<ServerAddr[]> {
  const root = join(dir, "www");
  mkdirSync(root, { recursive: true });
  for (const body of Object.values(BODIES)) writeFileSync(join(root, body.path.slice(1)), body.text);
  const servers = UPSTREAM_NAMES.map((name, i) => ({ name, port: ports[i]! }));
  for (const s of servers) {
    const d = join(dir, `upstream-${s.name}`);
    services.push(
      startNginx(`upstream ${s.name}`, d, upstreamNginxConf({ name: s.name, port: s.port, dir: d, root })),
    );
  }
  for (const [i, s] of servers.entries()) {
    await waitUntil(() => answers(s.port), {
      timeoutMs: 10_000,
      what: `answer from upstream ${s.name} on port ${s.port}`,
      service: services[services.length - servers.length + i]!,
    });
  }
  return servers;
}
