/**
 * Operational messages on stderr in HAProxy's layout, `[WARNING]  (PID) : text`, so that
 * whatever watches HAProxy's output (systemd journal filters, scripts) reads fulcrum's too.
 */
export type NoticeLevel = "NOTICE" | "WARNING" | "ALERT" | "DEBUG";

export function formatNotice(level: NoticeLevel, pid: number, message: string): string {
  return `${`[${level}]`.padEnd(11)}(${pid}) : ${message}\n`;
}

export function notice(level: NoticeLevel, message: string): void {
  process.stderr.write(formatNotice(level, process.pid, message));
}
