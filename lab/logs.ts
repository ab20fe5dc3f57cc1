/** Reading the nodes' log files: the last lines, for errors and `lab logs`. */
import { closeSync, openSync, readSync, statSync } from "node:fs";

/** The last `lines` lines of a file (reads at most the last 256 KiB); "" when missing. */
export function tailFile(path: string, lines: number): string {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return "";
  }
  try {
    const size = statSync(path).size;
    const len = Math.min(size, 256 * 1024);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return tailLines(buf.toString("utf8"), lines);
  } finally {
    closeSync(fd);
  }
}

/** Pure: the last `n` lines of a text (without a trailing empty line). */
export function tailLines(text: string, n: number): string {
  const all = text.split("\n");
  if (all[all.length - 1] === "") all.pop();
  return all.slice(Math.max(0, all.length - n)).join("\n");
}
