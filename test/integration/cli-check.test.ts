/**
 * `fulcrum proxy -c`, `--print-modern` and `-cc` as users run them (the compiled CLI; run
 * `npm run build` first), compared with HAProxy 2.6 where it is installed.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LEGACY_ROWS } from "../../proxy/config/keywords/legacy.js";
import { runCli, tempDir } from "../helpers/index.js";
import { CASES } from "../unit/config-cases.js";
import { around } from "../unit/config-fixtures.js";

const HAPROXY = spawnSync("haproxy", ["-v"]).status === 0;
const haproxyCheck = (file: string) => spawnSync("haproxy", ["-c", "-f", file], { encoding: "utf8" });

let dir: { path: string; remove: () => void };
beforeAll(() => {
  dir = tempDir("fulcrum-cli-check-");
});
afterAll(() => dir.remove());

const write = (name: string, text: string) => {
  const path = join(dir.path, name);
  writeFileSync(path, text);
  return path;
};

const PREFIX = /^\[(WARNING|ALERT|NOTICE)\] +\(\d+\) : config : /;

describe("fulcrum proxy -c", () => {
  it("accepts the tutorial's 1.4 file with one warning per legacy keyword, as FILE:LINE lines", async () => {
    const r = await runCli(["proxy", "-c", "-f", "examples/tutorial-1.4.cfg"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Warnings were found.\nConfiguration file is valid\n");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(6);
    for (const l of lines) expect(l).toMatch(PREFIX);
    expect(lines.map((l) => l.replace(PREFIX, "").split(":").slice(0, 2).join(":"))).toEqual([
      "examples/tutorial-1.4.cfg:27",
      "examples/tutorial-1.4.cfg:43",
      "examples/tutorial-1.4.cfg:44",
      "examples/tutorial-1.4.cfg:45",
      "examples/tutorial-1.4.cfg:46",
      "examples/tutorial-1.4.cfg:47",
    ]);
    expect(lines[1]).toContain(
      "examples/tutorial-1.4.cfg:43: 'contimeout' is deprecated since HAProxy 1.5, use 'timeout connect 5000' instead",
    );
  });

  it("reports three different mistakes at once, each as FILE:LINE, and exits 1", async () => {
    const file = write(
      "three.cfg",
      "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend fe\n    bind :8080\n    default_backend app\nbackend app\n    balanse roundrobin\n    timeout server forever\n    server a 127.0.0.1:8081\nbackend app\n",
    );
    const r = await runCli(["proxy", "-c", "-f", file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    for (const l of lines) expect(l).toMatch(PREFIX);
    expect(lines.map((l) => l.replace(PREFIX, ""))).toEqual([
      `${file}:10: unknown keyword 'balanse' in 'backend' section (did you mean 'balance'?)`,
      `${file}:11: 'timeout server': 'forever' is not a time (a whole number with an optional unit us, ms, s, m, h, d)`,
      `${file}:13: backend 'app' has the same name as backend 'app' declared at ${file}:9 (proxy names must be unique (a frontend and a backend may share one))`,
      "Fatal errors found in configuration.",
    ]);
  });

  it("accepts the modern example without a warning, as HAProxy 2.6 does", async () => {
    const r = await runCli(["proxy", "-c", "-f", "examples/modern.cfg"]);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, "Configuration file is valid\n", ""]);
    if (HAPROXY) expect(haproxyCheck("examples/modern.cfg").status).toBe(0);
  });

  it("prints the tutorial in modern syntax that fulcrum and HAProxy 2.6 both accept", async () => {
    const r = await runCli(["proxy", "-c", "-f", "examples/tutorial-1.4.cfg", "--print-modern"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("timeout connect 5000\n");
    expect(r.stdout).toContain("listen web_proxy\nbind *:8080\n");
    expect(r.stdout).not.toMatch(/^(contimeout|appsession|nbproc)/m);
    const modern = write("modern-from-tutorial.cfg", r.stdout);
    const again = await runCli(["proxy", "-c", "-f", modern]);
    expect([again.code, again.stderr]).toEqual([0, ""]);
    if (HAPROXY) {
      const h = haproxyCheck(modern);
      expect(h.status, h.stderr).toBe(0);
    }
  });

  it("exits 2 when no configuration file is given", async () => {
    const r = await runCli(["proxy", "-c"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("-f FILE");
  });

  it("rejects a -L name that is not a peer of the ha section", async () => {
    const file = write(
      "ha.cfg",
      "ha pair\n    redis redis://127.0.0.1:6379\n    peer lb1 127.0.0.1:7001\n    peer lb2 127.0.0.1:7002\n",
    );
    expect((await runCli(["proxy", "-c", "-f", file, "-L", "lb2"])).code).toBe(0);
    const r = await runCli(["proxy", "-c", "-f", file, "-L", "lb9"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:1: this node 'lb9' is not a peer of ha section 'pair'`);
  });

  it.runIf(HAPROXY)(
    "answers like HAProxy 2.6 on a valid file and on an unknown keyword (streams, prefixes, exit codes)",
    async () => {
      const good = write(
        "good.cfg",
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend fe\n    bind :8080\n    default_backend be\nbackend be\n    server s 127.0.0.1:8081\n",
      );
      const bad = write("bad.cfg", "global\n    maxconn 100\n    foo bar\n");
      for (const file of [good, bad]) {
        const h = haproxyCheck(file);
        const f = await runCli(["proxy", "-c", "-f", file]);
        expect(f.code).toBe(h.status);
        expect(f.stdout).toBe(h.stdout);
        const alert = (s: string) =>
          s
            .split("\n")
            .filter((l) => l.startsWith("[ALERT]"))
            .map((l) =>
              l
                .replace(/\(\d+\)/, "(PID)")
                .split(" : ")
                .slice(0, 2)
                .join(" : "),
            );
        expect(alert(f.stderr)).toEqual(alert(h.stderr).slice(0, alert(f.stderr).length));
      }
    },
  );
});

describe("fulcrum proxy -cc", () => {
  it("exits 0 when the condition holds, 1 when it does not, 2 when it cannot be parsed, as haproxy -cc", async () => {
    const cases = ["version_atleast(2.4)", "version_atleast(2.7)", "foo(1)", "feature(OPENSSL) || 1", ""];
    const codes = await Promise.all(cases.map(async (c) => (await runCli(["proxy", "-cc", c])).code));
    expect(codes).toEqual([0, 1, 2, 0, 1]);
    if (HAPROXY) expect(cases.map((c) => spawnSync("haproxy", ["-cc", c]).status)).toEqual(codes);
  });
});

describe("parity with HAProxy 2.6", () => {
  it.runIf(HAPROXY)("accepts, in haproxy -c too, every accepted form of every HAProxy keyword", () => {
    const legacy = new Set(LEGACY_ROWS.map((r) => r.name));
    const errorfile = write(
      "503.http",
      "HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/html\r\n\r\ndown\n",
    );
    const rejected: string[] = [];
    for (const [name, cases] of Object.entries(CASES)) {
      if (legacy.has(name)) continue;
      for (const c of cases.ok.filter((c) => c.section !== "ha")) {
        // fd@3 is not a socket while checking; haproxy checks that, fulcrum leaves it to bind time.
        const lines = c.lines.replace(/\nbind fd@3/, "").replaceAll("errors/503.http", errorfile);
        const file = write("parity.cfg", around(c.section, lines).text);
        const h = haproxyCheck(file);
        // 2: valid but no listener (a global-only file).
        if (h.status !== 0 && h.status !== 2) rejected.push(`${name}: ${c.lines}\n${h.stderr}`);
      }
    }
    expect(rejected).toEqual([]);
  });
});
