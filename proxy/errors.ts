/**
 * Errors carry a stable code (callers switch on it, logs print it, tests assert it), the HTTP
 * status they become when they end a request, and their cause.
 */
import type { SourceLoc } from "./config/model.js";

export type ErrorCode =
  | "FUL_CONFIG"
  | "FUL_USAGE"
  | "FUL_BIND"
  | "FUL_BAD_REQUEST"
  | "FUL_REQUEST_TIMEOUT"
  | "FUL_URI_TOO_LONG"
  | "FUL_HEADERS_TOO_LARGE"
  | "FUL_PAYLOAD_TOO_LARGE"
  | "FUL_NO_SERVER"
  | "FUL_QUEUE_TIMEOUT"
  | "FUL_CONNECT_FAILED"
  | "FUL_CONNECT_TIMEOUT"
  | "FUL_SERVER_TIMEOUT"
  | "FUL_BAD_RESPONSE"
  | "FUL_SERVER_ABORT"
  | "FUL_CLIENT_ABORT"
  | "FUL_REDIS"
  | "FUL_RUNTIME";

export class FulcrumError extends Error {
  readonly code: ErrorCode;
  /** HTTP status this error becomes at the edge, when it ends a request. */
  readonly status: number;

  constructor(code: ErrorCode, message: string, status = 500, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "FulcrumError";
    this.code = code;
    this.status = status;
  }
}

/** A problem in a configuration file, located at FILE:LINE. */
export class ConfigError extends FulcrumError {
  readonly loc: SourceLoc;
  readonly hint?: string;

  constructor(loc: SourceLoc, message: string, hint?: string) {
    super("FUL_CONFIG", message, 500);
    this.name = "ConfigError";
    this.loc = loc;
    if (hint !== undefined) this.hint = hint;
  }

  /** `FILE:LINE: message (hint)`, the one line users see. */
  format(): string {
    return `${this.loc.file}:${this.loc.line}: ${this.message}${this.hint ? ` (${this.hint})` : ""}`;
  }
}

/** Several configuration errors found in one pass, reported together like HAProxy does. */
export class ConfigErrors extends FulcrumError {
  readonly errors: readonly ConfigError[];

  constructor(errors: readonly ConfigError[]) {
    super("FUL_CONFIG", errors.map((e) => e.format()).join("\n"), 500);
    this.name = "ConfigErrors";
    this.errors = errors;
  }
}

/** A wrong command line: exit code 2. */
export class UsageError extends FulcrumError {
  constructor(message: string) {
    super("FUL_USAGE", message, 500);
    this.name = "UsageError";
  }
}
