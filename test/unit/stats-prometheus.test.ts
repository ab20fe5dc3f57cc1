/**
 * The exporter's text (proxy/stats/prometheus.ts) from a fixed snapshot: label escaping, the
 * HA pair's metrics, and the process figures. The HAProxy-compatible samples are compared
 * with haproxy 2.6 in test/integration/prometheus.test.ts.
 */
import { describe, expect, it } from "vitest";
import { type ProcessFigures, prometheusText } from "../../proxy/stats/prometheus.js";
import type { StatsSnapshot } from "../../proxy/stats/snapshot.js";
import { backendRuntime, frontendRuntime, L7OK, proxyModel, serverModel } from "./stats-fixture.js";

const NOW = 1_800_000_000_000;

const PROC: ProcessFigures = {
  uptimeSec: 310,
  startTimeSec: (NOW - 310_000) / 1000,
  maxconn: 4096,
  currentConnections: 3,
  connectionsTotal: 17,
  requestsTotal: 21,
  stopping: false,
  listeners: 1,
  droppedLogs: 0,
  bytesOut: 1234,
  version: "0.1.0",
  pid: 4242,
  fdLimit: 1024,
  poolAllocBytes: 3 * 1024 * 1024,
  poolUsedBytes: 2 * 1024 * 1024,
  connRate: 2,
  connRateMax: 5,
  sessRate: 2,
  sessRateMax: 5,
  tasks: 12,
  idlePct: 97,
  hostname: "lb1",
  jobs: 3,
};

function snapshot(name: string): StatsSnapshot {
  const px = proxyModel({
    name,
    id: 1,
    kind: "listen",
    servers: [serverModel({ name: "web1", id: 1, check: true, port: 9001 })],
  });
  return {
    pid: 4242,
    now: NOW,
    startedAt: NOW - 310_000,
    globalMaxconn: 4096,
    version: "0.1.0",
    proxies: [
      {
        cfg: px,
        frontend: frontendRuntime(px),
        backend: backendRuntime(px, { web1: { check: L7OK(NOW - 1000, 1), lastChange: NOW - 42_000 } }),
        fullconn: 10,
      },
    ],
  };
}

describe("prometheus exposition", () => {
  it("escapes label values as the text format requires", () => {
    const text = prometheusText(snapshot('we"b\\x'), PROC);
    expect(text).toContain('haproxy_server_status{proxy="we\\"b\\\\x",server="web1",state="UP"} 1');
  });

  it("process figures under HAProxy's names", () => {
    const text = prometheusText(snapshot("web"), PROC);
    expect(text).toContain("\nhaproxy_process_uptime_seconds 310\n");
    expect(text).toContain("\nhaproxy_process_requests_total 21\n");
    expect(text).toContain("\nhaproxy_process_max_connections 4096\n");
    expect(text).toContain('\nhaproxy_process_build_info{version="0.1.0"} 1\n');
    // The same rows as `show info` (stats/info.ts): the rates, the fd limit, the memory.
    expect(text).toContain("\nhaproxy_process_current_connection_rate 2\n");
    expect(text).toContain("\nhaproxy_process_max_session_rate 5\n");
    expect(text).toContain("\nhaproxy_process_max_fds 1024\n");
    expect(text).toContain(`\nhaproxy_process_pool_used_bytes ${2 * 1024 * 1024}\n`);
    expect(text).toContain("\nhaproxy_process_max_ssl_connections 0\n");
    expect(text).not.toContain("fulcrum_ha_");
  });

  it("the HA pair: role as a state set, transitions, epoch, the peer's advert age", () => {
    const snap: StatsSnapshot = {
      ...snapshot("web"),
      ha: {
        node: "lb2",
        role: "MASTER",
        epoch: 9,
        priority: 100,
        transitions: 3,
        configChecksum: "aaaa",
        peer: { name: "lb1", role: "BACKUP", lastAdvertMs: 80 },
      },
    };
    const lines = prometheusText(snap, PROC).split("\n");
    expect(lines.filter((l) => l.startsWith("fulcrum_ha_role{"))).toEqual([
      'fulcrum_ha_role{node="lb2",state="INIT"} 0',
      'fulcrum_ha_role{node="lb2",state="BACKUP"} 0',
      'fulcrum_ha_role{node="lb2",state="MASTER"} 1',
      'fulcrum_ha_role{node="lb2",state="FAULT"} 0',
      'fulcrum_ha_role{node="lb2",state="STOPPED"} 0',
    ]);
    expect(lines).toContain("# TYPE fulcrum_ha_transitions_total counter");
    expect(lines).toContain('fulcrum_ha_transitions_total{node="lb2"} 3');
    expect(lines).toContain('fulcrum_ha_epoch{node="lb2"} 9');
    expect(lines).toContain('fulcrum_ha_peer_advert_age_seconds{node="lb2",peer="lb1"} 0.080');
  });
});
