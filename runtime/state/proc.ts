// Reading a process's identity from /proc. The start time (field 22 of
// /proc/<pid>/stat) tells a live container init apart from a reused pid.
import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** Single-letter state: R, S, D, Z, T, X ... */
  state: string;
  /** Start time in clock ticks since boot. */
  startTime: number;
}

/** undefined when the process is gone. */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and ')'; the fields after the last ')' are fixed.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0], startTime: Number(rest[19]) };
}

/** True when `pid` is alive, not a zombie, and still the process that started at `startTime`. */
export function isSameLiveProcess(pid: number, startTime: number): boolean {
  if (pid <= 0) return false;
  const st = readProcStat(pid);
  return st !== undefined && st.startTime === startTime && st.state !== 'Z' && st.state !== 'X';
}
