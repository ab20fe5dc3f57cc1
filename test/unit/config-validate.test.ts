/**
 * Validation that needs more than one line: sections and defaults, references between
 * proxies, duplicates, missing timeouts, tcp mode, the ha section, several files, and every
 * mistake reported at once with FILE:LINE.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../proxy/config/index.js";
import { tempDir } from "../helpers/index.js";
import { formatted, load, TIMEOUTS } from "./config-fixtures.js";

const warningsOf = (text: string) => load(text).warnings.map((w) => `${w.loc.line}: ${w.message}`);

describe("keywords and sections", () => {
  it("suggests the closest keyword for a misspelling", () => {
    expect(
      formatted(`${TIMEOUTS}backend be\n    balanse roundrobin\n    timeout conect 5s\n    optoin httplog\n`),
    ).toEqual([
      "t.cfg:7: unknown keyword 'balanse' in 'backend' section (did you mean 'balance'?)",
      "t.cfg:8: unknown keyword 'timeout conect' in 'backend' section (did you mean 'timeout connect'?)",
      "t.cfg:9: unknown keyword 'optoin' in 'backend' section (did you mean 'option'?)",
    ]);
  });

  it("lists the keywords of a family written without its second word", () => {
    expect(formatted(`${TIMEOUTS}frontend fe\n    bind :80\n    timeout\n`)[0]).toBe(
      "t.cfg:8: 'timeout' expects a keyword after it (in a 'frontend' section: timeout client, timeout http-request, timeout http-keep-alive, timeout client-fin, timeout tarpit)",
    );
  });

  it("rejects HAProxy keywords fulcrum does not have as unknown keywords", () => {
    expect(formatted(`${TIMEOUTS}frontend fe\n    bind :80\n    redirect scheme https\n`)).toEqual([
      "t.cfg:8: unknown keyword 'redirect' in 'frontend' section (see docs/configuration.md for the keywords fulcrum knows)",
    ]);
  });

  it("rejects a keyword out of any section and a keyword in a section that cannot use it", () => {
    expect(formatted("maxconn 10\nglobal\n    mode http\n")).toEqual([
      "t.cfg:1: unknown keyword 'maxconn' out of section (start a section first: global, defaults, frontend, backend, listen or ha)",
      "t.cfg:3: 'mode' is not allowed in a 'global' section (allowed in: defaults, frontend, listen, backend; it is a proxy setting: put it in a defaults, frontend, listen or backend section)",
    ]);
  });

  it("reports a HAProxy section fulcrum does not have once, without a cascade for its lines", () => {
    expect(
      formatted("userlist admins\n    user admin insecure-password x\nglobal\n    maxconn 10\n"),
    ).toEqual([
      "t.cfg:1: the 'userlist' section is not supported yet (its lines are not read; see docs/configuration.md)",
    ]);
  });

  it("reports every mistake of a file at once, in file order", () => {
    const text = `global\n    maxconn lots\n${TIMEOUTS}frontend fe\n    bind :80\n    default_backend missing\nbackend be\n    server a 127.0.0.1:80\n    server a 127.0.0.1:81\n    balanse roundrobin\n`;
    expect(formatted(text)).toEqual([
      "t.cfg:2: 'maxconn': 'lots' is not a whole number",
      "t.cfg:10: frontend 'fe': unable to find default_backend 'missing' (known backends: be)",
      "t.cfg:13: 'server': another server named 'a' was already defined at line 12 of backend 'be' (use distinct names)",
      "t.cfg:14: unknown keyword 'balanse' in 'backend' section (did you mean 'balance'?)",
    ]);
  });

  it("merges several global sections", () => {
    const { model } = load(
      "global\n    maxconn 100\nglobal\n    daemon\n    log 127.0.0.1 local3\nglobal\n    log 127.0.0.2 local4\n",
    );
    expect([model.global.maxconn, model.global.daemon, model.global.logs.length]).toEqual([100, true, 2]);
  });
});

describe("defaults, frontends, backends and listen", () => {
  it("applies a defaults section to the proxies after it, and a new defaults section starts afresh", () => {
    const text = `defaults\n    mode http\n    timeout connect 1s\n    timeout client 2s\n    timeout server 3s\n    retries 5\n    option redispatch\nbackend a\n    server s 127.0.0.1:1\ndefaults\n    mode http\n    timeout connect 4s\n    timeout server 6s\nbackend b\n    server s 127.0.0.1:1\n`;
    const { model } = load(text);
    const [a, b] = model.proxies;
    expect([a?.timeouts, a?.retries, a?.options.redispatch]).toEqual([
      { connect: 1000, client: 2000, server: 3000 },
      5,
      true,
    ]);
    expect([b?.timeouts, b?.retries, b?.options.redispatch]).toEqual([
      { connect: 4000, server: 6000 },
      3,
      false,
    ]);
  });

  it("lets a proxy override what it inherits without changing the defaults for the next one", () => {
    const text = `${TIMEOUTS}    option redispatch\n    stats uri /s\nlisten a\n    bind :80\n    no option redispatch\n    stats uri /mine\nlisten b\n    bind :81\n`;
    const [a, b] = load(text).model.proxies;
    expect([a?.options.redispatch, a?.stats?.uri]).toEqual([false, "/mine"]);
    expect([b?.options.redispatch, b?.stats?.uri]).toEqual([true, "/s"]);
  });

  it("gives a listen section both capabilities and numbers proxies and servers in order", () => {
    const text = `${TIMEOUTS}frontend fe\n    bind :80\n    default_backend app\nbackend app\n    server w1 127.0.0.1:1\n    server w2 127.0.0.1:2\nlisten both\n    bind :81\n    server w 127.0.0.1:3\n`;
    const { model } = load(text);
    expect(model.proxies.map((p) => [p.name, p.id, p.isFrontend, p.isBackend])).toEqual([
      ["fe", 1, true, false],
      ["app", 2, false, true],
      ["both", 3, true, true],
    ]);
    expect(model.proxies[1]?.servers.map((s) => s.id)).toEqual([1, 2]);
  });

  it("allows a frontend and a backend to share a name but not two proxies with the same capability", () => {
    expect(
      load(
        `${TIMEOUTS}frontend web\n    bind :80\n    default_backend web\nbackend web\n    server s 127.0.0.1:1\n`,
      ).model.proxies,
    ).toHaveLength(2);
    expect(formatted(`${TIMEOUTS}backend web\n    server s 127.0.0.1:1\nlisten web\n    bind :80\n`)).toEqual(
      [
        "t.cfg:8: listen 'web' has the same name as backend 'web' declared at t.cfg:6 (proxy names must be unique (a frontend and a backend may share one))",
      ],
    );
  });

  it("resolves the frontend's maxconn to the global one when unset and 'log global' to the global targets", () => {
    const text = `${TIMEOUTS}    log global\nfrontend fe\n    bind :80\nglobal\n    maxconn 777\n    log 127.0.0.1 local3\n`;
    const fe = load(text).model.proxies[0];
    expect([fe?.maxconn, fe?.logs.map((l) => l.host)]).toEqual([777, ["127.0.0.1"]]);
  });

  it("requires an ACL to be declared before the line that uses it, as HAProxy", () => {
    expect(
      formatted(
        `${TIMEOUTS}frontend fe\n    bind :80\n    use_backend be if is_x\n    acl is_x path /x\nbackend be\n    server s 127.0.0.1:1\n`,
      ),
    ).toEqual(["t.cfg:8: no such ACL: 'is_x' (declare it with 'acl NAME FETCH VALUES' before this line)"]);
  });

  it("rejects an http frontend that switches to a tcp backend", () => {
    expect(
      formatted(
        `${TIMEOUTS}frontend fe\n    bind :80\n    default_backend raw\nbackend raw\n    mode tcp\n    server s 127.0.0.1:1\n`,
      ),
    ).toEqual([
      "t.cfg:8: http frontend 'fe' tries to use tcp backend 'raw' (t.cfg:9) as its default_backend (see 'mode')",
    ]);
  });

  it("rejects named defaults with 'from' as not supported yet", () => {
    expect(formatted("defaults base\ndefaults web from base\n")[0]).toMatch(
      /^t\.cfg:2: 'defaults \.\.\. from <defaults>' is not supported yet/,
    );
  });
});

describe("warnings HAProxy 2.6 prints too", () => {
  it("warns about missing timeouts in http and tcp proxies", () => {
    expect(
      warningsOf(
        "frontend fe\n    mode http\n    bind :80\nbackend be\n    mode tcp\n    timeout connect 1s\n    server s 127.0.0.1:1\n",
      ),
    ).toEqual([
      "1: missing timeouts for frontend 'fe': set 'timeout client', 'timeout connect' and 'timeout server' (in the section or a defaults section) to non-zero values, or connections may hang forever",
      "4: missing timeouts for backend 'be': set 'timeout client', 'timeout connect' and 'timeout server' (in the section or a defaults section) to non-zero values, or connections may hang forever",
    ]);
  });

  it("drops http settings from a tcp proxy with a warning each", () => {
    const text =
      "defaults\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nlisten x\n    bind :80\n    option httplog\n    cookie SRV insert\n    option forwardfor\n    stats enable\n    monitor-uri /up\n    http-request deny\n    server s 127.0.0.1:1 cookie A\n";
    const { model, warnings } = load(text);
    const p = model.proxies[0]!;
    expect([
      p.cookie,
      p.stats,
      p.monitorUri,
      p.options.forwardfor,
      p.httpRequestRules,
      p.options.tcplog,
      p.servers[0]?.cookie,
    ]).toEqual([undefined, undefined, undefined, undefined, [], true, undefined]);
    expect(warnings.map((w) => w.loc.line)).toEqual([7, 8, 9, 10, 11, 12, 13]);
  });

  it("warns about a frontend without bind, http-check without option httpchk, monitor fail without monitor-uri", () => {
    expect(
      warningsOf(
        `${TIMEOUTS}frontend fe\n    monitor fail if TRUE\nbackend be\n    http-check expect status 200\n    server s 127.0.0.1:1\n`,
      ),
    ).toEqual([
      "6: frontend 'fe' has no 'bind' directive: it accepts no connection (declare it as a backend if this was intended)",
      "7: 'monitor fail' in frontend 'fe' has no effect without 'monitor-uri'",
      "9: backend 'be' uses http-check rules without 'option httpchk', so the rules are ignored",
    ]);
  });

  it("warns about an ACL without pattern, which never matches, unless '--' says it is intended", () => {
    expect(warningsOf(`${TIMEOUTS}frontend fe\n    bind :80\n    acl a path\n    acl b path --\n`)).toEqual([
      "8: ACL expression 'path' has no pattern, so it never matches (add '--' if intended, or use '-m found' to test existence)",
    ]);
  });
});

describe("the model", () => {
  it("is deeply immutable, Maps included", () => {
    const { model } = load(`${TIMEOUTS}frontend fe\n    bind :80\n    acl a path /x\n`);
    const fe = model.proxies[0]!;
    expect(
      Object.isFrozen(model) &&
        Object.isFrozen(fe) &&
        Object.isFrozen(fe.binds) &&
        Object.isFrozen(fe.timeouts),
    ).toBe(true);
    expect(() => (fe.acls as Map<string, unknown>).set("b", {})).toThrow(TypeError);
    expect(() => {
      (fe as { name: string }).name = "x";
    }).toThrow(TypeError);
  });

  it("shows the host name on the stats page when 'stats show-node' has no name", () => {
    expect(
      load(`${TIMEOUTS}frontend fe\n    bind :80\n    stats show-node\n`).model.proxies[0]?.stats?.showNode,
    ).toBe(hostname());
  });
});

describe("the ha section", () => {
  const HA =
    "ha pair\n    redis redis://127.0.0.1:6379\n    peer lb1 127.0.0.1:7001 priority 150\n    peer lb2 127.0.0.1:7002\n";

  it("reads the issue's example with its defaults, one file for both nodes", () => {
    const lb1 = load(HA, { localNode: "lb1" }).model.ha!;
    const lb2 = load(HA, { localNode: "lb2" }).model.ha!;
    expect(lb1).toMatchObject({
      name: "pair",
      advertInterval: 100,
      leaseTime: 300,
      preempt: { on: false, delay: 0 },
      takeover: { kind: "bind" },
      fence: "kill",
      localPeer: "lb1",
    });
    expect(lb2.localPeer).toBe("lb2");
  });

  it("rejects a local node (-L) that is not a peer, only when there is an ha section", () => {
    expect(formatted(HA, { localNode: "lb3" })).toEqual([
      "t.cfg:1: this node 'lb3' is not a peer of ha section 'pair' (name it with -L (one of: lb1, lb2))",
    ]);
    expect(load(`global\n    daemon\n`, { localNode: "lb3" }).model.ha).toBeUndefined();
  });

  it("requires Redis and at least one peer, and only one ha section", () => {
    expect(
      formatted("ha pair\n    advert-interval 100ms\nha other\n    redis redis://127.0.0.1:6379\n"),
    ).toEqual([
      "t.cfg:1: ha section 'pair' has no Redis (add 'redis redis://HOST:PORT' or 'redis-sentinel NAME HOST:PORT')",
      "t.cfg:1: ha section 'pair' has no peer (add one 'peer NAME HOST:PORT' line per node)",
      "t.cfg:3: only one 'ha' section is allowed (the first is at t.cfg:1)",
    ]);
  });

  it("warns when lease-time is less than three adverts", () => {
    expect(warningsOf(`${HA}    advert-interval 100ms\n    lease-time 250ms\n`)).toEqual([
      "6: lease-time (250 ms) is less than 3 x advert-interval (100 ms): one delayed advert may cost the active its lease",
    ]);
  });
});

describe("files", () => {
  let dir: { path: string; remove: () => void } | undefined;
  afterEach(() => dir?.remove());

  it("loads several -f files in order, each starting out of any section", () => {
    dir = tempDir();
    const a = join(dir.path, "a.cfg");
    const b = join(dir.path, "b.cfg");
    writeFileSync(a, "global\n    maxconn 10\n");
    writeFileSync(b, "    maxconn 20\n");
    expect(() => loadConfig([a, b], { localNode: "x" })).toThrow(
      `${b}:1: unknown keyword 'maxconn' out of section`,
    );
    writeFileSync(b, "global\n    maxconn 20\n");
    expect(loadConfig([a, b]).model.global.maxconn).toBe(20);
    expect(loadConfig([b, a]).model.global.maxconn).toBe(10);
  });

  it("loads the *.cfg files of a directory in lexical order", () => {
    dir = tempDir();
    const d = join(dir.path, "conf.d");
    mkdirSync(d);
    writeFileSync(join(d, "20-b.cfg"), "global\n    maxconn 20\n");
    writeFileSync(join(d, "10-a.cfg"), "global\n    maxconn 10\n    log-tag a\n");
    writeFileSync(join(d, "30-ignored.txt"), "not a config\n");
    const { model } = loadConfig([d]);
    expect([model.files, model.global.maxconn, model.global.logTag]).toEqual([
      [join(d, "10-a.cfg"), join(d, "20-b.cfg")],
      20,
      "a",
    ]);
  });

  it("reports a file that cannot be opened, and changes the checksum when a file changes", () => {
    dir = tempDir();
    const a = join(dir.path, "a.cfg");
    expect(() => loadConfig([a])).toThrow(`${a}:0: cannot open configuration file (ENOENT)`);
    writeFileSync(a, "global\n    maxconn 10\n");
    const first = loadConfig([a]).model.checksum;
    writeFileSync(a, "global\n    maxconn 11\n");
    expect(loadConfig([a]).model.checksum).not.toBe(first);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
  });
});
