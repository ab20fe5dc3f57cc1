/**
 * HAProxy 1.4 spellings: each maps to the modern meaning (the same model as the modern
 * spelling) with exactly one warning naming the legacy keyword and its modern spelling, and
 * --print-modern writes the modern spelling.
 */
import { describe, expect, it } from "vitest";
import { FULCRUM_FEATURES } from "../../proxy/config/cond.js";
import type { ConfigModel } from "../../proxy/config/model.js";
import { printModernText } from "../../proxy/config/modern.js";
import { load, plain, TIMEOUTS } from "./config-fixtures.js";

const SERVERS = "    server web1 127.0.0.1:8081 check\n    server web2 127.0.0.1:8082 check\n";

interface Pair {
  name: string;
  legacy: string;
  modern: string;
  warning: string;
}

const PAIRS: Pair[] = [
  {
    name: "contimeout",
    legacy:
      "defaults\n    mode http\n    contimeout 5000\n    timeout client 5s\n    timeout server 5s\nbackend be\n" +
      SERVERS,
    modern:
      "defaults\n    mode http\n    timeout connect 5000\n    timeout client 5s\n    timeout server 5s\nbackend be\n" +
      SERVERS,
    warning: "t.cfg:3: 'contimeout' is deprecated since HAProxy 1.5, use 'timeout connect 5000' instead",
  },
  {
    name: "clitimeout",
    legacy:
      "defaults\n    mode http\n    timeout connect 5s\n    clitimeout 50000\n    timeout server 5s\nfrontend fe\n    bind :8080\n",
    modern:
      "defaults\n    mode http\n    timeout connect 5s\n    timeout client 50000\n    timeout server 5s\nfrontend fe\n    bind :8080\n",
    warning: "t.cfg:4: 'clitimeout' is deprecated since HAProxy 1.5, use 'timeout client 50000' instead",
  },
  {
    name: "srvtimeout",
    legacy: `${TIMEOUTS}backend be\n    srvtimeout 1m\n${SERVERS}`,
    modern: `${TIMEOUTS}backend be\n    timeout server 1m\n${SERVERS}`,
    warning: "t.cfg:7: 'srvtimeout' is deprecated since HAProxy 1.5, use 'timeout server 1m' instead",
  },
  {
    name: "redispatch",
    legacy: `${TIMEOUTS}backend be\n    redispatch\n${SERVERS}`,
    modern: `${TIMEOUTS}backend be\n    option redispatch\n${SERVERS}`,
    warning: "t.cfg:7: 'redispatch' is deprecated since HAProxy 1.5, use 'option redispatch' instead",
  },
  {
    name: "listen NAME ADDR",
    legacy: `${TIMEOUTS}listen web_proxy *:8080\n${SERVERS}`,
    modern: `${TIMEOUTS}listen web_proxy\n    bind *:8080\n${SERVERS}`,
    warning:
      "t.cfg:6: 'listen web_proxy *:8080' (an address on the listen line) is deprecated since HAProxy 1.5, use 'listen web_proxy' + 'bind *:8080' instead",
  },
  {
    name: "appsession",
    legacy: `${TIMEOUTS}backend be\n    appsession JSESSIONID len 52 timeout 3h\n${SERVERS}`,
    modern: `${TIMEOUTS}backend be\n    stick-table type string len 52 size 1m expire 3h\n    stick match req.cook(JSESSIONID)\n    stick match urlp(JSESSIONID,;)\n    stick store-response res.cook(JSESSIONID)\n${SERVERS}`,
    warning:
      "t.cfg:7: 'appsession' was removed in HAProxy 1.6; fulcrum keeps its meaning (learned-session persistence), use 'stick-table type string len 52 size 1m expire 3h' + 'stick match req.cook(JSESSIONID)' + 'stick match urlp(JSESSIONID,;)' + 'stick store-response res.cook(JSESSIONID)' instead",
  },
];

/** The modern model with the legacy one's `appsession` flags copied (the only difference). */
function withAppsession(modern: ConfigModel, legacy: ConfigModel): ConfigModel {
  return {
    ...modern,
    proxies: modern.proxies.map((p, i) => {
      const flag = legacy.proxies[i]?.learnedSession?.appsession;
      return flag && p.learnedSession
        ? { ...p, learnedSession: { ...p.learnedSession, appsession: flag } }
        : p;
    }),
  };
}

const ENV = { vars: {}, cond: { vars: {}, version: "2.6.12", features: FULCRUM_FEATURES } };

describe("HAProxy 1.4 spellings", () => {
  for (const p of PAIRS) {
    it(`maps '${p.name}' to its modern meaning with one warning naming both spellings`, () => {
      const legacy = load(p.legacy);
      const modern = load(p.modern);
      expect(legacy.warnings.map((w) => `${w.loc.file}:${w.loc.line}: ${w.message}`)).toEqual([p.warning]);
      expect(modern.warnings).toEqual([]);
      // `appsession` keeps HAProxy 1.4's URL-parameter rules (a flag 2.6's spelling cannot say).
      expect(plain(legacy.model)).toEqual(plain(withAppsession(modern.model, legacy.model)));
    });

    it(`prints '${p.name}' in its modern spelling with --print-modern`, () => {
      const printed = printModernText(p.legacy, "t.cfg", ENV);
      expect(printed.trim()).toBe(p.modern.trim());
    });
  }

  it("accepts 'nbproc' with a warning that fulcrum runs one process, and drops it from the modern print", () => {
    const { model, warnings } = load("global\n    nbproc 4\n");
    expect(model.global.nbproc).toBe(4);
    expect(warnings.map((w) => w.message)).toEqual([
      "'nbproc' was removed in HAProxy 2.5: fulcrum runs one process and the HA pair (the ha section) gives redundancy; remove 'nbproc 4'",
    ]);
    expect(printModernText("global\n    nbproc 4\n", "t.cfg", ENV)).toMatch(
      /^global\n {4}# 'nbproc 4' removed: /,
    );
  });

  it("maps appsession's request-learn and query-string mode to stick rules", () => {
    const legacy = load(
      `${TIMEOUTS}backend be\n    appsession SID len 32 timeout 1h request-learn mode query-string\n${SERVERS}`,
    );
    expect(legacy.model.proxies[0]?.learnedSession).toMatchObject({
      cookie: "SID",
      requestLearn: true,
      mode: "query-string",
    });
    expect(legacy.warnings[0]?.message).toContain(
      "'stick match urlp(SID)' + 'stick store-response res.cook(SID)' + 'stick store-request req.cook(SID)'",
    );
  });

  it("keeps 'option httpclose' as it is (still a 2.6 keyword) without a warning", () => {
    expect(load(`${TIMEOUTS}frontend fe\n    bind :8080\n    option httpclose\n`).warnings).toEqual([]);
  });
});
