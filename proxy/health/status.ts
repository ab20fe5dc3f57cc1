/**
 * Check results as HAProxy names and describes them: the code goes to the CSV's
 * `check_status`, the description to the log ("reason: Layer4 connection problem") and the
 * stats page.
 */

export type CheckStatus =
  | "UNK"
  | "INI"
  | "SOCKERR"
  | "L4OK"
  | "L4TOUT"
  | "L4CON"
  | "L6OK"
  | "L6TOUT"
  | "L6RSP"
  | "L7OK"
  | "L7OKC"
  | "L7TOUT"
  | "L7RSP"
  | "L7STS";

interface StatusRow {
  readonly desc: string;
  /** Whether the check counts as passed for the rise/fall counter. */
  readonly passed: boolean;
}

export const CHECK_STATUSES: Readonly<Record<CheckStatus, StatusRow>> = {
  UNK: { desc: "Unknown", passed: false },
  INI: { desc: "Initializing", passed: false },
  SOCKERR: { desc: "Socket error", passed: false },
  L4OK: { desc: "Layer4 check passed", passed: true },
  L4TOUT: { desc: "Layer4 timeout", passed: false },
  L4CON: { desc: "Layer4 connection problem", passed: false },
  L6OK: { desc: "Layer6 check passed", passed: true },
  L6TOUT: { desc: "Layer6 timeout", passed: false },
  L6RSP: { desc: "Layer6 invalid response", passed: false },
  L7OK: { desc: "Layer7 check passed", passed: true },
  L7OKC: { desc: "Layer7 check conditionally passed", passed: true },
  L7TOUT: { desc: "Layer7 timeout", passed: false },
  L7RSP: { desc: "Layer7 invalid response", passed: false },
  L7STS: { desc: "Layer7 wrong status", passed: false },
};

/** What one check found, before it is stamped with its time and duration. */
export interface CheckOutcome {
  readonly status: CheckStatus;
  /** HTTP status of an L7 check. */
  readonly code?: number;
  /** The detail HAProxy prints as `info: "..."` and in `last_chk`: "Connection refused", "Not Found". */
  readonly info?: string;
}

export function checkPassed(o: CheckOutcome): boolean {
  return CHECK_STATUSES[o.status].passed;
}

/**
 * The text of a socket error as HAProxy prints it (strerror): "Connection refused", ...
 * Node gives the errno name; unknown ones keep Node's message.
 */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: "Connection refused",
  ECONNRESET: "Connection reset by peer",
  EHOSTUNREACH: "No route to host",
  ENETUNREACH: "Network is unreachable",
  ETIMEDOUT: "Connection timed out",
  EADDRNOTAVAIL: "Cannot assign requested address",
  EPIPE: "Broken pipe",
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  EMFILE: "Too many open files",
  ENFILE: "Too many open files in system",
};

/** Errors that happen before any connection attempt can be made (HAProxy's SOCKERR). */
const SOCKET_ERRORS: ReadonlySet<string> = new Set(["EMFILE", "ENFILE", "ENOBUFS", "ENOMEM"]);

/** Classifies a socket error raised while connecting. */
export function connectErrorOutcome(err: NodeJS.ErrnoException): CheckOutcome {
  const code = err.code ?? "";
  const info = ERRNO_TEXT[code] ?? err.message;
  return SOCKET_ERRORS.has(code) ? { status: "SOCKERR", info } : { status: "L4CON", info };
}

/** A socket error once connected (the server reset the check): HAProxy's SOCKERR with strerror. */
export function socketErrorOutcome(err: NodeJS.ErrnoException): CheckOutcome {
  return { status: "SOCKERR", info: ERRNO_TEXT[err.code ?? ""] ?? err.message };
}
