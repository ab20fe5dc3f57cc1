/**
 * The advert: what a node tells its peer every advert-interval, on the direct peer link and
 * on the Redis pub/sub channel. One JSON object per line, versioned (`v`). Pure: no I/O.
 *
 * An advert is small (about 300 bytes) and read by a human in a capture or a log, so JSON
 * beats a compact binary form here; decoding checks every field against a table so that a
 * garbled or foreign line is refused with a reason instead of reaching the election.
 */

/** keepalived's words, plus INIT (listening before taking part) and STOPPED (gone for good). */
export type Role = "INIT" | "BACKUP" | "MASTER" | "FAULT" | "STOPPED";

export const ROLES: readonly Role[] = ["INIT", "BACKUP", "MASTER", "FAULT", "STOPPED"];

export const ADVERT_VERSION = 1;

export interface Advert {
  readonly v: typeof ADVERT_VERSION;
  /** Name of the `ha` section: two pairs on one Redis never mix. */
  readonly ha: string;
  readonly node: string;
  readonly priority: number;
  readonly role: Role;
  /** The epoch this node holds when MASTER; otherwise the highest epoch it has seen. */
  readonly epoch: number;
  /** The epoch it released last (graceful stop, hand-over, step-down), 0 when none. */
  readonly released: number;
  /** Whether it reaches Redis. */
  readonly redis: boolean;
  /** SHA-256 of its configuration files. */
  readonly checksum: string;
  readonly pid: number;
  /** Process start time, clock ticks since boot (/proc/PID/stat field 22). */
  readonly start: number;
  readonly host: string;
  readonly boot: string;
  /** Random per process (incarnation). */
  readonly inc: string;
  /** Wall-clock ms the process started: orders incarnations. */
  readonly up: number;
  /** Per incarnation, +1 per advert: drops late and reordered adverts. */
  readonly seq: number;
  /** The last `seq` it received from its peer, and that peer's incarnation: a MASTER without
   *  Redis counts its failsafe deadline from the send time of the advert acknowledged. */
  readonly ack: number;
  readonly ackInc: string;
  /** Wall-clock ms when sent (for display: the age of the peer's last advert). */
  readonly sent: number;
}

export type AdvertDecodeError = { readonly ok: false; readonly code: string; readonly message: string };
export type AdvertDecodeResult = { readonly ok: true; readonly advert: Advert } | AdvertDecodeError;

type FieldCheck = (v: unknown) => boolean;

const isString: FieldCheck = (v) => typeof v === "string" && v.length <= 256;
const isCount: FieldCheck = (v) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isInt: FieldCheck = (v) => typeof v === "number" && Number.isSafeInteger(v);
const isBool: FieldCheck = (v) => typeof v === "boolean";
const isRole: FieldCheck = (v) => typeof v === "string" && (ROLES as readonly string[]).includes(v);

/** Every field and its check: the one table decoding and the tests read. */
const FIELDS: Readonly<Record<Exclude<keyof Advert, "v">, FieldCheck>> = {
  ha: isString,
  node: isString,
  priority: isInt,
  role: isRole,
  epoch: isCount,
  released: isCount,
  redis: isBool,
  checksum: isString,
  pid: isCount,
  start: isCount,
  host: isString,
  boot: isString,
  inc: isString,
  up: isCount,
  seq: isCount,
  ack: isCount,
  ackInc: isString,
  sent: isCount,
};

export const ADVERT_FIELDS = Object.keys(FIELDS) as readonly (keyof typeof FIELDS)[];

/** One line, no trailing newline. */
export function encodeAdvert(advert: Advert): string {
  return JSON.stringify(advert);
}

const fail = (code: string, message: string): AdvertDecodeError => ({ ok: false, code, message });

export function decodeAdvert(line: string): AdvertDecodeResult {
  if (line.length > 4096) return fail("too-long", `advert of ${line.length} bytes (limit 4096)`);
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return fail("not-json", "advert is not JSON");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return fail("not-object", "advert is not a JSON object");
  }
  const obj = raw as Record<string, unknown>;
  if (obj.v !== ADVERT_VERSION) {
    return fail("version", `advert version ${String(obj.v)} (this node speaks ${ADVERT_VERSION})`);
  }
  for (const field of ADVERT_FIELDS) {
    if (!FIELDS[field](obj[field])) {
      return fail("field", `advert field "${field}" is missing or invalid (${JSON.stringify(obj[field])})`);
    }
  }
  const advert = {} as Record<string, unknown>;
  advert.v = ADVERT_VERSION;
  for (const field of ADVERT_FIELDS) advert[field] = obj[field];
  return { ok: true, advert: advert as unknown as Advert };
}

/** A peer running another configuration: said loudly, but both keep working. */
export function checksumMismatch(localChecksum: string, advert: Pick<Advert, "checksum">): boolean {
  return advert.checksum !== localChecksum;
}
