/**
 * The two date shapes HAProxy writes, in local time as HAProxy does: `26/Nov/2026:00:30:01.123`
 * inside log lines (%tr, %t) and `Nov 26 00:30:01` (day padded with a space) in RFC 3164
 * headers. Both are rebuilt at most once a second; only the milliseconds change per call.
 */

export const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function pad3(n: number): string {
  return n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n);
}

let lineSec = Number.NaN;
let linePrefix = "";

/** `dd/Mon/yyyy:HH:MM:SS.mmm` in local time. */
export function logDate(ms: number): string {
  const sec = Math.floor(ms / 1000);
  if (sec !== lineSec) {
    const d = new Date(sec * 1000);
    linePrefix =
      `${pad2(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:` +
      `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.`;
    lineSec = sec;
  }
  return linePrefix + pad3(ms - sec * 1000);
}

let hdrSec = Number.NaN;
let hdrDate = "";

/** `Mon dd HH:MM:SS` in local time, the day right-aligned on two characters (`Nov  6`). */
export function syslogDate(ms: number): string {
  const sec = Math.floor(ms / 1000);
  if (sec !== hdrSec) {
    const d = new Date(sec * 1000);
    const day = d.getDate();
    hdrDate =
      `${MONTHS[d.getMonth()]} ${day < 10 ? ` ${day}` : day} ` +
      `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
    hdrSec = sec;
  }
  return hdrDate;
}

/** RFC 5424 timestamp as HAProxy writes it: `2026-11-26T00:34:30.379971+00:00` (local offset). */
export function rfc5424Date(ms: number): string {
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? "-" : "+";
  const a = Math.abs(off);
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.` +
    `${pad3(d.getMilliseconds())}000${sign}${pad2(Math.floor(a / 60))}:${pad2(a % 60)}`
  );
}
