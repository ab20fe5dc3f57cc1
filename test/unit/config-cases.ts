// biome-ignore-all lint/suspicious/noTemplateCurlyInString: HAProxy writes environment variables as ${NAME}
/**
 * Accepted and rejected forms of every keyword row, used by config-keywords.test.ts (against
 * fulcrum) and cli-check.test.ts (the HAProxy-syntax accepted forms against haproxy -c).
 */
import { expect } from "vitest";
import type { ConfigModel, ProxyModel } from "../../proxy/config/model.js";
import type { Section } from "./config-fixtures.js";

export interface Good {
  section: Section;
  lines: string;
  check?: (m: ConfigModel, p: ProxyModel) => void;
}
export interface Bad {
  section: Section;
  lines: string;
  error: string;
}
export interface Cases {
  ok: Good[];
  bad: Bad[];
}

const HA = "redis redis://127.0.0.1:6379\npeer lb1 127.0.0.1:7001\npeer lb2 127.0.0.1:7002";

/** The proxy the case's lines went into. */
export function proxyOf(m: ConfigModel, section: Section): ProxyModel {
  const name = { frontend: "fe", backend: "be", listen: "ls", defaults: "be", global: "be", ha: "be" }[
    section
  ];
  return m.proxies.find((p) => p.name === name) ?? m.proxies[0]!;
}

