import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { COMPOSE_PORTS, composeConfigFiles, composeDir } from "../../lab/compose.js";
import { whichProgram } from "../../lab/nodes.js";
import { loadConfig } from "../../proxy/config/index.js";
import { ROOT } from "../helpers/index.js";

const compose = readFileSync(join(ROOT, "docker-compose.yml"), "utf8");

describe("docker-compose topology", () => {
  test("the configuration files compose mounts are exactly what the lab's generator writes", () => {
    for (const f of composeConfigFiles()) {
      const committed = readFileSync(join(composeDir(), f.name), "utf8");
      expect(
        committed,
        `lab/compose/${f.name} differs from lab/config.ts: regenerate it (see lab/compose.ts)`,
      ).toBe(f.text);
    }
  });

  test("fulcrum loads the mounted folder as lb1 and as lb2 (what `fulcrum proxy -c -f DIR -L lbN` checks)", () => {
    for (const node of ["lb1", "lb2"]) {
      const { model, warnings } = loadConfig([composeDir()], { localNode: node, env: {} });
      expect(warnings).toEqual([]);
      expect(model.ha?.localPeer).toBe(node);
      expect(model.proxies.find((p) => p.name === "web_proxy")?.binds[0]?.port).toBe(COMPOSE_PORTS.service);
    }
  });

  test("each load balancer service mounts that folder and names itself with -L", () => {
    expect(compose).toContain("./lab/compose:/etc/fulcrum:ro");
    for (const node of ["lb1", "lb2"]) {
      expect(compose).toContain(`command: ["proxy", "-db", "-f", "/etc/fulcrum", "-L", "${node}"]`);
    }
    expect(compose).toContain(`"8080:${COMPOSE_PORTS.service}"`);
    expect(compose).toContain(`"8404:${COMPOSE_PORTS.stats}"`);
    for (const service of ["redis:", "web1:", "web2:", "lb1:", "lb2:"])
      expect(compose).toContain(`\n  ${service}\n`);
  });

  const dockerCompose = whichProgram("docker-compose");
  test.skipIf(dockerCompose === undefined)(
    "docker-compose config accepts the file (skipped when the docker-compose binary is absent: apt-get install -y docker-compose)",
    () => {
      const r = spawnSync("docker-compose", ["-f", join(ROOT, "docker-compose.yml"), "config", "-q"], {
        encoding: "utf8",
        cwd: ROOT,
      });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
    },
  );
});
