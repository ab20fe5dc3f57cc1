/**
 * The configuration files docker-compose.yml mounts (lab/compose/): the same generator as
 * the lab, with the containers' names instead of loopback ports. A test checks that the
 * committed files are exactly what this produces and that fulcrum loads them as lb1 and
 * lb2, so the compose topology cannot drift from the lab's.
 *
 * Regenerate after changing lab/config.ts:
 *   npm run build && node -e 'import("./dist/lab/compose.js").then((m) => m.writeComposeConfigs())'
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ConfigFile, type ConfigPlan, labConfigFiles } from "./config.js";
import { projectRoot } from "./state.js";

/** Ports inside the containers (docker-compose.yml publishes them). */
export const COMPOSE_PORTS = { service: 8080, stats: 8404, peer: 7000, web: 9001, redis: 6379 } as const;

export function composePlan(): ConfigPlan {
  const any = (port: number) => ({ host: "", port });
  const at = (host: string, port: number) => ({ host, port });
  return {
    title: "Generated from lab/config.ts for docker-compose.yml (lab/compose.ts): do not edit.",
    topology: "pair",
    service: any(COMPOSE_PORTS.service),
    stats: { lb1: any(COMPOSE_PORTS.stats), lb2: any(COMPOSE_PORTS.stats) },
    peers: { lb1: at("lb1", COMPOSE_PORTS.peer), lb2: at("lb2", COMPOSE_PORTS.peer) },
    servers: { web1: at("web1", COMPOSE_PORTS.web), web2: at("web2", COMPOSE_PORTS.web) },
    redisUrl: `redis://redis:${COMPOSE_PORTS.redis}`,
    haName: "web_proxy",
  };
}

export function composeConfigFiles(): ConfigFile[] {
  return labConfigFiles(composePlan());
}

export function composeDir(): string {
  return join(projectRoot(), "lab", "compose");
}

export function writeComposeConfigs(dir = composeDir()): string[] {
  mkdirSync(dir, { recursive: true });
  return composeConfigFiles().map((f) => {
    const file = join(dir, f.name);
    writeFileSync(file, f.text);
    return file;
  });
}
