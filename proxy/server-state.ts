/**
 * HAProxy's server-state format, version 1: what `show servers state` prints and what
 * `server-state-file` holds (a `load-server-state-from-file` reader would parse these same
 * lines). One line per server, 25 space-separated columns; the numbers are HAProxy's own
 * enums and flag words, so that a file written by one can be read by the other.
 *
 * Pure: a server's runtime record and the clock in, a line out. Each column was measured
 * against haproxy 2.6.12 for UP, DOWN, MAINT (runtime and `disabled`), DRAIN, backup,
 * slowstart and unchecked servers.
 */
import { isIPv4, isIPv6 } from "node:net";
import type { ServerRuntime } from "./state.js";

export const SERVER_STATE_VERSION = "1";

export const SERVER_STATE_HEADER =
  "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight " +
  "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state " +
  "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl " +
  "srv_check_port srv_check_addr srv_agent_addr srv_agent_port";

/** `enum srv_state`: STOPPED, STARTING (slowstart ramp), RUNNING. */
const OP_STOPPED = 0;
const OP_STARTING = 1;
const OP_RUNNING = 2;

/**
 * `enum srv_admin` bits: FMAINT (forced), CMAINT (`disabled` in the configuration), FDRAIN.
 * CMAINT stays set when the operator takes the server out of maintenance (measured: an
 * enabled `disabled` server shows 4, disabled again 5).
 */
const ADMF_FMAINT = 0x01;
const ADMF_IMAINT = 0x02;
const ADMF_CMAINT = 0x04;
const ADMF_FDRAIN = 0x08;

/** `enum healthcheck_status`, by the names the CSV's check_status prints. */
const CHECK_STATUS_CODE: Readonly<Record<string, number>> = {
  UNK: 0,
  INI: 1,
  SOCKERR: 5,
  L4OK: 6,
  L4TOUT: 7,
  L4CON: 8,
  L6OK: 9,
  L6TOUT: 10,
  L6RSP: 11,
  L7TOUT: 12,
  L7RSP: 13,
  L7OK: 15,
  L7OKC: 16,
  L7STS: 17,
};

/** `enum chk_result`: UNKNOWN, (NEUTRAL), FAILED, PASSED, CONDPASS. */
const CHECK_RESULT: Readonly<Record<string, number>> = { L4OK: 3, L6OK: 3, L7OK: 3, L7OKC: 4 };
const RESULT_UNKNOWN = 0;
const RESULT_FAILED = 2;

/** Check state bits: CONFIGURED | ENABLED, and PAUSED while the server is in MAINT. */
const CHK_CONFIGURED_ENABLED = 0x06;
const CHK_PAUSED = 0x08;

export interface ServerStateFacts {
  /** The address the server connects to: `cfg.host` resolved, as HAProxy resolves it at start. */
  readonly addr: string;
  /** The backend's `iid`. */
  readonly backendId: number;
  readonly backendName: string;
  /** Epoch ms now. */
  readonly now: number;
}

function opState(sv: ServerRuntime): number {
  if (sv.admin === "maint" || !sv.up) return OP_STOPPED;
  // A slowstart ramp in progress: the weight has not reached the operator's yet.
  const full = sv.userWeight ?? sv.cfg.weight;
  if (sv.cfg.slowstart !== undefined && sv.effectiveWeight < full) return OP_STARTING;
  return OP_RUNNING;
}

function adminState(sv: ServerRuntime): number {
  // Maintenance inherited from a tracked server is HAProxy's IMAINT bit.
  const config = (sv.cfg.disabled ? ADMF_CMAINT : 0) | (sv.inheritedMaint ? ADMF_IMAINT : 0);
  if (sv.admin === "maint") return config | ADMF_FMAINT;
  return sv.admin === "drain" ? config | ADMF_FDRAIN : config;
}

function checkResult(sv: ServerRuntime): number {
  const st = sv.lastCheck?.status;
  if (st === undefined || st === "INI" || st === "UNK") return RESULT_UNKNOWN;
  return CHECK_RESULT[st] ?? RESULT_FAILED;
}

function checkState(sv: ServerRuntime): number {
  if (!sv.cfg.check) return 0;
  return sv.admin === "maint" ? CHK_CONFIGURED_ENABLED | CHK_PAUSED : CHK_CONFIGURED_ENABLED;
}

/** HAProxy keeps dates in whole seconds and subtracts them (as the CSV's lastchg). */
function secondsSince(now: number, t: number): number {
  return Math.max(0, Math.floor(now / 1000) - Math.floor(t / 1000));
}

/** One server's line, without its newline. */
export function serverStateLine(sv: ServerRuntime, f: ServerStateFacts): string {
  const { cfg } = sv;
  const named = !isIPv4(cfg.host) && !isIPv6(cfg.host);
  // `port N` sets the agent's port as well as the check's (measured: srv_agent_port follows it).
  const checkPort = cfg.checkPort ?? 0;
  return [
    f.backendId,
    f.backendName,
    cfg.id,
    cfg.name,
    f.addr,
    opState(sv),
    adminState(sv),
    sv.userWeight ?? cfg.weight,
    cfg.weight,
    secondsSince(f.now, sv.lastChange),
    CHECK_STATUS_CODE[sv.lastCheck?.status ?? "INI"] ?? 0,
    checkResult(sv),
    // MAINT resets the health counter; HAProxy prints 0 there.
    sv.admin === "maint" ? 0 : sv.health,
    checkState(sv),
    0, // agent state: fulcrum has no agent checks
    0, // bk_f_forced_id: fulcrum numbers proxies in declaration order, no `id` keyword
    0, // srv_f_forced_id: likewise for servers
    named ? cfg.host : "-",
    cfg.port,
    "-", // srvrecord: no SRV-record resolution
    0, // srv_use_ssl: no TLS to servers
    checkPort,
    // `addr` sets the agent's address as well as the check's (measured, as `port`).
    cfg.checkAddr ?? "-",
    cfg.checkAddr ?? "-",
    checkPort,
  ].join(" ");
}
