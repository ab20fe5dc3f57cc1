/**
 * The configuration the lab runs: the tutorial's (examples/tutorial-1.4.cfg) in HAProxy 2.6
 * spelling, so that HAProxy itself loads the same service file, plus fulcrum's `ha` section
 * in a second file. Pure: a plan in, file texts out; the lab (and the compose folder) write
 * them and check them with the configuration reader.
 *
 * Kept close to the tutorial on purpose: roundrobin, `cookie SRV insert indirect nocache`,
 * learned-session persistence on JSESSIONID (what `appsession JSESSIONID len 52 timeout 3h`
 * means, in the stick-table spelling), `option httpchk HEAD /login HTTP/1.0`, forwardfor,
 * redispatch, `stats uri /haproxy-stats`, `monitor-uri /haproxy_test`, `option httpclose`.
 * Only the checks are faster (inter 200ms, fall 2, rise 2) so a drill sees a dead server
 * within half a second instead of the tutorial's 2 s x 3.
 *
 * Each node also gets its own stats listener (`listen lab_stats`, chosen with
 * `.if streq("${HAPROXY_LOCALPEER}",lbN)`, the variable `-L` sets in fulcrum and HAProxy
 * alike), so both nodes' pages can be opened side by side.
 */
import type { LbName, Topology, WebName } from "./state.js";

export interface HostPortPlan {
  /** "" or "*" for any address. */
  readonly host: string;
  readonly port: number;
}

export interface ConfigPlan {
  /** First comment line: who wrote the file and for what. */
  readonly title: string;
  readonly topology: Topology;
  readonly service: HostPortPlan;
  readonly stats: Readonly<Record<LbName, HostPortPlan>>;
  readonly peers: Readonly<Record<LbName, HostPortPlan>>;
  readonly servers: Readonly<Record<WebName, HostPortPlan>>;
  readonly redisUrl: string;
  /** Name of the `ha` section (pairs sharing one Redis must differ). */
  readonly haName: string;
  /** Folder of the per-node stats sockets (`fulcrum ctl -S DIR/lb1.sock ...`); none when absent. */
  readonly socketDir?: string;
  /** Log target line arguments (default `stdout format raw local0 info`). */
  readonly log?: string;
}

export interface ConfigFile {
  readonly name: string;
  readonly text: string;
}

/** Health-check timing of the lab's servers: a dead server is DOWN after ~2 x 200 ms. */
export const LAB_CHECK = { inter: "200ms", fall: 2, rise: 2 } as const;
/** The ha section's values: issue 2's defaults, written out so the reader sees them. */
export const LAB_HA = {
  advertInterval: "100ms",
  leaseTime: "300ms",
  priorities: { lb1: 150, lb2: 100 } as Readonly<Record<LbName, number>>,
  preempt: "off",
  takeover: "bind",
  fence: "kill",
} as const;

/** The service file's name: loaded first (lexical order when `-f DIR` is used). */
export const SERVICE_FILE = "10-service.cfg";
export const HA_FILE = "20-ha.cfg";

function addr(hp: HostPortPlan): string {
  const host = hp.host === "" ? "*" : hp.host.includes(":") ? `[${hp.host}]` : hp.host;
  return `${host}:${hp.port}`;
}

