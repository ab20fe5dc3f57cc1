/**
 * Addresses as configuration lines write them: `HOST:PORT` (IPv4, `[IPv6]`, bare IPv6 with
 * the port after the last colon, `*`, empty host), networks `ADDR[/PREFIX]` or with a dotted
 * netmask. Pure.
 */
import { isIPv4, isIPv6 } from "node:net";
import type { Network } from "./model.js";
import type { Parsed } from "./units.js";

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/;

export interface HostPort {
  /** "" for `*` or a missing host; IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
}

/** Splits `HOST:PORT`. `anyHost` allows `*` / empty host (bind); ports 1..65535. */
export function parseHostPort(text: string, opts: { anyHost: boolean }): Parsed<HostPort> {
  let host: string;
  let portText: string;
  const bracket = /^\[([^\]]*)\]:(.*)$/.exec(text);
  if (bracket) {
    host = bracket[1]!;
    portText = bracket[2]!;
    if (!isIPv6(host)) return { ok: false, reason: `'${host}' is not an IPv6 address` };
  } else {
    const colon = text.lastIndexOf(":");
    if (colon < 0) return { ok: false, reason: `missing port in '${text}' (write ADDRESS:PORT)` };
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
  }
  if (portText === "") return { ok: false, reason: `missing port in '${text}' (write ADDRESS:PORT)` };
  if (/^\d+-\d+$/.test(portText))
    return { ok: false, reason: `port ranges such as '${portText}' are not supported yet` };
  if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    return { ok: false, reason: `invalid port '${portText}' in '${text}' (expected 1..65535)` };
  }
  const port = Number(portText);
  if (host === "*" || host === "") {
    if (!opts.anyHost) return { ok: false, reason: `an address is required in '${text}'` };
    return { ok: true, value: { host: "", port } };
  }
  if (!bracket && !isIPv4(host) && !isIPv6(host) && !HOSTNAME.test(host)) {
    return { ok: false, reason: `'${host}' is neither an IP address nor a host name` };
  }
  return { ok: true, value: { host, port } };
}

/** `10.0.0.0/8`, `192.168.1.1`, `10.0.0.0/255.0.0.0`, `::1`, `fd00::/8` -> Network. */
export function parseNetwork(text: string): Parsed<Network> {
  const slash = text.indexOf("/");
  const addr = slash < 0 ? text : text.slice(0, slash);
  const maskText = slash < 0 ? undefined : text.slice(slash + 1);
  const family = isIPv4(addr) ? 4 : isIPv6(addr) ? 6 : 0;
  if (family === 0) return { ok: false, reason: `'${addr}' is not an IPv4 or IPv6 address` };
  const bits = family === 4 ? 32 : 128;
  let prefix = bits;
  if (maskText !== undefined) {
    if (/^\d+$/.test(maskText) && Number(maskText) <= bits) prefix = Number(maskText);
    else if (family === 4 && isIPv4(maskText)) {
      const m = maskFromDotted(maskText);
      if (m === undefined) return { ok: false, reason: `'${maskText}' is not a contiguous netmask` };
      prefix = m;
    } else return { ok: false, reason: `invalid prefix length '${maskText}' in '${text}' (0..${bits})` };
  }
  const bytes = family === 4 ? addr.split(".").map(Number) : ipv6Bytes(addr);
  return { ok: true, value: { family, bytes, prefix, text } };
}

function maskFromDotted(mask: string): number | undefined {
  const n = mask.split(".").reduce((acc, b) => acc * 256 + Number(b), 0);
  const bin = n.toString(2).padStart(32, "0");
  const ones = bin.indexOf("0") < 0 ? 32 : bin.indexOf("0");
  return /^1*0*$/.test(bin) ? ones : undefined;
}

/** The 16 bytes of an IPv6 address (already validated by isIPv6). */
export function ipv6Bytes(addr: string): number[] {
  let text = addr;
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    tail.push(...v4[1]!.split(".").map(Number));
    text = `${text.slice(0, -v4[1]!.length)}0:0`;
  }
  const [head, rest] = text.includes("::") ? text.split("::") : [text, undefined];
  const groups = (s: string | undefined) => (s ? s.split(":").filter((g) => g !== "") : []);
  const h = groups(head);
  const r = groups(rest);
  const fill = rest === undefined ? [] : new Array(8 - h.length - r.length).fill("0");
  const all = [...h, ...fill, ...r].map((g) => Number.parseInt(g, 16));
  const bytes = all.flatMap((g) => [g >> 8, g & 0xff]);
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}
