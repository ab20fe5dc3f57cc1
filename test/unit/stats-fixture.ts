/**
 * Small builders for configuration models and runtime records, so the stats and log tests
 * can describe a node in a few lines. Defaults are HAProxy's (rise 2, fall 3, weight 1).
 */
import type { ProxyModel, ServerModel, StatsConfig } from "../../proxy/config/model.js";
import {
  type BackendRuntime,
  type CheckResult,
  type FrontendRuntime,
  newCounters,
  type ServerRuntime,
} from "../../proxy/state.js";

const loc = { file: "test.cfg", line: 1 };

export function serverModel(over: Partial<ServerModel> & { name: string; id: number }): ServerModel {
  return {
    host: "127.0.0.1",
    port: 8080,
    check: false,
    inter: 2000,
    fastinter: 2000,
    downinter: 2000,
    rise: 2,
    fall: 3,
    weight: 1,
    maxconn: 0,
    maxqueue: 0,
    backup: false,
    disabled: false,
    loc,
    ...over,
  };
}

export function statsConfig(over: Partial<StatsConfig> = {}): StatsConfig {
  return {
    enabled: true,
    uri: "/haproxy-stats",
    hideVersion: false,
    auth: [],
    admin: [],
    showLegends: false,
    loc,
    ...over,
  };
}

export function proxyModel(
  over: Partial<ProxyModel> & { name: string; id: number; kind: ProxyModel["kind"] },
): ProxyModel {
  return {
    isFrontend: over.kind !== "backend",
    isBackend: over.kind !== "frontend",
    mode: "http",
    loc,
    binds: [],
    maxconn: 0,
    useBackends: [],
    monitorFail: [],
    httpRequestRules: [],
    httpResponseRules: [],
    captureRequestHeaders: [],
    captureResponseHeaders: [],
    balance: { algo: "roundrobin" },
    servers: [],
    retries: 3,
    options: {
      httplog: true,
      tcplog: false,
      dontlognull: false,
      redispatch: false,
      abortonclose: false,
      httpConnMode: "keep-alive",
      logasap: false,
      dontlogNormal: false,
      logSeparateErrors: false,
      httpBufferRequest: false,
      allbackups: false,
      persist: false,
      disableOn404: false,
      logHealthChecks: false,
    },
    timeouts: {},
    logs: [],
    acls: new Map(),
    errorfiles: new Map(),
    ...over,
  };
}

export interface ServerState {
  up?: boolean;
  health?: number;
  admin?: ServerRuntime["admin"];
  check?: CheckResult;
  lastChange?: number;
  downTime?: number;
  downSince?: number;
  chkfail?: number;
  chkdown?: number;
  weight?: number;
}

/** A backend runtime whose servers start fully UP (health rise+fall-1) unless told otherwise. */
export function backendRuntime(cfg: ProxyModel, states: Record<string, ServerState> = {}): BackendRuntime {
  const be: BackendRuntime = {
    cfg,
    servers: [],
    counters: newCounters(),
    lastChange: 0,
    downTime: 0,
    downSince: 0,
    chkdown: 0,
  };
  for (const s of cfg.servers) {
    const st = states[s.name] ?? {};
    const sv: ServerRuntime = {
      cfg: s,
      backend: be,
      up: st.up ?? true,
      health: st.health ?? (st.up === false ? 0 : s.rise + s.fall - 1),
      admin: st.admin ?? (s.disabled ? "maint" : "ready"),
      effectiveWeight: st.weight ?? s.weight,
      active: 0,
      counters: newCounters(),
      lastChange: st.lastChange ?? 0,
      downTime: st.downTime ?? 0,
      downSince: st.downSince ?? 0,
      chkfail: st.chkfail ?? 0,
      chkdown: st.chkdown ?? 0,
      ...(st.check ? { lastCheck: st.check } : {}),
    };
    be.servers.push(sv);
  }
  return be;
}

export function frontendRuntime(cfg: ProxyModel): FrontendRuntime {
  return { cfg, counters: newCounters(), conns: 0 };
}

export const L7OK = (at: number, ms = 2): CheckResult => ({
  status: "L7OK",
  code: 200,
  durationMs: ms,
  desc: "Layer7 check passed",
  info: "",
  at,
});

export const L4CON = (at: number): CheckResult => ({
  status: "L4CON",
  durationMs: 0,
  desc: "Layer4 connection problem",
  info: "Connection refused",
  at,
});