/** Text inside a double-quoted config word: `"`, `\` and `$` escaped. */
function escapeQuoted(text: string): string {
  return text.replace(/[\\"$]/g, (c) => `\\${c}`);
}

function nodeStatsBlock(lb: LbName, hp: HostPortPlan, first: boolean): string[] {
  return [
    `${first ? ".if" : ".elif"} streq("\${HAPROXY_LOCALPEER}",${lb})`,
    "listen lab_stats",
    `    bind ${addr(hp)}`,
    "    mode http",
    "    stats enable",
    "    stats uri /haproxy-stats",
    "    stats refresh 2s",
    "    stats show-legends",
  ];
}

/** The tutorial's proxy configuration, modern spelling, the lab's addresses. */
export function serviceConfigText(plan: ConfigPlan): string {
  const lbs: readonly LbName[] = plan.topology === "pair" ? ["lb1", "lb2"] : ["lb1"];
  const socket =
    plan.socketDir === undefined
      ? []
      : [
          `    stats socket "${escapeQuoted(plan.socketDir)}/\${HAPROXY_LOCALPEER}.sock" mode 600 level admin`,
        ];
  const lines = [
    `# ${plan.title}`,
    "# The tutorial's HAProxy 1.4 configuration (examples/tutorial-1.4.cfg) in HAProxy 2.6",
    "# spelling: `appsession JSESSIONID len 52 timeout 3h` is the stick-table lines,",
    "# contimeout/clitimeout/srvtimeout are `timeout connect|client|server`, `listen NAME ADDR`",
    "# is `listen NAME` + `bind`. Checks are faster than the tutorial's defaults (see below).",
    "global",
    "    maxconn 4096",
    `    log ${plan.log ?? "stdout format raw local0 info"}`,
    ...socket,
    "",
    "defaults",
    "    log global",
    "    mode http",
    "    option httplog",
    "    option dontlognull",
    "    option forwardfor",
    "    option redispatch",
    "    retries 3",
    "    maxconn 2000",
    "    balance roundrobin",
    "    timeout connect 5s",
    "    timeout client 50s",
    "    timeout server 50s",
    "",
    "# The service: bound by the active node only (ha section, takeover bind).",
    "listen web_proxy",
    `    bind ${addr(plan.service)}`,
    "    mode http",
    "    stats enable",
    "    stats hide-version",
    "    stats uri /haproxy-stats",
    "    stats refresh 10s",
    "    monitor-uri /haproxy_test",
    "    balance roundrobin",
    "    option httpclose",
    "    option forwardfor",
    "    option httpchk HEAD /login HTTP/1.0",
    "    cookie SRV insert indirect nocache",
    "    # learned-session persistence (the tutorial's appsession JSESSIONID len 52 timeout 3h)",
    "    stick-table type string len 52 size 1m expire 3h",
    "    stick match req.cook(JSESSIONID)",
    "    stick store-response res.cook(JSESSIONID)",
    `    # checks every ${LAB_CHECK.inter}: a dead server is DOWN after ${LAB_CHECK.fall} failed checks`,
    `    server web1 ${addr(plan.servers.web1)} cookie A check inter ${LAB_CHECK.inter} fall ${LAB_CHECK.fall} rise ${LAB_CHECK.rise}`,
    `    server web2 ${addr(plan.servers.web2)} cookie B check inter ${LAB_CHECK.inter} fall ${LAB_CHECK.fall} rise ${LAB_CHECK.rise}`,
    "",
    "# Each node's own stats page (-L lb1 / -L lb2 picks the block).",
    ...lbs.flatMap((lb, i) => nodeStatsBlock(lb, plan.stats[lb], i === 0)),
    ".endif",
    "",
  ];
  return lines.join("\n");
}

/** fulcrum's `ha` section for the pair (issue 2's syntax, its defaults written out). */
export function haConfigText(plan: ConfigPlan): string {
  return [
    `# ${plan.title}`,
    "# The HA pair: the same files run on both nodes; `-L lb1` / `-L lb2` says which one.",
    `ha ${plan.haName}`,
    `    redis ${plan.redisUrl}`,
    ...(["lb1", "lb2"] as const).map(
      (lb) => `    peer ${lb} ${addr(plan.peers[lb])} priority ${LAB_HA.priorities[lb]}`,
    ),
    `    advert-interval ${LAB_HA.advertInterval}`,
    `    lease-time ${LAB_HA.leaseTime}`,
    `    preempt ${LAB_HA.preempt}`,
    `    takeover ${LAB_HA.takeover}`,
    `    fence ${LAB_HA.fence}`,
    // Each node's own stats listener stays reachable whatever its role.
    "    keep-bound lab_stats",
    "",
  ].join("\n");
}

/** The files a topology runs, in load order. */
export function labConfigFiles(plan: ConfigPlan): ConfigFile[] {
  const files: ConfigFile[] = [{ name: SERVICE_FILE, text: serviceConfigText(plan) }];
  if (plan.topology === "pair") files.push({ name: HA_FILE, text: haConfigText(plan) });
  return files;
}
