/**
 * The configuration files of one bench run. Pure: ports and folders in, file texts out.
 *
 * Every proxy target gets the same job: roundrobin over the same two upstreams, keep-alive
 * to the servers, X-Forwarded-For added, no access log, one process with one thread. The
 * upstreams are nginx too, serving static files, and say who answered (`X-Upstream`) and
 * which X-Forwarded-For they saw (`X-Seen-Forwarded-For`) so the run can check that every
 * target really balances and forwards before it measures anything.
 */

export interface ServerAddr {
  readonly name: string;
  readonly port: number;
}

export interface UpstreamPlan {
  /** `a` or `b`: sent back in X-Upstream. */
  readonly name: string;
  readonly port: number;
  /** Folder for the pid file and nginx's temp folders. */
  readonly dir: string;
  /** Folder with the files served (small, 16k). */
  readonly root: string;
}

export interface ProxyPlan {
  readonly port: number;
  readonly servers: readonly ServerAddr[];
}

/** nginx's compiled-in temp paths point at /var/lib/nginx; a user run needs its own. */
function nginxTempPaths(dir: string): string[] {
  return ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(
    (kind) => `  ${kind}_temp_path ${dir}/${kind}_temp;`,
  );
}

/** One process, in the foreground, no access log: shared by the upstreams and the nginx target. */
function nginxMain(dir: string): string[] {
  return [
    "daemon off;",
    "master_process off;",
    "worker_processes 1;",
    `pid ${dir}/nginx.pid;`,
    "error_log stderr error;",
    "events { worker_connections 8192; }",
  ];
}

/** An upstream: nginx serving BODIES from `root`, keep-alive without a request limit. */
export function upstreamNginxConf(p: UpstreamPlan): string {
  return [
    `# fulcrum bench: upstream ${p.name}`,
    ...nginxMain(p.dir),
    "http {",
    "  access_log off;",
    ...nginxTempPaths(p.dir),
    "  keepalive_requests 1000000;",
    "  keepalive_timeout 60s;",
    "  default_type text/plain;",
    "  server {",
    `    listen 127.0.0.1:${p.port};`,
    `    root ${p.root};`,
    `    add_header X-Upstream ${p.name};`,
    "    add_header X-Seen-Forwarded-For $http_x_forwarded_for;",
    "    location / { }",
    "  }",
    "}",
    "",
  ].join("\n");
}

/**
 * The HAProxy configuration, run as is by `haproxy -db -f` and by `fulcrum proxy -db -f`.
 * nbthread 1: one core, as one Node process. Keep-alive to the servers is HAProxy's default
 * (http-keep-alive, idle connections reused); no `log` line, so nothing is logged.
 */
export function haproxyCfg(p: ProxyPlan): string {
  return [
    "# fulcrum bench: the same file runs haproxy -db and fulcrum proxy -db",
    "global",
    "    nbthread 1",
    "    maxconn 8192",
    "",
    "defaults",
    "    mode http",
    "    timeout connect 5s",
    "    timeout client 30s",
    "    timeout server 30s",
    "",
    "listen bench",
    `    bind 127.0.0.1:${p.port}`,
    "    balance roundrobin",
    "    option forwardfor",
    ...p.servers.map((s) => `    server ${s.name} 127.0.0.1:${s.port}`),
    "",
  ].join("\n");
}

/**
 * nginx as the reverse proxy: `upstream` (round robin by default) with a keep-alive cache
 * larger than the largest connection count, so it keeps server connections open as HAProxy
 * does; HTTP/1.1 to the servers with the Connection header cleared; X-Forwarded-For appended.
 */
export function nginxProxyConf(p: ProxyPlan & { readonly dir: string }): string {
  return [
    "# fulcrum bench: nginx as a reverse proxy",
    ...nginxMain(p.dir),
    "http {",
    "  access_log off;",
    ...nginxTempPaths(p.dir),
    "  keepalive_requests 1000000;",
    "  keepalive_timeout 60s;",
    "  upstream bench {",
    ...p.servers.map((s) => `    server 127.0.0.1:${s.port};`),
    "    keepalive 512;",
    "    keepalive_requests 1000000;",
    "  }",
    "  server {",
    `    listen 127.0.0.1:${p.port};`,
    "    location / {",
    "      proxy_pass http://bench;",
    "      proxy_http_version 1.1;",
    '      proxy_set_header Connection "";',
    "      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");
}
