/**
 * The responses the node writes itself, byte for byte as HAProxy 2.6 writes them: its
 * built-in error pages, the monitor-uri page, and `errorfile` replacements.
 *
 * HAProxy sends these in two shapes, both measured with haproxy 2.6.12 (see README.md):
 * - a request the H1 layer cannot parse (400) or that does not arrive in time (408) gets the
 *   built-in message verbatim, mixed-case headers and `Connection: close` included; an
 *   `errorfile` for those statuses is not used there;
 * - every other reply (no server 503, timeout 504, bad response 502, deny, monitor, stats
 *   401, and the 400/408 of later stages) is re-serialised: header names in lower case, in
 *   the message's order, `connection` moved last and present only when the connection
 *   closes (or the message carried it), the body unchanged.
 * `errorfile` contents follow the second shape: a file without Content-Length ends with
 * the connection (`connection: close` added); an HTTP/1.0 file on a kept connection gets
 * `connection: keep-alive`.
 */

/** Status, reason and body line of each built-in page (HAProxy 2.6's texts). */
const BUILTIN: ReadonlyMap<
  number,
  { readonly reason: string; readonly text: string; readonly close?: true }
> = new Map([
  [200, { reason: "OK", text: "Service ready." }],
  [400, { reason: "Bad request", text: "Your browser sent an invalid request.", close: true }],
  [401, { reason: "Unauthorized", text: "You need a valid user and password to access this content." }],
  [403, { reason: "Forbidden", text: "Request forbidden by administrative rules." }],
  [404, { reason: "Not Found", text: "The resource could not be found." }],
  [
    405,
    {
      reason: "Method Not Allowed",
      text: "A request was made of a resource using a request method not supported by that resource",
    },
  ],
  [407, { reason: "Unauthorized", text: "You need a valid user and password to access this content." }],
  [
    408,
    { reason: "Request Time-out", text: "Your browser didn't send a complete request in time.", close: true },
  ],
  [410, { reason: "Gone", text: "The resource is no longer available and will not be available again." }],
  [413, { reason: "Payload Too Large", text: "The request entity exceeds the maximum allowed." }],
  [421, { reason: "Misdirected Request", text: "Request sent to a non-authoritative server." }],
  [422, { reason: "Unprocessable Content", text: "The server cannot process the contained instructions." }],
  [425, { reason: "Too Early", text: "Your browser sent early data." }],
  [429, { reason: "Too Many Requests", text: "You have sent too many requests in a given amount of time." }],
  [500, { reason: "Internal Server Error", text: "An internal server error occurred." }],
  [
    501,
    {
      reason: "Not Implemented",
      text: ".The server does not support the functionality required to fulfill the request.",
    },
  ],
  [502, { reason: "Bad Gateway", text: "The server returned an invalid or incomplete response." }],
  [503, { reason: "Service Unavailable", text: "No server is available to handle this request." }],
  [504, { reason: "Gateway Time-out", text: "The server didn't respond in time." }],
]);

/** Statuses HAProxy 2.6 has a page for (`http-request deny deny_status` accepts these). */
export const BUILTIN_STATUSES: readonly number[] = [...BUILTIN.keys()];

/** Reason phrase of a built-in page (undefined for a status without one). */
export function builtinReason(status: number): string | undefined {
  return BUILTIN.get(status)?.reason;
}

function builtinBody(status: number): string {
  const b = BUILTIN.get(status)!;
  return `<html><body><h1>${status} ${b.reason}</h1>\n${b.text}\n</body></html>\n`;
}

/** A reply as parts, before serialisation. */
interface Message {
  readonly version: string;
  readonly status: number;
  readonly reason: string;
  /** Header lines in order, names as written; `connection` excluded. */
  readonly headers: readonly (readonly [string, string])[];
  /** The message itself asks to close (`Connection: close`, or no length to frame it). */
  readonly closes: boolean;
  readonly body: Buffer;
}

function builtinMessage(status: number): Message {
  const b = BUILTIN.get(status);
  if (b === undefined) throw new RangeError(`no built-in page for status ${status}`);
  const body = Buffer.from(builtinBody(status), "latin1");
  return {
    version: "HTTP/1.1",
    status,
    reason: b.reason,
    headers: [
      ["Content-length", String(body.length)],
      ["Cache-Control", "no-cache"],
      ["Content-Type", "text/html"],
    ],
    closes: b.close === true,
    body,
  };
}

/**
 * The bytes HAProxy's H1 layer sends when it rejects a request before any stream exists
 * (unparsable request 400, `timeout http-request` 408, 501): the built-in page verbatim,
 * whatever `errorfile` says. The connection closes after it.
 */