export const CASES: Record<string, Cases> = {
  // ---- global --------------------------------------------------------------------------
  log: {
    ok: [
      {
        section: "global",
        lines: "log 127.0.0.1 local3",
        check: (m) =>
          expect(m.global.logs[0]).toMatchObject({
            kind: "udp",
            host: "127.0.0.1",
            port: 514,
            facility: 19,
            maxLevel: 7,
            minLevel: 0,
            format: "rfc3164",
          }),
      },
      {
        section: "global",
        lines: "log 10.0.0.1:1514 len 4096 format rfc5424 local0 info notice",
        check: (m) =>
          expect(m.global.logs[0]).toMatchObject({
            port: 1514,
            len: 4096,
            format: "rfc5424",
            facility: 16,
            maxLevel: 6,
            minLevel: 5,
          }),
      },
      {
        section: "global",
        lines: "log /dev/log daemon",
        check: (m) => expect(m.global.logs[0]).toMatchObject({ kind: "unix", path: "/dev/log", facility: 3 }),
      },
      {
        section: "global",
        lines: "log stdout format raw daemon",
        check: (m) => expect(m.global.logs[0]).toMatchObject({ kind: "stdout", format: "raw" }),
      },
      {
        section: "global",
        lines: "log [::1]:514 local1",
        check: (m) => expect(m.global.logs[0]).toMatchObject({ host: "::1", port: 514 }),
      },
      {
        section: "frontend",
        lines: "log global\nlog 127.0.0.2 local4",
        check: (_m, p) => expect(p.logs.map((l) => l.host)).toEqual(["127.0.0.2"]),
      },
      { section: "frontend", lines: "no log", check: (_m, p) => expect(p.logs).toEqual([]) },
    ],
    bad: [
      { section: "global", lines: "log 127.0.0.1 local9", error: "unknown syslog facility 'local9'" },
      { section: "global", lines: "log 127.0.0.1", error: "expects syslog facility" },
      { section: "global", lines: "log 127.0.0.1 local3 loud", error: "unknown log level 'loud'" },
      {
        section: "global",
        lines: "log 127.0.0.1 format iso local3",
        error: "log format 'iso' is not supported yet",
      },
      { section: "global", lines: "log 127.0.0.1:99999 local3", error: "invalid port '99999'" },
      { section: "global", lines: "log global", error: "'log global' is only meaningful in a proxy section" },
    ],
  },
  maxconn: {
    ok: [
      { section: "global", lines: "maxconn 10000", check: (m) => expect(m.global.maxconn).toBe(10000) },
      { section: "frontend", lines: "maxconn 500", check: (_m, p) => expect(p.maxconn).toBe(500) },
    ],
    bad: [
      { section: "global", lines: "maxconn 1e3", error: "'1e3' is not a whole number" },
      { section: "global", lines: "maxconn", error: "missing argument" },
      { section: "backend", lines: "maxconn 10", error: "'maxconn' is not allowed in a 'backend' section" },
    ],
  },
  uid: {
    ok: [{ section: "global", lines: "uid 65534", check: (m) => expect(m.global.uid).toBe(65534) }],
    bad: [{ section: "global", lines: "uid nobody", error: "'nobody' is not a whole number" }],
  },
  gid: {
    ok: [{ section: "global", lines: "gid 65534", check: (m) => expect(m.global.gid).toBe(65534) }],
    bad: [{ section: "global", lines: "gid -1", error: "out of range" }],
  },
  user: {
    ok: [{ section: "global", lines: "user nobody", check: (m) => expect(m.global.user).toBe("nobody") }],
    bad: [{ section: "global", lines: "user nosuchuser", error: "unknown user 'nosuchuser'" }],
  },
  group: {
    ok: [{ section: "global", lines: "group nogroup", check: (m) => expect(m.global.group).toBe("nogroup") }],
    bad: [{ section: "global", lines: "group nosuchgroup", error: "unknown group 'nosuchgroup'" }],
  },
  daemon: {
    ok: [{ section: "global", lines: "daemon", check: (m) => expect(m.global.daemon).toBe(true) }],
    bad: [{ section: "global", lines: "daemon yes", error: "takes no argument" }],
  },
  nbthread: {
    ok: [{ section: "global", lines: "nbthread 1", check: (m) => expect(m.global.nbthread).toBe(1) }],
    bad: [{ section: "global", lines: "nbthread 0", error: "out of range (expected 1..64)" }],
  },
  pidfile: {
    ok: [
      {
        section: "global",
        lines: "pidfile /run/fulcrum.pid",
        check: (m) => expect(m.global.pidfile).toBe("/run/fulcrum.pid"),
      },
    ],
    bad: [{ section: "global", lines: "pidfile a b", error: "unexpected argument 'b'" }],
  },
  chroot: {
    ok: [
      {
        section: "global",
        lines: "chroot /var/empty",
        check: (m) => expect(m.global.chroot).toBe("/var/empty"),
      },
    ],
    bad: [{ section: "global", lines: "chroot", error: "missing argument" }],
  },
  "stats socket": {
    ok: [
      {
        section: "global",
        lines: "stats socket /run/fulcrum.sock mode 660 level admin",
        check: (m) =>
          expect(m.global.statsSockets[0]).toMatchObject({
            path: "/run/fulcrum.sock",
            mode: 0o660,
            level: "admin",
          }),
      },
      {
        section: "global",
        lines: "stats socket /tmp/s",
        check: (m) => expect(m.global.statsSockets[0]?.level).toBe("operator"),
      },
    ],
    bad: [
      { section: "global", lines: "stats socket /tmp/s level root", error: "unknown level 'root'" },
      { section: "global", lines: "stats socket ipv4@127.0.0.1:9999", error: "is not supported yet" },
      {
        section: "global",
        lines: "stats socket /tmp/s expose-fd listeners",
        error: "socket parameter 'expose-fd' is not supported yet",
      },
      { section: "global", lines: "stats socket /tmp/s mode 999", error: "octal file mode" },
    ],
  },
  "server-state-file": {
    ok: [
      {
        section: "global",
        lines: "server-state-file /var/lib/fulcrum/state",
        check: (m) => expect(m.global.serverStateFile).toBe("/var/lib/fulcrum/state"),
      },
    ],
    bad: [
      { section: "frontend", lines: "server-state-file /x", error: "is not allowed in a 'frontend' section" },
    ],
  },
  "log-tag": {
    ok: [{ section: "global", lines: "log-tag lb1", check: (m) => expect(m.global.logTag).toBe("lb1") }],
    bad: [{ section: "global", lines: "log-tag", error: "missing argument" }],
  },
  "tune.bufsize": {
    ok: [
      { section: "global", lines: "tune.bufsize 32768", check: (m) => expect(m.global.bufsize).toBe(32768) },
    ],
    bad: [
      { section: "global", lines: "tune.bufsize 16k", error: "'16k' is not a whole number" },
      {
        section: "global",
        lines: "tune.bufsize 2048\ntune.maxrewrite 4096",
        error: "must be smaller than tune.bufsize",
      },
    ],
  },
  "tune.maxrewrite": {
    ok: [
      {
        section: "global",
        lines: "tune.maxrewrite 2048",
        check: (m) => expect(m.global.maxrewrite).toBe(2048),
      },
    ],
    bad: [{ section: "global", lines: "tune.maxrewrite lots", error: "is not a whole number" }],
  },
  "tune.http.maxhdr": {
    ok: [
      {
        section: "global",
        lines: "tune.http.maxhdr 200",
        check: (m) => expect(m.global.maxHeaders).toBe(200),
      },
    ],
    bad: [{ section: "global", lines: "tune.http.maxhdr 0", error: "out of range" }],
  },

  // ---- proxies ---------------------------------------------------------------------------
  mode: {
    ok: [
      {
        section: "backend",
        lines: "mode tcp\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.mode).toBe("tcp"),
      },
    ],
    bad: [{ section: "backend", lines: "mode udp", error: "unknown mode 'udp'" }],
  },
  bind: {
    ok: [
      {
        section: "listen",
        lines: "bind 127.0.0.1:8081,:8082\nbind :::8083\nbind [::1]:8084\nbind 0.0.0.0:8085\nbind fd@3",
        check: (_m, p) =>
          expect(p.binds.map((b) => [b.kind, b.host, b.port, b.fd])).toEqual([
            ["tcp", "", 8080, undefined],
            ["tcp", "127.0.0.1", 8081, undefined],
            ["tcp", "", 8082, undefined],
            ["tcp", "::", 8083, undefined],
            ["tcp", "::1", 8084, undefined],
            ["tcp", "0.0.0.0", 8085, undefined],
            ["fd", "", 0, 3],
          ]),
      },
    ],
    bad: [
      { section: "frontend", lines: "bind 127.0.0.1", error: "missing port in '127.0.0.1'" },
      {
        section: "frontend",
        lines: "bind :8080 ssl crt /x.pem",
        error: "bind option 'ssl' is not supported yet",
      },
      { section: "frontend", lines: "bind fd@${FD}", error: "is not a file descriptor number" },
      { section: "frontend", lines: "bind :80-90", error: "port ranges" },
      { section: "backend", lines: "bind :8080", error: "'bind' is not allowed in a 'backend' section" },
    ],
  },
  default_backend: {
    ok: [
      {
        section: "frontend",
        lines: "default_backend other",
        check: (_m, p) => expect(p.defaultBackend).toBe("other"),
      },
    ],
    bad: [
      {
        section: "frontend",
        lines: "default_backend nowhere",
        error: "unable to find default_backend 'nowhere'",
      },
      { section: "frontend", lines: "default_backend", error: "missing argument" },
    ],
  },
  use_backend: {
    ok: [
      {
        section: "frontend",
        lines: "acl is_api path_beg /api\nuse_backend other if is_api\nuse_backend be",
        check: (_m, p) => {
          expect(p.useBackends.map((u) => u.backend)).toEqual(["other", "be"]);
          expect(p.useBackends[0]?.cond.anyOf).toEqual([[{ kind: "named", name: "is_api", negate: false }]]);
        },
      },
    ],
    bad: [
      {
        section: "frontend",
        lines: "use_backend nowhere if TRUE",
        error: "unable to find use_backend 'nowhere'",
      },
      { section: "frontend", lines: "use_backend other if undeclared", error: "no such ACL: 'undeclared'" },
      { section: "frontend", lines: "use_backend %[req.hdr(host)]", error: "dynamic backend names" },
    ],
  },
  acl: {
    ok: [
      {
        section: "frontend",
        lines: "acl static path_beg -i /static /images\nacl static path_end .css",
        check: (_m, p) => {
          const def = p.acls.get("static");
          expect(def?.exprs.map((e) => [e.fetch, e.match, e.ignoreCase, e.strings])).toEqual([
            ["path", "beg", true, ["/static", "/images"]],
            ["path", "end", false, [".css"]],
          ]);
        },
      },
      {
        section: "frontend",
        lines: "acl ports dst_port 80:90 :70 100: gt 5 8080",
        check: (_m, p) =>
          expect(p.acls.get("ports")?.exprs[0]?.ints).toEqual([
            { op: "range", value: 80, max: 90 },
            { op: "le", value: 70 },
            { op: "ge", value: 100 },
            { op: "gt", value: 5 },
            { op: "eq", value: 8080 },
          ]),
      },
      {
        section: "frontend",
        lines: "acl lan src 10.0.0.0/8 192.168.0.0/255.255.0.0 ::1",
        check: (_m, p) =>
          expect(p.acls.get("lan")?.exprs[0]?.networks.map((n) => [n.family, n.prefix])).toEqual([
            [4, 8],
            [4, 16],
            [6, 128],
          ]),
      },
      {
        section: "frontend",
        lines:
          "acl h hdr(host) -i example.com\nacl hb hdr_beg(host) www.\nacl c req.cook(JSESSIONID) -m found\nacl q query -m sub debug=1\nacl m method POST\nacl u url_beg /x\nacl r path_reg ^/a+$\nacl d nbsrv(other) lt 1\nacl l path_len gt 100",
        check: (_m, p) => {
          expect(p.acls.get("hb")?.exprs[0]).toMatchObject({ fetch: "hdr", args: ["host"], match: "beg" });
          expect(p.acls.get("c")?.exprs[0]).toMatchObject({
            fetch: "req.cook",
            args: ["JSESSIONID"],
            match: "found",
          });
          expect(p.acls.get("r")?.exprs[0]?.regexes).toEqual(["^/a+$"]);
          expect(p.acls.get("l")?.exprs[0]).toMatchObject({
            fetch: "path",
            match: "len",
            ints: [{ op: "gt", value: 100 }],
          });
        },
      },
    ],
    bad: [
      { section: "frontend", lines: "acl a pth /x", error: "unknown fetch method 'pth'" },
      { section: "frontend", lines: "acl a path -m foo /x", error: "unknown matching method 'foo'" },
      { section: "frontend", lines: "acl a path_reg ([", error: "regex '([' is invalid" },
      {
        section: "frontend",
        lines: "acl a path,lower /x",
        error: "converters (',lower') are not supported yet",
      },
      {
        section: "frontend",
        lines: "acl a src localhost",
        error: "host names in ACL patterns are not supported yet",
      },
      {
        section: "frontend",
        lines: "acl a nbsrv(nowhere) lt 1",
        error: "unable to find backend of nbsrv() 'nowhere'",
      },
      { section: "frontend", lines: "acl a dst_port gt x", error: "'x' is not an integer pattern" },
      {
        section: "frontend",
        lines: "acl a path -f /etc/paths.lst",
        error: "pattern files ('-f') are not supported yet",
      },
      { section: "frontend", lines: "acl a/b path /x", error: "invalid ACL name 'a/b'" },
    ],
  },
  "monitor-uri": {
    ok: [
      {
        section: "frontend",
        lines: "monitor-uri /haproxy_test",
        check: (_m, p) => expect(p.monitorUri).toBe("/haproxy_test"),
      },
    ],
    bad: [{ section: "frontend", lines: "monitor-uri haproxy_test", error: "the URI must start with '/'" }],
  },
  "monitor fail": {
    ok: [
      {
        section: "frontend",
        lines: "monitor-uri /up\nmonitor fail if { nbsrv(be) lt 1 }",
        check: (_m, p) =>
          expect(p.monitorFail[0]?.anyOf[0]?.[0]).toMatchObject({
            kind: "anon",
            expr: { fetch: "nbsrv", args: ["be"], ints: [{ op: "lt", value: 1 }] },
          }),
      },
    ],
    bad: [
      { section: "frontend", lines: "monitor fail", error: "expects a condition" },
      { section: "frontend", lines: "monitor fail when down", error: "expected 'if' or 'unless'" },
      {
        section: "frontend",
        lines: "monitor fail if { nbsrv(nowhere) lt 1 }",
        error: "unable to find backend of nbsrv() 'nowhere'",
      },
    ],
  },
  "http-request": {
    ok: [
      {
        section: "frontend",
        lines:
          'acl metrics path /metrics\nhttp-request use-service prometheus-exporter if metrics\nhttp-request deny deny_status 429 if { src 10.0.0.0/8 }\nhttp-request allow\nhttp-request set-header X-Via "fulcrum lb1"\nhttp-request add-header X-A b unless metrics\nhttp-request del-header X-Debug',
        check: (_m, p) =>
          expect(
            p.httpRequestRules.map((r) => [
              r.action,
              "status" in r ? r.status : "name" in r ? r.name : undefined,
              r.cond?.polarity,
            ]),
          ).toEqual([
            ["use-service", undefined, "if"],
            ["deny", 429, "if"],
            ["allow", undefined, undefined],
            ["set-header", "X-Via", undefined],
            ["add-header", "X-A", "unless"],
            ["del-header", "X-Debug", undefined],
          ]),
      },
      {
        section: "backend",
        lines:
          'http-request redirect prefix /new drop-query append-slash code 308 set-cookie SEEN=1 if { path_beg /old }\nhttp-request redirect scheme https\nhttp-request return status 503 content-type "application/json" string "{}" hdr Retry-After 5 if { path /down }\nhttp-request return status 404',
        check: (_m, p) => {
          expect(p.httpRequestRules[0]).toMatchObject({
            action: "redirect",
            kind: "prefix",
            target: "/new",
            code: 308,
            dropQuery: true,
            appendSlash: true,
            cookie: { clear: false, text: "SEEN=1" },
          });
          expect(p.httpRequestRules[1]).toMatchObject({ action: "redirect", kind: "scheme", code: 302 });
          const ret = p.httpRequestRules[2]!;
          expect(ret).toMatchObject({
            action: "return",
            status: 503,
            contentType: "application/json",
            headers: [["Retry-After", "5"]],
          });
          expect(ret.action === "return" && ret.body.toString()).toBe("{}");
          expect(p.httpRequestRules[3]).toMatchObject({ action: "return", status: 404, headers: [] });
        },
      },
    ],
    bad: [
      {
        section: "frontend",
        lines: "http-request tarpit",
        error: "action 'tarpit' is not supported yet",
      },
      {
        section: "frontend",
        lines: "http-request redirect location /x code 300",
        error: "unsupported HTTP code '300'",
      },
      {
        section: "frontend",
        lines: "http-request redirect code 301",
        error: "redirection type expected ('prefix', 'location', or 'scheme')",
      },
      {
        section: "frontend",
        lines: "http-request redirect location",
        error: "missing argument for 'location'",
      },
      {
        section: "frontend",
        lines: "http-request redirect location /x keep-query",
        error: "unexpected 'keep-query'",
      },
      {
        section: "frontend",
        lines: "http-request redirect location %[path]",
        error: "log-format expressions in redirect locations ('%[path]') are not supported yet",
      },
      {
        section: "frontend",
        lines: "http-request return string x",
        error: "a content type must be defined when non-empty payload is configured",
      },
      {
        section: "frontend",
        lines: "http-request return status 100",
        error: "100 is out of range (expected 200..599)",
      },
      {
        section: "frontend",
        lines: "http-request return status 204 content-type t string a",
        error: "No body expected for 204 responses.",
      },
      {
        section: "frontend",
        lines: "http-request return status 200 content-type t string a string b",
        error: "unexpected 'string' argument, the payload is already defined",
      },
      {
        section: "frontend",
        lines: "http-request return hdr X-A",
        error: "'hdr' expects <name> and <value>",
      },
      {
        section: "frontend",
        lines: "http-request return status 200 file /nonexistent/f.html content-type text/html",
        error: "cannot read '/nonexistent/f.html': ENOENT",
      },
      {
        section: "frontend",
        lines: "http-request return status 200 lf-string x content-type t",
        error: "'lf-string' is not supported yet",
      },
      {
        section: "frontend",
        lines: "http-request set-header X-Client %[src]",
        error: "log-format expressions in header values ('%[src]') are not supported yet",
      },
      {
        section: "frontend",
        lines: "http-request use-service lua.hello",
        error: "service 'lua.hello' is not supported yet",
      },
      { section: "frontend", lines: "http-request set-header X-A", error: "missing argument" },
      { section: "frontend", lines: "http-request deny if", error: "missing condition after 'if'" },
    ],
  },
  "http-response": {
    ok: [
      {
        section: "backend",
        lines:
          'http-response set-header X-A b\nhttp-response add-header X-A c if { status 200 }\nhttp-response del-header Server unless { res.hdr(x-keep) yes }\nhttp-response deny deny_status 403 if { shdr_beg(x-secret) y }\nhttp-response allow if { src 10.0.0.0/8 }\nhttp-response set-status 299 reason "All Good"\nhttp-response deny',
        check: (_m, p) =>
          expect(
            p.httpResponseRules.map((r) => [
              r.action,
              "status" in r ? r.status : "name" in r ? r.name : undefined,
              r.cond?.polarity,
            ]),
          ).toEqual([
            ["set-header", "X-A", undefined],
            ["add-header", "X-A", "if"],
            ["del-header", "Server", "unless"],
            ["deny", 403, "if"],
            ["allow", undefined, "if"],
            ["set-status", 299, undefined],
            ["deny", 502, undefined],
          ]),
      },
    ],
    bad: [
      {
        section: "frontend",
        lines: "http-response redirect location /x",
        error: "action 'redirect' is not supported yet",
      },
      { section: "frontend", lines: "http-response", error: "expects an action" },
      { section: "frontend", lines: "http-response set-status abc", error: "'abc'" },
      {
        section: "frontend",
        lines: "http-response set-status 200 because x",
        error: "unexpected 'because x'",
      },
      { section: "frontend", lines: "http-response deny deny_status", error: "expects a status code" },
      {
        section: "frontend",
        lines: "http-response set-header X-A %[res.hdr(a)]",
        error: "log-format expressions in header values ('%[res.hdr(a)]') are not supported yet",
      },
    ],
  },
  "capture cookie": {
    ok: [
      {
        section: "frontend",
        lines: "capture cookie SRV len 32",
        check: (_m, p) => expect(p.captureCookie).toEqual({ name: "SRV", len: 32 }),
      },
    ],
    bad: [{ section: "frontend", lines: "capture cookie SRV 32", error: "missing argument" }],
  },
  "capture request header": {
    ok: [
      {
        section: "frontend",
        lines: "capture request header Host len 64",
        check: (_m, p) => expect(p.captureRequestHeaders).toEqual([{ name: "Host", len: 64 }]),
      },
    ],
    bad: [{ section: "frontend", lines: "capture request header Host size 64", error: "expects 'len'" }],
  },
  "capture response header": {
    ok: [
      {
        section: "frontend",
        lines: "capture response header Location len 128",
        check: (_m, p) => expect(p.captureResponseHeaders).toEqual([{ name: "Location", len: 128 }]),
      },
    ],
    bad: [
      {
        section: "backend",
        lines: "capture response header Location len 128",
        error: "is not allowed in a 'backend' section",
      },
    ],
  },
  balance: {
    ok: [
      {
        section: "backend",
        lines: "balance leastconn\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.balance).toEqual({ algo: "leastconn" }),
      },
      {
        section: "backend",
        lines: "balance uri whole len 10 depth 3\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.balance).toEqual({ algo: "uri", uriWhole: true, uriLen: 10, uriDepth: 3 }),
      },
      {
        section: "backend",
        lines: "balance source\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.balance.algo).toBe("source"),
      },
    ],
    bad: [
      { section: "backend", lines: "balance random", error: "algorithm 'random' is not supported yet" },
      { section: "backend", lines: "balance roundrobbin", error: "unknown balance algorithm 'roundrobbin'" },
      {
        section: "frontend",
        lines: "balance roundrobin",
        error: "'balance' is not allowed in a 'frontend' section",
      },
    ],
  },
  retries: {
    ok: [
      {
        section: "backend",
        lines: "retries 5\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.retries).toBe(5),
      },
    ],
    bad: [{ section: "backend", lines: "retries 3x", error: "'3x' is not a whole number" }],
  },
  fullconn: {
    ok: [
      {
        section: "backend",
        lines: "fullconn 1000\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.fullconn).toBe(1000),
      },
    ],
    bad: [{ section: "backend", lines: "fullconn 0", error: "out of range" }],
  },
  "http-check expect": {
    ok: [
      {
        section: "backend",
        lines: "option httpchk GET /health\nhttp-check expect status 200-399\nserver s 127.0.0.1:1 check",
        check: (_m, p) =>
          expect(p.httpCheck?.expect).toEqual({ kind: "status", negate: false, value: "200-399" }),
      },
      {
        section: "backend",
        lines: "option httpchk\nhttp-check expect ! rstring ^error\nserver s 127.0.0.1:1 check",
        check: (_m, p) =>
          expect(p.httpCheck?.expect).toEqual({ kind: "rstring", negate: true, value: "^error" }),
      },
    ],
    bad: [
      { section: "backend", lines: "http-check expect status ok", error: "'ok' is not a status list" },
      { section: "backend", lines: "http-check expect rstatus ([", error: "regex '([' is invalid" },
      { section: "backend", lines: "http-check expect header name x", error: "unknown expect kind 'header'" },
      {
        section: "backend",
        lines: "http-check expect status 200\nhttp-check expect string ok",
        error: "only one 'http-check expect' rule",
      },
    ],
  },
  "http-check send": {
    ok: [
      {
        section: "backend",
        lines:
          "option httpchk\nhttp-check send meth GET uri /x ver HTTP/1.1 hdr Host example\nserver s 127.0.0.1:1 check",
        check: (_m, p) =>
          expect(p.httpCheck).toEqual({
            method: "GET",
            uri: "/x",
            version: "HTTP/1.1",
            headers: [["Host", "example"]],
          }),
      },
      {
        // Each part given replaces the option's; the send's headers replace the version's.
        section: "backend",
        lines:
          "option httpchk POST /a HTTP/1.1\\r\\nHost:\\ old\nhttp-check send hdr X-A b body abc\nserver s 127.0.0.1:1 check",
        check: (_m, p) =>
          expect(p.httpCheck).toEqual({
            method: "POST",
            uri: "/a",
            version: "HTTP/1.1",
            headers: [["X-A", "b"]],
            body: "abc",
          }),
      },
      {
        section: "backend",
        lines: "option httpchk\nhttp-check send\nhttp-check expect status 200\nserver s 127.0.0.1:1 check",
        check: (_m, p) =>
          expect(p.httpCheck).toMatchObject({ method: "OPTIONS", uri: "/", expect: { kind: "status" } }),
      },
      {
        // A send of this section drops the expect inherited from defaults (HAProxy 2.6).
        section: "defaults",
        lines:
          "option httpchk\nhttp-check expect status 201\nbackend bx\nhttp-check send uri /x\nserver s 127.0.0.1:1 check",
        check: (m) =>
          expect(m.proxies.find((x) => x.name === "bx")?.httpCheck).toEqual({
            method: "OPTIONS",
            uri: "/x",
            version: "HTTP/1.0",
            headers: [],
          }),
      },
      {
        // The option from defaults is not the base of this section's send (HAProxy 2.6).
        section: "defaults",
        lines: "option httpchk GET /d\nbackend bx\nhttp-check send ver HTTP/1.1\nserver s 127.0.0.1:1 check",
        check: (m) =>
          expect(m.proxies.find((x) => x.name === "bx")?.httpCheck).toMatchObject({
            method: "OPTIONS",
            uri: "/",
            version: "HTTP/1.1",
          }),
      },
    ],
    bad: [
      {
        section: "backend",
        lines: "http-check send uri /a\nhttp-check send uri /b",
        error: "several 'http-check send' rules (a check sequence) are not supported yet",
      },
      {
        section: "backend",
        lines: "http-check expect status 200\nhttp-check send uri /a",
        error: "'http-check send' must come before 'http-check expect'",
      },
      {
        section: "backend",
        lines: "http-check send hdr Host",
        error: "'hdr' expects a header name and a value",
      },
      { section: "backend", lines: "http-check send meth", error: "'meth' expects a method" },
      { section: "backend", lines: "http-check send foo", error: "unknown argument 'foo'" },
      { section: "backend", lines: "http-check send uri x", error: "the URI must start with '/'" },
      { section: "backend", lines: "http-check send ver 1.1", error: "invalid HTTP version '1.1'" },
      {
        section: "backend",
        lines: "http-check send hdr Bad:Name x",
        error: "invalid header name 'Bad:Name'",
      },
      {
        section: "backend",
        lines: "http-check send hdr host a hdr Host b",
        error: "'host' header already defined (previous value is 'a')",
      },
      {
        section: "backend",
        lines: "http-check send uri-lf /%[src]",
        error: "log-format 'uri-lf' is not supported yet",
      },
      {
        section: "backend",
        lines: "http-check send hdr Content-Length 3",
        error: "header 'Content-Length' is not supported yet",
      },
      { section: "backend", lines: "http-check connect", error: "'http-check connect' is not supported yet" },
      {
        section: "defaults",
        lines: "option httpchk\nhttp-check send uri /d\nbackend bx\nhttp-check expect status 200",
        error: "this rule replaces the http-check rules inherited from defaults, 'http-check send' included",
      },
      {
        section: "frontend",
        lines: "http-check send uri /",
        error: "'http-check send' is not allowed in a 'frontend' section",
      },
    ],
  },
  "http-check disable-on-404": {
    ok: [
      {
        section: "backend",
        lines: "option httpchk\nhttp-check disable-on-404\nserver s 127.0.0.1:1 check",
        check: (_m, p) => expect(p.options.disableOn404).toBe(true),
      },
    ],
    bad: [
      { section: "backend", lines: "http-check disable-on-404 foo", error: "takes no argument, got 'foo'" },
      {
        section: "frontend",
        lines: "http-check disable-on-404",
        error: "'http-check disable-on-404' is not allowed in a 'frontend' section",
      },
    ],
  },
  errorfile: {
    ok: [
      {
        section: "frontend",
        lines: "errorfile 503 errors/503.http",
        check: (_m, p) => expect(p.errorfiles.get(503)?.toString()).toMatch(/^HTTP\/1\.0 503/),
      },
    ],
    bad: [
      { section: "frontend", lines: "errorfile 999 errors/503.http", error: "status code '999' not handled" },
      {
        section: "frontend",
        lines: "errorfile 503 errors/missing.http",
        error: "cannot read 'errors/missing.http': ENOENT",
      },
      { section: "frontend", lines: "errorfile 503 errors/bad.http", error: "is not a raw HTTP response" },
    ],
  },
  "timeout connect": {
    ok: [
      {
        section: "backend",
        lines: "timeout connect 3s\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.timeouts.connect).toBe(3000),
      },
    ],
    bad: [
      { section: "backend", lines: "timeout connect 1.5s", error: "'1.5s' is not a time" },
      { section: "backend", lines: "timeout connect 3000000000", error: "timer overflow" },
      {
        section: "frontend",
        lines: "timeout connect 5s",
        error: "'timeout connect' is not allowed in a 'frontend' section",
      },
    ],
  },
  "timeout client": {
    ok: [
      {
        section: "frontend",
        lines: "timeout client 1m",
        check: (_m, p) => expect(p.timeouts.client).toBe(60000),
      },
    ],
    bad: [{ section: "frontend", lines: "timeout client 10x", error: "unknown time unit 'x'" }],
  },
  "timeout server": {
    ok: [
      {
        section: "backend",
        lines: "timeout server 1h\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.timeouts.server).toBe(3600000),
      },
    ],
    bad: [{ section: "backend", lines: "timeout server -1", error: "is not a time" }],
  },
  "timeout queue": {
    ok: [
      {
        section: "backend",
        lines: "timeout queue 250us\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.timeouts.queue).toBe(1),
      },
    ],
    bad: [{ section: "backend", lines: "timeout queue", error: "missing argument" }],
  },
  "timeout http-request": {
    ok: [
      {
        section: "frontend",
        lines: "timeout http-request 10s",
        check: (_m, p) => expect(p.timeouts.httpRequest).toBe(10000),
      },
    ],
    bad: [{ section: "frontend", lines: "timeout http-request 10s 20s", error: "unexpected argument '20s'" }],
  },
  "timeout http-keep-alive": {
    ok: [
      {
        section: "frontend",
        lines: "timeout http-keep-alive 2s",
        check: (_m, p) => expect(p.timeouts.httpKeepAlive).toBe(2000),
      },
    ],
    bad: [{ section: "frontend", lines: "timeout http-keep-alive soon", error: "is not a time" }],
  },
  "timeout check": {
    ok: [
      {
        section: "backend",
        lines: "timeout check 1d\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.timeouts.check).toBe(86400000),
      },
    ],
    bad: [
      { section: "frontend", lines: "timeout check 1s", error: "is not allowed in a 'frontend' section" },
    ],
  },
  "timeout tunnel": {
    ok: [
      {
        section: "backend",
        lines: "timeout tunnel 1h\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.timeouts.tunnel).toBe(3600000),
      },
    ],
    bad: [{ section: "backend", lines: "timeout tunnel 1w", error: "unknown time unit 'w'" }],
  },
  "timeout client-fin": {
    ok: [
      {
        section: "frontend",
        lines: "timeout client-fin 30s",
        check: (_m, p) => expect(p.timeouts.clientFin).toBe(30000),
      },
    ],
    bad: [
      { section: "backend", lines: "timeout client-fin 30s", error: "is not allowed in a 'backend' section" },
    ],
  },
  "timeout server-fin": {
    ok: [
      {
        section: "backend",
        lines: "timeout server-fin 30s\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.timeouts.serverFin).toBe(30000),
      },
    ],
    bad: [
      {
        section: "frontend",
        lines: "timeout server-fin 30s",
        error: "is not allowed in a 'frontend' section",
      },
    ],
  },
  "timeout tarpit": {
    ok: [
      {
        section: "frontend",
        lines: "timeout tarpit 5s",
        check: (_m, p) => expect(p.timeouts.tarpit).toBe(5000),
      },
    ],
    bad: [{ section: "frontend", lines: "timeout tarpit", error: "missing argument" }],
  },

  // ---- options ---------------------------------------------------------------------------
  "option httplog": {
    ok: [
      {
        section: "frontend",
        lines: "option httplog",
        check: (_m, p) => expect(p.options.httplog).toBe(true),
      },
    ],
    bad: [
      { section: "frontend", lines: "option httplog clf", error: "'clf' log format is not supported yet" },
    ],
  },
  "option tcplog": {
    ok: [
      {
        section: "frontend",
        lines: "option httplog\noption tcplog",
        check: (_m, p) => expect([p.options.tcplog, p.options.httplog]).toEqual([true, false]),
      },
    ],
    bad: [{ section: "frontend", lines: "option tcplog x", error: "takes no argument" }],
  },
  "option dontlognull": {
    ok: [
      {
        section: "frontend",
        lines: "option dontlognull",
        check: (_m, p) => expect(p.options.dontlognull).toBe(true),
      },
    ],
    bad: [
      { section: "backend", lines: "option dontlognull", error: "is not allowed in a 'backend' section" },
    ],
  },
  "option forwardfor": {
    ok: [
      {
        section: "frontend",
        lines: "option forwardfor except 127.0.0.0/8 header X-Client if-none",
        check: (_m, p) =>
          expect(p.options.forwardfor).toMatchObject({
            header: "X-Client",
            ifNone: true,
            except: { prefix: 8 },
          }),
      },
    ],
    bad: [
      {
        section: "frontend",
        lines: "option forwardfor except nowhere",
        error: "'nowhere' is not an IPv4 or IPv6 address",
      },
      { section: "frontend", lines: "option forwardfor always", error: "unknown argument 'always'" },
      {
        section: "frontend",
        lines: "option forwardfor\nno option forwardfor",
        error: "'no option forwardfor' is not supported",
      },
    ],
  },
  "option redispatch": {
    ok: [
      {
        section: "backend",
        lines: "option redispatch\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.options.redispatch).toBe(true),
      },
    ],
    bad: [{ section: "backend", lines: "option redispatch 2", error: "takes no argument" }],
  },
  "option httpclose": {
    ok: [
      {
        section: "frontend",
        lines: "option httpclose",
        check: (_m, p) => expect(p.options.httpConnMode).toBe("close"),
      },
      {
        section: "frontend",
        lines: "option httpclose\nno option httpclose",
        check: (_m, p) => expect(p.options.httpConnMode).toBe("keep-alive"),
      },
    ],
    bad: [{ section: "global", lines: "option httpclose", error: "is not allowed in a 'global' section" }],
  },
  "option http-server-close": {
    ok: [
      {
        section: "frontend",
        lines: "option http-server-close",
        check: (_m, p) => expect(p.options.httpConnMode).toBe("server-close"),
      },
    ],
    bad: [{ section: "frontend", lines: "option http-server-close now", error: "takes no argument" }],
  },
  "option http-keep-alive": {
    ok: [
      {
        section: "frontend",
        lines: "option httpclose\noption http-keep-alive",
        check: (_m, p) => expect(p.options.httpConnMode).toBe("keep-alive"),
      },
    ],
    bad: [
      {
        section: "frontend",
        lines: "option http-keepalive",
        error: "did you mean 'option http-keep-alive'?",
      },
    ],
  },
  "option log-health-checks": {
    ok: [
      {
        section: "backend",
        lines: "option log-health-checks\nserver s 127.0.0.1:1 check",
        check: (_m, p) => expect(p.options.logHealthChecks).toBe(true),
      },
      {
        section: "defaults",
        lines:
          "option log-health-checks\nbackend bx\nno option log-health-checks\nserver s 127.0.0.1:1 check",
        check: (m, p) => {
          expect(m.proxies.find((x) => x.name === "bx")?.options.logHealthChecks).toBe(false);
          expect(p.options.logHealthChecks).toBe(true);
        },
      },
    ],
    bad: [
      { section: "backend", lines: "option log-health-checks foo", error: "takes no argument, got 'foo'" },
      {
        section: "frontend",
        lines: "option log-health-checks",
        error: "'option log-health-checks' is not allowed in a 'frontend' section",
      },
    ],
  },
  "option httpchk": {
    ok: [
      {
        section: "backend",
        lines: "option httpchk\nserver s 127.0.0.1:1",
        check: (_m, p) =>
          expect(p.httpCheck).toEqual({ method: "OPTIONS", uri: "/", version: "HTTP/1.0", headers: [] }),
      },
      {
        section: "backend",
        lines: "option httpchk /ping\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.httpCheck).toMatchObject({ method: "OPTIONS", uri: "/ping" }),
      },
      {
        section: "backend",
        lines: "option httpchk HEAD /login HTTP/1.1\\r\\nHost:\\ www.example.com\nserver s 127.0.0.1:1",
        check: (_m, p) =>
          expect(p.httpCheck).toEqual({
            method: "HEAD",
            uri: "/login",
            version: "HTTP/1.1",
            headers: [["Host", "www.example.com"]],
          }),
      },
    ],
    bad: [
      { section: "backend", lines: "option httpchk GET login", error: "the URI must start with '/'" },
      { section: "backend", lines: "option httpchk GET / HTTP/9", error: "invalid HTTP version 'HTTP/9'" },
    ],
  },
  "option abortonclose": {
    ok: [
      {
        section: "backend",
        lines: "option abortonclose\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.options.abortonclose).toBe(true),
      },
    ],
    bad: [
      { section: "frontend", lines: "option abortonclose", error: "is not allowed in a 'frontend' section" },
    ],
  },
  "option logasap": {
    ok: [
      {
        section: "frontend",
        lines: "option logasap",
        check: (_m, p) => expect(p.options.logasap).toBe(true),
      },
    ],
    bad: [{ section: "backend", lines: "option logasap", error: "is not allowed in a 'backend' section" }],
  },
  "option dontlog-normal": {
    ok: [
      {
        section: "frontend",
        lines: "option dontlog-normal",
        check: (_m, p) => expect(p.options.dontlogNormal).toBe(true),
      },
    ],
    bad: [{ section: "frontend", lines: "option dontlog-normal 1", error: "takes no argument" }],
  },
  "option log-separate-errors": {
    ok: [
      {
        section: "frontend",
        lines: "option log-separate-errors",
        check: (_m, p) => expect(p.options.logSeparateErrors).toBe(true),
      },
    ],
    bad: [
      {
        section: "backend",
        lines: "option log-separate-errors",
        error: "is not allowed in a 'backend' section",
      },
    ],
  },
  "option http-buffer-request": {
    ok: [
      {
        section: "frontend",
        lines: "option http-buffer-request",
        check: (_m, p) => expect(p.options.httpBufferRequest).toBe(true),
      },
    ],
    bad: [{ section: "frontend", lines: "option http-buffer-request yes", error: "takes no argument" }],
  },
  "option allbackups": {
    ok: [
      {
        section: "backend",
        lines: "option allbackups\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.options.allbackups).toBe(true),
      },
    ],
    bad: [
      { section: "frontend", lines: "option allbackups", error: "is not allowed in a 'frontend' section" },
    ],
  },
  "option persist": {
    ok: [
      {
        section: "backend",
        lines: "option persist\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.options.persist).toBe(true),
      },
    ],
    bad: [{ section: "backend", lines: "no option persist x", error: "takes no argument" }],
  },

  // ---- stats -----------------------------------------------------------------------------
  "stats enable": {
    ok: [
      {
        section: "frontend",
        lines: "stats enable",
        check: (_m, p) => expect(p.stats).toMatchObject({ enabled: true, uri: "/haproxy?stats" }),
      },
    ],
    bad: [{ section: "frontend", lines: "stats enable now", error: "takes no argument" }],
  },
  "stats uri": {
    ok: [
      {
        section: "frontend",
        lines: "stats uri /haproxy-stats",
        check: (_m, p) => expect(p.stats).toMatchObject({ enabled: true, uri: "/haproxy-stats" }),
      },
    ],
    bad: [{ section: "frontend", lines: "stats uri stats", error: "the URI must start with '/'" }],
  },
  "stats refresh": {
    ok: [
      {
        section: "frontend",
        lines: "stats refresh 10s",
        check: (_m, p) => expect(p.stats?.refresh).toBe(10000),
      },
    ],
    bad: [{ section: "frontend", lines: "stats refresh 10", error: "too short" }],
  },
  "stats hide-version": {
    ok: [
      {
        section: "frontend",
        lines: "stats hide-version",
        check: (_m, p) => expect(p.stats?.hideVersion).toBe(true),
      },
    ],
    bad: [{ section: "frontend", lines: "stats hide-version 1", error: "takes no argument" }],
  },
  "stats realm": {
    ok: [
      {
        section: "frontend",
        lines: "stats realm Fulcrum\\ statistics",
        check: (_m, p) => expect(p.stats?.realm).toBe("Fulcrum statistics"),
      },
    ],
    bad: [
      {
        section: "frontend",
        lines: "stats realm Fulcrum statistics",
        error: "unexpected argument 'statistics'",
      },
    ],
  },
  "stats auth": {
    ok: [
      {
        section: "frontend",
        lines: "stats auth admin:s3cr:et\nstats auth ops:x",
        check: (_m, p) =>
          expect(p.stats?.auth).toEqual([
            { user: "admin", password: "s3cr:et" },
            { user: "ops", password: "x" },
          ]),
      },
    ],
    bad: [{ section: "frontend", lines: "stats auth admin", error: "expects <user>:<password>" }],
  },
  "stats admin": {
    ok: [
      {
        section: "frontend",
        lines: "stats admin if LOCALHOST",
        check: (_m, p) =>
          expect(p.stats?.admin[0]?.anyOf).toEqual([[{ kind: "named", name: "LOCALHOST", negate: false }]]),
      },
    ],
    bad: [
      { section: "frontend", lines: "stats admin", error: "expects a condition" },
      { section: "defaults", lines: "stats admin if TRUE", error: "is not allowed in a 'defaults' section" },
    ],
  },
  "stats show-legends": {
    ok: [
      {
        section: "frontend",
        lines: "stats show-legends",
        check: (_m, p) => expect(p.stats?.showLegends).toBe(true),
      },
    ],
    bad: [{ section: "frontend", lines: "stats show-legend", error: "did you mean 'stats show-legends'?" }],
  },
  "stats show-node": {
    ok: [
      {
        section: "frontend",
        lines: "stats show-node lb1",
        check: (_m, p) => expect(p.stats?.showNode).toBe("lb1"),
      },
    ],
    bad: [{ section: "frontend", lines: "stats show-node a b", error: "unexpected argument 'b'" }],
  },

  // ---- servers and persistence ---------------------------------------------------------
  "default-server": {
    ok: [
      {
        section: "backend",
        lines:
          "default-server inter 3s fall 2 weight 5\nserver a 127.0.0.1:1 check\ndefault-server rise 1\nserver b 127.0.0.1:2 weight 2 inter 1s",
        check: (_m, p) => {
          expect(p.servers[0]).toMatchObject({
            inter: 3000,
            fastinter: 3000,
            fall: 2,
            rise: 2,
            weight: 5,
            check: true,
          });
          expect(p.servers[1]).toMatchObject({
            inter: 1000,
            fastinter: 1000,
            fall: 2,
            rise: 1,
            weight: 2,
            check: false,
          });
        },
      },
      {
        // A backend starts from its defaults section's default-server line.
        section: "defaults",
        lines: "default-server check inter 4s",
        check: (_m, p) => expect(p.servers[0]).toMatchObject({ check: true, inter: 4000, downinter: 4000 }),
      },
      {
        section: "listen",
        lines: "default-server maxconn 10\nserver a 127.0.0.1:1",
        check: (_m, p) => expect(p.servers[0]!.maxconn).toBe(10),
      },
    ],
    bad: [
      { section: "backend", lines: "default-server inter 3x", error: "unknown time unit 'x'" },
      { section: "backend", lines: "default-server chek", error: "did you mean 'check'?" },
      { section: "frontend", lines: "default-server check", error: "is not allowed in a 'frontend' section" },
    ],
  },
  server: {
    ok: [
      {
        section: "backend",
        lines:
          "server web1 127.0.0.1:8081 cookie A check inter 5s fastinter 1s downinter 10s rise 3 fall 2 weight 10 maxconn 100 maxqueue 10 slowstart 30s port 9000 addr 127.0.0.2\nserver web2 localhost:8082 backup disabled\nserver web3 127.0.0.1:8083 track web1\nserver web4 127.0.0.1:8084 track be/web3",
        check: (_m, p) => {
          expect(p.servers[0]).toMatchObject({
            name: "web1",
            id: 1,
            host: "127.0.0.1",
            port: 8081,
            cookie: "A",
            check: true,
            inter: 5000,
            fastinter: 1000,
            downinter: 10000,
            rise: 3,
            fall: 2,
            weight: 10,
            maxconn: 100,
            maxqueue: 10,
            slowstart: 30000,
            checkPort: 9000,
            backup: false,
          });
          expect(p.servers[0]!.checkAddr).toBe("127.0.0.2");
          expect(p.servers[2]!.track).toEqual({ backend: "be", server: "web1" });
          expect(p.servers[3]!.track).toEqual({ backend: "be", server: "web3" });
          expect(p.servers[1]).toMatchObject({
            name: "web2",
            id: 2,
            host: "localhost",
            inter: 2000,
            fastinter: 2000,
            downinter: 2000,
            rise: 2,
            fall: 3,
            weight: 1,
            backup: true,
            disabled: true,
            check: false,
          });
        },
      },
    ],
    bad: [
      { section: "backend", lines: "server web1 127.0.0.1", error: "missing port in '127.0.0.1'" },
      {
        section: "backend",
        lines: "server web1 127.0.0.1:80 weight 257",
        error: "257 is out of range (expected 0..256)",
      },
      { section: "backend", lines: "server web1 127.0.0.1:80 chek", error: "did you mean 'check'?" },
      {
        section: "backend",
        lines: "server web1 127.0.0.1:80 ssl verify none",
        error: "server option 'ssl' is unknown or not supported yet",
      },
      {
        section: "backend",
        lines: "server web1 127.0.0.1:80\nserver web1 127.0.0.1:81",
        error: "another server named 'web1'",
      },
      {
        section: "backend",
        lines: "server web1 127.0.0.1:80 inter 0",
        error: "'inter' must be greater than 0",
      },
      {
        section: "frontend",
        lines: "server web1 127.0.0.1:80",
        error: "'server' is not allowed in a 'frontend' section",
      },
      {
        section: "backend",
        lines: "server web1 127.0.0.1:80 check addr checker.local",
        error: "'checker.local' is not an IPv4 or IPv6 address",
      },
      {
        section: "backend",
        lines: "server web1 127.0.0.1:80 check\nserver web2 127.0.0.1:81 track web9",
        error: "'server be/web2' : unable to find required server 'web9' for tracking.",
      },
      {
        section: "backend",
        lines: "server web2 127.0.0.1:81 track nowhere/web1",
        error: "'server be/web2' : unable to find required proxy 'nowhere' for tracking.",
      },
      {
        section: "backend",
        lines: "server web1 127.0.0.1:80 check\nserver web2 127.0.0.1:81 check track web1",
        error: "unable to enable checks and tracking at the same time!",
      },
      {
        section: "backend",
        lines: "server web2 127.0.0.1:81 track other/s1",
        error: "unable to use other/s1 for tracking as it does not have any check nor agent enabled.",
      },
      {
        section: "backend",
        lines: "server a 127.0.0.1:81 track b\nserver b 127.0.0.1:82 track a",
        error: "tracking loop",
      },
    ],
  },
  cookie: {
    ok: [
      {
        section: "backend",
        lines:
          "cookie SRV insert indirect nocache httponly secure postonly preserve domain .example.com attr SameSite=Lax maxidle 30m maxlife 8h\nserver s 127.0.0.1:1 cookie A",
        check: (_m, p) =>
          expect(p.cookie).toMatchObject({
            name: "SRV",
            mode: "insert",
            indirect: true,
            nocache: true,
            httponly: true,
            secure: true,
            postonly: true,
            preserve: true,
            domains: [".example.com"],
            attrs: ["SameSite=Lax"],
            maxidle: 1800000,
            maxlife: 28800000,
          }),
      },
    ],
    bad: [
      {
        section: "backend",
        lines: "cookie SRV rewrite",
        error: "cookie mode 'rewrite' is not supported yet",
      },
      { section: "backend", lines: "cookie SRV prefix", error: "cookie mode 'prefix' is not supported yet" },
      {
        section: "backend",
        lines: "cookie SRV",
        error: "passive cookie persistence (no 'insert') is not supported yet",
      },
      { section: "backend", lines: "cookie SRV insert sticky", error: "unknown cookie option 'sticky'" },
      {
        section: "backend",
        lines: "cookie SRV insert\nserver a 127.0.0.1:1 cookie A\nserver b 127.0.0.1:2 cookie A",
        error: "use the same cookie value 'A'",
      },
    ],
  },
  "stick-table": {
    ok: [
      {
        section: "backend",
        lines:
          "stick-table type string len 64 size 100k expire 30m\nstick on req.cook(SID)\nstick store-response res.cook(SID)\nserver s 127.0.0.1:1",
        check: (_m, p) =>
          expect(p.learnedSession).toMatchObject({
            cookie: "SID",
            len: 64,
            size: 102400,
            timeout: 1800000,
            requestLearn: true,
            mode: "cookie-only",
          }),
      },
    ],
    bad: [
      {
        section: "backend",
        lines: "stick-table type ip size 1m expire 1h",
        error: "only 'type string' tables are supported yet",
      },
      { section: "backend", lines: "stick-table type string len 32 expire 1h", error: "missing 'size'" },
      {
        section: "backend",
        lines: "stick-table type string size 1m expire 1h store gpc0",
        error: "stick-table option 'store' is not supported yet",
      },
    ],
  },
  "stick match": {
    ok: [
      {
        section: "backend",
        lines:
          "stick-table type string len 52 size 1m expire 3h\nstick match req.cook(JSESSIONID)\nstick match urlp(JSESSIONID)\nstick store-response res.cook(JSESSIONID)\nserver s 127.0.0.1:1",
        check: (_m, p) =>
          expect(p.learnedSession).toMatchObject({
            cookie: "JSESSIONID",
            mode: "query-string",
            requestLearn: false,
          }),
      },
    ],
    bad: [
      {
        section: "backend",
        lines: "stick match src",
        error: "only req.cook(NAME), res.cook(NAME) and urlp(NAME[,DELIM]) are supported yet",
      },
      {
        section: "backend",
        lines: "stick match req.cook(A) table t2",
        error: "'table' is not supported yet in stick rules",
      },
      {
        section: "backend",
        lines:
          "stick-table type string size 1m expire 1h\nstick match req.cook(A)\nstick store-response res.cook(B)",
        error: "do not describe learned-session persistence",
      },
    ],
  },
  "stick on": {
    ok: [
      {
        section: "backend",
        lines:
          "stick-table type string size 1m expire 1h\nstick on req.cook(A)\nstick store-response res.cook(A)\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.learnedSession?.requestLearn).toBe(true),
      },
    ],
    bad: [{ section: "backend", lines: "stick on res.cook(A)", error: "'on' needs a request fetch" }],
  },
  "stick store-request": {
    ok: [
      {
        section: "backend",
        lines:
          "stick-table type string size 1m expire 1h\nstick match req.cook(A)\nstick store-request req.cook(A)\nstick store-response res.cook(A)\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.learnedSession?.requestLearn).toBe(true),
      },
    ],
    bad: [
      {
        section: "backend",
        lines: "stick store-request urlp(A)",
        error: "urlp() is supported in 'stick match' only",
      },
    ],
  },
  "stick store-response": {
    ok: [
      {
        section: "backend",
        lines:
          "stick-table type string size 1m expire 1h\nstick match req.cook(A)\nstick match urlp(A,;)\nstick store-response res.cook(A)\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.learnedSession?.mode).toBe("path-parameters"),
      },
    ],
    bad: [
      {
        section: "backend",
        lines: "stick store-response req.cook(A)",
        error: "'store-response' needs res.cook(NAME)",
      },
      {
        section: "backend",
        lines: "stick match req.cook(A)\nstick store-response res.cook(A)",
        error: "need a 'stick-table'",
      },
    ],
  },

  // ---- ha --------------------------------------------------------------------------------
  redis: {
    ok: [
      {
        section: "ha",
        lines: HA,
        check: (m) => expect(m.ha?.redis).toEqual({ kind: "url", url: "redis://127.0.0.1:6379" }),
      },
    ],
    bad: [
      {
        section: "ha",
        lines: "peer lb1 127.0.0.1:7001\nredis http://127.0.0.1:6379",
        error: "unsupported scheme 'http:'",
      },
      { section: "ha", lines: "peer lb1 127.0.0.1:7001\nredis nowhere", error: "'nowhere' is not a URL" },
      { section: "ha", lines: `${HA}\nredis redis://127.0.0.1:6380`, error: "Redis is already configured" },
    ],
  },
  "redis-sentinel": {
    ok: [
      {
        section: "ha",
        lines: "redis-sentinel mymaster 127.0.0.1:26379,127.0.0.1:26380\npeer lb1 127.0.0.1:7001",
        check: (m) =>
          expect(m.ha?.redis).toEqual({
            kind: "sentinel",
            master: "mymaster",
            hosts: [
              { host: "127.0.0.1", port: 26379 },
              { host: "127.0.0.1", port: 26380 },
            ],
          }),
      },
    ],
    bad: [
      {
        section: "ha",
        lines: "peer lb1 127.0.0.1:7001\nredis-sentinel mymaster 127.0.0.1",
        error: "missing port",
      },
    ],
  },
  peer: {
    ok: [
      {
        section: "ha",
        lines: "redis redis://127.0.0.1:6379\npeer lb1 127.0.0.1:7001 priority 150\npeer lb2 127.0.0.1:7002",
        check: (m) => {
          expect(m.ha?.peers.map((p) => [p.name, p.host, p.port, p.priority])).toEqual([
            ["lb1", "127.0.0.1", 7001, 150],
            ["lb2", "127.0.0.1", 7002, 100],
          ]);
          expect(m.ha?.localPeer).toBe("lb1");
        },
      },
    ],
    bad: [
      {
        section: "ha",
        lines: "redis redis://127.0.0.1:6379\npeer lb1 127.0.0.1:7001 priority 0",
        error: "0 is out of range (expected 1..255)",
      },
      {
        section: "ha",
        lines: "redis redis://127.0.0.1:6379\npeer lb1 127.0.0.1:7001\npeer lb1 127.0.0.1:7002",
        error: "peer 'lb1' is declared twice",
      },
      {
        section: "ha",
        lines: "redis redis://127.0.0.1:6379\npeer lb1 127.0.0.1:7001\npeer lb2 127.0.0.1:7001",
        error: "have the same address 127.0.0.1:7001",
      },
      {
        section: "ha",
        lines: "redis redis://127.0.0.1:6379\npeer lb1 127.0.0.1:7001 weight 2",
        error: "unknown peer option 'weight'",
      },
    ],
  },
  "advert-interval": {
    ok: [
      {
        section: "ha",
        lines: `${HA}\nadvert-interval 50ms`,
        check: (m) => expect([m.ha?.advertInterval, m.ha?.leaseTime]).toEqual([50, 300]),
      },
    ],
    bad: [{ section: "ha", lines: `${HA}\nadvert-interval 0`, error: "must be greater than 0" }],
  },
  "lease-time": {
    ok: [{ section: "ha", lines: `${HA}\nlease-time 1s`, check: (m) => expect(m.ha?.leaseTime).toBe(1000) }],
    bad: [
      {
        section: "ha",
        lines: `${HA}\nlease-time 100ms`,
        error: "lease-time (100 ms) must be longer than advert-interval (100 ms)",
      },
      { section: "ha", lines: `${HA}\nlease-time soon`, error: "is not a time" },
    ],
  },
  "stall-threshold": {
    ok: [
      {
        section: "ha",
        lines: `${HA}\nstall-threshold 250ms`,
        check: (m) => expect(m.ha?.stallThreshold).toBe(250),
      },
      { section: "ha", lines: HA, check: (m) => expect(m.ha?.stallThreshold).toBeUndefined() },
    ],
    bad: [
      {
        section: "ha",
        lines: `${HA}\nstall-threshold 300ms`,
        error: "stall-threshold (300 ms) must be shorter than lease-time (300 ms)",
      },
      { section: "ha", lines: `${HA}\nstall-threshold 0`, error: "must be greater than 0" },
      { section: "ha", lines: `${HA}\nstall-threshold long`, error: "is not a time" },
    ],
  },
  preempt: {
    ok: [
      {
        section: "ha",
        lines: `${HA}\npreempt on delay 5s`,
        check: (m) => expect(m.ha?.preempt).toEqual({ on: true, delay: 5000 }),
      },
      {
        section: "ha",
        lines: `${HA}\npreempt off`,
        check: (m) => expect(m.ha?.preempt).toEqual({ on: false, delay: 0 }),
      },
    ],
    bad: [
      { section: "ha", lines: `${HA}\npreempt yes`, error: "unknown preempt mode 'yes'" },
      { section: "ha", lines: `${HA}\npreempt on after 5s`, error: "unknown argument 'after'" },
    ],
  },
  takeover: {
    ok: [
      {
        section: "ha",
        lines: `${HA}\ntakeover vip 192.0.2.10/24 dev eth0`,
        check: (m) =>
          expect(m.ha?.takeover).toEqual({ kind: "vip", address: "192.0.2.10", prefix: 24, dev: "eth0" }),
      },
      {
        section: "ha",
        lines: `${HA}\ntakeover bind`,
        check: (m) => expect(m.ha?.takeover).toEqual({ kind: "bind" }),
      },
    ],
    bad: [
      {
        section: "ha",
        lines: `${HA}\ntakeover vip 192.0.2.10 dev eth0`,
        error: "is not an address with a prefix length",
      },
      {
        section: "ha",
        lines: `${HA}\ntakeover vip 192.0.2.10/33 dev eth0`,
        error: "is not an address with a prefix length",
      },
      { section: "ha", lines: `${HA}\ntakeover dns`, error: "unknown takeover mode 'dns'" },
    ],
  },
  fence: {
    ok: [{ section: "ha", lines: `${HA}\nfence off`, check: (m) => expect(m.ha?.fence).toBe("off") }],
    bad: [{ section: "ha", lines: `${HA}\nfence stonith`, error: "unknown fence mode 'stonith'" }],
  },
  "keep-bound": {
    ok: [
      {
        section: "ha",
        lines: `${HA}\nkeep-bound fe`,
        check: (m) => expect(m.ha?.keepBound).toEqual(["fe"]),
      },
    ],
    bad: [
      {
        section: "ha",
        lines: `${HA}\nkeep-bound nope`,
        error: "keep-bound: no frontend or listen named 'nope'",
      },
      {
        section: "ha",
        lines: `${HA}\nkeep-bound be`,
        error: "keep-bound: 'be' is a backend, not a frontend",
      },
      {
        section: "ha",
        lines: `${HA}\nkeep-bound`,
        error: "'keep-bound' expects at least one frontend or listen name",
      },
    ],
  },
  notify: {
    ok: [
      {
        section: "ha",
        lines: `${HA}\nnotify /usr/local/bin/notify.sh`,
        check: (m) => expect(m.ha?.notify).toBe("/usr/local/bin/notify.sh"),
      },
    ],
    bad: [
      { section: "frontend", lines: "notify /x", error: "'notify' is not allowed in a 'frontend' section" },
    ],
  },

  // ---- HAProxy 1.4 spellings (the mapping itself is in config-legacy.test.ts) ----------
  contimeout: {
    ok: [
      {
        section: "backend",
        lines: "contimeout 5000\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.timeouts.connect).toBe(5000),
      },
    ],
    bad: [{ section: "backend", lines: "contimeout 5 s", error: "unexpected argument 's'" }],
  },
  clitimeout: {
    ok: [
      {
        section: "frontend",
        lines: "clitimeout 50000",
        check: (_m, p) => expect(p.timeouts.client).toBe(50000),
      },
    ],
    bad: [
      {
        section: "backend",
        lines: "clitimeout 50000",
        error: "'clitimeout' is not allowed in a 'backend' section",
      },
    ],
  },
  srvtimeout: {
    ok: [
      {
        section: "backend",
        lines: "srvtimeout 50s\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.timeouts.server).toBe(50000),
      },
    ],
    bad: [{ section: "backend", lines: "srvtimeout fifty", error: "is not a time" }],
  },
  redispatch: {
    ok: [
      {
        section: "backend",
        lines: "redispatch\nserver s 127.0.0.1:1",
        check: (_m, p) => expect(p.options.redispatch).toBe(true),
      },
    ],
    bad: [{ section: "backend", lines: "redispatch now", error: "takes no argument" }],
  },
  appsession: {
    ok: [
      {
        section: "backend",
        lines:
          "appsession JSESSIONID len 52 timeout 3h request-learn mode query-string\nserver s 127.0.0.1:1",
        check: (_m, p) =>
          expect(p.learnedSession).toMatchObject({
            cookie: "JSESSIONID",
            len: 52,
            timeout: 10800000,
            requestLearn: true,
            mode: "query-string",
            prefix: false,
          }),
      },
    ],
    bad: [
      { section: "backend", lines: "appsession JSESSIONID len 52", error: "usage: appsession" },
      {
        section: "backend",
        lines: "appsession JSESSIONID len 52 timeout 3h prefix",
        error: "appsession 'prefix' is not supported yet",
      },
      { section: "backend", lines: "appsession JSESSIONID len 52 timeout forever", error: "is not a time" },
      {
        section: "frontend",
        lines: "appsession JSESSIONID len 52 timeout 3h",
        error: "'appsession' is not allowed in a 'frontend' section",
      },
    ],
  },
  nbproc: {
    ok: [{ section: "global", lines: "nbproc 2", check: (m) => expect(m.global.nbproc).toBe(2) }],
    bad: [{ section: "global", lines: "nbproc many", error: "is not a whole number" }],
  },
};