export function parseErrorResponse(status: 400 | 408 | 413 | 422 | 501): Buffer {
  const m = builtinMessage(status);
  const head =
    `HTTP/1.1 ${status} ${m.reason}\r\nContent-length: ${m.body.length}\r\nCache-Control: no-cache\r\n` +
    `${m.closes ? "Connection: close\r\n" : ""}Content-Type: text/html\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), m.body]);
}

/** Reads an `errorfile`: status line, headers, body. Undefined when it is not an HTTP response. */
export function parseErrorfile(raw: Buffer): Message | undefined {
  let sep = raw.indexOf("\r\n\r\n");
  let bodyAt = sep + 4;
  if (sep < 0) {
    sep = raw.indexOf("\n\n");
    bodyAt = sep + 2;
  }
  if (sep < 0) return undefined;
  const lines = raw.subarray(0, sep).toString("latin1").split(/\r?\n/);
  const m = /^(HTTP\/1\.[01]) (\d{3})(?: (.*))?$/.exec(lines[0] ?? "");
  if (m === null) return undefined;
  const headers: [string, string][] = [];
  let closes = false;
  let framed = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    const lname = name.toLowerCase();
    if (lname === "connection") {
      if (/\bclose\b/i.test(value)) closes = true;
      continue;
    }
    if (lname === "content-length" || lname === "transfer-encoding") framed = true;
    headers.push([name, value]);
  }
  return {
    version: m[1]!,
    status: Number(m[2]),
    reason: m[3] ?? "",
    headers,
    closes: closes || !framed,
    body: raw.subarray(bodyAt),
  };
}

export interface ReplyOptions {
  /** The connection closes after this reply (adds `connection: close`). */
  readonly close?: boolean;
  /** Answer to a HEAD request: headers only. */
  readonly head?: boolean;
  /**
   * The request was HTTP/1.0: a kept connection is announced with `connection: keep-alive`
   * (as for an HTTP/1.0 message).
   */
  readonly http10?: boolean;
  /** Added after the message's own headers, e.g. `www-authenticate`. */
  readonly extraHeaders?: readonly (readonly [string, string])[];
}

/** HAProxy's re-serialised shape (see the module comment). */
function serialise(m: Message, o: ReplyOptions): Buffer {
  let head = `${m.version} ${m.status} ${m.reason}\r\n`;
  for (const [n, v] of m.headers) head += `${n.toLowerCase()}: ${v}\r\n`;
  for (const [n, v] of o.extraHeaders ?? []) head += `${n.toLowerCase()}: ${v}\r\n`;
  // As HAProxy's H1 layer: an HTTP/1.0 message that closes needs no header; one kept open
  // says so when it or the request is HTTP/1.0.
  if (m.closes || o.close) {
    if (m.version !== "HTTP/1.0") head += "connection: close\r\n";
  } else if (m.version === "HTTP/1.0" || o.http10) head += "connection: keep-alive\r\n";
  head += "\r\n";
  const h = Buffer.from(head, "latin1");
  return o.head ? h : Buffer.concat([h, m.body]);
}

/**
 * Reason phrases HAProxy 2.6 writes for a status it makes up (`http-request return`), its
 * http_get_reason table as observed; a status outside it gets its class's word.
 */
const REASONS: ReadonlyMap<number, string> = new Map([
  [200, "OK"],
  [201, "Created"],
  [202, "Accepted"],
  [203, "Non-Authoritative Information"],
  [204, "No Content"],
  [205, "Reset Content"],
  [206, "Partial Content"],
  [207, "Multi-Status"],
  [210, "Content Different"],
  [226, "IM Used"],
  [300, "Multiple Choices"],
  [301, "Moved Permanently"],
  [302, "Moved Temporarily"],
  [303, "See Other"],
  [304, "Not Modified"],
  [305, "Use Proxy"],
  [307, "Temporary Redirect"],
  [308, "Permanent Redirect"],
  [310, "Too many Redirects"],
  [400, "Bad Request"],
  [401, "Unauthorized"],
  [402, "Payment Required"],
  [403, "Forbidden"],
  [404, "Not Found"],
  [405, "Method Not Allowed"],
  [406, "Not Acceptable"],
  [407, "Proxy Authentication Required"],
  [408, "Request Time-out"],
  [409, "Conflict"],
  [410, "Gone"],
  [411, "Length Required"],
  [412, "Precondition Failed"],
  [413, "Request Entity Too Large"],
  [414, "Request-URI Too Long"],
  [415, "Unsupported Media Type"],
  [416, "Requested range unsatisfiable"],
  [417, "Expectation failed"],
  [418, "I'm a teapot"],
  [421, "Misdirected Request"],
  [422, "Unprocessable Content"],
  [423, "Locked"],
  [424, "Method failure"],
  [425, "Too Early"],
  [426, "Upgrade Required"],
  [428, "Precondition Required"],
  [429, "Too Many Requests"],
  [431, "Request Header Fields Too Large"],
  [449, "Retry With"],
  [450, "Blocked by Windows Parental Controls"],
  [451, "Unavailable For Legal Reasons"],
  [456, "Unrecoverable Error"],
  [499, "client has closed connection"],
  [500, "Internal Server Error"],
  [501, "Not Implemented"],
  [502, "Bad Gateway or Proxy Error"],
  [503, "Service Unavailable"],
  [504, "Gateway Time-out"],
  [505, "HTTP Version not supported"],
  [506, "Variant also negotiate"],
  [507, "Insufficient storage"],
  [508, "Loop detected"],
  [509, "Bandwidth Limit Exceeded"],
  [510, "Not extended"],
  [511, "Network authentication required"],
  [520, "Web server is returning an unknown error"],
]);

const CLASS_REASONS = ["Informational", "Success", "Redirection", "Client Error", "Server Error"];

/** The reason phrase HAProxy writes for `status` in a reply it builds (`http-request return`). */
export function statusReason(status: number): string {
  return REASONS.get(status) ?? CLASS_REASONS[Math.floor(status / 100) - 1] ?? "Other";
}

/** A reply built from configuration (a redirect, an `http-request return`). */
export interface BuiltReply {
  readonly status: number;
  readonly reason: string;
  /** Header lines in order, names in lower case, `connection` excluded. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
}

/**
 * Serialises a built reply in HAProxy's shape (`connection` last, only when it closes, or
 * `keep-alive` for an HTTP/1.0 request kept open).
 */
export function renderReply(r: BuiltReply, o: ReplyOptions): Buffer {
  return serialise({ version: "HTTP/1.1", closes: false, ...r }, o);
}

/**
 * A built reply whose bytes depend only on the connection options: the eight variants are
 * made on first use and kept.
 */
export function cachedReply(r: BuiltReply): (o: ReplyOptions) => Buffer {
  const cache: (Buffer | undefined)[] = [];
  return (o) => {
    const k = (o.close ? 1 : 0) | (o.head ? 2 : 0) | (o.http10 ? 4 : 0);
    let b = cache[k];
    if (b === undefined) {
      b = renderReply(r, o);
      cache[k] = b;
    }
    return b;
  };
}

/** True when the reply ends the connection whatever the client asked (400, 408, unframed errorfile). */
function alwaysCloses(m: Message): boolean {
  return m.closes;
}

/**
 * A proxy's replies: built-in pages with its `errorfile` overrides, prepared once per proxy
 * (the four close/HEAD variants of each status are cached on first use).
 */
export class ErrorReplies {
  private readonly messages = new Map<number, Message>();
  private readonly cache = new Map<string, Buffer>();

  constructor(errorfiles: ReadonlyMap<number, Buffer> = new Map()) {
    for (const [status, raw] of errorfiles) {
      const m = parseErrorfile(raw);
      if (m !== undefined) this.messages.set(status, m);
    }
  }

  private message(status: number): Message {
    let m = this.messages.get(status);
    if (m === undefined) {
      m = builtinMessage(BUILTIN.has(status) ? status : 500);
      this.messages.set(status, m);
    }
    return m;
  }

  /** Whether the reply for `status` closes the connection on its own (400, 408, ...). */
  closes(status: number): boolean {
    return alwaysCloses(this.message(status));
  }

  /**
   * The reply for `status` as parts (names in lower case, extra headers appended), for a
   * caller that adds headers or frames it itself.
   */
  parts(
    status: number,
    extraHeaders: readonly (readonly [string, string])[] = [],
  ): { status: number; reason: string; headers: [string, string][]; closes: boolean; body: Buffer } {
    const m = this.message(status);
    return {
      status: m.status,
      reason: m.reason,
      headers: [...m.headers, ...extraHeaders].map(([n, v]) => [n.toLowerCase(), v]),
      closes: m.closes,
      body: m.body,
    };
  }

  /** The bytes to send for `status` (a status without a page gets the 500 page). */
  get(status: number, o: ReplyOptions = {}): Buffer {
    if (o.extraHeaders !== undefined && o.extraHeaders.length > 0) return serialise(this.message(status), o);
    const key = `${status}:${o.close ? 1 : 0}:${o.head ? 1 : 0}:${o.http10 ? 1 : 0}`;
    let b = this.cache.get(key);
    if (b === undefined) {
      b = serialise(this.message(status), o);
      this.cache.set(key, b);
    }
    return b;
  }
}

const defaults = new ErrorReplies();

/** A built-in reply without errorfiles (see `ErrorReplies` for a proxy's own). */
export function errorReply(status: number, o: ReplyOptions = {}): Buffer {
  return defaults.get(status, o);
}
